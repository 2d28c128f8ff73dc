"""Structure-aware splitting: sections, case studies and lists stay together; every chunk knows where it sits.

Learning reports are mostly exported slide decks. Their structure survives as layout, not markup: a slide is
a run of text between wide gaps (or a PDF page), its first block is the slide title (OCR wraps it over lines),
and short unpunctuated lines or questions inside it are sub-headings ("Best practice approaches", "Case Study:
...", "What further support would your organisation need?"). We recover that outline, then pack consecutive
passages of one slide into chunks that fit the embedder (it reads a few hundred tokens and silently drops the
rest). A case study is kept whole where it fits and is never mixed with other text, so "which trusts ..."
questions retrieve one organisation's story per chunk.

Chunk text is copied verbatim from the document (blocks re-joined with a blank line): quotes checked by the
evals and the cited sentence shown to users must be findable in it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from assistant.records import Chunk, ChunkKind, LoadedDocument, is_slide_deck
from ingest.organisations import OrganisationIndex

TokenCounter = Callable[[str], int]

MAX_CHUNK_TOKENS = 190
MAX_CASE_STUDY_TOKENS = 400
MIN_CHUNK_TOKENS = 40

_SLIDE_GAP = re.compile(r"\n[ \t\u00a0]*\n[ \t\u00a0]*\n[ \t\u00a0]*\n\s*")
_BLOCK_GAP = re.compile(r"\n[ \t\u00a0]*\n\s*")
_TOC_LINE = re.compile(r"^\s*(?:<u>)?(.+?)(?:</u>)?\s*\t+\s*(\d{1,4})\s*$")
_TOC_ENTRY = re.compile(r"[A-Za-z][^\t\n]{0,80}\t+\d{1,4}(?=\t|\n|$)")
# A contents line as a PDF prints it: "1.1. Why do we need a review? ........ 5" (or ". . . . 5", as LaTeX does).
_DOTTED_TOC_ENTRY = re.compile(r"[A-Za-z][^\n]{0,150}?(?:(?:\.[ \t]?){4,}|…{2,})\s*\d{1,4}[ \t]*(?=\n|$)")
_MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_HEADING_MARK = re.compile(r"^#{1,6}\s+(?=\S)", re.MULTILINE)
# A report numbers its case studies like its other sections ("3. Case Study: ...", "3.2 Case study: ...").
_CASE_STUDY = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.?\s+)?case stud(?:y|ies)\s*[:\-–]\s*(.+)$", re.IGNORECASE)
_BEST_PRACTICE = re.compile(r"^(?:best|good|promising) practice", re.IGNORECASE)
_RECOMMENDATIONS = re.compile(r"^recommendations?\b", re.IGNORECASE)
# Body text is a recommendation only when it opens like a label; a word-wrapped diagram line starting
# "recommendations / with R&I or other ..." is not.
_RECOMMENDATIONS_LABEL = re.compile(r"^Recommendations?\b")
_KEY_FINDING = re.compile(r"^key findings?\b", re.IGNORECASE)
_SLIDE_TITLE = re.compile(r"^(?:key (?:theme|finding)s?\b|executive summary\b)", re.IGNORECASE)
_STATISTIC = re.compile(r"\b\d+(?:\.\d+)?\s?%|\(n\s?=\s?\d+\)|\b\d+\s+(?:of\s+(?:the\s+)?\d+\s+)?Sites?\b")
_TRAILING_FUNCTION_WORDS = {
    "and",
    "or",
    "of",
    "the",
    "to",
    "as",
    "with",
    "for",
    "a",
    "an",
    "in",
    "on",
    "by",
    "that",
}
_QUOTE_OPEN = ("“", '"', "‘")
_SENTENCE_END = re.compile(r"(?<=[.!?”])\s+(?=[A-Z“\"(])")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•●▪]|\d{1,2}[.)])\s+")
# A PDF sets a list's bullet apart from its text, often on a line of its own ("•" then the item).
_LIST_ITEM_LINE = re.compile(r"^\s*(?:[-*•●▪]|\d{1,2}[.)])(?:\s|$)")
# The same boundary, its whitespace kept by ``split`` so that pieces can be joined as the page had them.
_SENTENCE_GAP = re.compile(f"({_SENTENCE_END.pattern})")
_CLOSING = (".", "!", "?", ":", ";", "…", "”", '"', "’")
# The end of a sentence before any next word, a number as well as a capital ("in 2023. 45 more rooms"):
# the words a page break moves back must stop at the first one (see _rejoin_sentences_across_pages).
_FIRST_SENTENCE_END = re.compile(r"[.!?…][”\"’)]*(?=\s+\S)")
# Body prose before a page break (see _breaks_mid_sentence): lines of this many words or more (the median).
# A sidebar, chart labels or a metadata block fall short.
MIN_BODY_LINE_WORDS = 5
_WORD = re.compile(r"\w+|[^\w\s]")


def estimate_tokens(text: str) -> int:
    """WordPiece-like count without loading a tokenizer: MiniLM splits ~1.2 pieces per word on this prose."""
    return int(len(_WORD.findall(text)) * 1.15) + 1


@dataclass
class _Block:
    text: str
    page: int | None
    slide: int
    heading_level: int = 0
    title: str | None = None
    """The heading on one line when the block is a heading wrapped over lines (a slide title, a question)."""
    opens_page: bool = False
    """The block is the first text of its PDF page (only a page number may come before it)."""


@dataclass
class _Unit:
    """A heading and the body under it, within one slide: the smallest thing we never split needlessly."""

    path: tuple[str, ...]
    heading: str | None
    blocks: list[_Block] = field(default_factory=list)
    kind: ChunkKind = "text"
    case_study_title: str | None = None
    heading_as_written: str | None = None

    @property
    def page(self) -> int | None:
        pages = [block.page for block in self.blocks if block.page is not None]
        return pages[0] if pages else None


def split_document(
    document: LoadedDocument,
    organisations: OrganisationIndex,
    count_tokens: TokenCounter = estimate_tokens,
) -> list[Chunk]:
    """Split a loaded document into chunks with section path, page, kind and organisations."""
    guess = not document.headings_from_fonts
    blocks = _blocks(document, document.info.title, guess)
    top_level = _table_of_contents(blocks)
    units = _units(blocks, top_level, guess)
    packed = _absorb_fragments(list(_pack(units, count_tokens)), count_tokens, is_slide_deck(document.file_format))
    return [
        _make_chunk(document, group, text, position, organisations, _describing_unit(group, count_tokens))
        for position, (group, text) in enumerate(packed)
    ]


def _absorb_fragments(
    packed: list[tuple[list[_Unit], str]], count_tokens: TokenCounter, slide_deck: bool
) -> list[tuple[list[_Unit], str]]:
    """Join a fragment of under ``MIN_CHUNK_TOKENS`` to the chunk after it (the last one to the chunk before).

    Slides OCR'd one by one leave title-only slides and stray labels ("Articulating ROI n=7") as chunks of
    their own. Embedded with the document title in front, such a chunk is mostly title, so it ranked near
    the top for any question naming the event and pushed real passages out of the top five. The joined chunk
    is described (section, kind) by the passage it joined, which is what a fragment usually introduces.
    Fragments with a kind of their own (a statistic, a key finding) stay apart, so kind filters still find them.
    In a slide deck a fragment joins only text of its own slide (see :func:`_joinable`).
    """
    merged: list[tuple[list[_Unit], str]] = []
    pending: tuple[list[_Unit], str] | None = None
    for group, text in packed:
        if pending is not None:
            if _joinable(pending, (group, text), count_tokens, slide_deck):
                group, text = pending[0] + group, _joined_text(pending, (group, text))
            else:
                merged.append(pending)
            pending = None
        if count_tokens(text) < MIN_CHUNK_TOKENS and all(unit.kind == "text" for unit in group):
            pending = (group, text)
            continue
        merged.append((group, text))
    if pending is not None:
        if merged and _joinable(merged[-1], pending, count_tokens, slide_deck):
            group, text = merged.pop()
            merged.append((group + pending[0], _joined_text((group, text), pending)))
        else:
            merged.append(pending)
    return merged


def _joined_text(first: tuple[list[_Unit], str], second: tuple[list[_Unit], str]) -> str:
    """The two chunks' text, without the second repeating the heading the first already wrote (slides of
    one appendix each titled "Appendix / Adopting Innovation Wheel"; see :func:`_group_text`)."""
    opening = second[0][0]
    heading = opening.heading_as_written or opening.heading
    text = second[1]
    if heading and text.startswith(f"{heading}\n\n") and f"\n\n{heading}\n\n" in f"\n\n{first[1]}\n\n":
        text = text.removeprefix(f"{heading}\n\n")
    return f"{first[1]}\n\n{text}"


def _describing_unit(group: list[_Unit], count_tokens: TokenCounter) -> _Unit:
    """The first unit that is more than a fragment: its section names what the chunk is about (a fragment
    usually introduces what follows it)."""
    for unit in group:
        if count_tokens(_unit_text(unit)) >= MIN_CHUNK_TOKENS:
            return unit
    return group[0]


def _joinable(
    first: tuple[list[_Unit], str], second: tuple[list[_Unit], str], count_tokens: TokenCounter, slide_deck: bool
) -> bool:
    """A fragment joins only its own report section: a short slide of its own ("Connect with us" and a
    contact) is a passage users ask about, and filed under the slide before it, it was never found.

    In a slide deck it joins only its own slide: a chunk is cited by its first slide, so a short slide ("Results"
    over "Waits fell.") joined to the next sent readers to a slide without the facts they were quoted. Other
    formats still join across pages: a deck exported as PDF or OCR'd to text, whose title-only pages are the
    fragments this was written for, keeps the chunks the evals were measured on.
    """
    return (
        not (slide_deck and _pages(first[0]) != _pages(second[0]))
        and not _has_case_study(first[0])
        and not _has_case_study(second[0])
        and first[0][-1].path[:1] == second[0][0].path[:1]
        and count_tokens(first[1]) + count_tokens(second[1]) <= MAX_CHUNK_TOKENS
    )


def _pages(group: list[_Unit]) -> set[int | None]:
    return {block.page for unit in group for block in unit.blocks}


def _has_case_study(group: list[_Unit]) -> bool:
    return any(unit.kind == "case_study" for unit in group)


def _blocks(document: LoadedDocument, title: str, guess: bool = True) -> list[_Block]:
    """Paragraph-like blocks, each with its page and slide; a PDF page is treated as a slide.

    A block that only repeats the document's title ("Innovation Ecosystem Programme" on a divider slide or a
    running header) is dropped: as a heading it filed the slides after it under the report's own name, and as
    text it made every chunk it sat in look like an answer to any question naming the report.
    """
    blocks: list[_Block] = []
    slide = 0
    title_key = _normalise_heading(title)
    for page in document.pages:
        text = page.text.replace("\r\n", "\n")
        slides = [text] if page.number is not None else _SLIDE_GAP.split(text)
        for slide_text in slides:
            slide += 1
            on_slide: list[_Block] = []
            page_opened = False
            for raw in _BLOCK_GAP.split(slide_text):
                for piece in _split_dense_block(raw, guess) if page.number is not None else [raw]:
                    cleaned = piece.strip()
                    if not cleaned or _is_noise(cleaned):
                        continue
                    if not _repeats_title(cleaned, title_key):
                        block = _Block(cleaned, page.number, slide, opens_page=not page_opened)
                        on_slide.append(block)
                    page_opened = True
            if page.number is None:
                _mark_wrapped_titles(on_slide)
            blocks.extend(on_slide)
    return _rejoin_sentences_across_pages(blocks, guess)


def _rejoin_sentences_across_pages(blocks: list[_Block], guess: bool) -> list[_Block]:
    """Move the end of a sentence that a PDF page break cut back to the page where the sentence starts.

    A page whose body prose ends mid-sentence followed by a page that opens in lower case is one sentence
    broken by the page (see :func:`_breaks_mid_sentence`): left apart, the next page's chunk opened "all 48
    rooms in 2023." and the sentence it finished had lost its figures. Only the words up to the first
    sentence end move, so the next page's text still starts on that page and is cited there; the sentence is
    cited at the page where it starts. They go before any heading that ends the previous block (a margin
    stamp such as an arXiv identifier), right after the words they finish.
    """
    kept: list[_Block] = []
    for block in blocks:
        previous = kept[-1] if kept else None
        if previous is None or not _breaks_mid_sentence(previous, block, guess):
            kept.append(block)
            continue
        ending, rest = _first_sentence(block.text)
        lines = previous.text.split("\n")
        body = _body_lines(lines)
        previous.text = "\n".join([*body, ending, *lines[len(body) :]])
        if rest.strip():
            block.text = rest
            kept.append(block)
    return kept


def _breaks_mid_sentence(previous: _Block, block: _Block, guess: bool) -> bool:
    """Whether ``block`` finishes the sentence that ``previous`` leaves open at a page break.

    The previous block must be body prose (:func:`_is_body_prose`) whose last line has no closing punctuation,
    and not a list or table; ``block`` must be the first text of the next page, open in lower case and reach a
    sentence end. A sidebar of short lines ("Received 4 October 2005 ... DOI ..."), chart labels or a heading
    ending a page take nothing; nor does a page that opens with a line the splitter dropped (a running
    title), since the lower-case words after it continue that line, not the page before.
    """
    if previous.page is None or block.page is None or previous.page == block.page or not block.opens_page:
        return False
    lines = previous.text.split("\n")
    body = _body_lines(lines)
    ending, _ = _first_sentence(block.text)
    return (
        block.text[:1].islower()
        and _is_body_prose(body)
        and not body[-1].rstrip().endswith(_CLOSING)
        and not (len(body) == 1 and _looks_like_heading(body[-1], guess))
        and not any(_LIST_ITEM_LINE.match(line) or "\t" in line or "|" in line for line in lines)
        and not _LIST_ITEM_LINE.match(block.text)
        and ending.rstrip().endswith(_CLOSING)
    )


def _first_sentence(text: str) -> tuple[str, str]:
    """``text`` cut after its first sentence end, whatever word or number follows it: the sentence and the
    rest. Without one, the whole text and nothing."""
    end = _FIRST_SENTENCE_END.search(text)
    if end is None:
        return text, ""
    return text[: end.end()], text[end.end() :].lstrip()


def _body_lines(lines: list[str]) -> list[str]:
    """The block's lines without the markdown headings that end it."""
    end = len(lines)
    while end > 1 and _MARKDOWN_HEADING.match(lines[end - 1]):
        end -= 1
    return lines[:end]


