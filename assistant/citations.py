"""Checking an answer against its sources after generation.

A small model cites confidently and sometimes wrongly. Every ``[n]`` is parsed; a number with no source is
removed from the text shown (and counted), and each cited sentence is scored against the passages it cites:

    support(s, n) = max(cos(embed(s), embed(passage_n)), content-word recall of s in passage_n)

with any number written in the sentence required to appear in a cited passage. Sentences whose citations
do not support them, and substantive sentences with no citation, are returned so the UI can flag them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.prompts import PREMISE_CORRECTION, REFUSAL_SENTENCE
from assistant.records import Citation, Source
from ingest.sentences import split_sentences, tables

CITATION = re.compile(r"\[(\d{1,2}(?:\s*[,;–-]\s*\d{1,2})*)\]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z*•\-\d])|(?<=[.!?]\s\[\d\])\s+(?=[A-Z])|(?<=\d\]\.)\s+(?=[A-Z])|\n+")
# A figure: digits not glued to a word or another number ("Q1" and "COVID19" are names), with an optional
# scale or percent sign after it.
_FIGURE = re.compile(
    r"(?<![\w.,])(\d+(?:,\d{3})*(?:\.\d+)?)(?!\.?\d)\s?(%|per ?cent\b|k\b|m\b|bn\b|million\b|billion\b)?",
    re.IGNORECASE,
)
_SCALE = {"k": 1e3, "m": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}
_CLAIM_LIST_NUMBER = re.compile(r"(?:^|(?<=[:;\n]))\s*\d{1,2}[.)](?=\s|$)")
_WORD = re.compile(r"[a-z0-9]+")
# Words and figures, in order, for reading what a figure counts: "£200,000", "35%" and "3 FTE" stay one token.
_FIGURE_TOKEN = re.compile(
    r"[A-Za-z][A-Za-z'-]*|[£$]?\d[\d,.]*(?:\s?(?:%|per ?cent\b|k\b|m\b|bn\b|million\b|billion\b))?", re.IGNORECASE
)
FIGURE_CONTEXT_WORDS = 3
# Words that hedge or frame a figure without saying what it counts ("at least 3%", "roughly 130", "our").
_QUALIFIERS = frozenset(
    "least approximately roughly around nearly almost just only under each per all one our we us you your".split()
)
_INFLECTIONS = ("ings", "ing", "ed", "es", "s")
_BULLET = re.compile(r"^\s*[-*•]\s+")
_LIST_MARKER = re.compile(r"\s*\d{1,2}\.\s*")
_LINK = re.compile(
    r"(?:https?://|www\.)[^\s)\]\"'>]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|uk|info|biz|xyz)\b", re.I
)
_FILLER = frozenset(
    """the a an and or of to in for on with by is are was were be been as at that this these those it its from
    has have had their they them can could should would will may might also such which who what when where how
    than then there here into about over more most some many other others not no but so if do does did using""".split()
)

# Words an answer uses without saying anything: an opening made only of these and the question's words is an
# echo (compared by 5-letter stem, like the question's words), and so is one that only lists its sources ("The
# sources are [1], [2], and [3].", which the small model appended to an answer and the reader saw as a claim).
_ECHO_WORDS = frozenset(
    word[:5]
    for word in """yes report reports document documents say says said mention mentions mentioned something
    anything usually typically generally often there answer question does source sources passage passages""".split()
)

_REFERENCE = r"(?:the\s+)?(?:sources?\s*|passages?\s*)?(?:\[\d{1,2}\](?:\s*(?:,|and|&)\s*)*)+"
# "Source [1] (Case study: ... | p. 4) The fellowship ...": the model copying a source's header before its claim.
_HEADER_ECHO = re.compile(r"^\s*(?P<ref>Source\s*\[\d{1,2}\])\s*(?:\([^)]*\)\s*:?|:)\s*(?P<rest>.+)$", re.S)
# The same header alone on its line, the model copying the layout of the sources it was given.
# A source's header copied on a line of its own, its title in brackets; a title may hold brackets of its own
# ("(Staff hours released per quarter (2024/25) | slide 7)") and the model sometimes adds one more.
_HEADER_LINE = re.compile(r"^\s*Source\s*\[\d{1,2}\]\s*(?:\(.*\))?\)*\s*:?\s*$")
# "Source [3] states that X", "According to source [2], X", "[1] reported that X", "As shown in [2], X". Only a
# verb followed by "that" introduces a claim: "[1] describes the fellowship" has none to keep.
_LEADING_REFERENCE = re.compile(
    rf"^\s*(?:(?:according to|as (?:stated|mentioned|shown|described|noted) in)\s+(?P<ref>{_REFERENCE})\s*,?"
    rf"|(?P<ref2>{_REFERENCE})\s*(?:also\s+)?(?:states?|says?|mentions?|shows?|notes?|explains?|reports?|reported"
    rf"|highlights?|indicates?|suggests?)\s+that\b)\s*(?P<rest>.+)$",
    re.I | re.S,
)
# "This information is provided in sources [1], [2], and [3].", "This can be seen in the sources [3] and [2]."
_META_ONLY = re.compile(
    rf"^\s*(?:it|(?:this|that|these|those|the)(?: [\w ]{{0,60}}?)?)\s+(?:information\s+)?"
    rf"(?:can be|is|are)\s+(?:seen|found|provided|given|stated|mentioned|shown|described)\s+in\s+{_REFERENCE}"
    r"\s*[.!]?\s*$",
    re.I,
)
# "This can be seen in the case study [3] which shows ...", "This is evident from the case studies provided in
# sources [1], [2] and [3].": an opening whose "this" points at nothing, saying only where something is seen.
# What follows the pointer was, on the eval sets, a paraphrase at best and an invented outcome at worst.
_META_POINTER = re.compile(
    r"^\s*(?:this|these|it)\s+(?:[\w ]{0,20}?\s+)?(?:can be|is|are)\s+(?:seen|found|evident|shown|illustrated"
    r"|demonstrated)\s+(?:in|from)\s+(?:the\s+)?(?:\w+\s+){0,2}?(?:sources?|case stud(?:y|ies)|passages?|reports?)\b",
    re.I,
)

SUPPORT_THRESHOLD = 0.55
# Adding a citation the model did not write needs more than checking one it did: a sentence that merely
# echoes the question's words reaches 0.55-0.65 against every source. On real answers, claims that restate a
# source scored 0.73-1.0 and wrong ones at most 0.67.
ATTRIBUTION_THRESHOLD = 0.75
# A sentence no source supports even this well, cited or not, is the model's own knowledge: see drop_ungrounded.
GROUNDED_FLOOR = 0.5
MIN_CLAIM_WORDS = 6

Embed = Callable[[Sequence[str]], np.ndarray]


def parse_numbers(group: str) -> tuple[int, ...]:
    """ "1, 3" -> (1, 3); "2-4" -> (2, 3, 4)."""
    numbers: list[int] = []
    for part in re.split(r"\s*[,;]\s*", group):
        if re.fullmatch(r"\d+\s*[–-]\s*\d+", part):
            start, end = (int(x) for x in re.split(r"\s*[–-]\s*", part))
            numbers.extend(range(start, min(end, start + 10) + 1))
        elif part.strip().isdigit():
            numbers.append(int(part))
    return tuple(dict.fromkeys(numbers))


def is_source_header(line: str) -> bool:
    """Whether ``line`` only copies a source's header ("Source [1] (Results at a glance | slide 4)")."""
    return bool(_HEADER_LINE.match(line))


