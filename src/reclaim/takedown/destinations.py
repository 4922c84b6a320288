"""Takedown destinations: one small class each, behind one interface, like signal types.

A destination says whom it serves (adults, minors or both), whether Reclaim may submit for the victim or only hand
her guidance, what legal basis and category its request carries, how long it usually takes to answer, and which
fields it needs. Routing by age lives here: a minor's material goes to child-protection routes (NCMEC / Take It
Down, INHOPE hotlines); an adult's goes to NCII routes, and StopNCII is guidance only, because there the victim
hashes her own images on her own device and nobody may submit on her behalf.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from reclaim.errors import ConfigError, DestinationRefused

EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")


@dataclass(frozen=True, slots=True)
class Routing:
    """What a destination does with a case of this age."""

    submit: bool  # True: the caseworker sends the document; False: guidance the victim follows herself
    category: str
    legal_basis: str
    instructions: str


class Destination:
    """One place takedown requests go. Subclasses set the class attributes and may refine `route`."""

    name: ClassVar[str]
    label: ClassVar[str]
    contact: ClassVar[str]
    adults: ClassVar[bool] = True
    minors: ClassVar[bool] = True
    response_days: ClassVar[int] = 7
    # Who may submit: "requester" (a caseworker may send it) or "victim" (only she may, e.g. StopNCII).
    submitted_by: ClassVar[str] = "requester"
    legal_basis_adult: ClassVar[str] = "Non-consensual intimate imagery; the depicted person did not consent."
    legal_basis_minor: ClassVar[str] = "Sexual imagery of a minor (child sexual abuse material)."
    instructions: ClassVar[str] = ""

    @property
    def key(self) -> str:
        return self.name

    def route(self, minor: bool) -> Routing:
        """The routing for a case of this age, or DestinationRefused naming where to go instead."""
        if minor and not self.minors:
            raise DestinationRefused(
                f"{self.label} does not take material depicting minors; for a minor use ncmec (Take It Down / "
                "CyberTipline) or inhope (a national hotline)"
            )
        if not minor and not self.adults:
            raise DestinationRefused(
                f"{self.label} handles child sexual abuse material only; this case is an adult's: use telegram, "
                "kcsc, d4u or an email address for removal, and stopncii to guide her to hash her own images"
            )
        category = (
            "child sexual abuse material (minor depicted)"
            if minor
            else "non-consensual intimate imagery / sexual deepfake (adult depicted)"
        )
        return Routing(
            submit=self.submitted_by == "requester",
            category=category,
            legal_basis=self.legal_basis_minor if minor else self.legal_basis_adult,
            instructions=self.instructions,
        )


class Telegram(Destination):
    name = "telegram"
    label = "Telegram abuse team"
    contact = "abuse@telegram.org (and in-app report of each message)"
    response_days = 2
    instructions = "Send the document to the contact; report each listed message in the app as well."


class KCSC(Destination):
    name = "kcsc"
    label = "Korea Communications Standards Commission (KCSC)"
    contact = "KCSC digital sex crime review (online report form)"
    response_days = 3
    legal_basis_adult = (
        "Act on Special Cases Concerning the Punishment of Sexual Crimes, arts. 14 and 14-2 (filming and "
        "synthetic sexual material made or distributed without consent)."
    )
    legal_basis_minor = "Act on the Protection of Children and Youth Against Sex Offenses, art. 11."
    instructions = "File through KCSC's online form and attach this document."


class D4U(Destination):
    name = "d4u"
    label = "Digital Sex Crime Victim Support Center (D4U, Korea)"
    contact = "d4u.stop.or.kr (victim support centre; deletion support)"
    response_days = 7
    legal_basis_adult = KCSC.legal_basis_adult
    legal_basis_minor = KCSC.legal_basis_minor
    instructions = "Hand this document to D4U's deletion-support team with the victim's consent."


class NCMEC(Destination):
    name = "ncmec"
    label = "NCMEC CyberTipline / Take It Down"
    contact = "report.cybertip.org; takeitdown.ncmec.org for the young person's own hashing"
    adults = False
    response_days = 14
    instructions = (
        "Report the locators to the CyberTipline. Take It Down lets the young person (or a parent) hash her own "
        "images on her own device so platforms can find them; never upload the images anywhere."
    )


class INHOPE(Destination):
    name = "inhope"
    label = "INHOPE member hotline"
    contact = "the national hotline listed at inhope.org for the hosting country"
    adults = False
    response_days = 7
    instructions = "Report the locators to the national hotline of the hosting country; do not attach images."


class StopNCII(Destination):
    name = "stopncii"
    label = "StopNCII.org (guidance for the victim)"
    contact = "stopncii.org (the victim creates hashes on her own device)"
    minors = False
    submitted_by = "victim"
    response_days = 30
    instructions = (
        "StopNCII only accepts cases made by the adult depicted, on her own device: guide her through creating a "
        "case there. Reclaim never submits to StopNCII for her; this document is her guide, not a submission."
    )


class Email(Destination):
    """A platform or host reached by email (abuse desk, legal contact)."""

    name = "email"
    label = "Email"
    contact = ""
    response_days = 7
    instructions = "Send this document to the address; keep the reply for the status history."

    def __init__(self, address: str) -> None:
        if not EMAIL.match(address):
            raise ConfigError(f"'{address}' is not an email address; give --dest email:abuse@example.org")
        self.address = address

    @property
    def key(self) -> str:
        return f"email:{self.address}"

    @property
    def recipient(self) -> str:
        return self.address


DESTINATIONS: dict[str, type[Destination]] = {d.name: d for d in (Telegram, KCSC, D4U, NCMEC, INHOPE, StopNCII)}


def destination(key: str) -> Destination:
    """`telegram`, `kcsc`, `d4u`, `ncmec`, `stopncii`, `inhope` or `email:ADDRESS`."""
    key = key.strip()
    if key.lower().startswith("email:"):
        return Email(key[len("email:") :].strip())
    cls = DESTINATIONS.get(key.lower())
    if cls is None:
        raise ConfigError(f"unknown destination '{key}'; use one of {', '.join(DESTINATIONS)} or email:ADDRESS")
    return cls()


def contact_of(dest: Destination) -> str:
    return dest.address if isinstance(dest, Email) else dest.contact
