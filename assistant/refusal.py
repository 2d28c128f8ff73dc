"""When not to answer: the gates that decide the reports cannot answer a question.

Each gate is a cheap text test, so an out-of-scope question is refused in well under a second and never
reaches the model. The thresholds are calibrated on the eval sets (see README); the FTS5 lookup that says
whether a word occurs anywhere in the corpus is passed in as ``knows``, so these functions stay pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from assistant.citations import prose_lines
from assistant.query import staff_synonyms

MIN_TERM_COVERAGE = 0.25
# Words too common in these reports (or in questions) to say whether a passage is about the question. The
# second group frames a question without naming its topic ("any examples of ...", "what happens once
# someone ..."); counted as terms, they made answerable questions in staff's words look unanswerable
# (two of 42 answerable questions in a set written after tuning were refused before generation).
GENERIC_TERMS = frozenset(
    """nhs innovation innovations innovative trust trusts site sites organisation organisations function
    functions team teams staff report reports programme what which when where does have with from that this
    they their about there would could should into your much many some other tell give were been being more
    most than then them also only just like make help need want know"""
    """ example examples instance anyone anybody anything anywhere someone somebody something everyone
    everything happen happens happened mostly usually really actually basically generally typically thing
    things ways kind sort once already else please thanks exactly doing going getting looking said says think
    mean means""".split()
)
_ABBREVIATION = re.compile(r"\b[A-Z]{2,3}\b")
_CODE = re.compile(r"\b[A-Za-z]{2,}\d+[A-Za-z0-9]*\b")
# A capitalised word or an abbreviation inside a sentence: after a word, number or comma and a space, or
# straight after a bracket or quote mark. Not after a full stop, a citation "[1]", a colon, a list mark or a
# line break, where any word is capitalised.
_NAME_WORD = re.compile(r"(?:(?<=[\w,;][ \t])|(?<=[(\"“‘]))(?:[A-Z][a-z]{2,}|[A-Z]{2,})\b")
_SUFFIXES = ("ations", "ation", "ings", "ing", "ers", "er", "ed", "es", "ly", "s")

Knows = Callable[[str], bool]


def specific_terms(question: str, ignore: Iterable[str] = ()) -> set[str]:
    """The question's words that could tell passages apart: longer than three letters and not generic, and
    abbreviations written in capitals ("XR", "IG"), which are often the whole topic of a staff question."""
    skip = GENERIC_TERMS | set(ignore)
    words = {word for word in re.findall(r"[a-z0-9]+", question.lower()) if len(word) > 3 and word not in skip}
    abbreviations = {word.lower() for word in _ABBREVIATION.findall(question) if word.lower() not in skip}
    return words | abbreviations


def term_coverage(question: str, passages: Sequence[str], ignore: Iterable[str] = ()) -> tuple[float, int]:
    """Share of the question's specific terms found in the passages (by stem, or a staff synonym), and how
    many specific terms there were: with one or two, a share says little."""
    words = specific_terms(question, ignore)
    if not words:
        return 1.0, 0
    haystack = " ".join(passages).lower()
    found = sum(
        1 for word in words if any(_occurs(alternative, haystack) for alternative in (word, *staff_synonyms(word)))
    )
    return found / len(words), len(words)


def _occurs(word: str, haystack: str) -> bool:
    """A short word as a whole word ("xr", not the "xr" inside another word); a longer one by its stem."""
    if len(word) <= 3:
        return re.search(rf"\b{re.escape(word)}\b", haystack) is not None
    return _stem(word) in haystack


def unknown_names(names: Sequence[str], knows: Knows) -> list[str]:
    """Names (see :func:`assistant.query.names_in`) with a word the corpus never uses, nor a staff synonym.

    "What Agenda for Change band is an innovation project manager on?" retrieves passages about project
    managers and passes the relevance gates, yet "Agenda" occurs nowhere in the reports, so they cannot say
    which band. The whole corpus is checked, not just what was retrieved.
    """
    return [name for name in names if unknown_words(re.findall(r"[A-Za-z]{3,}", name), knows)]


def foreign_terms(question: str, names: Sequence[str], knows: Knows, ignore: Sequence[str] = ()) -> list[str]:
    """The question's names, capital abbreviations and codes ("MedTech Funding Mandate", "CQC", "DCB0129")
    that occur nowhere in the corpus as written, nor as a staff synonym.

    Unlike :func:`unknown_names`, which refuses before generation and so needs a word no report uses at all,
    this asks for the whole term: every word of "MedTech Funding Mandate" occurs somewhere, the name never
    does. It is not a reason to refuse (staff abbreviate what the reports spell out); it marks claims that
    cannot be sourced, because a sentence of the model's answer that names the term says something about it
    that no passage does. A term with characters the lookup cannot take is assumed known, and so is one in
    ``ignore`` (where the asker works: see :func:`assistant.query.about_the_asker`).
    """
    # "Health Foundation-funded" names the Health Foundation: the tail is an ordinary word.
    candidates = [re.sub(r"-[a-z][\w-]*$", "", name) for name in names]
    candidates += _ABBREVIATION.findall(question) + _CODE.findall(question)
    found: list[str] = []
    for term in dict.fromkeys(candidates):
        if term in ignore:
            continue
        key = term.lower().replace("’", "'")
        if not re.fullmatch(r"[a-z0-9'&+ -]+", key) or len(re.findall(r"[a-z]", key)) < 2:
            continue
        if not _term_known(key, knows):
            found.append(term)
    return found


def unsourced_names(
    answer: str, knows: Knows, ignore: Sequence[str] = (), misspelt: Callable[[str], bool] = lambda _: False
) -> list[str]:
    """Capitalised words inside the model's prose sentences ("Denmark", "Scottish") that occur nowhere in the
    corpus: a name the reports never use cannot have come from a source.

    Staff type in lower case ("how does insites compare with denmark or the netherlands?"), so such a name
    is often not a name in the question and :func:`foreign_terms` misses it; the model then writes it with
    its capital, in an answer of its own ("... is the Scottish Innovation Network [2]"). A word opening a
    sentence, line or list item is skipped (any word is capitalised there), and so are bullet lines (which
    the sentence cut leaves alone), a word of a term in ``ignore`` (where the asker works or a foreign term
    already found) and a word ``misspelt`` says is a report word mistyped, given as written so that an
    abbreviation is never read as a typo. In the 330 stored answers to the six eval sets, three sentences
    held such a word: those two inventions and a misspelt heading ("Prioritisisation").
    """
    prose = "\n".join(prose_lines(answer))
    found: list[str] = []
    for word in dict.fromkeys(_NAME_WORD.findall(prose)):
        if any(word.lower() in term.lower().split() for term in ignore):
            continue
        if not _term_known(word.lower(), knows) and not misspelt(word):
            found.append(word)
    return found


def _term_known(key: str, knows: Knows) -> bool:
    # A possessive may be the question's ("Innovation Unit's") or the reports' ("Women's and Children's"); a
    # name the reports know behind a qualifier ("NHSE's Innovation Ecosystem Programme") is known, and so is a
    # pair of known names ("HINs and ICBs").
    forms = (key, re.sub(r"'s\b", "", key), *staff_synonyms(key), *key.split(" ", 1)[1:])
    if any(knows(form) for form in dict.fromkeys(forms)):
        return True
    parts = re.split(r" (?:and|&) ", key)
    return len(parts) > 1 and all(_term_known(part, knows) for part in parts)


def unknown_words(words: Iterable[str], knows: Knows) -> list[str]:
    """The words that neither occur in the corpus nor have a staff synonym that does."""
    return [
        word
        for word in words
        if not any(knows(alternative) for alternative in (word.lower(), *staff_synonyms(word.lower())))
    ]


def _stem(word: str) -> str:
    """A crude stem, enough for "scaled" to find "scaling" and "funds" to find "funding"."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: len(word) - len(suffix)][:5]
    return word[:5]