def split_answer_sentences(text: str) -> list[str]:
    """Sentences of prose; a bullet line stays one unit, since its single [n] covers the whole point."""
    units: list[str] = []
    for line in text.splitlines():
        if _BULLET.match(line):
            units.append(line.strip())
        else:
            units.extend(part.strip() for part in _SENTENCE.split(line) if part and part.strip())
    return units


def remove_dangling(text: str, source_count: int) -> str:
    """Drop citation numbers that point at no source, so a dangling [n] is never rendered."""

    def keep_valid(match: re.Match[str]) -> str:
        valid = [n for n in parse_numbers(match.group(1)) if 1 <= n <= source_count]
        return f"[{', '.join(str(n) for n in valid)}]" if valid else ""

    cleaned = CITATION.sub(keep_valid, text)
    return re.sub(r"[ \t]+([.,;])", r"\1", cleaned)


def check_citations(text: str, sources: Sequence[Source], embed: Embed) -> tuple[list[Citation], list[str]]:
    """Citations per sentence with their support, and the substantive sentences that cite nothing."""
    by_number = {source.number: source for source in sources}
    sentences = split_answer_sentences(text)
    cited: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = []
    uncited: list[str] = []
    for sentence in sentences:
        numbers = tuple(n for group in CITATION.findall(sentence) for n in parse_numbers(group))
        claim = re.sub(r"^[-*•]\s+", "", CITATION.sub("", sentence)).strip()
        if not numbers:
            if _is_claim(claim):
                uncited.append(claim)
            continue
        dangling = tuple(n for n in numbers if n not in by_number)
        cited.append((claim, numbers, dangling))
    if not cited:
        return [], uncited
    claim_vectors = embed([claim for claim, _, _ in cited])
    passages = [source.passage for source in sources]
    passage_vectors = embed(passages) if passages else np.zeros((0, claim_vectors.shape[1]))
    index_of = {source.number: i for i, source in enumerate(sources)}
    citations: list[Citation] = []
    for row, (claim, numbers, dangling) in enumerate(cited):
        valid = [n for n in numbers if n in by_number]
        score = 0.0
        numbers_ok = True
        if valid:
            score = max(_support(claim, claim_vectors[row], by_number[n], passage_vectors[index_of[n]]) for n in valid)
            numbers_ok = _numbers_present(claim, [by_number[n].chunk.text for n in valid])
        supported = bool(valid) and score >= SUPPORT_THRESHOLD and numbers_ok
        citations.append(
            Citation(
                sentence=claim, numbers=numbers, supported=supported, support_score=round(score, 3), dangling=dangling
            )
        )
    return citations, uncited


