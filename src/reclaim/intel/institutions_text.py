"""School and university names in room titles and messages, normalised to one canonical name each.

Korean names are a stem plus a level: 한빛고등학교, 한빛고교 and 한빛고 are one school; 푸른여고 is 푸른여자고등학교;
미래대 is 미래대학교. Full forms (…학교, …대학교) are taken anywhere. Abbreviations (…고, …중, …초, …대, …여고)
collide with ordinary words (최고, 진행중, 시대, and the connective ending -고 in 하고, 먹고), so they are taken only
as a whole word or before a school word (3반, 학년, 학생, 애들, 졸업…), with a stem of two or more syllables that
is not a known common word or verb form. English forms: "X High School", "X Girls' High School", "X Middle
School", "X Elementary School", "X University", "University of X", "X HS", "X Univ."
Pure: no database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Suffix → canonical level; longest first so the regex prefers the full form.
_LEVELS = {
    "여자고등학교": "여자고등학교",
    "여자중학교": "여자중학교",
    "여자대학교": "여자대학교",
    "공업고등학교": "공업고등학교",
    "외국어고등학교": "외국어고등학교",
    "과학고등학교": "과학고등학교",
    "예술고등학교": "예술고등학교",
    "고등학교": "고등학교",
    "중학교": "중학교",
    "초등학교": "초등학교",
    "대학교": "대학교",
}
_ABBREV = {
    "여고": "여자고등학교",
    "여중": "여자중학교",
    "여대": "여자대학교",
    "공고": "공업고등학교",
    "외고": "외국어고등학교",
    "과고": "과학고등학교",
    "예고": "예술고등학교",
    "고교": "고등학교",
    "대학": "대학교",
    "고": "고등학교",
    "중": "중학교",
    "초": "초등학교",
    "대": "대학교",
}
_TAIL = r"(?=$|[^가-힣]|학년|학생|애들|졸업|출신|다니|선배|후배|친구|여학생|남학생|반\b|반[^가-힣]|쌤|선생)"
_FULL_RE = re.compile(r"(?<![가-힣])([가-힣]{2,10}?)(" + "|".join(_LEVELS) + r")")
_ABBR_RE = re.compile(r"(?<![가-힣])([가-힣]{2,8}?)(" + "|".join(_ABBREV) + r")" + _TAIL)

# Whole words ending like a school abbreviation that are not schools.
_COMMON = {
    "최고",
    "참고",
    "광고",
    "신고",
    "경고",
    "보고",
    "사고",
    "재고",
    "창고",
    "수고",
    "그리고",
    "제고",
    "정도고",
    "진행중",
    "사용중",
    "수업중",
    "회의중",
    "공사중",
    "준비중",
    "작업중",
    "대기중",
    "검토중",
    "통화중",
    "운전중",
    "근무중",
    "방송중",
    "모집중",
    "판매중",
    "이용중",
    "연습중",
    "공부중",
    "식사중",
    "외출중",
    "휴식중",
    "집중",
    "시대",
    "세대",
    "부대",
    "군대",
    "무대",
    "상대",
    "반대",
    "기대",
    "침대",
    "절대",
    "최대",
    "확대",
    "초대",
    "강대",
    "현대",
    "고대",
    "근대",
    "대대",
    "연휴중",
    "입대",
    "제대",
    "사이즈대",
    "가격대",
    "시간대",
    "연령대",
    "최초",
    "당초",
    "애초",
    "기초",
    "연초",
    "월초",
    "매초",
    "몇초",
    "일초",
    "이초",
    "삼초",
    "나중",
    "도중",
    "그중",
    "이중",
    "공중",
    "대중",
    "세상중",
    "오늘중",
    "어제중",
    "주중",
    "국대",
    "학교",
    "대학",
    "여고",
    "여중",
}
# Verb and adjective endings before a connective -고 / -중 (하고, 먹었고, 좋겠고, 가시고...).
_VERBISH = ("하", "되", "있", "없", "았", "었", "였", "겠", "시", "했", "됐", "좋", "싫", "않", "지", "라", "다", "이")

_EN_RE = re.compile(
    r"\b((?:[A-Z][A-Za-z.'\-]+\s+){1,3}?)(Girls'?\s+High\s+School|High\s+School|Middle\s+School|Elementary\s+School|"
    r"Primary\s+School|University|Univ\.?|HS|MS)(?![A-Za-z])"
)
_EN_OF = re.compile(r"\bUniversity\s+of\s+((?:[A-Z][A-Za-z\-]+)(?:\s+[A-Z][A-Za-z\-]+){0,2})")
_EN_LEVEL = {
    "girls high school": "Girls' High School",
    "high school": "High School",
    "middle school": "Middle School",
    "elementary school": "Elementary School",
    "primary school": "Elementary School",
    "university": "University",
    "univ": "University",
    "hs": "High School",
    "ms": "Middle School",
}
_EN_STOP = {"the", "a", "my", "our", "your", "this", "that", "at", "in", "of", "from", "to", "for", "and"}


@dataclass(frozen=True, slots=True)
class Mention:
    """`surface` as written at `start` in the text, and the canonical institution it names."""

    canonical: str
    surface: str
    start: int
    level: str


class KiwiCheck:
    """Kiwi (a Korean morphological analyser, optional: `pip install kiwipiepy`) vetoes abbreviations whose
    suffix is a grammatical ending: 재밌고 / 예쁘고 (-고, a connective ending) and 보는중 (-는 중, "while doing").
    Measured in bench/intel.py institutions; `available()` says whether it can be used here.
    """

    def __init__(self) -> None:
        from kiwipiepy import Kiwi  # type: ignore[import-untyped, import-not-found, unused-ignore]

        self._kiwi: Any = Kiwi()
        self._text: str | None = None
        self._tokens: list[Any] = []

    @staticmethod
    def available() -> bool:
        try:
            import kiwipiepy  # type: ignore[import-untyped, import-not-found, unused-ignore]  # noqa: F401
        except ImportError:
            return False
        return True

    def is_ending(self, text: str, at: int) -> bool:
        """Whether the morpheme at `at` is an ending after a verb or adjective, or the bound noun 중 after one."""
        if text != self._text:
            self._text, self._tokens = text, list(self._kiwi.tokenize(text))
        for prev, tok in zip([None, *self._tokens], self._tokens, strict=False):
            if tok.start == at and prev is not None:
                verbal = prev.tag.startswith(("V", "XSV", "XSA"))
                if tok.tag.startswith("E") and verbal:  # 재밌/VA + 고/EC; 한빛/NNP + 고/EC stays a school
                    return True
                return bool(tok.tag == "NNB" and tok.form == "중" and prev.tag == "ETM")  # 보/VV 는/ETM 중/NNB
        return False


def find_institutions(text: str, check: Callable[[str, int], bool] | None = None) -> list[Mention]:
    """Every institution named in `text`, in order, without overlaps; `check(text, i)` may veto an abbreviation
    whose suffix starts at i (KiwiCheck.is_ending)."""
    text = unicodedata.normalize("NFKC", text)
    found: list[Mention] = []
    taken: list[tuple[int, int]] = []

    def add(m: Mention, end: int) -> None:
        if any(not (end <= a or m.start >= b) for a, b in taken):
            return
        taken.append((m.start, end))
        found.append(m)

    for m in _FULL_RE.finditer(text):
        stem, level = m.group(1), _LEVELS[m.group(2)]
        add(Mention(stem + level, m.group(0), m.start(), level), m.end())
    for m in _ABBR_RE.finditer(text):
        stem, suffix = m.group(1), m.group(2)
        word = stem + suffix
        if word in _COMMON or stem in _COMMON or (stem.endswith(_VERBISH) and suffix in ("고", "중")):
            continue
        if check is not None and check(text, m.start(2)):
            continue
        add(Mention(stem + _ABBREV[suffix], word, m.start(), _ABBREV[suffix]), m.end())
    for m in _EN_RE.finditer(text):
        words = [w for w in m.group(1).split() if w.lower() not in _EN_STOP]
        if not words:
            continue
        key = re.sub(r"[^a-z ]", "", " ".join(m.group(2).lower().replace("'", "").split())).strip()
        level = _EN_LEVEL.get(key, m.group(2))
        name = " ".join(w.strip(".").capitalize() if w.isupper() and len(w) > 3 else w.strip(".") for w in words)
        add(Mention(f"{name} {level}", m.group(0).strip(), m.start(), level), m.end())
    for m in _EN_OF.finditer(text):
        add(Mention(f"University of {m.group(1)}", m.group(0), m.start(), "University"), m.end())
    return sorted(found, key=lambda x: x.start)