def _is_body_prose(lines: list[str]) -> bool:
    """Lines of running text: ``MIN_BODY_LINE_WORDS`` words or more on the median line. The splitter has
    already cut the block after its last full sentence, so its length says nothing; its lines' do."""
    words = sorted(len(line.split()) for line in lines)
    return words[len(words) // 2] >= MIN_BODY_LINE_WORDS


def _mark_wrapped_titles(slide: list[_Block]) -> None:
    """Give each block of one slide that is a heading broken over lines its one-line title.

    A question inside a slide heads the text under it, but not when it is one of a list of questions
    ("... by asking the following four questions:"), nor when nothing follows it.
    """
    for index, block in enumerate(slide):
        title = _wrapped_title(block.text, index == 0)
        if title is None or index == 0:
            block.title = title
            continue
        before = slide[index - 1].text
        after = slide[index + 1].text if index + 1 < len(slide) else None
        listed = before.endswith((":", "?")) or after is None or after.endswith("?")
        block.title = None if listed else title


def _repeats_title(text: str, title_key: str) -> bool:
    """The title, its first words or a run of three or more of its words (a subtitle after the colon)."""
    key = _normalise_heading(text)
    if "\n" in text or len(key.split()) < 2:
        return False
    return f"{title_key} ".startswith(f"{key} ") or (len(key.split()) >= 3 and f" {key} " in f" {title_key} ")


def _wrapped_title(text: str, opens_slide: bool) -> str | None:
    """A heading broken over lines, as OCR and slide exports leave titles, joined onto one line.

    "Summary and next / steps" and "Q1 What are the challenges to rewiring the innovation / ecosystem to bring
    these recommendations to life?" open their slides; read line by line they looked like body text, so
    the slide was filed under the previous slide's heading. The block must be short with no sentence ending
    inside it. A question qualifies anywhere on a slide (a panel asking "What further support would your
    organisation need ...?" heads the answers under it); other wrapped lines only when they open the slide.
    """
    lines = [line.strip() for line in text.split("\n")]
    joined = " ".join(lines)
    if len(lines) > 5 or len(joined.split()) > 20 or not (joined[0].isupper() or joined[0].isdigit()):
        return None
    if any(line.endswith((".", ",", ";", ":", "!")) or _LIST_ITEM.match(line) for line in lines):
        return None
    if joined.endswith("?"):
        return joined
    if len(lines) == 1 or not opens_slide:
        return None
    return joined if _looks_like_heading(joined) else None


def _split_dense_block(raw: str, guess: bool = True) -> list[str]:
    """PDF text has single newlines only: start a new block after a sentence end, before a heading or list.

    A line of four or more words followed by one in lower case is a sentence the page wrapped, not a heading
    ("The Western Isles pharmacy pilot let / community pharmacists prescribe ..."); a label ("Contact") is not.
    ``guess=False`` (headings already marked from the fonts): only a marked heading is a heading."""
    lines = [line.rstrip() for line in raw.split("\n") if line.strip()]
    pieces: list[list[str]] = []
    for index, line in enumerate(lines):
        previous = lines[index - 1] if index else ""
        next_line = lines[index + 1] if index + 1 < len(lines) else ""
        starts_new = (
            not pieces
            or previous.rstrip().endswith((".", ":", "!", "?", "”"))
            or (_looks_like_heading(line, guess) and bool(next_line) and not _looks_like_heading(previous, guess))
            or (_looks_like_heading(previous, guess) and not _wrapped_sentence(previous, line))
        )
        if starts_new:
            pieces.append([line])
        else:
            pieces[-1].append(line)
    return ["\n".join(piece) for piece in pieces]


def _wrapped_sentence(line: str, next_line: str) -> bool:
    return next_line[:1].islower() and len(line.split()) >= 4 and not _MARKDOWN_HEADING.match(line)


def _is_noise(text: str) -> bool:
    return bool(re.fullmatch(r"[\d\s/|·•-]*", text))


def _looks_like_heading(text: str, guess: bool = True) -> bool:
    """A markdown heading; or, when ``guess``, a short capitalised line without a sentence's ending."""
    line = text.strip()
    if not line or "\n" in line or "\t" in line or len(line) > 110:
        return False
    if _MARKDOWN_HEADING.match(line):
        return True
    if not guess:
        return False
    if _LIST_ITEM.match(line) or line.startswith((*_QUOTE_OPEN, "<", "|", "(", "[")):
        return False
    if line.endswith((".", ",", ";", ":", "?", "!", "”", '"', ")", "’")) and not _CASE_STUDY.match(line):
        return False
    words = line.split()
    if len(words) > 16 or words[-1].lower() in _TRAILING_FUNCTION_WORDS:
        return False
    return line[0].isupper() or line[0].isdigit()


def _is_lead_in(text: str) -> bool:
    """A short line ending in a colon that introduces the headings after it, not a list: "Where Sites are
    experiencing challenges:" over "Staff capacity and capabilities". Written at the end of the passage
    before, it left the passages it named without the words saying what they were."""
    line = text.strip()
    return line.endswith(":") and "\n" not in line and _looks_like_heading(line[:-1].rstrip())


def _normalise_heading(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower().replace("&", " and ")).strip()


def _table_of_contents(blocks: list[_Block]) -> set[str]:
    """Top-level section names from a contents page ("Vision and strategy<TAB>49"), normalised."""
    names: set[str] = set()
    for block in blocks[:12]:
        for line in block.text.split("\n"):
            for cell in re.split(r"\t(?=\D)", line):
                match = _TOC_LINE.match(cell)
                if match:
                    names.add(_normalise_heading(re.sub(r"</?u>", "", match.group(1))))
    return names if len(names) >= 3 else set()


def _units(blocks: list[_Block], top_level: set[str], guess: bool = True) -> list[_Unit]:
    """Walk the blocks keeping an outline: level 1 (report section), 2 (slide title), 3 (sub-heading).

    Without a contents page, slide titles are level 1. A heading directly followed by another heading is
    merged with it ("Key theme 1: Ensuring strategy is needs-led"), since slides put a label above a title.
    """
    units: list[_Unit] = []
    outline: list[str] = ["", "", ""]
    current_slide = -1
    pending: tuple[str, int] | None = None
    best_practice = False
    strong_container = False
    case_study: str | None = None
    contents_seen = False
    as_written: dict[str, str] = {}
    orphan: _Unit | None = None
    # A lead-in line ("Where Sites are experiencing challenges:") held for the heading it introduces.
    lead_in: _Block | None = None

    def release_lead_in() -> None:
        """A held lead-in that no heading takes stays where it was, as text: nothing is lost."""
        nonlocal lead_in
        if lead_in is not None:
            units.append(_Unit(tuple(part for part in outline if part), None, [lead_in], "text"))
            lead_in = None

    for index, block in enumerate(blocks):
        new_slide = block.slide != current_slide
        if new_slide:
            current_slide = block.slide
        if new_slide and (guess or _MARKDOWN_HEADING.match(block.text)):
            # A PDF page whose headings come from its fonts and that opens mid-text continues the case study
            # or section of the page before (its second page had lost the case study's organisation and kind);
            # a slide, or a page opening with a heading, starts afresh.
            case_study = None
            best_practice = False
            strong_container = False
        if _is_dotted_contents(block) or (not contents_seen and _is_table_of_contents(block)):
            contents_seen = True
            if pending is not None and pending[0] in outline:
                # The contents page's own heading heads nothing once its entries are gone.
                _set_outline(outline, outline.index(pending[0]) + 1, "")
                pending, orphan = None, None
            continue
        following = blocks[index + 1].text if index + 1 < len(blocks) else ""
        closes_slide = index + 1 == len(blocks) or blocks[index + 1].slide != block.slide
        if (
            guess
            and not new_slide
            and block.title is None
            and _is_lead_in(block.text)
            and not closes_slide
            and _looks_like_heading(following, guess)
            and not following[:1].islower()
        ):
            if orphan is not None:
                units.append(orphan)
            pending, orphan, lead_in = None, None, block
            continue
        is_heading = block.title is not None or (_looks_like_heading(block.text, guess) and not following[:1].islower())
        if is_heading and closes_slide and pending is None and not new_slide:
            # A short line that ends a slide after its body heads nothing: it is a caption or a quote's
            # attribution ("Representative from a health innovation network"); as a heading it named the next slide.
            is_heading = bool(_MARKDOWN_HEADING.match(block.text))
        if is_heading and pending is not None and pending[1] == 3 and not _is_marker(pending[0]):
            is_heading = False
        if is_heading:
            heading, level = _heading_level(block.title or block.text, new_slide, top_level)
            merging = (
                pending is not None
                and pending[1] == 2
                and level >= 2
                and not _is_marker(pending[0])
                and not _CASE_STUDY.match(heading)
            )
            if orphan is not None and not merging:
                units.append(orphan)
            orphan = None
            if level == 1 and _normalise_heading(heading) == _normalise_heading(outline[0]):
                pending = None
                continue
            if level == 3 and not (strong_container or (pending is not None and _is_marker(pending[0]))):
                level = 2
            written = block.text
            if merging and pending is not None:
                written = f"{as_written.get(pending[0], pending[0])}\n\n{block.text}"
                heading, level = f"{pending[0]}: {heading}", 2
            if lead_in is not None and level >= 2 and outline[0]:
                written, lead_in = f"{lead_in.text}\n\n{written}", None
            release_lead_in()
            as_written[heading] = written
            if level <= 2:
                strong_container = bool(_SLIDE_TITLE.match(heading))
            _set_outline(outline, level, heading)
            pending = (heading, level) if heading.count(": ") == 0 or level == 3 else (heading, 0)
            match = _CASE_STUDY.match(heading)
            case_study = match.group(1).strip() if match else None
            if _BEST_PRACTICE.match(heading):
                best_practice = True
            elif level <= 2:
                best_practice = False
            if level >= 2 and not _is_marker(heading) and len(heading.split()) >= 3 and not case_study:
                orphan_block = _Block(written, block.page, block.slide)
                path = tuple(part for part in outline[:-1] if part) or tuple(part for part in outline if part)
                orphan = _Unit(path, None, [orphan_block], _kind_for(orphan_block, path, None, best_practice))
            continue
        pending = None
        orphan = None
        release_lead_in()
        path = tuple(part for part in outline if part)
        kind = _kind_for(block, path, case_study, best_practice)
        heading_text = outline[2] or outline[1] or None
        last = units[-1] if units else None
        if last is not None and last.path == path and last.kind == kind and last.blocks[-1].slide == block.slide:
            last.blocks.append(block)
        else:
            heading_written = as_written.get(heading_text) if heading_text else None
            units.append(_Unit(path, heading_text, [block], kind, case_study, heading_written))
    if orphan is not None:
        units.append(orphan)
    release_lead_in()
    return units


def _heading_level(text: str, new_slide: bool, top_level: set[str]) -> tuple[str, int]:
    markdown = _MARKDOWN_HEADING.match(text)
    if markdown:
        return markdown.group(2), min(len(markdown.group(1)), 3)
    heading = _strip_markup(text)
    if top_level and new_slide and _normalise_heading(heading) in top_level:
        return heading, 1
    if new_slide or _SLIDE_TITLE.match(heading):
        return heading, 2 if top_level else 1
    return heading, 3


def _is_marker(heading: str) -> bool:
    return bool(_BEST_PRACTICE.match(heading) or _RECOMMENDATIONS.match(heading))


def _set_outline(outline: list[str], level: int, heading: str) -> None:
    outline[level - 1] = heading
    for deeper in range(level, len(outline)):
        outline[deeper] = ""


def _is_table_of_contents(block: _Block) -> bool:
    """A contents page: at least three "Title<TAB>page" entries in one block."""
    return len(_TOC_ENTRY.findall(block.text)) >= 3


def _is_dotted_contents(block: _Block) -> bool:
    """A block of a PDF's contents pages: mostly "Title ...... page" lines. Every such block goes, however
    many pages the contents run to: indexed, it named every section and matched any question a little."""
    lines = [line for line in block.text.split("\n") if line.strip()]
    entries = len(_DOTTED_TOC_ENTRY.findall(block.text))
    return entries >= 2 and entries * 2 >= len(lines)


def _strip_markup(text: str) -> str:
    text = re.sub(r"</?u>|\*\*|__", "", text)
    return re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text).strip()