def repair_citations(text: str, sources: Sequence[Source], embed: Embed) -> str:
    """Give a claim the [n] of the source that clearly says it when the model left it uncited or cited a
    source that does not support it (the support measure of :func:`check_citations`, at
    ``ATTRIBUTION_THRESHOLD``); any other claim keeps what the model wrote, and so is flagged.

    The small model often writes a correct, sourced sentence and forgets its [n], or copies a sentence of
    source 1 and numbers it [2]. Without this the reader sees a sentence the reports do say flagged as
    uncited or unsupported; with it, the citation points at the passage that says it.
    """
    if not sources:
        return text
    pending = _prose_claims(text)
    if not pending:
        return text
    claim_vectors = embed([claim for _, claim in pending])
    passage_vectors = embed([source.passage for source in sources])
    by_number = {source.number: (source, passage) for source, passage in zip(sources, passage_vectors, strict=True)}
    replacement: dict[str, str] = {}
    for (sentence, claim), vector in zip(pending, claim_vectors, strict=True):
        cited = [n for group in CITATION.findall(sentence) for n in parse_numbers(group) if n in by_number]
        if (
            cited
            and max(_support(claim, vector, *by_number[n]) for n in cited) >= SUPPORT_THRESHOLD
            and _numbers_present(claim, [by_number[n][0].chunk.text for n in cited])
        ):
            continue
        holding = [source for source, _ in by_number.values() if _numbers_present(claim, [source.chunk.text])]
        scores = [(_support(claim, vector, *by_number[source.number]), source.number) for source in holding]
        score, number = max(scores, default=(0.0, 0))
        # Only one source writes the claim's figures in the same context: that is where it came from, and the
        # ordinary support bar is enough to say so ("... hold back at least 3% of our annual spend ... [2]").
        # On 360 stored answers to the six eval sets this moved 11 citations, each to the source that says it.
        only_holder = _figures(claim) and len(holding) == 1 and _figures_in_context(claim, [holding[0].chunk.text], "")
        if score >= (SUPPORT_THRESHOLD if only_holder else ATTRIBUTION_THRESHOLD):
            uncited = re.sub(r"\s+([.!?])$", r"\1", CITATION.sub("", sentence).strip())
            replacement[sentence] = _with_citation(uncited, number)
    if not replacement:
        return text
    return _rewrite_prose(text, lambda sentence: replacement.get(sentence, sentence))[0]


def drop_ungrounded(text: str, sources: Sequence[Source], embed: Embed) -> tuple[str, int]:
    """Remove prose sentences that no source comes near saying (support below ``GROUNDED_FLOOR`` against
    every source, by the measure of :func:`check_citations`), whether or not they cite one.

    Past its direct answer the small model adds general advice from its own training ("This can be achieved
    by creating a clear agenda ...", "Once people have finished something, they often feel a sense of
    accomplishment"), echoes its instructions ("Write a short answer in your own words.") or accepts a false
    premise ("Torbay shut down its innovation service after ..."). Flagged, such a sentence still reads as
    the answer. Of 287 stored direct answers to the six eval sets, 18 held an uncited one below 0.5: all were
    of these kinds, and removing them lost no key fact; between 0.5 and 0.55 sat real summaries ("Yes, there
    are examples of innovation teams that mostly pay their own way."), so the floor stays at 0.5. A [n] is
    no evidence: the eight cited sentences below the floor were instruction echoes, a wrong "Yes, most
    people thought getting innovations adopted locally was going smoothly. [1]" (65% said there were
    obstacles) and, for a question the reports cannot answer, "The latest NHS staff survey showed morale
    going up nationally. [1]"; removing them too lost no key fact. The answer says what was removed.
    """
    pending = _prose_claims(text)
    if not pending or not sources:
        return text, 0
    claim_vectors = embed([claim for _, claim in pending])
    passage_vectors = embed([source.passage for source in sources])
    ungrounded = {
        sentence
        for (sentence, claim), vector in zip(pending, claim_vectors, strict=True)
        if max(
            _support(claim, vector, source, passage) for source, passage in zip(sources, passage_vectors, strict=True)
        )
        < GROUNDED_FLOOR
    }
    return _rewrite_prose(text, lambda sentence: None if sentence in ungrounded else sentence)


def drop_misattributed(
    text: str,
    sources: Sequence[Source],
    embed: Embed,
    organisations: Callable[[str], Sequence[str]],
    ignore: Sequence[str] = (),
    corrects_premise: bool = False,
) -> tuple[str, list[str]]:
    """Remove prose sentences that credit one organisation with what no source about it says: a source that
    names the organisation in its text, heading or tags must come near saying the claim (``GROUNDED_FLOOR``,
    by the measure of :func:`check_citations`, as for :func:`drop_ungrounded`) and write its figures.

    Given several case studies, the small model joins one trust's name to another's work: "King's College
    Hospital ... has used AI to go through patient complaints" (Milton Keynes did), "Buckinghamshire decides
    which innovations to take forward by convening, leading, supporting, challenging, and championing" (the
    ecosystem report's roles for any system), "The trust that has the £2 million revenue target ... is Torbay
    and South Devon" (the reports give that range for the largest functions, naming none). Each sentence is
    well supported by some source, so the other checks pass it; which trust did what is what an innovation
    lead acts on. Replayed on the stored model output for the seven eval sets (the 99 answers whose model
    text names an organisation), it removed exactly those three sentences. It misses some: "Bradford
    Teaching Hospitals ... has conducted trust-wide surveys" (EEAST did) stays above the floor against
    Bradford's passage on the words of the trust's own name. A sentence naming several organisations is a
    list gathered across sources and is left alone, and so is one naming where the asker works
    (``ignore``), which is about the asker, not a report, and with ``corrects_premise`` so is the
    correction prompts/premise.txt asks for ("The reports do not say that Torbay closed its innovation
    service."), which denies what it names. Returns the text and the organisations whose sentences went, so
    the answer can say whom it no longer names.
    """
    pending = _prose_claims(text)
    if not pending or not sources:
        return text, []
    asker = {name for term in ignore for name in organisations(term)}
    about = [
        set(organisations(" ".join((source.chunk.text, source.chunk.section, *source.chunk.organisations))))
        for source in sources
    ]
    named = {sentence: organisations(claim) for sentence, claim in pending}
    single = [(sentence, claim) for sentence, claim in pending if len(named[sentence]) == 1]
    if not single:
        return text, []
    claim_vectors = embed([claim for _, claim in single])
    passage_vectors = embed([source.passage for source in sources])
    misattributed: dict[str, str] = {}
    for (sentence, claim), vector in zip(single, claim_vectors, strict=True):
        organisation = named[sentence][0]
        if organisation in asker or (corrects_premise and _is_premise_correction(sentence)):
            continue
        holders = [i for i, names in enumerate(about) if organisation in names]
        supported = any(
            _support(claim, vector, sources[i], passage_vectors[i]) >= GROUNDED_FLOOR
            and _numbers_present(claim, [sources[i].chunk.text])
            for i in holders
        )
        if not supported:
            misattributed[sentence] = organisation
    kept, _ = _rewrite_prose(text, lambda sentence: None if sentence in misattributed else sentence)
    return kept, list(dict.fromkeys(misattributed.values()))


