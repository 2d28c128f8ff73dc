"""Evidence points: the sentences from the sources that best answer the question, quoted and cited.

The embedded 1.5B model writes a fluent opening but, given several sources, moves facts between
organisations and rounds numbers. So the answer's points are not generated: they are the source sentences
that best answer the question, copied verbatim (numbers and names intact), each ending with its [n]. The
model's job shrinks to a short direct answer on top, which is also what keeps generation time low. Any
model-written claim is still checked.

A sentence's worth is its own relevance to the question plus a prior from its source's retrieval rank:
retrieval judged the whole passage with BM25 and the embedding together, which says more than one sentence's
cosine does, and the answer to a fact question usually spans several sentences of the best passage. Measured
on the eval set's key facts (quoted points alone, no model): one point per source first, 4 points, 0.39 of
facts in 112 words; relevance-first with the rank prior, 6 points, 0.58 in 122 words. With lists kept whole
(:mod:`ingest.sentences`), 8 points against 6 found 0.627 against 0.609 of the golden set's facts and 0.571
against 0.521 of the held-out set's, for 162 words against 142. Facts found grow with words quoted whatever
the rule (a word budget, more per source, a lower keep ratio all sat on the same line), so the cap is a
length choice. For questions asking for examples the first pass still takes one point per source, so
several organisations are heard.

Up to five points may come from one source (three until the blind sets showed the cost): a case study or a
list of trade-offs answers with its third, fourth and fifth sentences ("Their new Innovation Associates
position ...", "... divisional innovation leads"), which the cap gave away to weaker sentences of later
sources. Points alone, six eval sets: key facts 0.732 -> 0.750 on average (0.670 -> 0.716 and 0.739 ->
0.773 on the two blind sets, -0.003 on the held-out set) for about 8 more words; no cap at all did no better.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.citations import named_row_labels, plain_words, word_form
from assistant.context import ScoredSentence, plain_text
from assistant.records import Source
from ingest.sentences import split_sentences

MIN_WORDS = 7
MAX_WORDS = 70
MAX_POINTS = 8
PER_SOURCE = 5
MIN_SCORE = 0.25
RANK_PRIOR = 0.3
KEEP_RATIO = 0.65
STATEMENT_MIN_WORDS = 12
_NOISE = re.compile(r"https?://|(?<![\w.])@|www\.|^\W*$")
# A contact line ("Contact: Cheryl Davies, Senior Programme Manager Email: ...@hiwessex.net") answers "who do I
# contact?" and states its fact without a full stop.
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_LIST_MARK = re.compile(r"^\s*(?:[-*•●▪]|\d{1,2}[.)])\s+")
# OCR of a slide's diagram ("Deputy C- ie Stra:egy and Trands ormaftlon Ofﬁcer.", ") Strate-gy « Commercial
# Innovation and Growth ) Board Chair «"): a word broken by a symbol no word holds, or stray symbols standing
# alone where the diagram's boxes and arrows were.
_BROKEN_WORD = re.compile(r"[A-Za-z][:;?\\|_~^{}<>=][A-Za-z]")
_STRAY_SYMBOL = re.compile(r"(?<!\S)(?:[)»«©®¢|_\\~^]|[.,:;]{1,2})(?!\S)")
_GENERIC_HEADING = re.compile(
    r"^(?:key (?:theme|finding)s?|best practices?|(?:good|promising) practice|case stud(?:y|ies)|recommendations?"
    r"|executive summary|q\d|summary|introduction|overview|background|next steps)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class EvidencePoint:
    number: int
    text: str

    def render(self) -> str:
        return f"- {self.text} [{self.number}]"


def select_evidence(
    scored: Sequence[ScoredSentence],
    sources: Sequence[Source],
    spread_sources: bool = False,
    max_points: int = MAX_POINTS,
) -> list[EvidencePoint]:
    """The best sentences by ``score + RANK_PRIOR / source number``, shown in source order.

    A sentence is taken only when its worth is at least ``KEEP_RATIO`` of the best one's, and at most
    ``PER_SOURCE`` come from one source. ``spread_sources`` (questions asking for examples) first takes the
    best sentence of each source.
    """
    by_number = {source.number: source for source in sources}
    worth = {
        s: s.score + RANK_PRIOR / s.number
        for s in scored
        if _usable(s.text) and s.score >= MIN_SCORE and not _is_heading(s.text, by_number[s.number])
    }
    ranked = sorted(worth, key=lambda s: -worth[s])
    if not ranked:
        return []
    floor = KEEP_RATIO * worth[ranked[0]]
    candidates = [s for s in ranked if worth[s] >= floor]
    chosen: list[ScoredSentence] = []
    if spread_sources:
        for sentence in candidates:
            if len(chosen) < max_points and all(c.number != sentence.number for c in chosen):
                chosen.append(sentence)
    for sentence in candidates:
        if len(chosen) >= max_points:
            break
        if sentence not in chosen and sum(1 for c in chosen if c.number == sentence.number) < PER_SOURCE:
            chosen.append(sentence)
    chosen.sort(key=lambda s: (s.number, s.position))
    texts = _under_headings(chosen, by_number)
    return [
        EvidencePoint(s.number, _attributed(text, by_number[s.number])) for s, text in zip(chosen, texts, strict=True)
    ]


def about_organisation(
    scored: Sequence[ScoredSentence],
    sources: Sequence[Source],
    organisation: str,
    find: Callable[[str, bool], Sequence[str]],
) -> list[ScoredSentence]:
    """The sentences that are not about some other organisation than ``organisation``.

    Asked how Buckinghamshire decides which innovations to take forward, the points quoted Cambridgeshire's
    jointly funded roles; asked about Leeds's digital governance, King's process map; asked what North West
    Ambulance Service does, EEAST's survey. Each was relevant to the words of the question and about another
    trust, which to an innovation lead reads as the named trust's work. A sentence naming ``organisation`` (in
    any form ``find(text, short=True)`` knows: "Leeds", "Torbay's") is about it. A case study's other sentences
    are about its subject, the organisation its title names (else those it names), whatever partners they name
    ("they have brought together Gloucestershire County Council, ..."); any other sentence is about the
    organisations it names in full (``find(text, False)``: "in Leeds" may mean the city). Sentences naming
    none outside a case study (the reports' general findings) stay.
    """
    by_number = {source.number: source for source in sources}

    def about_another(sentence: ScoredSentence) -> bool:
        chunk = by_number[sentence.number].chunk
        if organisation in find(sentence.text, True):
            return False
        if chunk.kind == "case_study":
            subjects = find(chunk.case_study_title or "", True) or chunk.organisations
            return organisation not in subjects
        return bool(find(sentence.text, False))

    return [sentence for sentence in scored if not about_another(sentence)]


# A table row's unit as :mod:`ingest.sentences` writes it: "London: Bed days saved 9,800; Cost per bed day saved
# GBP 71." (a label, then each value after its column's name).
_ROW_UNIT = re.compile(r"^(?P<label>[^:;]{2,80}): (?P<values>[^:]+)\.$")
_VALUE = re.compile(r"\s*(?:[£$]|GBP\s)?-?\d.*$")
_NOT_ASKED = frozenset("the and for per how many much what which was were did does with from".split())


def answering_row(
    question: str, points: Sequence[EvidencePoint], sources: Sequence[Source], subject: str = ""
) -> EvidencePoint | None:
    """The one quoted table row the question asks about, or None: a row of a table in its source (not any
    point that opens with a label, as a list or a case study's does), whose label the question names ("in
    London", "in Q4 2024/25"), and one of whose columns it names by a word of the column's name ("bed days",
    "Harrowdale").

    The small model reads tables badly: asked for London's bed days or Harrowdale's hours in Q4 it gave
    another row's figure, which the checks cut, and the user was left to find the row among the points.
    That row, quoted as it stands, is the direct answer. A row naming no column the question asks about is
    not ("What was the mortality rate in London?" must not be answered with London's bed days). The row may
    be named by ``subject`` instead, what a follow-up inherits ("how many staff did they train?" after a
    question about Severn Marches); the column must be asked about in the question itself.
    """
    asked_words = {word_form(word) for word in plain_words(question).split() if word not in _NOT_ASKED}
    labels = {source.number: named_row_labels(source.chunk.text, f"{question} {subject}") for source in sources}
    found = []
    for point in points:
        match = _ROW_UNIT.match(point.text)
        if not match or match["label"] not in labels.get(point.number, set()):
            continue
        label = plain_words(match["label"])
        columns = [_VALUE.sub("", value) for value in match["values"].split("; ")]
        words = {word_form(word) for column in columns for word in plain_words(column).split() if len(word) >= 3}
        if words & asked_words - {word_form(word) for word in label.split()}:
            found.append(point)
    return found[0] if len(found) == 1 else None


def render_evidence(points: Sequence[EvidencePoint]) -> str:
    return "\n".join(point.render() for point in points)


def _usable(sentence: str) -> bool:
    """A complete statement: not a heading, a question (slides are full of them: "Q1 What are the
    challenges ...?"), or a fragment cut mid-sentence at a chunk edge ("of programmes, an interactive ...")."""
    words = sentence.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS or _NOISE.search(sentence):
        return False
    stripped = sentence.rstrip()
    first = re.search(r"[A-Za-z0-9£]", _LIST_MARK.sub("", stripped))
    return (
        (
            _punctuated(stripped)
            or bool(_LIST_MARK.match(sentence))
            or _unpunctuated_statement(words)
            or bool(_EMAIL.search(sentence))
        )
        and not stripped.rstrip('"”’)').endswith(("?", ":"))
        and not (first is not None and first.group(0).islower())
        and not sentence.lower().startswith("case study")
        and not _garbled(stripped)
    )


def _garbled(sentence: str) -> bool:
    """OCR noise rather than a statement: a word broken by a symbol, or two stray symbols."""
    return bool(_BROKEN_WORD.search(sentence)) or len(_STRAY_SYMBOL.findall(sentence)) >= 2


def _is_heading(sentence: str, source: Source) -> bool:
    """The passage's own heading ("Supporting innovators to navigate corporate function requirements and the
    broader innovation pathway"): long and lower-case enough to pass for a slide statement, but it names the
    topic rather than saying anything about it, and as a point it took the place of one that did."""
    key = _heading_key(sentence)
    return any(
        key == _heading_key(part) for heading in source.chunk.section_path for part in (heading, *heading.split(": "))
    )


def _heading_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", plain_text(text).lower()).strip()


def _punctuated(sentence: str) -> bool:
    return sentence.endswith((".", "!", "”", '"', ")", "]"))


def _unpunctuated_statement(words: Sequence[str]) -> bool:
    """Slides state findings without a full stop ("Current processes: Navigating current structures and
    processes to enable innovation adoption and implementation"). A line that long, mostly in lower case, is a
    statement rather than a heading. Quoting them (and lines ending in "]") raised the key facts found in the
    quoted points from 0.631 to 0.664 on the golden set and 0.580 to 0.592 on the held-out set, at +6 words;
    shorter lines (7-10 words) gained less and are more often headings."""
    return len(words) >= STATEMENT_MIN_WORDS and sum(1 for word in words if word[:1].islower()) * 2 >= len(words)


def _heading_over(sentence: ScoredSentence, source: Source, sentences: Sequence[str]) -> str | None:
    """The sub-heading a sentence sits under, when it names what the sentence is an example of
    ("Developing Communities of Practice" over "Often these are set up around specific technology areas ...").

    A report's practices and themes are named in their headings, and their sentences say "these" and "this
    approach": quoted alone, such a point left the reader, and the key-fact check, without the name of the
    practice. Case studies are named by their organisation instead (see :func:`_attributed`); statistics,
    findings and recommendations sit under generic headings ("Sub-domain maturity ratings", "Key Finding").
    ``sentences`` are the source's, as :func:`split_sentences` gives them (``sentence.position`` indexes them).
    """
    if source.chunk.kind not in ("text", "best_practice") or ":" in sentence.text[:80]:
        return None
    earlier = sentences[: sentence.position]
    heading = next((line for line in reversed(earlier) if _names_a_practice(line)), None)
    if heading is None:
        return None
    named = _content_words(heading)
    if len(named & _content_words(sentence.text)) * 2 >= len(named):
        return None  # the sentence already says what the heading does
    return plain_text(heading).strip()


def _under_headings(chosen: Sequence[ScoredSentence], by_number: dict[int, Source]) -> list[str]:
    """Each sentence after its heading (see :func:`_heading_over`), the heading written once for the points
    in a row under it."""
    texts: list[str] = []
    previous: tuple[int, str] | None = None
    split = {number: split_sentences(by_number[number].chunk.text) for number in {s.number for s in chosen}}
    for sentence in chosen:
        heading = _heading_over(sentence, by_number[sentence.number], split[sentence.number])
        if heading is None or previous == (sentence.number, heading):
            texts.append(sentence.text)
        else:
            texts.append(f"{heading}: {sentence.text}")
        previous = (sentence.number, heading) if heading else None
    return texts


def _content_words(text: str) -> set[str]:
    return {word_form(word) for word in plain_words(text).split() if len(word) > 3}


def _names_a_practice(line: str) -> bool:
    """A sub-heading: two to twelve words, no closing punctuation, not a list item or a generic label."""
    words = line.split()
    return (
        2 <= len(words) <= 12
        and not line.rstrip().endswith((".", "!", "?", ":", ";", ",", '"', "”", ")", "]"))
        and not _LIST_MARK.match(line)
        and not _GENERIC_HEADING.match(line)
        and sum(1 for word in words if word[:1].isalpha()) == len(words)
    )


def _attributed(sentence: str, source: Source) -> str:
    """Prefix the organisation when the sentence does not name it ("The survey received ..." -> who?)."""
    clean = plain_text(sentence).strip()
    clean = re.sub(r"^[-*•●▪]\s+", "", clean)
    clean = re.sub(r"^\*(.+)\*$", r"\1", clean).strip()
    organisations = source.chunk.organisations
    if source.chunk.kind != "case_study" or not organisations:
        return clean
    lowered = clean.lower()
    named = any(part.lower() in lowered for name in organisations for part in _short_forms(name))
    return clean if named else f"{organisations[0]}: {clean}"


def _short_forms(name: str) -> tuple[str, ...]:
    words = [w for w in re.split(r"\s+", name) if w.lower() not in {"nhs", "foundation", "trust", "the", "and"}]
    return (name, " ".join(words[:2])) if words else (name,)
