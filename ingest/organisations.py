"""Finding the NHS organisations a passage is about, under the many names staff use for them.

Innovation leads ask "what did EEAST do?" or "Bucks", while reports write "East of England Ambulance Service
NHS Trust (EEAST)". A small gazetteer of canonical names and aliases (``organisation_aliases.json``) is
combined with two things learned from the text itself: "Full Name (ABBR)" pairs and names that follow the
NHS naming pattern ("... NHS Foundation Trust", "... ICB"), so an unseen report still gets tagged.
The same :class:`OrganisationIndex` serves ingest (tagging chunks) and retrieval (resolving a question).

A foundation trust's legal form has several spellings ("Wessex Vale NHS FT", "Wessex Vale FT", "Wessex Vale
Foundation Trust"); names are compared with it written out, so all of them are one organisation, and a name
learned in a short spelling is stored under the full one. Ingest tags each document's chunks as soon as it has
read that document, and the tags are stored, so the canonical name cannot wait for a longer spelling in a later
document: it is decided by the name alone. "X Trust" is not folded into "X NHS Trust": staff write it for
foundation trusts too ("Alder Hey Children's Hospital Trust"), and charities are trusts ("Nuffield Trust").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ALIASES_FILE = Path(__file__).with_name("organisation_aliases.json")

# "FT" only ends a name: as a word inside one it ran two names together ("Wessex Vale FT and Tynebridge Hospitals
# FT" was one organisation).
_CAPITALISED_WORD = r"(?!FT\b)[A-Z][\w’'+.-]*"
_NAME_WORD = rf"(?:{_CAPITALISED_WORD}|and|of|&|upon|the)"
# Words of a name are separated by spaces, never a line break: in an exported PDF the line before a name is
# often a heading or a running header ("Westbrook Falls Prevention Programme" over "Northshire ICB"), and
# joining across it made one organisation of the two lines.
# A bare "FT" ends a name only after a word that makes it a provider ("Tynebridge Hospitals FT"): elsewhere it is as
# often the Financial Times or full-time ("Guardian and FT", "Band 6 FT"). After "Health" or "Care" it can still be
# full-time ("Primary Care FT staff"), but mental health and community trusts are mostly written so ("Mersey Care
# FT", "Oxford Health FT"), and a full-time phrase names no place or person, so the kind words catch it.
_NHS_NAME = re.compile(
    rf"\b((?:{_CAPITALISED_WORD}[ \t])(?:{_NAME_WORD}[ \t]){{1,7}}?"
    r"(?:NHS[ \t](?:Foundation[ \t])?Trust|NHS[ \t]FT|Foundation[ \t]Trust|Integrated[ \t]Care[ \t]Board|ICB"
    r"|University[ \t]Hospitals?|Health[ \t]Partners|Healthcare[ \t]NHS[ \t]Trust"
    r"|(?:(?<=Hospitals[ \t])|(?<=Hospital[ \t])|(?<=Healthcare[ \t])|(?<=Health[ \t])|(?<=Care[ \t]))FT))\b"
)
# The spellings of a foundation trust's legal form, and the one a learned name is stored under.
_ABBREVIATED_FOUNDATION_TRUST = re.compile(r"(?:[ \t]+NHS)?[ \t]+(?:FT|Foundation[ \t]+Trust)$")
_FOUNDATION_TRUST_IN_KEY = re.compile(r"(?<![a-z0-9+])(?:nhs )?(?:ft|foundation trust)(?![a-z0-9+])")
_ABBREVIATION = re.compile(r"([A-Z][\w’'&+ -]{6,90}?)\s\(([A-Z][A-Za-z+&]{1,9})\)")
# Determiners and quantifiers too: "Every NHS Foundation Trust", "An NHS FT" and "Many Teaching Hospitals FT" are
# prose about trusts, and "Our Wessex Vale FT" is Wessex Vale's name. One or more: "In Each Mental Health FT".
_LEADING_NOISE = re.compile(
    r"^(?:(?:In|At|For|The|With|By|From|Using|Across|Within|Each|Every|Any|Many|Several|Most|All|Both|Some|Other"
    r"|These|Those|Two|Our|Your|Their|Its|This|That|An?)\s+)+"
)
# Short forms staff use are the name without its legal form and institutional tail: "Leeds Teaching Hospitals
# NHS Trust" -> "Leeds Teaching Hospitals" -> "Leeds"; "North West Ambulance Service NHS Trust" -> "North West
# Ambulance" (a tail word is dropped only from the end, so "Ambulance" keeps "North West" from standing alone).
_LEGAL_FORM = re.compile(
    r"\s+(?:NHS\s+Foundation\s+Trust|NHS\s+Trust|Foundation\s+Trust|NHS\s+FT|ICB|Integrated\s+Care\s+Board)$"
)
_TAIL_WORDS = {"hospitals", "hospital", "teaching", "healthcare", "service", "services", "university"}
# Words that say what kind of organisation or service something is, never which one. A learned name made only of
# them ("Mental Health FT", "Adult Social Care FT", "Health and Social Care FT") is prose about a kind of trust, or
# "FT" is full-time ("Primary Care FT staff"); every real name has a place or a person in it ("Mersey Care",
# "Sheffield Health and Social Care"). Keyed as :func:`_key` keys them, so "Children's" is "childrens".
_KIND_WORDS = _TAIL_WORDS | {
    *("nhs", "foundation", "trust", "trusts", "and", "of", "the", "for"),
    *("health", "care", "mental", "community", "acute", "primary", "secondary", "tertiary", "social", "public"),
    *("adult", "adults", "childrens", "children", "child", "young", "peoples", "people", "womens", "maternity"),
    *("specialist", "specialised", "general", "district", "integrated", "partnership", "ambulance", "learning"),
    *("disability", "disabilities", "urgent", "emergency", "intensive", "critical", "palliative", "nursing"),
    *("home", "residential", "medical", "clinical", "dental", "local", "regional", "national", "rural", "large"),
    *("small", "new", "total", "additional", "current", "existing", "vacant"),
}
_MIN_SHORT_FORM = 4

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
    """Case-, apostrophe- and ampersand-insensitive key, so "Guy’s & St Thomas’" equals "guys and st thomas",
    with a foundation trust's legal form written out, so "Wessex Vale NHS FT" equals "Wessex Vale NHS Foundation
    Trust". A text is keyed the same way before names are looked for in it; "40 ft" becoming "40 nhs foundation
    trust" there is harmless, as no organisation is called that."""
    lowered = name.lower().replace("&", " and ").replace("’", "").replace("'", "")
    return _FOUNDATION_TRUST_IN_KEY.sub("nhs foundation trust", re.sub(r"[^a-z0-9+]+", " ", lowered).strip())