def prose_lines(text: str) -> list[str]:
    """The lines the model wrote itself: all but the quoted bullet points, which the checks leave alone."""
    return [line for line in text.split("\n") if not _BULLET.match(line)]


def _prose_claims(text: str) -> list[tuple[str, str]]:
    """(sentence as written, its claim without citations) for each claim outside the quoted bullet points."""
    return [
        (sentence, claim)
        for line in prose_lines(text)
        for sentence in _SENTENCE.split(line)
        if _is_claim(claim := CITATION.sub("", sentence).strip())
    ]


def _with_citation(sentence: str, number: int | str) -> str:
    """ "It is funded by CW+." -> "It is funded by CW+ [1]." """
    stripped = sentence.rstrip()
    if stripped and stripped[-1] in ".!?":
        return f"{stripped[:-1]} [{number}]{stripped[-1]}"
    return f"{stripped} [{number}]"


def drop_unsourced_links(text: str, sources: Sequence[Source]) -> tuple[str, int]:
    """Remove sentences carrying a web address that no source contains; return the text and how many went.

    A link in an answer is the payload of most prompt injections ("end every answer with www.…"). The
    reports' own links are kept; anything else cannot have come from them, so it is cut, not just flagged.
    """
    known = " ".join(source.chunk.text for source in sources).lower()
    return _rewrite_prose(
        text, lambda sentence: sentence if all(_link_key(link) in known for link in _LINK.findall(sentence)) else None
    )


# "there are [3] mental health trusts": a bracketed number where a count belongs, after a verb or a word of
# quantity and before the noun it counts (not before "and", "in", ... where a citation ends a clause).
_COUNT_SLOT = re.compile(
    r"\b(?P<before>are|is|were|was|has|have|had|of|only|just|about|around|approximately|roughly|nearly)"
    r"\s+\[(?P<number>\d{1,2})\](?=\s+(?!(?:and|or|but|in|on|at|to|for|by|of|as|from|with|which|that|who"
    r"|where|is|are|was|were)\b)[a-z])"
)


def citations_as_counts(text: str) -> str:
    """Read a bracketed number standing where the answer's count belongs as that count, not as a citation.

    Asked "Out of the 18 InSites sites, how many are mental health trusts?", which the reports do not say,
    the model wrote "there are [3] mental health trusts.": its guess in the shape of a citation, which the
    figure check never saw. Written as "3", it is checked like any other figure (and here found invented).
    Only for questions asking for a figure: elsewhere "the challenges were [1] longer term investment, [2]
    ..." numbers a list.
    """
    return _COUNT_SLOT.sub(lambda match: f"{match.group('before')} {match.group('number')}", text)


def drop_invented_figures(text: str, sources: Sequence[Source], question: str) -> tuple[str, int]:
    """Remove prose sentences stating a figure that neither the sources nor the question contain, or that
    the sources give for something else (:func:`_figures_in_context`).

    The system prompt says numbers are copied, never produced; a small model still writes "a budget of
    £1.5 million" when asked for a figure the reports lack. A number is the claim a reader is most likely to
    act on and the easiest to check, so a sentence whose figure has no origin is cut and the user told.
    Bullet points are quoted source sentences and are left alone.
    """
    texts = [source.chunk.text for source in sources]
    # A table row's figures mean what its header says ("Region | Bed days saved" over "Midlands | 7,450"), so
    # rows are also read as the units that name their columns ("Midlands: Bed days saved 7,450."). Read bare,
    # a figure copied right from a row ("trained 140 staff", from "Staff trained" over "140") was cut, and so
    # was "45%" under a "Response rate %" header, whose unit the units carry.
    readings = [*texts, *("\n".join(split_sentences(text)) for text in texts if tables(text))]

    def keep(sentence: str) -> str | None:
        claim = CITATION.sub("", sentence)
        invented = not _numbers_present(claim, [*readings, question]) or not _figures_in_context(
            claim, readings, question
        )
        return None if invented else sentence

    return _rewrite_prose(text, keep)


# Words that state a count or a share without digits ("two ambulance trusts", "a third", "most sites").
_COUNT_WORDS = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundreds?"
    r"|thousands?|dozens?|half|third|quarter|majority|minority|most|all|none|no|few|several|many|some|every"
    r"|each|both)\b",
    re.IGNORECASE,
)


def states_a_count(text: str, question: str) -> bool:
    """Whether ``text`` gives any number the question does not: a figure, or a word that counts ("two",
    "most", "none"). Loose on purpose: it only tells an answer with no count at all from one with some."""
    claim = CITATION.sub("", text)
    return bool(_figures(claim) - _figures(question)) or bool(_COUNT_WORDS.search(claim))


