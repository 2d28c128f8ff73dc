"""Finding the NHS organisations a passage is about, under the many names staff use for them.

Innovation leads ask "what did EEAST do?" or "Bucks", while reports write "East of England Ambulance Service
NHS Trust (EEAST)". A small gazetteer of canonical names and aliases (``organisation_aliases.json``) is
combined with two things learned from the text itself: "Full Name (ABBR)" pairs and names that follow the
NHS naming pattern ("... NHS Foundation Trust", "... ICB"), so an unseen report still gets tagged.
The same :class:`OrganisationIndex` serves ingest (tagging chunks) and retrieval (resolving a question).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ALIASES_FILE = Path(__file__).with_name("organisation_aliases.json")

_NAME_WORD = r"(?:[A-Z][\w’'+.-]*|and|of|&|upon|the)"
# Words of a name are separated by spaces, never a line break: in an exported PDF the line before a name is
# often a heading or a running header ("Westbrook Falls Prevention Programme" over "Northshire ICB"), and
# joining across it made one organisation of the two lines.
_NHS_NAME = re.compile(
    rf"\b((?:[A-Z][\w’'+.-]*[ \t])(?:{_NAME_WORD}[ \t]){{1,7}}?"
    r"(?:NHS[ \t](?:Foundation[ \t])?Trust|Foundation[ \t]Trust|Integrated[ \t]Care[ \t]Board|ICB"
    r"|University[ \t]Hospitals?|Health[ \t]Partners|Healthcare[ \t]NHS[ \t]Trust))\b"
)
_ABBREVIATION = re.compile(r"([A-Z][\w’'&+ -]{6,90}?)\s\(([A-Z][A-Za-z+&]{1,9})\)")
_LEADING_NOISE = re.compile(r"^(?:In|At|For|The|With|By|From|Using|Across|Within)\s+")
# Short forms staff use are the name without its legal form and institutional tail: "Leeds Teaching Hospitals
# NHS Trust" -> "Leeds Teaching Hospitals" -> "Leeds"; "North West Ambulance Service NHS Trust" -> "North West
# Ambulance" (a tail word is dropped only from the end, so "Ambulance" keeps "North West" from standing alone).
_LEGAL_FORM = re.compile(
    r"\s+(?:NHS\s+Foundation\s+Trust|NHS\s+Trust|Foundation\s+Trust|NHS\s+FT|ICB|Integrated\s+Care\s+Board)$"
)
_TAIL_WORDS = {"hospitals", "hospital", "teaching", "healthcare", "service", "services", "university"}
_MIN_SHORT_FORM = 4
_GENERIC = {
    "nhs foundation trust",
    "foundation trust",
    "icb",
    "nhs trust",
    "mental health trust",
    "acute trust",
}

# Kinds of organisation a question may name instead of one organisation ("what have ambulance trusts done?"):
# the phrase in the question, and the word the organisations' own names carry. Only kinds a name states; "ICB
# people" in a survey of representatives is a role, not Norfolk and Waveney ICB, so bare abbreviations are out.
_KINDS: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (re.compile(r"\bambulance (?:trusts?|services?)\b", re.I), re.compile(r"\bAmbulance\b")),
    (re.compile(r"\bmental health (?:trusts?|providers?|services?)\b", re.I), re.compile(r"\bMental Health\b")),
    (re.compile(r"\bcommunity (?:trusts?|providers?)\b", re.I), re.compile(r"\bCommunity\b")),
    (re.compile(r"\bchildren[’']?s (?:trusts?|hospitals?)\b", re.I), re.compile(r"\bChildren")),
)


_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")


def _key(name: str) -> str:
    """Case-, apostrophe- and ampersand-insensitive key, so "Guy’s & St Thomas’" equals "guys and st thomas"."""
    lowered = name.lower().replace("&", " and ").replace("’", "").replace("'", "")
    return re.sub(r"[^a-z0-9+]+", " ", lowered).strip()


@dataclass
class OrganisationIndex:
    """Canonical name for every alias; built from the gazetteer and extended as documents are read."""

    canonical_by_key: dict[str, str] = field(default_factory=dict)
    _patterns: dict[bool, tuple[re.Pattern[str], dict[str, str]]] = field(default_factory=dict)

    def add(self, canonical: str, aliases: Iterable[str] = ()) -> None:
        for name in (canonical, *aliases):
            key = _key(name)
            if key and key not in _GENERIC:
                self.canonical_by_key.setdefault(key, canonical)
        self._patterns.clear()

    def canonical(self, name: str) -> str | None:
        return self.canonical_by_key.get(_key(name))

    def learn_from_text(self, text: str) -> None:
        """Register "Full Name (ABBR)" pairs and NHS-pattern names found in a document."""
        for full, abbreviation in _ABBREVIATION.findall(text):
            full = _LEADING_NOISE.sub("", full.strip())
            known = self.canonical(full)
            if known is not None:
                self.add(known, [abbreviation])
            elif _NHS_NAME.fullmatch(full):
                self.add(full, [abbreviation])
        for match in _NHS_NAME.findall(text):
            name = _LEADING_NOISE.sub("", match.strip())
            if _key(name) not in _GENERIC and self.canonical(name) is None:
                self.add(name)

    def find(self, text: str, short: bool = False) -> tuple[str, ...]:
        """Canonical names mentioned in ``text``, in order of first mention, each once.

        ``short`` also accepts short forms ("Leeds", "Buckinghamshire"): right for a question, where a place
        name means its trust, but not for tagging a report, where "in Leeds" may mean the city.

        A possessive names its organisation too ("EEAST's survey", "Torbay's budget"): the text is read a
        second time without them, as "Guy's and St Thomas'" must keep its "s" to match.
        """
        pattern, lookup = self._compiled(short)
        found: list[str] = []
        for keyed in dict.fromkeys((_key(text), _key(_POSSESSIVE.sub("", text)))):
            for match in pattern.finditer(keyed):
                canonical = lookup[match.group(0)]
                if canonical not in found:
                    found.append(canonical)
        return tuple(found)

    def of_kind(self, text: str) -> tuple[str, ...]:
        """Organisations of the kind ``text`` asks about ("ambulance trusts" -> every known name with
        "Ambulance" in it), sorted; empty when it names no kind.

        The kind must be asked about, not part of a name the text gives: "What did Severn Marches Ambulance
        Service cost per patient?" named every ambulance trust, and their passages joined the answer."""
        pattern, _ = self._compiled(short=True)
        unnamed = pattern.sub(" ", _key(text))
        wanted = [in_name for in_question, in_name in _KINDS if in_question.search(unnamed)]
        if not wanted:
            return ()
        names = set(self.canonical_by_key.values())
        return tuple(sorted(name for name in names if any(pattern.search(name) for pattern in wanted)))

    def _short_form_lookup(self) -> dict[str, str]:
        """Keys of the short forms (see :func:`short_forms`) that name exactly one organisation.

        A short form that another organisation's name also starts with ("Birmingham", "Gloucestershire") or
        that two names shorten to is ambiguous and left out; a gazetteer alias always wins.
        """
        claims: dict[str, set[str]] = {}
        starts: dict[str, set[str]] = {}  # every leading run of words of every name -> whose name starts so
        for canonical in set(self.canonical_by_key.values()):
            for form in short_forms(canonical):
                claims.setdefault(_key(form), set()).add(canonical)
            words = _key(canonical).split()
            for end in range(1, len(words)):
                starts.setdefault(" ".join(words[:end]), set()).add(canonical)
        return {
            key: next(iter(owners))
            for key, owners in claims.items()
            if len(owners) == 1
            and starts.get(key, owners) <= owners
            and len(key) >= _MIN_SHORT_FORM
            and key not in self.canonical_by_key
            and key not in _GENERIC
        }

    def _compiled(self, short: bool) -> tuple[re.Pattern[str], dict[str, str]]:
        if short not in self._patterns:
            lookup = {**self._short_form_lookup(), **self.canonical_by_key} if short else self.canonical_by_key
            keys = sorted(lookup, key=len, reverse=True)
            alternatives = "|".join(re.escape(key) for key in keys) or r"(?!x)x"
            self._patterns[short] = (re.compile(rf"(?<![a-z0-9+])(?:{alternatives})(?![a-z0-9+])"), lookup)
        return self._patterns[short]


def short_forms(name: str) -> list[str]:
    """The name without its legal form, then without each institutional word at its end, longest first."""
    forms: list[str] = []
    current = _LEGAL_FORM.sub("", name.strip())
    while current != name and current:
        forms.append(current)
        words = current.split()
        if len(words) < 2 or words[-1].lower() not in _TAIL_WORDS:
            break
        current = " ".join(words[:-1])
    return forms


@cache
def _gazetteer() -> dict[str, list[str]]:
    raw = json.loads(ALIASES_FILE.read_text(encoding="utf-8"))
    return {name: list(aliases) for name, aliases in raw.items() if not name.startswith("_")}


def build_organisation_index(texts: Iterable[str] = ()) -> OrganisationIndex:
    """The gazetteer plus whatever the given document texts teach it."""
    index = OrganisationIndex()
    for canonical, aliases in _gazetteer().items():
        index.add(canonical, aliases)
    for text in texts:
        index.learn_from_text(text)
    return index
