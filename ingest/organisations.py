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
_NHS_NAME = re.compile(
    rf"\b((?:[A-Z][\w’'+.-]*\s)(?:{_NAME_WORD}\s){{1,7}}?"
    r"(?:NHS\s(?:Foundation\s)?Trust|Foundation\sTrust|Integrated\sCare\sBoard|ICB|University\sHospitals?"
    r"|Health\sPartners|Healthcare\sNHS\sTrust))\b"
)
_ABBREVIATION = re.compile(r"([A-Z][\w’'&+ -]{6,90}?)\s\(([A-Z][A-Za-z+&]{1,9})\)")
_LEADING_NOISE = re.compile(r"^(?:In|At|For|The|With|By|From|Using|Across|Within)\s+")
_GENERIC = {
    "nhs foundation trust",
    "foundation trust",
    "icb",
    "nhs trust",
    "mental health trust",
    "acute trust",
}


def _key(name: str) -> str:
    """Case-, apostrophe- and ampersand-insensitive key, so "Guy’s & St Thomas’" equals "guys and st thomas"."""
    lowered = name.lower().replace("&", " and ").replace("’", "").replace("'", "")
    return re.sub(r"[^a-z0-9+]+", " ", lowered).strip()


@dataclass
class OrganisationIndex:
    """Canonical name for every alias; built from the gazetteer and extended as documents are read."""

    canonical_by_key: dict[str, str] = field(default_factory=dict)
    _pattern: re.Pattern[str] | None = None

    def add(self, canonical: str, aliases: Iterable[str] = ()) -> None:
        for name in (canonical, *aliases):
            key = _key(name)
            if key and key not in _GENERIC:
                self.canonical_by_key.setdefault(key, canonical)
        self._pattern = None

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

    def find(self, text: str) -> tuple[str, ...]:
        """Canonical names mentioned in ``text``, in order of first mention, each once."""
        found: list[str] = []
        for match in self._compiled().finditer(_key(text)):
            canonical = self.canonical_by_key[match.group(0)]
            if canonical not in found:
                found.append(canonical)
        return tuple(found)

    def _compiled(self) -> re.Pattern[str]:
        if self._pattern is None:
            keys = sorted(self.canonical_by_key, key=len, reverse=True)
            alternatives = "|".join(re.escape(key) for key in keys) or r"(?!x)x"
            self._pattern = re.compile(rf"(?<![a-z0-9+])(?:{alternatives})(?![a-z0-9+])")
        return self._pattern


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
