"""Matching quality: recall per derivative class and false matches, PDQ@31 alone vs the Reclaim engine.

Corpus: public-domain scikit-image samples, matplotlib's public-domain portrait of Grace Hopper, and generated
pictures (reclaim.synthetic); no people beyond those two portraits, nothing sexual. (scikit-learn's two sample
photos are CC BY, not public domain, so they are left out.) Every original is enrolled in a protected bank of
a temporary workspace (hash-only: signals and keypoints); every derivative is looked up through the real
matcher (proposals, verification, decision rule). A match to any other original is a false match.

    .venv/bin/python bench/matching_quality.py [--model distilled|full] [--quick]

Prints: recall per class (baseline and engine, with the methods that found them), false matches over all
unrelated pairs, the score distributions of unrelated pairs, and the expected false-match rate at 10M bank
entries extrapolated from those distributions (peaks-over-threshold: an exponential tail fitted to the top
2 % of unrelated scores, which is conservative against a normal fit).
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps
from sqlalchemy import select

from reclaim import banks, synthetic
from reclaim.matcher import MAX_VERIFY, QUERY_DRAFT_PIXELS, SHOWN_KEYPOINTS, BankMatcher
from reclaim.matching.decide import MIN_INLIERS, MIN_INLIERS_SPARSE, PDQ_PROPOSE, SSCD_PROPOSE, SSCD_VERIFIABLE_MAX
from reclaim.matching.verify import verify
from reclaim.media.image import decode_image
from reclaim.model import HashedMedia
from reclaim.settings import Limits, SignalOptions, load_settings
from reclaim.signals.hashing import hash_media
from reclaim.signals.hexhash import hamming_hex
from reclaim.signals.keypoints import QUERY_KEYPOINTS, QUERY_WORK_SIDE, keypoints_of, mirrored
from reclaim.signals.keypoints import decode as decode_kps
from reclaim.signals.sscd import SSCD_THRESHOLD
from reclaim.signals.sscd import decode as decode_sscd
from reclaim.store.tables import BankSignal
from reclaim.workspace import open_store

SAMPLES = [
    "astronaut", "coffee", "chelsea", "rocket", "camera", "moon", "page", "text", "coins", "clock",
    "hubble_deep_field", "immunohistochemistry", "retina", "brick", "grass", "gravel", "colorwheel", "logo",
    "cell", "shepp_logan_phantom",
]  # fmt: skip
GENERATED = 8
# Originals with fewer enrolled keypoints than this are smooth graphics (gradients, flat shapes): too little
# local structure to verify a derivative geometrically, so they are reported apart.
SMOOTH_BELOW = 100
BANK_SIZE_FOR_RATE = 10_000_000


def grace_hopper() -> Image.Image:
    """matplotlib's bundled portrait (a US Navy photograph, public domain)."""
    from matplotlib import cbook

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        return Image.open(f).convert("RGB")