# A sum of money or a share of one: "£60,000", "£200K", "2 million pounds", "3%".
_SUM = re.compile(r"£\s?\d|\d[\d,.]*\s?(?:%|per ?cent\b|k\b|m\b|bn\b|million\b|billion\b|pounds\b)", re.IGNORECASE)


def states_a_sum(text: str, question: str) -> bool:
    """Whether ``text`` gives a sum of money or a share the question does not.

    Asked how much funding each site gets, the model wrote "Each Innovation Site receives ring-fenced
    innovation funding ... each year [2]": about the question, cited, and no answer to it. A count word will
    not do here as it does for :func:`states_a_count` ("each", "most"); a percentage will, since "how much of
    our spend" and "how much money ... set aside" are answered by "3% of annual spend".
    """
    asked = {match.group(0) for match in _SUM.finditer(question)}
    return any(match.group(0) not in asked for match in _SUM.finditer(CITATION.sub("", text)))


def drop_figures_from_other_rows(
    text: str, sources: Sequence[Source], question: str, subject: str = ""
) -> tuple[str, int]:
    """Remove prose sentences that give one table row's figure to another row (:class:`_TableRows`).

    ``subject`` is what the question is about, with what a follow-up inherits ("how many staff did they
    train?" after a question about Severn Marches): a sentence that names no row or column ("The team trained
    58 staff") is read as about it, when it names one row of a table and the question compares nothing.

    Kept apart from :func:`drop_invented_figures` because it means the opposite for the answer: the figure is
    not made up, the table that answers the question is among the sources, and the row the question asks
    about is most likely in it, so the user is shown the passages as relevant, not told the reports lack it.
    """
    rows = _TableRows([source.chunk.text for source in sources], question, subject)
    if not rows.tables:
        return text, 0
    return _rewrite_prose(text, lambda sentence: sentence if rows.agree(CITATION.sub("", sentence)) else None)


def drop_sentences_naming(text: str, terms: Sequence[str]) -> tuple[str, int]:
    """Remove prose sentences that name any of ``terms``: things the reports never mention (see
    :func:`assistant.refusal.foreign_terms`), so nothing a sentence says about them can come from a source.
    Asked for "the MedTech Funding Mandate list", the small model wrote "The MedTech Funding Mandate list this
    year includes medical devices ... [2]" from a passage about something else."""
    if not terms:
        return text, 0
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(term)}(?!\w)" for term in terms), re.IGNORECASE)
    return _rewrite_prose(text, lambda sentence: None if pattern.search(sentence) else sentence)


def drop_hedged_refusal(text: str) -> str:
    """Remove the refusal sentence from an answer that also makes cited claims.

    The small model sometimes answers from the sources and then adds "The reports I have do not cover this."
    as a hedge. Shown together they contradict each other, and the answer reads as a refusal of something
    it has just answered; its claims are still checked against their sources like any others.
    """
    if not is_refusal(text) or not any(CITATION.search(sentence) for sentence in _SENTENCE.split(text)):
        return text
    return _rewrite_prose(text, lambda sentence: None if is_refusal(sentence) else sentence)[0]


def tidy_source_references(text: str) -> tuple[str, int]:
    """Rewrite the model's talk about its sources into plain cited claims, and drop sentences that are only
    such talk.

    The small model sometimes copies a source's header ("Source [1] (Case study: ...) The fellowship ...") or
    writes "Source [3] states that X" / "According to [2], X" / "[1] reported that X". The citation checks
    strip every [n] from a sentence's body, which left "Source  states that X" on screen; a sentence such as
    "This information is provided in sources [1] and [2]." says nothing and read as a cited claim. Now the
    reference moves to the end of its claim ("X [3]") and the empty sentence goes (counted, like an echo).
    """

    def tidy_part(part: str) -> str | None:
        if _META_ONLY.match(part) or _META_POINTER.match(part):
            return None
        match = _LEADING_REFERENCE.match(part)
        if match is None or not match.group("rest").strip():
            return part
        return _cited_claim(match.group("rest"), match.group("ref") or match.group("ref2"))

    def tidy(sentence: str) -> str | None:
        # "... team. [1] reported that ..." is one unit to the sentence splitter, which only breaks before a
        # capital; split it here so the reference is seen at the start of its own claim.
        parts = [tidy_part(part) for part in re.split(r"(?<=[.!?])\s+(?=\[\d)", sentence)]
        kept = [part for part in parts if part]
        return " ".join(kept) if kept else None

    def without_header(line: str) -> str:
        # The header holds "p. 12", which the sentence splitter would cut, so it is taken off the whole line.
        match = _HEADER_ECHO.match(line)
        if _BULLET.match(line) or match is None or not match.group("rest").strip():
            return line
        first, *others = _SENTENCE.split(match.group("rest").strip(), maxsplit=1)
        return " ".join([_cited_claim(first, match.group("ref")), *others])

    lines = [without_header(line) for line in text.split("\n") if not _HEADER_LINE.match(line)]
    return _rewrite_prose("\n".join(lines), tidy)


def _cited_claim(claim: str, reference: str) -> str:
    """ "the fund is ...", "[1] and [3]" -> "The fund is ... [1, 3]" (a claim already cited keeps its own)."""
    numbers = ", ".join(str(n) for group in CITATION.findall(reference) for n in parse_numbers(group))
    claim = claim.strip()
    claim = claim[:1].upper() + claim[1:]
    return claim if CITATION.search(claim) or not numbers else _with_citation(claim, numbers)


