"""Cases and consent: create, show, list, withdraw; every consent and withdrawal lands in the evidence log."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from reclaim import cases
from reclaim.errors import CaseExists, CaseNotFound, ConfigError
from reclaim.evidence.log import read_entries
from reclaim.store.db import Store
from reclaim.store.tables import Bank, Case


def test_create_records_consent_gives_a_bank_and_logs_it(store: Store) -> None:
    with store.transaction() as s:
        doc = cases.created_json(cases.create_case(s, "c-17", "I agree.", "Ana", "face,hashes", minor=True))
    assert set(doc) == {"id", "ref", "minor", "consent"}
    assert doc["ref"] == "c-17" and doc["minor"] is True
    assert set(doc["consent"]) == {"text", "scope", "recorded_by", "recorded_at"}
    assert doc["consent"]["scope"] == ["face", "hashes"] and doc["consent"]["recorded_at"].endswith("+00:00")
    with store.transaction() as s:
        bank = s.scalar(select(Bank).where(Bank.case_id == doc["id"]))
        assert bank is not None and bank.kind == "protected" and bank.name == "case-c-17"
        (entry,) = [e for e in read_entries(s) if e.kind == "consent"]
    body = json.loads(entry.entry)["body"]
    assert body["case_id"] == doc["id"] and body["scope"] == ["face", "hashes"] and body["recorded_by"] == "Ana"
    assert "I agree." not in entry.entry  # the words stay in the case row; the log proves them by hash
    assert len(body["consent_text_sha256"]) == 64


def test_show_and_list(store: Store) -> None:
    with store.transaction() as s:
        cases.create_case(s, "a", "consent a", "Ana", "hashes")
        cases.create_case(s, "b", "consent b", "Ben", ["face"])
    with store.transaction() as s:
        shown = cases.show_case(s, "b")
        by_id = cases.show_case(s, str(shown["id"]))
        listed = cases.list_cases(s)
    assert shown == by_id
    assert shown["withdrawn"] is None and shown["banks"] == ["case-b"]
    assert shown["faces"] == {"enrolled": 0, "models": {}} and shown["matches"] == {}
    assert [(r["ref"], r["scope"], r["withdrawn_at"]) for r in listed] == [
        ("a", ["hashes"], None),
        ("b", ["face"], None),
    ]


@pytest.mark.parametrize(
    ("args", "error", "words"),
    [
        (("", "text", "Ana", "face"), ConfigError, "pseudonymous reference"),
        (("x", "  ", "Ana", "face"), ConfigError, "consent text is empty"),
        (("x", "text", "", "face"), ConfigError, "who recorded"),
        (("x", "text", "Ana", "face,everything"), ConfigError, "consent scope"),
        (("x", "text", "Ana", ""), ConfigError, "consent scope is empty"),
        (("dup", "text", "Ana", "face"), CaseExists, "already exists"),
    ],
)
def test_bad_case_input_is_refused_and_nothing_is_stored(
    store: Store, args: tuple[str, str, str, str], error: type[Exception], words: str
) -> None:
    with store.transaction() as s:
        cases.create_case(s, "dup", "first", "Ana", "hashes")
    with pytest.raises(error, match=words), store.transaction() as s:
        cases.create_case(s, *args)
    with store.transaction() as s:
        assert s.scalar(select(func.count(Case.id))) == 1
        assert [e.kind for e in read_entries(s)] == ["consent"]
        assert s.scalar(select(Case.consent_text)) == "first"


def test_unknown_case_is_a_clear_error(store: Store) -> None:
    with pytest.raises(CaseNotFound, match="no case 'nobody'"), store.transaction() as s:
        cases.show_case(s, "nobody")


def test_withdraw_logs_once_disables_the_bank_and_can_be_repeated(store: Store) -> None:
    with store.transaction() as s:
        case_id = cases.create_case(s, "w", "consent", "Ana", "face,hashes").id
    with store.transaction() as s:
        first = cases.withdraw_case(s, "w", "Ana")
    with store.transaction() as s:
        again = cases.withdraw_case(s, "w", "Ben")
        kinds = [e.kind for e in read_entries(s)]
        bank = s.scalar(select(Bank).where(Bank.case_id == case_id))
        shown = cases.show_case(s, "w")
    assert first["already_withdrawn"] is False and again["already_withdrawn"] is True
    assert again["withdrawn_by"] == "Ana"  # the first withdrawal is the one on record
    assert kinds == ["consent", "withdrawal"]
    assert bank is not None and bank.enabled is False
    assert shown["withdrawn"]["by"] == "Ana" and shown["withdrawn"]["at"].endswith("+00:00")