def originals(quick: bool) -> dict[str, Image.Image]:
    out: dict[str, Image.Image] = {}
    for name in SAMPLES[: 8 if quick else None]:
        im = synthetic.sample(name)
        if max(im.size) > 1024:
            im = im.resize((im.width * 1024 // max(im.size), im.height * 1024 // max(im.size)))
        out[name] = im
    if not quick:
        out["grace_hopper"] = grace_hopper()
    for seed in range(2 if quick else GENERATED):
        out[f"generated-{seed}"] = synthetic.generated(100 + seed)
    return out


# --- derivatives ------------------------------------------------------------------------------------------


def jpeg(im: Image.Image, q: int) -> Image.Image:
    return Image.open(io.BytesIO(synthetic.jpeg_bytes(im, q))).convert("RGB")


def crop(keep: float, where: str) -> Callable[[Image.Image, int], Image.Image]:
    """Keep `keep` of the width and of the height, at the centre or the top-left corner."""

    def edit(im: Image.Image, _: int) -> Image.Image:
        w, h = im.size
        cw, ch = int(w * keep), int(h * keep)
        x0, y0 = ((w - cw) // 2, (h - ch) // 2) if where == "centre" else (0, 0)
        return im.crop((x0, y0, x0 + cw, y0 + ch))

    return edit


def repaint(fraction: float, fill: str) -> Callable[[Image.Image, int], Image.Image]:
    """Replace `fraction` of the area: centre box for even originals, lower half for odd ones."""

    def edit(im: Image.Image, i: int) -> Image.Image:
        out = im.convert("RGB").copy()
        w, h = out.size
        if i % 2 == 0:
            bw, bh = int(w * fraction**0.5), int(h * fraction**0.5)
            box = ((w - bw) // 2, (h - bh) // 2, (w - bw) // 2 + bw, (h - bh) // 2 + bh)
        else:
            bh = min(h, int(h * fraction * 2)) if fraction <= 0.5 else h
            bw = min(w, int(w * fraction * h / max(1, bh)))
            box = ((w - bw) // 2, h - bh, (w - bw) // 2 + bw, h)
        region = out.crop(box)
        rng = np.random.default_rng(i)
        if fill == "flat":
            patch = Image.new("RGB", region.size, (128, 128, 128))
        elif fill == "skin":
            patch = Image.new("RGB", region.size, (205, 160, 135))
            patch = patch.filter(ImageFilter.GaussianBlur(2))
        elif fill == "noise":
            patch = Image.fromarray(rng.integers(0, 255, (region.height, region.width, 3), dtype=np.uint8))
        else:  # blur: the smeared look of an inpainting
            patch = region.filter(ImageFilter.GaussianBlur(max(8, region.width // 6)))
        out.paste(patch, box[:2])
        return out

    return edit


def rotate(im: Image.Image, _: int) -> Image.Image:
    return im.rotate(5, resample=Image.Resampling.BILINEAR, expand=True)


def text_overlay(im: Image.Image, _: int) -> Image.Image:
    out = im.convert("RGB").copy()
    d = ImageDraw.Draw(out)
    for k in range(4):
        y = out.height * (k + 1) // 6
        d.text((out.width // 8, y), "LEAKED  //  @channel_name  //  t.me/xxxx", fill=(255, 255, 0))
    return out


def screenshot(im: Image.Image, i: int) -> Image.Image:
    """The picture inside a chat-like phone screen (synthetic.chat_screenshot), saved as JPEG q80."""
    return jpeg(synthetic.chat_screenshot(im, 10 + i % 50), 80)


TRANSFORMS: dict[str, Callable[[Image.Image, int], Image.Image]] = {
    "jpeg q50": lambda im, _: jpeg(im, 50),
    "resize 50%": lambda im, _: synthetic.resize(im, 0.5),
    "crop 80% centre": crop(0.8, "centre"),
    "crop 80% corner": crop(0.8, "corner"),
    "crop 60% centre": crop(0.6, "centre"),
    "crop 60% corner": crop(0.6, "corner"),
    "flip": lambda im, _: ImageOps.mirror(im),
    "rotate 5deg": rotate,
    "caption bar": lambda im, _: synthetic.caption(im.convert("RGB")),
    "text overlay": text_overlay,
    "brightness +30%": lambda im, _: ImageEnhance.Brightness(im.convert("RGB")).enhance(1.3),
    "greyscale": lambda im, _: ImageOps.grayscale(im).convert("RGB"),
    **{
        f"repaint {int(f * 100)}% {fill}": repaint(f, fill)
        for f in (0.05, 0.1, 0.2, 0.3, 0.4, 0.5)
        for fill in ("flat", "noise", "skin", "blur")
    },
    "screenshot in chat": screenshot,
    "screenshot, doodle wallpaper": lambda im, i: jpeg(synthetic.chat_screenshot(im, 10 + i % 50, wallpaper=True), 80),
    "crop 80% + caption + q60": lambda im, i: jpeg(synthetic.caption(crop(0.8, "centre")(im, i)), 60),
    "flip + repaint 20% + resize": lambda im, i: synthetic.resize(repaint(0.2, "skin")(ImageOps.mirror(im), i), 0.6),
    "screenshot of repaint 30%": lambda im, i: screenshot(repaint(0.3, "blur")(im, i), i),
}
# Classes the goal covers (>= 95 % recall): up to 40 % repaint and 60 % crop, and everything else.
OUT_OF_GOAL = {k for k in TRANSFORMS if k.startswith("repaint 50%")}


# --- scoring ----------------------------------------------------------------------------------------------


def query_keypoints(hashed: HashedMedia, data: bytes, limits: Limits) -> tuple[str, ...]:
    """The item's keypoints as the matcher computed them, or (no candidate needed them) computed here, so
    that unrelated pairs can be verified too."""
    computed = hashed.query_variants.get("keypoints", ()) + hashed.query_variants.get(SHOWN_KEYPOINTS, ())
    if computed:
        return computed
    decoded = decode_image(data, limits, draft_pixels=QUERY_DRAFT_PIXELS)
    value = keypoints_of(decoded.image, QUERY_KEYPOINTS, (decoded.width, decoded.height), QUERY_WORK_SIDE)
    return (value, mirrored(value)) if value else ()


def pot_tail(values: np.ndarray, at: float, upper: bool = True, top: float = 0.02) -> float:
    """P(score beyond `at`) from an exponential tail fitted to the most extreme `top` share (peaks over threshold)."""
    v = np.sort(values if upper else -values)
    x = at if upper else -at
    u = float(np.quantile(v, 1 - top))
    excess = v[v > u] - u
    if len(excess) < 5:
        return float("nan")
    if x <= u:
        return float(np.mean(v >= x))
    beta = float(excess.mean())
    return top * math.exp(-(x - u) / beta)


def enrolled_screenshots(origs: dict[str, Image.Image], limits: Limits, options: SignalOptions) -> None:
    """A victim may have her photo only as a screenshot of the chat it was posted in. Enrol every original
    that way (PNG, as phones save screenshots); look up another screenshot of each (other time stamp, JPEG)
    and an 80 % crop of the photo itself. Every screenshot shares the app's header, bubbles and input bar,
    so any match to another original is interface verified as content."""
    queries = {
        "another screenshot": lambda im, i: screenshot(im, i + 7),
        "another screenshot, doodle wallpaper": lambda im, i: jpeg(
            synthetic.chat_screenshot(im, i, wallpaper=True), 80
        ),
        "crop 80% of the photo": crop(0.8, "centre"),
    }
    names = list(origs)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(Path(tmp) / "home")
        store = open_store(settings)
        files = []
        for name, im in origs.items():
            path = Path(tmp) / f"{name}.png"
            path.write_bytes(synthetic.png_bytes(synthetic.chat_screenshot(im, 3)))
            files.append(path)
        with store.transaction() as session:
            banks.create_bank(session, "screenshots", "protected")
            results = banks.add_files(session, "screenshots", files, limits, None, options)
        entry_of = {r.entry_id: Path(r.path).stem for r in results}
        print("\n| enrolled as screenshots: query | found | false matches (to other originals) |")
        print("|---|---:|---:|")
        with store.transaction() as session:
            matcher = BankMatcher.load(session)
            for label, edit in queries.items():
                found = false = 0
                missed = []
                for i, name in enumerate(names):
                    data = synthetic.jpeg_bytes(edit(origs[name], i).convert("RGB"), 90)
                    hashed = matcher.enrich(hash_media(data, limits, None, options), data, limits)
                    got = {entry_of[c.entry_id] for c in matcher.decide(session, hashed).matches}
                    found += name in got
                    missed += [] if name in got else [name]
                    false += len(got - {name})
                pairs = len(names) * (len(names) - 1)
                print(
                    f"| {label} | {found}/{len(names)} (missed: {', '.join(missed) or '-'}) | {false} (of {pairs:,}) |"
                )
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="distilled", help="distilled | full | path to an ONNX model")
    ap.add_argument("--quick", action="store_true", help="8 samples + 2 generated (smoke test)")
    args = ap.parse_args()
    options = SignalOptions(sscd=args.model)
    limits = Limits()
    origs = originals(args.quick)
    names = list(origs)
    t0 = time.perf_counter()

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        settings = load_settings(home)
        store = open_store(settings)
        files = []
        for name, im in origs.items():
            path = Path(tmp) / f"{name}.png"
            path.write_bytes(synthetic.png_bytes(im.convert("RGB")))
            files.append(path)
        with store.transaction() as session:
            banks.create_bank(session, "originals", "protected")
            results = banks.add_files(session, "originals", files, limits, None, options)
        entry_of = {r.entry_id: Path(r.path).stem for r in results}
        orig_signals = {Path(r.path).stem: r.signals for r in results}
        with store.transaction() as session:  # keypoints are not in the add results (never exchanged)
            rows = session.execute(
                select(BankSignal.entry_id, BankSignal.value).where(BankSignal.signal_type == "keypoints")
            )
            ref_kps = {entry_of[e]: v for e, v in rows}
        smooth = {name for name, v in ref_kps.items() if len(decode_kps(v)[1]) < SMOOTH_BELOW}
        smooth |= set(origs) - set(ref_kps)
        t_enrol = time.perf_counter() - t0

        recall_base: dict[str, int] = Counter()
        recall_engine: dict[str, int] = Counter()
        recall_textured: dict[str, int] = Counter()
        methods: dict[str, Counter[str]] = defaultdict(Counter)
        missed: dict[str, list[str]] = defaultdict(list)
        false_matches: list[tuple[str, str, str, str]] = []
        query_sscd: list[np.ndarray] = []
        query_owner: list[int] = []
        query_pdq: list[str] = []
        query_kps: list[tuple[str, ...]] = []
        times: list[float] = []
        with store.transaction() as session:
            matcher = BankMatcher.load(session)
            for cls, edit in TRANSFORMS.items():
                for i, name in enumerate(names):
                    data = synthetic.jpeg_bytes(edit(origs[name], i).convert("RGB"), 90)
                    t = time.perf_counter()
                    hashed = hash_media(data, limits, None, options)
                    hashed = matcher.enrich(hashed, data, limits)
                    decision = matcher.decide(session, hashed)
                    times.append(time.perf_counter() - t)
                    pdq = hashed.signals["pdq"].value
                    if hamming_hex(pdq, orig_signals[name]["pdq"]) <= 31:
                        recall_base[cls] += 1
                    hit = [c for c in decision.matches if entry_of[c.entry_id] == name]
                    if hit:
                        recall_engine[cls] += 1
                        recall_textured[cls] += name not in smooth
                        methods[cls][hit[0].method] += 1
                    else:
                        missed[cls].append(name)
                    for c in decision.matches:
                        if entry_of[c.entry_id] != name:
                            false_matches.append((cls, name, entry_of[c.entry_id], c.method))
                    query_sscd.append(decode_sscd(hashed.signals["sscd"].value)[1][0])
                    query_owner.append(i)
                    query_pdq.append(pdq)
                    query_kps.append(() if args.quick else query_keypoints(hashed, data, limits))
        store.close()

    # --- report ---------------------------------------------------------------------------------------------
    n = len(names)
    print(f"# Matching quality — SSCD model: {args.model}; {n} originals, {len(TRANSFORMS)} classes, "
          f"{n * len(TRANSFORMS)} derivatives; enrol {t_enrol:.1f} s, lookup median "
          f"{1000 * float(np.median(times)):.0f} ms/item (shared 2-core machine, noisy)\n")  # fmt: skip
    n_tex = n - len(smooth)
    print(f"Textured originals (>= {SMOOTH_BELOW} enrolled keypoints): {n_tex}; smooth graphics (fewer): "
          f"{len(smooth)} ({', '.join(sorted(smooth))})\n")  # fmt: skip
    print("| class | PDQ@31 alone | engine, all | engine, textured | engine, smooth | found by |")
    print("|---|---:|---:|---:|---:|---|")
    worst = worst_tex = 100.0
    for cls in TRANSFORMS:
        b, e = 100 * recall_base[cls] / n, 100 * recall_engine[cls] / n
        t = 100 * recall_textured[cls] / max(1, n_tex)
        sm = 100 * (recall_engine[cls] - recall_textured[cls]) / max(1, len(smooth))
        if cls not in OUT_OF_GOAL:
            worst, worst_tex = min(worst, e), min(worst_tex, t)
        found = ", ".join(f"{m} {k}" for m, k in methods[cls].most_common())
        print(f"| {cls} | {b:.0f} % | {e:.0f} % | {t:.0f} % | {sm:.0f} % | {found} |")
    unrelated_pairs = n * len(TRANSFORMS) * (n - 1)
    print(f"\nLowest engine recall over the goal classes (all but 50 % repaints): {worst:.0f} % over all "
          f"originals, {worst_tex:.0f} % over the textured ones")  # fmt: skip
    print(f"False matches over {unrelated_pairs:,} unrelated (derivative, other original) pairs: {len(false_matches)}")
    for fm in false_matches[:20]:
        print(f"  false match: {fm[0]} of {fm[1]} -> {fm[2]} by {fm[3]}")
    misses = Counter(name for names_missed in missed.values() for name in names_missed)
    print("Misses per original (all classes): " + ", ".join(f"{k} {v}" for k, v in misses.most_common()))

    # Score distributions of unrelated pairs, and the extrapolated false-match rate.
    q = np.stack(query_sscd)
    o = np.stack([decode_sscd(orig_signals[name]["sscd"])[1][0] for name in names])
    cos = q @ o.T
    owner = np.asarray(query_owner)
    mask = np.ones_like(cos, dtype=bool)
    mask[np.arange(len(owner)), owner] = False
    generated = np.array([name.startswith("generated") for name in names])
    natural = mask & ~(generated[owner][:, None] & generated[None, :])
    pdq_d = np.array(
        [[hamming_hex(query_pdq[k], orig_signals[name]["pdq"]) for name in names] for k in range(len(query_pdq))]
    ).astype(float)
    print("\n| unrelated pairs | pairs | min | p50 | p99 | max |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, sel in (("all", mask), ("without generated-vs-generated", natural)):
        v = cos[sel]
        print(f"| SSCD cosine, {label} | {v.size:,} | {v.min():.3f} | {np.median(v):.3f} | "
              f"{np.quantile(v, 0.99):.3f} | {v.max():.3f} |")  # fmt: skip
    d = pdq_d[mask]
    print(f"| PDQ distance, all (p1 for p99) | {d.size:,} | {d.min():.0f} | {np.median(d):.0f} | "
          f"{np.quantile(d, 0.01):.0f} | {d.max():.0f} |")  # fmt: skip
    # Verification of unrelated pairs: every pair with cosine >= 0.2, far more than the proposals let through.
    inliers: list[int] = []
    if not args.quick:
        for k, j in zip(*np.nonzero(mask & (cos >= 0.2)), strict=True):
            ref = ref_kps.get(names[j])
            if ref is None or not query_kps[k]:
                continue
            best = max((r.inliers for r in (verify(ref, v) for v in query_kps[k]) if r is not None), default=0)
            inliers.append(best)
    inl = np.asarray(inliers, dtype=float)
    over = int((inl >= MIN_INLIERS).sum())
    # Upper bound: the sparse rule also needs MIN_INLIERS_SPARSE inliers (and a share of the enrolled keypoints).
    p_verify = pot_tail(inl, MIN_INLIERS_SPARSE - 0.5) if len(inl) >= 50 else float("nan")
    print(f"\nUnrelated pairs verified (cosine >= 0.2): {len(inl)}; reaching {MIN_INLIERS} inliers: {over}; "
          f"max inliers {int(inl.max()) if len(inl) else 0}")  # fmt: skip
    n_bank = BANK_SIZE_FOR_RATE
    rows = []
    for label, sel in (("all", mask), ("without generated-vs-generated", natural)):
        v = cos[sel]
        p_propose = pot_tail(v, 1 - SSCD_PROPOSE) + pot_tail(pdq_d[sel], PDQ_PROPOSE, upper=False)
        verified = min(n_bank * p_propose, MAX_VERIFY) * p_verify
        alone_kp = n_bank * pot_tail(v, 1 - SSCD_VERIFIABLE_MAX)
        alone = n_bank * pot_tail(v, 1 - SSCD_THRESHOLD)
        pdq = n_bank * pot_tail(pdq_d[sel], 31, upper=False)
        rows.append((label, p_propose, verified, alone_kp, alone, pdq))
    print(f"\nExpected false matches per query against {n_bank:,} entries (exponential tail fitted to the top 2 % "
          "of unrelated scores; verified: at most MAX_VERIFY candidates per query are verified):")  # fmt: skip
    print("\n| pairs used | P(proposed) per pair | verified | SSCD alone, entries with keypoints (cos>=0.90) "
          "| SSCD alone, entries without keypoints (cos>=0.75) | PDQ<=31 |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|")
    for label, pp, ver, akp, al, pq in rows:
        print(f"| {label} | {pp:.2e} | {ver:.2e} | {akp:.2e} | {al:.2e} | {pq:.2e} |")
    enrolled_screenshots(origs, limits, options)
    print(f"Total {time.perf_counter() - t0:.0f} s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
