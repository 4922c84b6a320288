"""One settings object, read from flags, the environment and `reclaim.toml` in the workspace (in that order)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from reclaim.errors import ConfigError

SETTINGS_FILE = "reclaim.toml"
DEFAULT_HOME = "reclaim-data"


@dataclass(frozen=True, slots=True)
class Limits:
    """Decode limits: bad or hostile input is refused before it can exhaust memory or time."""

    max_bytes: int = 512 * 1024 * 1024
    max_pixels: int = 64_000_000
    max_video_seconds: float = 4 * 3600.0
    max_video_frames: int = 500_000
    # vPDQ hashes one frame per this many seconds (0 = every frame, as the reference samples do).
    vpdq_seconds_per_hash: float = 0.0


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path
    db_url: str | None = None
    limits: Limits = field(default_factory=Limits)

    @property
    def database_url(self) -> str:
        """The configured database, else SQLite inside the home folder."""
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.home / 'reclaim.db').resolve()}"


def _limits_from(table: dict[str, Any], where: str) -> dict[str, Any]:
    known = {f.name: f for f in fields(Limits)}
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown limit '{key}'. Known limits: {', '.join(sorted(known))}.")
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{where}: limit '{key}' must be a non-negative number, got {value!r}.")
        out[key] = value
    return out


def load_settings(home: str | Path | None = None, db_url: str | None = None) -> Settings:
    """Resolve settings: explicit arguments win, then RECLAIM_HOME / RECLAIM_DB, then the workspace file."""
    home_path = Path(home or os.environ.get("RECLAIM_HOME") or DEFAULT_HOME)
    file_values: dict[str, Any] = {}
    settings_path = home_path / SETTINGS_FILE
    if settings_path.is_file():
        try:
            file_values = tomllib.loads(settings_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{settings_path} is not valid TOML ({exc}); fix or remove it.") from exc
    limits = Limits()
    limit_table = file_values.get("limits", {})
    if not isinstance(limit_table, dict):
        raise ConfigError(f"{settings_path}: [limits] must be a table.")
    limits = replace(limits, **_limits_from(limit_table, str(settings_path)))
    url = db_url or os.environ.get("RECLAIM_DB") or file_values.get("database", {}).get("url")
    return Settings(home=home_path, db_url=url, limits=limits)


def save_database_url(home: Path, url: str) -> None:
    """Remember the database chosen at `reclaim init --db` in the workspace's settings file."""
    path = home / SETTINGS_FILE
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    out: list[str] = []
    skipping = False
    for line in lines:
        if line.strip().startswith("["):
            skipping = line.strip() == "[database]"
        if not skipping:
            out.append(line)
    escaped = url.replace("\\", "\\\\").replace('"', '\\"')
    out += ["[database]", f'url = "{escaped}"']
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
