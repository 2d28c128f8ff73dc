"""Typed records passed between the stages (ingest -> store -> retrieve -> answer -> app / evals).

Both ``ingest`` and ``assistant`` import from here, so it depends on nothing but the standard library.
Page numbers are 1-based as printed in a PDF viewer; ``None`` means the source format has no pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ChunkKind = Literal["case_study", "best_practice", "key_finding", "statistic", "recommendation", "quote", "text"]
CHUNK_KINDS: tuple[ChunkKind, ...] = (
    "case_study",
    "best_practice",
    "key_finding",
    "statistic",
    "recommendation",
    "quote",
    "text",
)
Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class PageText:
    """Text of one page (PDF) or of a whole file (formats without pages: ``number`` is None).

    ``label`` is the page's printed name when the PDF names its pages (/PageLabels: "iv", "A-3", or "12" on
    the 14th sheet after a cover and contents) or, naming none, prints its numbers in the headers or footers,
    and it differs from ``number``; readers look for that name.
    """

    number: int | None
    text: str
    label: str | None = None


@dataclass(frozen=True)
class DocumentInfo:
    """Catalogue facts about a document, from ``corpus/metadata.json`` or guessed from the file."""

    title: str
    publisher: str = ""
    year: int | None = None
    kind: str = "report"


@dataclass(frozen=True)
class LoadedDocument:
    """A file read into text, before splitting. ``content_hash`` is of the raw bytes, for incremental ingest."""

    path: Path
    doc_id: str
    info: DocumentInfo
    pages: tuple[PageText, ...]
    content_hash: str
    file_format: str
    warnings: tuple[str, ...] = ()
    # PDF headings read from font size and weight (see ingest.pdf_headings), or a deck's slide titles: the
    # splitter then trusts only those and stops guessing headings from short lines.
    headings_from_fonts: bool = False


@dataclass(frozen=True)
class Chunk:
    """One retrievable passage with where it came from.

    ``text`` is the passage as shown to users and the model; ``embed_text`` prefixes it with the title and
    section path so that a passage that never names its topic still embeds near questions about it.
    ``file_format`` is its document's ("pdf", "pptx", ...): it says whether ``page`` is a page or a slide.
    """

    chunk_id: str
    doc_id: str
    doc_title: str
    text: str
    embed_text: str
    section_path: tuple[str, ...]
    page: int | None
    kind: ChunkKind
    organisations: tuple[str, ...]
    position: int
    case_study_title: str | None = None
    page_label: str | None = None
    file_format: str = ""

    @property
    def section(self) -> str:
        return " > ".join(self.section_path)

    @property
    def page_reference(self) -> str:
        """How a reader finds the passage: see :func:`page_reference`."""
        return page_reference(self.page, self.page_label, self.file_format)

    @property
    def domain(self) -> str:
        """The top-level report section ("Governance & Resources"), used as a filter."""
        return self.section_path[0] if self.section_path else ""


# Formats whose pages are slides (``LoadedDocument.file_format``), numbered as the presentation numbers them.
_SLIDE_FORMATS = frozenset({"pptx"})


def is_slide_deck(file_format: str) -> bool:
    """Whether a document of this format (``LoadedDocument.file_format``) is a deck, its pages slides: a slide
    is cited as one, and the splitter never files one slide's text under another."""
    return file_format in _SLIDE_FORMATS


def page_reference(page: int | None, label: str | None = None, file_format: str = "", *, brief: bool = False) -> str:
    """``p. 12``; ``p. iv (PDF p. 6)`` when the printed name differs; ``slide 4`` in a slide deck; empty for
    formats without pages. ``brief`` gives the printed name alone (``p. iv``).

    Both page names are given because a reader holding the printout looks for the printed name, while some
    viewers' "go to page" box takes the sheet number; the model, which opens no viewer, gets the brief form.
    A deck's reader looks for the slide.
    """
    if page is None:
        return ""
    if is_slide_deck(file_format):
        return f"slide {page}"
    if label and brief:
        return f"p. {label}"
    return f"p. {label} (PDF p. {page})" if label else f"p. {page}"