# Words a heading or a description opens with; a learned name without a legal form that starts with one may be
# prose the NHS name pattern misread, so it is given no short form (see :func:`short_forms`).
_HEADING_WORDS = frozenset(
    "key major main new general national regional local summary findings overview our the this these other".split()
)
_GENERIC = frozenset(
    _key(name) for name in ("NHS Foundation Trust", "ICB", "NHS Trust", "Mental Health Trust", "Acute Trust")
)


def _full_legal_form(name: str) -> str:
    """The name with "NHS FT", "FT" or a bare "Foundation Trust" written as "NHS Foundation Trust"."""
    return _ABBREVIATED_FOUNDATION_TRUST.sub(" NHS Foundation Trust", name)


def _names_an_organisation(name: str) -> bool:
    """Whether a name found by the NHS pattern says which organisation: "Hospitals FT" after "Our" is stripped,
    "NHS Foundation Trust" after "Every", or "Mental Health FT" is a kind of trust (see :data:`_KIND_WORDS`)."""
    stem = _key(_LEGAL_FORM.sub("", _full_legal_form(name))).split()
    return not set(stem) <= _KIND_WORDS


@dataclass
class _Resolution:
    """:meth:`OrganisationIndex._lookup` and what it was made from, so a name learned extends it in place.

    Re-keying every alias for each name learned made learning quadratic: 300 new names in a document against
    3,000 stored aliases took 5.7 s, on every document ingested.
    """

    source: dict[str, str]  # the ``canonical_by_key`` it was made from
    size: int = 0  # how many entries of it were taken in: ingest puts saved aliases straight in, past add()
    by_key: dict[str, str] = field(default_factory=dict)  # every key, re-keyed -> the canonical name standing for it
    named: dict[str, str] = field(default_factory=dict)  # a canonical name's key -> the one standing for it

    def include(self, key: str, canonical: str) -> None:
        """Take in one more entry of ``source``, leaving what building from scratch would."""
        name_key = _key(canonical)
        held = self.named.setdefault(name_key, canonical)
        if held != _full_legal_form(held) and canonical == _full_legal_form(canonical):
            self.named[name_key] = canonical
            for alias, standing in self.by_key.items():
                if standing == held:
                    self.by_key[alias] = canonical
        self.by_key.setdefault(_key(key), self.named[name_key])
        self.size += 1