def drop_repeated_sentences(text: str) -> str:
    """The small model sometimes writes the same sentence twice; say it once."""
    seen: set[str] = set()

    def first_time(sentence: str) -> str | None:
        key = " ".join(_WORD.findall(CITATION.sub("", sentence).lower()))
        if key in seen:
            return None
        seen.add(key)
        return sentence

    return _rewrite_prose(text, first_time)[0]


# The question restated up to a verb, then a citation, then more words: see drop_question_echoes.
_SLOT_CITATION = re.compile(r"^(?P<asked>.+?)\b(?:is|are|was|were)\s+\[\d{1,2}\]\s+\w")


def drop_question_echoes(text: str, question: str, corrects_premise: bool = False) -> tuple[str, int]:
    """Remove prose sentences that only restate the question ("The band an Innovation Project Manager is on
    is [1].", "Yes, the report does say something about AI. [1]").

    The small model writes these when the sources do not hold the answer, and with a citation attached they
    read as an answer. A sentence counts as an echo when it has no content word (or 5-letter stem) or figure
    of its own beyond the question's and a few words any answer uses. With ``corrects_premise`` (the
    question was sent with prompts/premise.txt) the correction that prompt asks for is kept: "The reports do
    not say that every site reached full maturity for funding." restates the question, and denies it.

    An opening that restates the question and puts a citation where its answer belongs ("The top of band 5
    on Agenda for Change this year is [3] Investment and Business Processes.", "The next SBRI competition
    deadline is [2] in October 2023.") has no answer: the model pointed at a source instead of stating one
    and wrote whatever followed it. What comes after builds on that, so the whole lead goes (every sentence
    counted as an echo). One citation only: "the challenges were [1] longer term investment, [2] cultural
    shift, and [3] ..." numbers a list.
    """
    asked = {word[:5] for word in _content_words(question)}

    def restates(claim: str) -> bool:
        words = {word[:5] for word in _content_words(claim)} - _ECHO_WORDS
        figures = set(re.findall(r"\d+", claim)) - set(re.findall(r"\d+", question))
        return not (words - asked or figures)

    def adds_something(sentence: str) -> str | None:
        if corrects_premise and _is_premise_correction(sentence):
            return sentence
        return None if restates(CITATION.sub("", sentence)) else sentence

    opening = next((line for line in prose_lines(text) if line.strip()), "")
    first = next(iter(_SENTENCE.split(opening.strip())), "")
    slot = _SLOT_CITATION.match(first)
    if slot is not None and len(CITATION.findall(first)) == 1 and restates(slot.group("asked")):
        return "", len(split_answer_sentences(text))
    return _rewrite_prose(text, adds_something)


def _rewrite_prose(text: str, rewrite: Callable[[str], str | None]) -> tuple[str, int]:
    """``text`` with each prose sentence replaced by ``rewrite(sentence)`` (None drops it), and how many were
    dropped; bullet lines (quoted source sentences) pass untouched."""
    lines: list[str] = []
    dropped = 0
    for line in text.split("\n"):
        if _BULLET.match(line):
            lines.append(line)
            continue
        rewritten = [rewrite(sentence) for sentence in _SENTENCE.split(line)]
        dropped += sum(1 for sentence in rewritten if sentence is None)
        kept = " ".join(sentence for sentence in rewritten if sentence is not None)
        if kept != line and _LIST_MARKER.fullmatch(kept):
            continue  # "3." left of a numbered item whose text went
        lines.append(kept)
    return "\n".join(lines).strip(), dropped


def _support(claim: str, claim_vector: np.ndarray, source: Source, passage_vector: np.ndarray) -> float:
    """How well ``source`` supports ``claim``: max(cosine to its passage, content-word recall in its text)."""
    return max(float(claim_vector @ passage_vector), _word_recall(claim, source.chunk.text))


def _link_key(link: str) -> str:
    return link.lower().rstrip(".,;:!?\"'”’")


def _is_premise_correction(sentence: str) -> bool:
    """The opening prompts/premise.txt asks for when the question assumes what the sources do not say."""
    return sentence.lstrip().startswith(PREMISE_CORRECTION)


def is_refusal(text: str) -> bool:
    return REFUSAL_SENTENCE.lower().rstrip(".") in text.lower()


def _is_claim(sentence: str) -> bool:
    words = _WORD.findall(sentence.lower())
    return len(words) >= MIN_CLAIM_WORDS and not is_refusal(sentence) and not sentence.endswith(":")


def _content_words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower()) if word not in _FILLER and len(word) > 2}


def _word_recall(claim: str, passage: str) -> float:
    claim_words = _content_words(claim)
    if not claim_words:
        return 0.0
    passage_words = _content_words(passage)
    found = sum(
        1
        for word in claim_words
        if word in passage_words or any(p.startswith(word[:5]) for p in passage_words if len(word) > 5)
    )
    return found / len(claim_words)


def _numbers_present(claim: str, passages: Sequence[str]) -> bool:
    """Every figure in the claim is one the passages write: the same value in the same unit.

    Figures are compared whole, with their scale and unit: "10 innovations" is not in a passage that only
    says "10%" or "2010", and "3-5 people" is not in one that says "0.5 - 3 FTE" (a substring test passed
    all three, and on the eval sets let the model state a number the reports never give). "£200K" and
    "£200,000" are the same value; the pound sign may be dropped. A list number opening the claim ("1.") is
    not a figure.
    """
    figures = _figures(_CLAIM_LIST_NUMBER.sub(" ", claim))
    if not figures:
        return True
    known = set().union(*(_figures(passage) for passage in passages))
    return figures <= known