@dataclass(frozen=True)
class Filters:
    """Metadata restrictions; an empty tuple means no restriction on that field."""

    doc_ids: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    kinds: tuple[ChunkKind, ...] = ()
    domains: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (self.doc_ids or self.organisations or self.kinds or self.domains)


@dataclass(frozen=True)
class Turn:
    role: Role
    content: str


@dataclass(frozen=True)
class RetrievedChunk:
    """A chunk with the evidence for its rank: fused score, and its place in each ranking (None = absent)."""

    chunk: Chunk
    score: float
    dense_similarity: float | None = None
    dense_rank: int | None = None
    lexical_rank: int | None = None


@dataclass(frozen=True)
class Source:
    """A numbered source as given to the model: ``passage`` is the compressed excerpt, ``number`` is 1-based."""

    number: int
    chunk: Chunk
    passage: str
    similarity: float | None = None


@dataclass(frozen=True)
class Citation:
    """A sentence of the answer and the sources it cites, with whether those sources support it."""

    sentence: str
    numbers: tuple[int, ...]
    supported: bool
    support_score: float
    dangling: tuple[int, ...] = ()


@dataclass(frozen=True)
class Timings:
    sources_s: float = 0.0
    first_token_s: float | None = None
    total_s: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


# The assistant's notes on what its checks did, each a paragraph of its own (see :func:`answer_note`).
_NOTE = re.compile(r"^_\(.*\)_$", re.M)


def answer_note(message: str) -> str:
    """``message`` as a note appended to an answer: "_(I removed a figure that is not in the reports.)_"."""
    return f"\n\n_({message})_"


@dataclass(frozen=True)
class Answer:
    """What the user gets: the answer text and everything needed to audit it."""

    question: str
    text: str
    sources: tuple[Source, ...]
    citations: tuple[Citation, ...]
    refused: bool
    refusal_reason: str | None
    timings: Timings
    prompt_version: str
    model: str
    unsupported_sentences: tuple[str, ...] = field(default=())

    @property
    def claims(self) -> str:
        """The answer without its notes: what it says the reports say.

        A note names what the checks removed ("I removed what I wrote about “London”: the reports never mention
        it."), so read as a claim it said the opposite of what it says: the eval counted that refusal as
        placing the event in London, and a follow-up would search for London.
        """
        return re.sub(r"\n{3,}", "\n\n", _NOTE.sub("", self.text)).strip()

    @property
    def cited_numbers(self) -> tuple[int, ...]:
        seen: list[int] = []
        for citation in self.citations:
            for number in citation.numbers:
                if number not in seen and number not in citation.dangling:
                    seen.append(number)
        return tuple(seen)


def conversation(answers: Iterable[Answer]) -> list[Turn]:
    """Earlier answers as the turns a follow-up is read with, the same in the app and the terminal. Refusals
    are left out: they carry no content, and a follow-up asked after one should still find the organisation
    the last real answer was about."""
    turns: list[Turn] = []
    for answer in answers:
        if not answer.refused:
            turns += [Turn("user", answer.question), Turn("assistant", answer.claims)]
    return turns


@dataclass(frozen=True)
class SourcesReady:
    """Streamed first, before the model runs, so the UI can show sources within a second."""

    sources: tuple[Source, ...]
    refused: bool = False


@dataclass(frozen=True)
class AnswerToken:
    text: str


@dataclass(frozen=True)
class AnswerDone:
    answer: Answer


AnswerEvent = SourcesReady | AnswerToken | AnswerDone


@dataclass(frozen=True)
class CaseStudy:
    """A case study or best-practice example, as listed in the case-study finder."""

    chunk: Chunk
    organisations: tuple[str, ...]
    title: str
    summary: str
