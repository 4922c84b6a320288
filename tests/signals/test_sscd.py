"""SSCD: value format, model fingerprints, settings, custom models, video keyframes, the off switch."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from reclaim import synthetic
from reclaim.errors import ConfigError, InvalidSignal
from reclaim.settings import Limits, SignalOptions, load_settings
from reclaim.signals.hashing import hash_media
from reclaim.signals.sscd import (
    SSCD_DIM,
    SSCD_THRESHOLD,
    SscdModel,
    SscdSignal,
    decode,
    encode,
    load_model,
    model_path,
)

SSCD = SscdSignal()


@cache
def astronaut_value() -> str:
    return hash_media(synthetic.jpeg_bytes(synthetic.sample("astronaut")), Limits()).signals["sscd"].value


def test_quantised_value_keeps_the_cosine() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, SSCD_DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = x[0] + 0.8 * x[1]
    y /= np.linalg.norm(y)
    fp, back = decode(encode("0badcafe", np.stack([x[0], y])))
    assert fp == "0badcafe"
    assert abs(float(back[0] @ back[1]) - float(x[0] @ y)) < 0.005


def test_copies_are_close_and_unrelated_pictures_are_not() -> None:
    a = astronaut_value()
    cropped = synthetic.jpeg_bytes(synthetic.crop(synthetic.sample("astronaut"), 0.8), 70)
    other = synthetic.jpeg_bytes(synthetic.sample("coffee"))
    assert SSCD.distance(a, hash_media(cropped, Limits()).signals["sscd"].value) <= 0.5
    assert SSCD.distance(a, hash_media(other, Limits()).signals["sscd"].value) > 1 - 0.45
    assert SSCD.distance(a, a) == 0.0


def test_values_from_different_models_are_never_compared() -> None:
    a = astronaut_value()
    other_model = "ffffffff" + a[8:]
    assert SSCD.distance(a, other_model) == 2.0


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("", "hex digits per vector; got 0 characters"),
        ("0" * 8, "got 8 characters"),
        ("0" * (8 + 1023), "got 1031 characters"),
        ("z" * (8 + 1024), "must be hexadecimal"),
        ("0" * (8 + 1024 * 65), "at most 64 records"),
    ],
)
def test_refuses_malformed_values(bad: str, says: str) -> None:
    with pytest.raises(InvalidSignal, match=says):
        SSCD.validate(bad)


def test_off_switch_and_model_choice() -> None:
    data = synthetic.jpeg_bytes(synthetic.sample("coffee"))
    assert "sscd" not in hash_media(data, Limits(), options=SignalOptions(sscd="off")).signals
    distilled = hash_media(data, Limits()).signals["sscd"].value
    full = hash_media(data, Limits(), options=SignalOptions(sscd="full")).signals["sscd"].value
    assert distilled[:8] != full[:8]  # different fingerprints: the matcher keeps their indexes apart


def test_an_operator_model_is_loaded_from_a_path(tmp_path: Path) -> None:
    """Any ONNX file with the same interface works; here the bundled full model, copied elsewhere."""
    custom = tmp_path / "my-sscd.onnx"
    custom.write_bytes(model_path("full").read_bytes())
    model = load_model(str(custom), 1)
    assert model.fingerprint == load_model("full", 2).fingerprint
    garbage = tmp_path / "broken.onnx"
    garbage.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="cannot load the SSCD model"):
        SscdModel(garbage, 1)


def test_settings_choose_and_check_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "reclaim.toml").write_text('[signals]\nsscd = "full"\nsscd_threads = 1\n')
    s = load_settings(home)
    assert (s.signals.sscd, s.signals.sscd_threads) == ("full", 1)
    monkeypatch.setenv("RECLAIM_SSCD", "off")
    assert load_settings(home).signals.sscd == "off"
    monkeypatch.delenv("RECLAIM_SSCD")
    (home / "reclaim.toml").write_text('[signals]\nsscd = "/no/such/model.onnx"\n')
    with pytest.raises(ConfigError, match="neither"):
        load_settings(home)
    (home / "reclaim.toml").write_text("[signals]\nsscd_threads = 0\n")
    with pytest.raises(ConfigError, match="sscd_threads"):
        load_settings(home)


def test_videos_get_one_vector_per_keyframe_and_match_their_reencode() -> None:
    clip = synthetic.pattern_video(seed=5, seconds=4.0)
    a = hash_media(clip, Limits()).signals["sscd"].value
    b = hash_media(synthetic.reencode_video(clip), Limits()).signals["sscd"].value
    _, vectors = decode(a)
    assert 2 <= len(vectors) <= 16
    assert SSCD.distance(a, b) <= SSCD_THRESHOLD
