"""One settings object, read from flags, the environment and `reclaim.toml` in the workspace (in that order)."""

from __future__ import annotations

import getpass
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


SSCD_MODELS = ("distilled", "full", "off")


@dataclass(frozen=True, slots=True)
class SignalOptions:
    """Which optional signals to compute, and how: SSCD's model and threads, local features for enrolment."""

    # "distilled" (default: 16 ms/image, same recall on the quality bench), "full", "off", or a path to an
    # ONNX model with the same interface (uint8 NHWC image in, one embedding out).
    sscd: str = "distilled"
    # onnxruntime intra-op threads for SSCD (one session per process is reused).
    sscd_threads: int = 2
    # Local-feature keypoints (SIFT descriptors, never pixels): stored for bank entries so candidates can be
    # verified geometrically; ingest computes them on demand for candidates only.
    keypoints: bool = False


FACE_VIDEO_MODES = ("fps", "scene")


@dataclass(frozen=True, slots=True)
class FaceOptions:
    """Consented face scanning: which model, its threshold, the detection size and which video frames to scan."""

    # "dlib" (bundled, offline) or a path to an operator-supplied ArcFace .onnx model (see README, Faces).
    model: str = "dlib"
    # Distance at or under which a face matches an enrolled one; None = the model's calibrated default.
    threshold: float | None = None
    # Images are scaled down to about this many pixels before detection (speed vs. smallest face found).
    max_pixels: int = 1_000_000
    # Video: "fps" scans one frame every `seconds_per_frame`; "scene" scans a frame whenever the picture changes.
    video_frames: str = "fps"
    seconds_per_frame: float = 1.0


@dataclass(frozen=True, slots=True)
class TelegramOptions:
    """Telegram: API credentials for live monitoring (never logged) and the request → output pair window."""

    # From https://my.telegram.org: RECLAIM_TG_API_ID / RECLAIM_TG_API_HASH, or [telegram] in the file.
    api_id: int | None = None
    api_hash: str | None = field(default=None, repr=False)
    # A bot's media this many seconds after a person's photo is linked to it as its output.
    pair_window_s: float = 600.0
    # Messages fetched per history request while catching up.
    batch_size: int = 200


def os_user() -> str:
    """The OS account name, for evidence entries when no operator is configured."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path
    db_url: str | None = None
    limits: Limits = field(default_factory=Limits)
    signals: SignalOptions = field(default_factory=SignalOptions)
    faces: FaceOptions = field(default_factory=FaceOptions)
    telegram: TelegramOptions = field(default_factory=TelegramOptions)
    # Who runs Reclaim, as written into every evidence entry: RECLAIM_OPERATOR, else `operator` in the file, else
    # the OS user.
    operator: str = field(default_factory=os_user)
    # Wraps the evidence-hold key (scrypt) when set: RECLAIM_HOLD_PASSPHRASE. Never written anywhere.
    hold_passphrase: str | None = field(default=None, repr=False)

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


def _signals_from(table: dict[str, Any], where: str) -> SignalOptions:
    options = SignalOptions()
    sscd = os.environ.get("RECLAIM_SSCD") or table.get("sscd", options.sscd)
    if not isinstance(sscd, str) or not sscd.strip():
        raise ConfigError(f"{where}: signals.sscd must be one of {', '.join(SSCD_MODELS)} or a path to an .onnx file.")
    if sscd not in SSCD_MODELS and not Path(sscd).is_file():
        raise ConfigError(
            f"{where}: signals.sscd is '{sscd}', which is neither one of {', '.join(SSCD_MODELS)} nor an existing"
            " .onnx file; fix the path or pick a bundled model."
        )
    threads = table.get("sscd_threads", options.sscd_threads)
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ConfigError(f"{where}: signals.sscd_threads must be a whole number >= 1, got {threads!r}.")
    unknown = set(table) - {"sscd", "sscd_threads"}
    if unknown:
        raise ConfigError(
            f"{where}: unknown signal setting(s) {', '.join(sorted(unknown))}; known: sscd, sscd_threads."
        )
    return replace(options, sscd=sscd, sscd_threads=threads)


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
    signal_table = file_values.get("signals", {})
    if not isinstance(signal_table, dict):
        raise ConfigError(f"{settings_path}: [signals] must be a table.")
    signals = _signals_from(signal_table, str(settings_path))
    face_table = file_values.get("faces", {})
    if not isinstance(face_table, dict):
        raise ConfigError(f"{settings_path}: [faces] must be a table.")
    faces = _faces_from(face_table, str(settings_path))
    telegram = _telegram_from(file_values.get("telegram", {}), str(settings_path))
    operator = os.environ.get("RECLAIM_OPERATOR") or file_values.get("operator") or os_user()
    if not isinstance(operator, str):
        raise ConfigError(f"{settings_path}: operator must be text, got {operator!r}.")
    return Settings(
        home=home_path,
        db_url=url,
        limits=limits,
        signals=signals,
        faces=faces,
        telegram=telegram,
        operator=operator,
        hold_passphrase=os.environ.get("RECLAIM_HOLD_PASSPHRASE") or None,
    )


def _faces_from(table: dict[str, Any], where: str) -> FaceOptions:
    known = {f.name for f in fields(FaceOptions)}
    unknown = set(table) - known
    if unknown:
        raise ConfigError(
            f"{where}: unknown face setting(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}."
        )
    options = replace(FaceOptions(), **table)
    if not isinstance(options.model, str) or not (options.model == "dlib" or Path(options.model).is_file()):
        raise ConfigError(f"{where}: faces.model must be 'dlib' or the path of an existing ArcFace .onnx file.")
    if options.model != "dlib" and options.threshold is None:
        raise ConfigError(f"{where}: an ONNX face model needs faces.threshold, calibrated with bench/faces.py.")
    for name in ("threshold", "max_pixels", "seconds_per_frame"):
        value = getattr(options, name)
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool) or value <= 0):
            raise ConfigError(f"{where}: faces.{name} must be a positive number, got {value!r}.")
    if options.video_frames not in FACE_VIDEO_MODES:
        raise ConfigError(f"{where}: faces.video_frames must be one of {', '.join(FACE_VIDEO_MODES)}.")
    return options


def _telegram_from(table: Any, where: str) -> TelegramOptions:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [telegram] must be a table.")
    known = {f.name for f in fields(TelegramOptions)}
    unknown = set(table) - known
    if unknown:
        raise ConfigError(
            f"{where}: unknown telegram setting(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}."
        )
    values = dict(table)
    if os.environ.get("RECLAIM_TG_API_ID"):
        values["api_id"] = os.environ["RECLAIM_TG_API_ID"]
    if os.environ.get("RECLAIM_TG_API_HASH"):
        values["api_hash"] = os.environ["RECLAIM_TG_API_HASH"]
    if values.get("api_id") is not None:
        try:
            values["api_id"] = int(values["api_id"])
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: telegram api_id must be the number my.telegram.org shows.") from None
    for name in ("pair_window_s", "batch_size"):
        value = values.get(name, getattr(TelegramOptions(), name))
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{where}: telegram {name} must be a positive number, got {value!r}.")
    return replace(TelegramOptions(), **values)


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