def _kind_for(block: _Block, path: tuple[str, ...], case_study: str | None, best_practice: bool) -> ChunkKind:
    text = block.text
    if case_study:
        return "case_study"
    if best_practice:
        return "best_practice"
    if _RECOMMENDATIONS_LABEL.match(text) or any(_RECOMMENDATIONS.match(part) for part in path[-1:]):
        return "recommendation"
    if any(_KEY_FINDING.match(part) for part in path):
        return "key_finding"
    if text.startswith(_QUOTE_OPEN) and len(text) < 600:
        return "quote"
    if _STATISTIC.search(text):
        return "statistic"
    return "text"


def _pack(units: list[_Unit], count_tokens: TokenCounter) -> Iterator[tuple[list[_Unit], str]]:
    """Group consecutive units of one slide into chunks within the token budget; split oversized units."""
    group: list[_Unit] = []
    group_tokens = 0
    for unit in units:
        text = _unit_text(unit)
        tokens = count_tokens(text)
        budget = MAX_CASE_STUDY_TOKENS if unit.kind == "case_study" else MAX_CHUNK_TOKENS
        if tokens > budget:
            if group:
                yield group, _group_text(group)
                group, group_tokens = [], 0
            # A PDF's lines are where the page ran out of width (only PDF pages have numbers).
            wrapped = unit.blocks[0].page is not None
            for piece in _split_text(text, MAX_CHUNK_TOKENS, count_tokens, wrapped):
                yield [unit], piece
            continue
        compatible = (
            group
            and unit.kind != "case_study"
            and group[-1].kind != "case_study"
            and group[-1].blocks[-1].slide == unit.blocks[0].slide
            and group[-1].path[:2] == unit.path[:2]
            and group_tokens + tokens <= MAX_CHUNK_TOKENS
        )
        if group and not compatible and not (group_tokens < MIN_CHUNK_TOKENS and _same_slide(group, unit)):
            yield group, _group_text(group)
            group, group_tokens = [], 0
        group.append(unit)
        group_tokens += tokens
    if group:
        yield group, _group_text(group)