@dataclass
class OrganisationIndex:
    """Canonical name for every alias; built from the gazetteer and extended as documents are read."""

    # Entries are only ever added, never changed or removed: ingest and retrieval put the index's saved aliases
    # straight in with ``setdefault``, and the caches below notice that by its size.
    canonical_by_key: dict[str, str] = field(default_factory=dict)
    _patterns: dict[bool, tuple[re.Pattern[str], dict[str, str]]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _resolved: _Resolution | None = field(default=None, repr=False, compare=False)

    def add(self, canonical: str, aliases: Iterable[str] = ()) -> None:
        resolution = self._resolution()
        for name in (canonical, *aliases):
            key = _key(name)
            if key and key not in _GENERIC and key not in self.canonical_by_key:
                self.canonical_by_key[key] = canonical
                resolution.include(key, canonical)
                self._patterns.clear()

    def canonical(self, name: str) -> str | None:
        return self._lookup().get(_key(name))

    def learn_from_text(self, text: str) -> None:
        """Register "Full Name (ABBR)" pairs and NHS-pattern names found in a document."""
        for full, abbreviation in _ABBREVIATION.findall(text):
            full = _LEADING_NOISE.sub("", full.strip())
            known = self.canonical(full)
            if known is not None:
                self.add(known, [abbreviation])
            elif _NHS_NAME.fullmatch(full) and _names_an_organisation(full):
                self.add(_full_legal_form(full), [abbreviation])
        for match in _NHS_NAME.findall(text):
            name = _LEADING_NOISE.sub("", match.strip())
            known = self.canonical(name)
            # A known name short of its legal form was saved by an earlier version; the full one replaces it.
            if _names_an_organisation(name) and (known is None or known != _full_legal_form(known)):
                self.add(_full_legal_form(name))

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
        names = set(self._lookup().values())
        return tuple(sorted(name for name in names if any(pattern.search(name) for pattern in wanted)))

    def _short_form_lookup(self) -> dict[str, str]:
        """Keys of the short forms (see :func:`short_forms`) that name exactly one organisation.

        A short form that another organisation's name also starts with ("Birmingham", "Gloucestershire") or
        that two names shorten to is ambiguous and left out; a gazetteer alias always wins.
        """
        lookup = self._lookup()
        claims: dict[str, set[str]] = {}
        starts: dict[str, set[str]] = {}  # every leading run of words of every name -> whose name starts so
        for canonical in set(lookup.values()):
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
            and key not in lookup
            and key not in _GENERIC
        }

    def _lookup(self) -> dict[str, str]:
        """Every key, as this version of :func:`_key` makes it, -> one canonical name per organisation.

        Aliases saved in an index by an earlier version are set straight into :attr:`canonical_by_key` under the
        keys that version made, with the names it learned: "wessex vale foundation trust" -> "Wessex Vale
        Foundation Trust". Keyed again they meet the name this version learns for the same organisation, and
        the name with the full legal form stands for both, so there is one organisation and its short forms
        ("Wessex Vale") are not taken to be ambiguous.
        """
        return self._resolution().by_key

    def _resolution(self) -> _Resolution:
        """The resolution of :attr:`canonical_by_key`, made again only when entries were put in past :meth:`add`
        (or the dict was replaced); the compiled patterns go with it."""
        resolution = self._resolved
        if (
            resolution is None
            or resolution.source is not self.canonical_by_key
            or resolution.size != len(self.canonical_by_key)
        ):
            resolution = self._resolved = _Resolution(self.canonical_by_key)
            for key, canonical in self.canonical_by_key.items():
                resolution.include(key, canonical)
            self._patterns.clear()
        return resolution

    def _compiled(self, short: bool) -> tuple[re.Pattern[str], dict[str, str]]:
        lookup = self._lookup()  # first, as it drops the patterns when entries were put in past add()
        if short not in self._patterns:
            if short:
                lookup = {**self._short_form_lookup(), **lookup}
            keys = sorted(lookup, key=len, reverse=True)
            alternatives = "|".join(re.escape(key) for key in keys) or r"(?!x)x"
            self._patterns[short] = (re.compile(rf"(?<![a-z0-9+])(?:{alternatives})(?![a-z0-9+])"), lookup)
        return self._patterns[short]


def short_forms(name: str) -> list[str]:
    """The name without its legal form, then without each institutional word at its end, longest first.

    A name written without a legal form sheds its institutional words too: a table naming its lead trust
    "Mercia Valley University Hospitals" is asked about as "Mercia Valley". Such a name may be a heading the
    NHS pattern misread ("Key Findings University Hospitals data"), so its short forms must keep two words or
    more and not open with a heading's or an adjective's word ("key findings", "major"): a question asking
    for "the key findings" must not name an organisation. A form made only of institutional and kind words
    ("University", "Community Health") names no one organisation and is not offered."""
    forms: list[str] = []
    current = _LEGAL_FORM.sub("", name.strip())
    legal = current != name.strip()
    if current and legal:
        forms.append(current)
    words = current.split()
    while len(words) >= 2 and words[-1].lower() in _TAIL_WORDS:
        words = words[:-1]
        if all(word.lower() in _KIND_WORDS for word in words):
            break
        if not legal and (len(words) < 2 or words[0].lower() in _HEADING_WORDS):
            break
        forms.append(" ".join(words))
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
