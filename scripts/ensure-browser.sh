#!/usr/bin/env bash
# The web end-to-end tests drive Debian's `chromium` with Playwright (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1:
# Playwright never downloads a browser). Install the package when it is missing; skip when it is there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then exec sudo "$0"; fi
  echo "Chromium is missing; run 'apt-get install -y chromium' as root (the browser tests are skipped until then)." >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