def _same_slide(group: list[_Unit], unit: _Unit) -> bool:
    return group[-1].blocks[-1].slide == unit.blocks[0].slide and unit.kind != "case_study"


def _unit_text(unit: _Unit, heading_written: bool = False) -> str:
    body = "\n\n".join(block.text for block in unit.blocks)
    heading = unit.heading_as_written or unit.heading
    if unit.heading and unit.kind == "case_study":
        return f"{heading}\n\n{body}" if unit.case_study_title else body
    if unit.heading and unit.path and unit.path[-1] == unit.heading and len(unit.path) >= 2 and not heading_written:
        return f"{heading}\n\n{body}"
    return body


def _group_text(group: list[_Unit]) -> str:
    """A heading is written once per chunk. Prose and figures under one heading are units of their own (one
    kind each), and each wrote the heading: "Sub-domain maturity ratings" four times in a chunk, once in the
    report, made the chunk outrank the passage a question was about for any question using the title's words."""
    written: set[str] = set()
    texts = []
    for unit in group:
        texts.append(_unit_text(unit, unit.heading is not None and unit.heading in written))
        if unit.heading:
            written.add(unit.heading)
    return "\n\n".join(texts)


def _split_text(text: str, budget: int, count_tokens: TokenCounter, wrapped: bool = False) -> list[str]:
    """Split an oversized passage at block, then list-item, then sentence boundaries.

    A line that introduces a list ("These can broadly be categorised as:") moves on with the list: cut
    between them, the five roles of an innovation function sat alone in a chunk that never said what they
    were, and no question about "roles" found it.

    ``wrapped`` says the line breaks inside a block are where the page wrapped (a PDF), not the author's:
    see :func:`_wrapped_atoms`.
    """
    pieces: list[str] = []
    current = ""
    for part, joiner in _atoms(text, budget, count_tokens, wrapped):
        candidate = f"{current}{joiner}{part}" if current else part
        if current and count_tokens(candidate) > budget:
            kept, _, intro = current.rpartition("\n\n")
            if kept and intro.rstrip().endswith(":") and count_tokens(f"{intro}\n\n{part}") <= budget:
                pieces.append(kept)
                current = f"{intro}\n\n{part}"
            else:
                pieces.append(current)
                current = part
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def _atoms(text: str, budget: int, count_tokens: TokenCounter, wrapped: bool) -> Iterator[tuple[str, str]]:
    """The pieces an oversized passage may be cut into, each with the text that joins it to the piece before
    it when both land in one chunk."""
    for block in _BLOCK_GAP.split(text):
        if count_tokens(block) <= budget:
            yield block, "\n\n"
            continue
        if wrapped:
            yield from _wrapped_atoms(block, budget, count_tokens)
            continue
        lines = block.split("\n")
        if len(lines) > 1 and all(count_tokens(line) <= budget for line in lines):
            yield from ((line, "\n\n") for line in lines)
            continue
        yield from ((sentence, "\n\n") for sentence in _SENTENCE_END.split(block))


