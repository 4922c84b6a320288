#!/usr/bin/env bash
# Prints the path of a Python >= 3.12 interpreter, or fails with a message saying what to install.
# Order: $RECLAIM_PYTHON, python3.12 / python3.13 on PATH, then pyenv's installed versions.
# 3.12 first: it is the version every binary wheel we depend on is published for.
set -euo pipefail

ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }

if [ -n "${RECLAIM_PYTHON:-}" ]; then
  if ok "$RECLAIM_PYTHON"; then echo "$RECLAIM_PYTHON"; exit 0; fi
  echo "RECLAIM_PYTHON=$RECLAIM_PYTHON is not a working Python >= 3.12" >&2; exit 1
fi
for name in python3.12 python3.13 python3; do
  if p=$(command -v "$name" 2>/dev/null) && ok "$p"; then echo "$p"; exit 0; fi
done
if command -v pyenv >/dev/null 2>&1 || [ -d "${PYENV_ROOT:-$HOME/.pyenv}" ]; then
  root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
  for p in $(ls -d "$root"/versions/3.12*/bin/python3.12 2>/dev/null | sort -rV) \
           $(ls -d "$root"/versions/3.1[3-9]*/bin/python3.1[3-9] 2>/dev/null | sort -V); do
    if ok "$p"; then echo "$p"; exit 0; fi
  done
fi
echo "No Python >= 3.12 found. Install python3.12 or python3.13 (or 'pyenv install 3.12'), or set RECLAIM_PYTHON=/path/to/python3.12." >&2
exit 1