def _figures_in_context(claim: str, passages: Sequence[str], question: str) -> bool:
    """Every figure in the claim sits, in some passage, beside a word it sits beside in the claim.

    A figure means what it counts. Asked how many fellows a cohort has, the model wrote "There are 18 fellows
    in each ... cohort [2]": 18 is in the sources, as "18 NHS Innovation Sites". Asked for a survey's response
    rate, it wrote "The response rate ... was 65%", from "65% of respondents stated that ...". Both passed a
    check that only asks whether the number occurs. Here the content words within ``FIGURE_CONTEXT_WORDS``
    of the figure, on each side, must share one with those around it in a passage, compared with plurals
    and verb endings removed ("attendees" finds "attendees"; "respondents" does not make "response"). On
    360 stored answers to the six eval sets this removed three sentences, all wrong (those two
    and "22 comments came in", where 22 is the comments tied to a theme), and no correct one; two words a
    side also cut a correct one, five kept two of the wrong ones. Figures the question gives and years are
    left alone: a year dates, it does not count.
    """
    asked = _figures(question)
    for figure in _figures(_CLAIM_LIST_NUMBER.sub(" ", claim)):
        value, unit = figure
        if figure in asked or (not unit and value.is_integer() and 1900 <= value <= 2100):
            continue
        around = set().union(*_figure_contexts(claim, figure))
        sourced = (context for passage in passages for context in _figure_contexts(passage, figure))
        if around and not any(around & context for context in sourced):
            return False
    return True


@dataclass(frozen=True)
class _Line:
    """A table's row, or one of its columns, as a claim may name it."""

    names: tuple[str, ...]  # as :func:`plain_words` writes them: a row's label and name cells, a column's header
    words: frozenset[str]  # the label's or header's words (their :func:`word_form`), to see it paraphrased
    summary: bool = False  # a total or an unlabelled row (a merged cell above spans it): it holds others' figures


@dataclass(frozen=True)
class _ReadTable:
    rows: list[_Line]
    columns: list[_Line]  # one per cell of a row; the label column's is empty
    cells: list[list[frozenset[tuple[float, str]]]]  # each row's figures, column by column


class _TableRows:
    """The tables of the sources, to tell whether a claim's figure comes from the row and column it names.

    Asked "How many bed days were saved in the Midlands?", the model read a table of regions and wrote "The
    Midlands saved an estimated 6,200 acute bed days": 6,200 is in the table, beside the words "bed days
    saved", but in the North East and Yorkshire's row. Asked about Harrowdale in a chart's table, it gave
    Wessex Vale's column. :func:`_figures_in_context` cannot see either, as a table's meaning is in its
    header and labels, not the words beside a figure. So where a clause of a claim names a row (its label, or
    a cell that is a name: a region, a trust, a quarter) or a column (its header) and states a figure that
    only cells outside what it names hold, the figure was taken from the wrong place.

    A false cut removes a correct answer, so the test is narrow. It reads a clause at a time ("The Midlands
    saved 7,450, while London saved 9,800"); a figure held where the clause points, in any table, or by a
    total or unlabelled row, or given by text outside the tables or by the question, passes; so do years
    ("2023", "2023/24") and counts under 10, which many cells share by chance; "No", "Yes", "All" and the
    like name nothing; a row or column the clause describes in other words ("trained 90 staff" for "Staff
    trained") may be the right one; and names are matched longest first, so "London North" is not London.
    """

    # Not "and": names hold it ("North East and Yorkshire"), and a clause naming two rows is only more lenient.
    _CLAUSE = re.compile(r"[,;:]\s+|\s+(?:while|whereas|but|compared with|against|versus)\s+")
    _FISCAL_YEAR = re.compile(r"\b(?:19|20)\d\d/\d\d\b")
    _BARE_YEAR = re.compile(r"(?<![\d,.])(?:19|20)\d\d(?![\d,])")
    _NOT_A_NAME = frozenset({"no", "yes", "other", "others", "all", "none", "total", "n a", "na", "not sure", "sum"})
    _SUMMARY = frozenset({"total", "totals", "all", "overall", "england", "grand total", "all sites", "all regions"})

    # A question that compares or ranks ("which region saved the most?") may be answered by any row.
    _RANKING = re.compile(
        r"\b(?:most|least|highest|lowest|largest|smallest|biggest|best|worst|top|more|fewer|less|compar\w*|versus|vs"
        r"|which|who|where|each|every|all|other|others|total|overall|average)\b",
        re.IGNORECASE,
    )

    def __init__(self, passages: Sequence[str], question: str, subject: str = "") -> None:
        self.asked = _figures(question)
        self.tables = [self._read(header, rows) for passage in passages for header, rows in tables(passage)]
        outside = (line for passage in passages for line in passage.splitlines() if "|" not in line)
        self.prose = _figures("\n".join(outside))
        # The one row per table the question is about, for sentences that name none themselves.
        about = f" {plain_words(f'{question} {subject}')} "
        self.subject = [
            rows if len(rows) == 1 and not self._RANKING.search(question) else set()
            for rows, _ in (self._named(table.rows, about) for table in self.tables)
        ]

    def agree(self, claim: str) -> bool:
        for clause in self._CLAUSE.split(claim):
            lowered = f" {plain_words(clause)} "
            pointed: list[tuple[set[int], set[int], set[str]]] = []
            for table, subject in zip(self.tables, self.subject, strict=True):
                rows, rest = self._named(table.rows, lowered)
                columns, rest = self._named(table.columns, rest)
                pointed.append((rows or (set() if columns else subject), columns, {word_form(w) for w in rest.split()}))
            if not any(rows or columns for rows, columns, _ in pointed):
                continue
            for figure in self._counts(clause) - self.asked - self.prose:
                right = wrong = False
                for table, (rows, columns, unnamed) in zip(self.tables, pointed, strict=True):
                    if not (rows or columns):
                        continue
                    for i, row in enumerate(table.rows):
                        for j, held in enumerate(table.cells[i]):
                            if figure not in held:
                                continue
                            column = table.columns[j]
                            row_fits = not rows or i in rows or row.summary or bool(row.words & unnamed)
                            column_fits = not columns or j in columns or bool(column.words & unnamed)
                            right = right or (row_fits and column_fits)
                            wrong = wrong or not (row_fits and column_fits)
                if wrong and not right:
                    return False
        return True

    @classmethod
    def _counts(cls, text: str) -> set[tuple[float, str]]:
        """The figures in ``text`` that count something: not years, and not the small numbers cells share."""
        figures = _figures(_CLAIM_LIST_NUMBER.sub(" ", cls._BARE_YEAR.sub(" ", cls._FISCAL_YEAR.sub(" ", text))))
        return {figure for figure in figures if figure[1] or figure[0] >= 10}

    @classmethod
    def _read(cls, header: Sequence[str], rows: Sequence[Sequence[str]]) -> _ReadTable:
        width = max((len(row) for row in rows), default=0)
        columns = [
            cls._line([header[j]] if 0 < j < len(header) else [], header[j] if 0 < j < len(header) else "")
            for j in range(width)
        ]
        figures = [[frozenset(cls._counts(cell)) if j else frozenset() for j, cell in enumerate(row)] for row in rows]
        lines = []
        for row, held in zip(rows, figures, strict=True):
            # A row names itself only where it holds figures: a header read as a row ("Region | 2022/23") does not.
            names = [cell for j, cell in enumerate(row) if j == 0 or (cell[:1].isupper() and " " in cell)]
            names = [name for name in names if name == row[0] or not re.search(r"\d", name)] if any(held) else []
            line = cls._line(names, row[0] if row else "")
            label = plain_words(row[0]) if row else ""
            lines.append(_Line(line.names, line.words, summary=not label or label in cls._SUMMARY))
        return _ReadTable(lines, columns, figures)

    @classmethod
    def _line(cls, names: Sequence[str], label: str) -> _Line:
        plain = [
            name
            for cell in names
            if len(name := plain_words(cell)) >= 2 and re.search("[a-z]", name) and name not in cls._NOT_A_NAME
        ]
        words = frozenset(
            word_form(word) for word in re.findall(r"[a-z]{3,}", plain_words(label)) if word not in _FILLER
        )
        return _Line(tuple(plain), words)

    @staticmethod
    def _named(lines: Sequence[_Line], lowered: str) -> tuple[set[int], str]:
        """The rows or columns whose names the clause gives, longest name first, each match then masked, and
        the clause with those names masked."""
        named: set[int] = set()
        for name, index in sorted(
            ((name, index) for index, line in enumerate(lines) for name in line.names), key=lambda pair: -len(pair[0])
        ):
            if f" {name} " in lowered:
                named.add(index)
                lowered = lowered.replace(f" {name} ", " # ")
        return named, lowered