def _wrapped_atoms(block: str, budget: int, count_tokens: TokenCounter) -> Iterator[tuple[str, str]]:
    """A PDF paragraph's pieces: its list items, then its sentences, and lines only for a sentence longer
    than the budget (a table, a list without punctuation).

    Cut at its lines, as an author's text is, a 200-word case study became chunks that opened mid-sentence
    ("patient the same day.") with a blank line at every wrap, so each sentence unit was a line's fragment.
    The pieces are re-joined by the whitespace between them on the page, so a chunk stays a verbatim run of
    the page's text.
    """
    items: list[str] = []
    for line in block.split("\n"):
        if items and not _LIST_ITEM_LINE.match(line):
            items[-1] = f"{items[-1]}\n{line}"
        else:
            items.append(line)
    joiner = "\n\n"
    for item in items:
        if count_tokens(item) <= budget:
            yield item, joiner
            joiner = "\n"
            continue
        parts = _SENTENCE_GAP.split(item)
        for sentence, gap in zip(parts[::2], [joiner, *parts[1::2]], strict=True):
            if count_tokens(sentence) <= budget:
                yield sentence, gap
                continue
            lines = sentence.split("\n")
            yield lines[0], gap
            yield from ((line, "\n") for line in lines[1:])
        joiner = "\n"


