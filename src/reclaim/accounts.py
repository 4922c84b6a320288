"""Accounts, roles, tokens, browser sessions and case scope for the review service.

A token is 32 random bytes shown once; only its SHA-256 is stored, so a copy of the database cannot log anyone
in. Roles grant actions (`PERMISSIONS`); case scope limits what a caseworker, reviewer or investigator sees to the
cases assigned to her. Admins and auditors see every case; auditors can change nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from reclaim.cases import get_case
from reclaim.errors import CaseNotFound, ConfigError, Forbidden, NotAuthenticated, NotFound, UserExists
from reclaim.store.service_tables import AppUser, CaseAssignment, WebSession
from reclaim.store.tables import Case, utcnow

ROLES = ("admin", "caseworker", "reviewer", "investigator", "auditor")

# What each role may do. "read" is every GET; the others guard one kind of change (or viewing clear media).
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"read", "decide", "reveal", "takedown", "share", "users", "webhooks", "audit"}),
    "caseworker": frozenset({"read", "decide", "reveal", "takedown", "share"}),
    "reviewer": frozenset({"read", "decide", "reveal"}),
    "investigator": frozenset({"read", "reveal"}),
    "auditor": frozenset({"read", "audit"}),
}
# Roles that see every case; the others see only cases assigned to them.
ALL_CASES = frozenset({"admin", "auditor"})
# Roles that also see matches against banks of no case (known, imported): trust & safety work.
CASELESS = frozenset({"admin", "auditor", "reviewer", "investigator"})

SESSION_HOURS = 8


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: id, name, role and (for scoped roles) the case ids she may see."""

    id: int
    name: str
    role: str
    case_ids: frozenset[int]
    csrf_token: str | None = None  # set when authenticated by a browser session

    def can(self, action: str) -> bool:
        return action in PERMISSIONS.get(self.role, frozenset())

    def require(self, action: str) -> None:
        if not self.can(action):
            raise Forbidden(f"a {self.role} may not {_VERBS.get(action, action)}; ask an admin if you need to")

    @property
    def all_cases(self) -> bool:
        return self.role in ALL_CASES

    @property
    def sees_caseless(self) -> bool:
        return self.role in CASELESS

    def sees_case(self, case_id: int | None) -> bool:
        if case_id is None:
            return self.sees_caseless
        return self.all_cases or case_id in self.case_ids

    def require_case(self, case_id: int | None) -> None:
        if not self.sees_case(case_id):
            # Same words as a missing item: the existence of other people's cases is not disclosed.
            raise NotFound("no such item in your cases")


_VERBS = {
    "decide": "confirm, reject or escalate matches",
    "reveal": "reveal media",
    "takedown": "create or update takedown requests",
    "share": "export or import hash-sharing files",
    "users": "manage users",
    "webhooks": "manage webhooks",
    "audit": "read the audit trail",
    "read": "read",
}


def scoped_case(session: Session, who: Principal, key: str) -> Case:
    """A case the user may see; a missing case and someone else's case read the same, so refs do not leak."""
    try:
        case = get_case(session, key)
    except CaseNotFound:
        case = None
    if case is None or not who.sees_case(case.id):
        raise NotFound(f"no case '{key}' among your cases")
    return case


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_user(session: Session, name: str, role: str) -> tuple[AppUser, str]:
    """A new user and her one-time token (returned once, stored hashed)."""
    name = name.strip()
    if not name:
        raise ConfigError("a user needs a name, e.g. `reclaim user add amira --role caseworker`")
    if role not in ROLES:
        raise ConfigError(f"role must be one of {', '.join(ROLES)}, got '{role}'")
    if session.scalar(select(AppUser.id).where(AppUser.name == name)) is not None:
        raise UserExists(f"a user named '{name}' already exists; pick another name or `reclaim user token {name}`")
    token = secrets.token_urlsafe(32)
    user = AppUser(name=name, role=role, token_sha256=token_digest(token), created_at=utcnow())
    session.add(user)
    session.flush()
    return user, token


def rotate_token(session: Session, name: str) -> str:
    """Replace a user's token (the old one stops working) and end her browser sessions."""
    user = get_user(session, name)
    token = secrets.token_urlsafe(32)
    user.token_sha256 = token_digest(token)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return token


def get_user(session: Session, name: str) -> AppUser:
    user = session.scalar(select(AppUser).where(AppUser.name == name))
    if user is None:
        raise NotFound(f"no user '{name}'; see `reclaim user list`")
    return user


def list_users(session: Session) -> list[dict[str, Any]]:
    users = session.scalars(select(AppUser).order_by(AppUser.id)).all()
    cases = _assignments(session, [u.id for u in users])
    return [user_json(u, sorted(cases.get(u.id, set()))) for u in users]


def user_json(user: AppUser, case_ids: list[int] | None = None) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "role": user.role,
        "disabled": user.disabled_at is not None,
        "case_ids": case_ids or [],
    }


def assign_case(session: Session, name: str, case_key: str) -> dict[str, Any]:
    """Let a user see a case (idempotent)."""
    user = get_user(session, name)
    case = get_case(session, case_key)
    exists = session.scalar(
        select(CaseAssignment.id).where(CaseAssignment.user_id == user.id, CaseAssignment.case_id == case.id)
    )
    if exists is None:
        session.add(CaseAssignment(user_id=user.id, case_id=case.id))
        session.flush()
    return {"user": user.name, "case": case.ref, "case_id": case.id}


def disable_user(session: Session, name: str) -> dict[str, Any]:
    user = get_user(session, name)
    if user.disabled_at is None:
        user.disabled_at = utcnow()
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return user_json(user)


def _assignments(session: Session, user_ids: list[int]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    if not user_ids:
        return out
    rows = session.execute(
        select(CaseAssignment.user_id, CaseAssignment.case_id).where(CaseAssignment.user_id.in_(user_ids))
    )
    for uid, cid in rows:
        out.setdefault(uid, set()).add(cid)
    return out


def _principal(session: Session, user: AppUser, csrf: str | None = None) -> Principal:
    cases = _assignments(session, [user.id]).get(user.id, set())
    return Principal(user.id, user.name, user.role, frozenset(cases), csrf)


def authenticate_token(session: Session, token: str) -> Principal:
    """The user a bearer token belongs to; NotAuthenticated for an unknown or disabled one."""
    user = session.scalar(select(AppUser).where(AppUser.token_sha256 == token_digest(token)))
    if user is None or user.disabled_at is not None:
        raise NotAuthenticated("this token is not valid; ask an admin for a new one")
    return _principal(session, user)


def open_session(session: Session, token: str) -> tuple[str, str]:
    """Log in with a token: a new browser session id (for the cookie) and its CSRF token."""
    principal = authenticate_token(session, token)
    sid = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            session_sha256=token_digest(sid),
            user_id=principal.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + timedelta(hours=SESSION_HOURS),
        )
    )
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    return sid, csrf


def authenticate_session(session: Session, sid: str) -> Principal:
    row = session.scalar(select(WebSession).where(WebSession.session_sha256 == token_digest(sid)))
    if row is None or _aware(row.expires_at) < datetime.now(UTC):
        raise NotAuthenticated("your session has ended; log in again")
    user = session.get(AppUser, row.user_id)
    if user is None or user.disabled_at is not None:
        raise NotAuthenticated("this account is disabled")
    return _principal(session, user, row.csrf_token)


def close_session(session: Session, sid: str) -> None:
    session.execute(delete(WebSession).where(WebSession.session_sha256 == token_digest(sid)))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