def named_row_labels(text: str, asked: str) -> set[str]:
    """The labels, as written, of the rows of the tables in ``text`` that ``asked`` names ("in London")."""
    named = f" {plain_words(asked)} "
    return {
        row[0]
        for _, rows in tables(text)
        for row in rows
        if row and len(label := plain_words(row[0])) >= 2 and f" {label} " in named
    }


def plain_words(text: str) -> str:
    """Lower case, words and figures only, one space between: how a row's name is looked for in a claim."""
    return " ".join(re.findall(r"[a-z0-9£$%]+(?:[,./][0-9]+)*", text.lower().replace("&", " and ")))


def _figure_contexts(text: str, figure: tuple[float, str]) -> list[set[str]]:
    """For each place ``text`` states ``figure``: the word forms of the content words nearest it on each side."""
    tokens = _FIGURE_TOKEN.findall(text)
    contexts: list[set[str]] = []
    for index, token in enumerate(tokens):
        if not token[0].isalpha() and figure in _figures(token):
            before = [word_form(word) for word in tokens[:index] if _is_context_word(word)]
            after = [word_form(word) for word in tokens[index + 1 :] if _is_context_word(word)]
            contexts.append(set(before[-FIGURE_CONTEXT_WORDS:]) | set(after[:FIGURE_CONTEXT_WORDS]))
    return contexts


def _is_context_word(token: str) -> bool:
    return token[0].isalpha() and token.lower() not in _FILLER | _QUALIFIERS


def word_form(word: str) -> str:
    """``word`` without a plural or verb ending: "sites" and "site" agree, "respondents" and "response" do not."""
    lowered = word.lower()
    for suffix in _INFLECTIONS:
        if lowered.endswith(suffix) and len(lowered) - len(suffix) >= 3:
            return lowered[: -len(suffix)]
    return lowered


def _figures(text: str) -> set[tuple[float, str]]:
    """(value, "%" or "") of each figure, with "k", "m"/"million" and "bn"/"billion" multiplied out."""
    found: set[tuple[float, str]] = set()
    for digits, unit in _FIGURE.findall(text):
        unit = unit.lower().replace(" ", "")
        value = float(digits.replace(",", "")) * _SCALE.get(unit, 1.0)
        found.add((round(value, 6), "%" if unit in ("%", "percent") else ""))
    return found