def _make_chunk(
    document: LoadedDocument,
    group: list[_Unit],
    text: str,
    position: int,
    organisations: OrganisationIndex,
    describe: _Unit,
) -> Chunk:
    # The "#" marks that tell the splitter a line is a heading (Word, HTML and PDF headings are written that
    # way) are not part of the passage a reader or the model sees.
    text = _HEADING_MARK.sub("", text)
    first = group[0]
    path = describe.path if len(group) == 1 else describe.path[:2]
    kinds = [unit.kind for unit in group]
    kind: ChunkKind = first.kind if len(set(kinds)) == 1 else _dominant_kind(kinds)
    context = " > ".join(path)
    found = organisations.find(text)
    if first.case_study_title:
        found = tuple(dict.fromkeys((*organisations.find(first.case_study_title), *found)))
    prefix = f"{document.info.title}. {context}." if context else f"{document.info.title}."
    embed_text = f"{prefix}\n{text}"
    digest = hashlib.sha256(f"{document.doc_id}\n{context}\n{text}".encode()).hexdigest()[:16]
    return Chunk(
        chunk_id=f"{document.doc_id}:{position:04d}:{digest}",
        doc_id=document.doc_id,
        doc_title=document.info.title,
        text=text,
        embed_text=embed_text,
        section_path=path,
        page=first.page,
        page_label=next((page.label for page in document.pages if page.number == first.page), None),
        kind=kind,
        organisations=found,
        position=position,
        case_study_title=first.case_study_title,
        file_format=document.file_format,
    )


def _dominant_kind(kinds: list[ChunkKind]) -> ChunkKind:
    for preferred in ("best_practice", "recommendation", "key_finding", "statistic"):
        if preferred in kinds:
            return preferred  # type: ignore[return-value]
    return kinds[0]
