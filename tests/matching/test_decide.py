"""The decision rule: bank thresholds, one match per entry (most certain method), quality, negative banks."""

from __future__ import annotations

from reclaim.matching.decide import MIN_INLIERS, MIN_INLIERS_SPARSE, SPARSE_SHARE, BankRule, Candidate, decide

BANKS = {
    1: BankRule(1, "her-photos", "protected", {"pdq": 20}),
    2: BankRule(2, "known", "known", {}),
    3: BankRule(3, "benign", "negative", {}),
}
DEFAULTS = {"pdq": 31.0, "md5": 0.0, "sha256": 0.0}


def test_bank_threshold_overrides_default() -> None:
    d = decide([Candidate(1, 10, "pdq", 25), Candidate(2, 20, "pdq", 25)], BANKS, DEFAULTS, 100)
    assert [c.entry_id for c in d.matches] == [20]


def test_one_match_per_entry_exact_method_wins() -> None:
    cands = [Candidate(2, 20, "pdq", 0), Candidate(2, 20, "md5", 0), Candidate(2, 20, "sha256", 0)]
    d = decide(cands, BANKS, DEFAULTS, 100)
    assert [(c.entry_id, c.method) for c in d.matches] == [(20, "sha256")]


def test_low_quality_never_matches_on_pdq_alone() -> None:
    d = decide([Candidate(2, 20, "pdq", 3), Candidate(2, 21, "md5", 0)], BANKS, DEFAULTS, 30)
    assert [(c.entry_id, c.method) for c in d.matches] == [(21, "md5")]


def test_negative_bank_suppresses_everything_else() -> None:
    d = decide([Candidate(2, 20, "pdq", 5), Candidate(3, 30, "pdq", 8)], BANKS, DEFAULTS, 100)
    assert d.matches == []
    assert [c.entry_id for c in d.suppressed] == [20]
    assert [c.entry_id for c in d.negative_hits] == [30]


def test_candidates_of_disabled_or_unknown_banks_are_ignored() -> None:
    assert decide([Candidate(99, 1, "pdq", 0)], BANKS, DEFAULTS, 100).matches == []


VERIFIED = {"inliers": 57, "reference_keypoints": 300, "region": [0, 0, 10, 10]}


def test_verified_derivatives_need_enough_inliers() -> None:
    few = {"inliers": MIN_INLIERS - 1, "reference_keypoints": 300}
    # A smooth picture with few keypoints: enough inliers that are a large enough share of them.
    sparse = {"inliers": MIN_INLIERS_SPARSE, "reference_keypoints": int(MIN_INLIERS_SPARSE / SPARSE_SHARE)}
    thin_share = {"inliers": MIN_INLIERS_SPARSE, "reference_keypoints": int(MIN_INLIERS_SPARSE / SPARSE_SHARE) + 5}
    d = decide(
        [
            Candidate(1, 10, "verified", 0.4, 0.6, VERIFIED),
            Candidate(1, 11, "verified", 0.4, 0.6, few),
            Candidate(1, 12, "verified", 0.4, 0.6, sparse),
            Candidate(1, 13, "verified", 0.4, 0.6, thin_share),
        ],
        BANKS,
        DEFAULTS,
        100,
    )
    assert [(c.entry_id, c.details) for c in d.matches] == [(10, VERIFIED), (12, sparse)]


def test_sscd_alone_is_stricter_where_verification_was_possible() -> None:
    defaults = {**DEFAULTS, "sscd": 0.25}
    cands = [
        Candidate(2, 20, "sscd", 0.2, 0.8),  # no keypoints to verify with: cosine 0.8 is enough
        Candidate(2, 21, "sscd", 0.2, 0.8, {"verifiable": True}),  # verification failed: not enough
        Candidate(2, 22, "sscd", 0.05, 0.95, {"verifiable": True}),
    ]
    assert [c.entry_id for c in decide(cands, BANKS, defaults, 100).matches] == [22, 20]


def test_most_certain_method_kept_and_negative_banks_cover_new_methods() -> None:
    defaults = {**DEFAULTS, "sscd": 0.25}
    cands = [Candidate(2, 20, "sscd", 0.1, 0.9), Candidate(2, 20, "verified", 0.1, 0.9, VERIFIED)]
    (kept,) = decide(cands, BANKS, defaults, 100).matches
    assert kept.method == "verified"
    d = decide([*cands, Candidate(3, 30, "verified", 0.3, 0.7, VERIFIED)], BANKS, defaults, 100)
    assert d.matches == [] and [c.method for c in d.suppressed] == ["verified"]
