"""Text the app shows: answers with their flags, numbered sources, case studies, exports and tables.

Kept apart from ``app.py`` as pure functions of the shared records, so what a user reads (which claim is
flagged, which passage sentence is highlighted, what an export contains) is tested without a browser.
Everything taken from a document is HTML-escaped before it is put into HTML, because uploaded reports are
untrusted text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from assistant.records import Answer, CaseStudy, Chunk, Citation, Filters, Source, page_reference

if TYPE_CHECKING:
    from assistant.feedback import Feedback
    from ingest.pipeline import IngestReport
    from ingest.store import StoredDocument

UNSUPPORTED_FLAG = "⚠️"
KIND_LABELS = {
    "case_study": "Case study",
    "best_practice": "Best practice",
    "key_finding": "Key finding",
    "statistic": "Statistic",
    "recommendation": "Recommendation",
    "quote": "Quote",
    "text": "Report text",
}

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“'(\[A-Z0-9])")
_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "that",
        "the",
        "their",
        "them",
        "they",
        "this",
        "to",
        "was",
        "were",
        "what",
        "when",
        "which",
        "who",
        "will",
        "with",
        "within",
    }
)
_MIN_HIGHLIGHT_OVERLAP = 0.25


@dataclass(frozen=True)
class Exchange:
    """One question and its final answer in a conversation, as the app keeps it for a browser session.

    ``answer_id`` is the app's stable id for the answer, so that feedback given later lands on the right one.
    """

    answer_id: str
    answer: Answer
    filters: Filters = field(default_factory=Filters)


# ---- sources -------------------------------------------------------------------------------------


def source_location(chunk: Chunk) -> str:
    """``Title — Section · p. 12``: where a passage is, in the order a reader looks for it."""
    parts = [chunk.doc_title]
    if chunk.section:
        parts.append(chunk.section)
    location = " — ".join(parts)
    if chunk.page is not None:
        location += f" · {chunk.page_reference}"
    return location


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage, split at ., ! or ? followed by a capital, digit, quote or bracket."""
    return [part.strip() for part in _SENTENCE_END.split(text.strip()) if part.strip()]


def best_matching_sentence(passage: str, claims: Sequence[str]) -> str | None:
    """The passage sentence sharing the most content words with any of ``claims`` (answer sentences that
    cite this passage), or None when no sentence shares at least a quarter of a claim's words.

    Lexical overlap is enough here: the highlight only helps a reader find where to look; whether the claim
    is supported was decided by the pipeline's citation check.
    """
    best: tuple[float, str] | None = None
    for sentence in split_sentences(passage):
        words = _content_words(sentence)
        if not words:
            continue
        for claim in claims:
            claim_words = _content_words(_strip_citation_marks(claim))
            if not claim_words:
                continue
            overlap = len(words & claim_words) / len(claim_words)
            if overlap >= _MIN_HIGHLIGHT_OVERLAP and (best is None or overlap > best[0]):
                best = (overlap, sentence)
    return None if best is None else best[1]


def highlighted_passage_html(passage: str, claims: Sequence[str]) -> str:
    """The passage, escaped, with its best-matching sentence wrapped in ``<mark>``; newlines become
    ``<br>`` so the whole passage stays one HTML block inside a Markdown message."""
    sentence = best_matching_sentence(passage, claims)
    if sentence is None:
        return _html_lines(passage)
    start = passage.find(sentence)
    before, after = passage[:start], passage[start + len(sentence) :]
    return f"{_html_lines(before)}<mark>{_html_lines(sentence)}</mark>{_html_lines(after)}"


def claims_citing(number: int, citations: Sequence[Citation]) -> list[Citation]:
    return [citation for citation in citations if number in citation.numbers]


def sources_html(sources: Sequence[Source], citations: Sequence[Citation] = ()) -> str:
    """The numbered sources under an answer: each a collapsed ``<details>`` whose summary names the
    document, section, page and organisations, and whose body is the passage with the cited sentence marked.

    A source cited only by unsupported claims is flagged in its summary, so the flag is visible without
    opening it. While the answer is still streaming ``citations`` is empty and nothing is flagged yet.
    """
    if not sources:
        return "<p>No passages in the reports matched this question.</p>"
    items: list[str] = []
    for source in sources:
        citing = claims_citing(source.number, citations)
        summary = f"<strong>[{source.number}]</strong> {html.escape(source_location(source.chunk))}"
        if source.chunk.organisations:
            summary += f" · {html.escape(', '.join(source.chunk.organisations))}"
        if citing and not any(citation.supported for citation in citing):
            summary += f' <span class="unsupported-flag">{UNSUPPORTED_FLAG} cited for an unsupported claim</span>'
        elif citations and not citing:
            summary += ' <span class="not-cited">(not cited)</span>'
        body = highlighted_passage_html(source.passage, [citation.sentence for citation in citing])
        cited_for = "".join(
            f"<p class='cited-for'>Cited for: “{html.escape(_strip_citation_marks(citation.sentence))}”"
            + ("" if citation.supported else f" {UNSUPPORTED_FLAG} not supported by this passage")
            + "</p>"
            for citation in citing
        )
        items.append(
            f'<details class="source" id="source-{source.number}"><summary>{summary}</summary>'
            f'<blockquote class="passage">{body}</blockquote>{cited_for}</details>'
        )
    return "".join(items)


# ---- questions ---------------------------------------------------------------------------------------


def question_problem(text: str | None, max_chars: int) -> str | None:
    """Why a question cannot be sent, in words a user can act on; None when it can be sent.

    The limit keeps one long paste from occupying the shared model for minutes; it counts the trimmed text.
    """
    question = (text or "").strip()
    if not question:
        return "Please type a question first."
    if len(question) > max_chars:
        return (
            f"Your question is {len(question):,} characters long; the limit is {max_chars:,}. "
            "Please shorten it, for example to the one thing you most want to know."
        )
    return None


# ---- answers -------------------------------------------------------------------------------------


def unsupported_note(citation: Citation) -> str:
    """Why a cited sentence is flagged: its source does not exist, or does not support it."""
    if citation.dangling:
        missing = ", ".join(f"[{number}]" for number in citation.dangling)
        return f"{UNSUPPORTED_FLAG} *Source {missing} does not exist*"
    cited = ", ".join(f"[{number}]" for number in citation.numbers)
    return f"{UNSUPPORTED_FLAG} *Not supported by source {cited}*"


def flagged_sentences(answer: Answer) -> list[tuple[str, str]]:
    """(sentence, note) for every sentence the reader should not take on trust, in answer order."""
    flagged: list[tuple[str, str]] = []
    seen: set[str] = set()
    for citation in answer.citations:
        if citation.supported and not citation.dangling:
            continue
        flagged.append((citation.sentence, unsupported_note(citation)))
        seen.add(citation.sentence)
    for sentence in answer.unsupported_sentences:
        if sentence not in seen:
            flagged.append((sentence, f"{UNSUPPORTED_FLAG} *No source supports this sentence*"))
            seen.add(sentence)
    return flagged


def answer_markdown(answer: Answer) -> str:
    """The final answer with each unsupported claim flagged right after the sentence, plus a closing note.

    Flags are plain Markdown text, not colour alone, so they survive copying and are read by screen readers.
    A flagged sentence that cannot be found verbatim in the text is listed in the closing note instead.
    """
    if answer.refused:
        reason = f"\n\n*{answer.refusal_reason}*" if answer.refusal_reason else ""
        return f"{answer.text.strip()}{reason}"
    text = answer.text.strip()
    unplaced: list[tuple[str, str]] = []
    flags = flagged_sentences(answer)
    for sentence, note in flags:
        position = text.find(sentence.strip()) if sentence.strip() else -1
        if position < 0:
            unplaced.append((sentence, note))
            continue
        end = position + len(sentence.strip())
        text = f"{text[:end]} {note}{text[end:]}"
    if flags:
        count = len(flags)
        text += (
            f"\n\n{UNSUPPORTED_FLAG} **{count} sentence{'s' if count != 1 else ''} not supported by the "
            "cited reports** — check against the passages before relying on "
            f"{'them' if count != 1 else 'it'}."
        )
        for sentence, note in unplaced:
            text += f"\n- “{sentence.strip()}” {note}"
    return text


def sources_title(sources: Sequence[Source], citations: Sequence[Citation] = ()) -> str:
    """Heading of the sources panel, counting flagged sources so the warning shows even when collapsed."""
    title = f"Sources ({len(sources)})" if sources else "Sources (none found)"
    unsupported = {n for c in citations if not c.supported for n in c.numbers}
    if unsupported:
        title += f" — {UNSUPPORTED_FLAG} {len(unsupported)} cited for unsupported claims"
    return title


# ---- export --------------------------------------------------------------------------------------


def conversation_markdown(exchanges: Sequence[Exchange], exported_at: datetime | None = None) -> str:
    """A whole conversation as a Markdown document: each question, its answer with flags, and its numbered
    sources with the passages quoted, so the export can be read and checked without the app."""
    moment = (exported_at or datetime.now(UTC)).astimezone(UTC)
    lines = [
        "# NHS innovation reports assistant: conversation",
        "",
        f"Exported {moment.strftime('%Y-%m-%d %H:%M')} UTC. Answers are generated from the cited report "
        "passages and can be wrong: check the sources.",
    ]
    for index, exchange in enumerate(exchanges, start=1):
        answer = exchange.answer
        lines += ["", f"## {index}. {answer.question.strip()}", ""]
        if not exchange.filters.is_empty():
            lines += [f"*Filters: {filters_summary(exchange.filters)}*", ""]
        lines += [answer_markdown(answer), "", f"*Model: {answer.model} · prompt {answer.prompt_version}*"]
        if answer.sources:
            lines += ["", "### Sources", ""]
            for source in answer.sources:
                organisations = f" ({', '.join(source.chunk.organisations)})" if source.chunk.organisations else ""
                lines.append(f"{source.number}. **{source_location(source.chunk)}**{organisations}")
                lines += [
                    "",
                    *[f"   > {line}" if line else "   >" for line in source.passage.splitlines()],
                    "",
                ]
    return "\n".join(lines).rstrip() + "\n"


def filters_summary(filters: Filters) -> str:
    parts: list[str] = []
    if filters.doc_ids:
        parts.append("documents: " + ", ".join(filters.doc_ids))
    if filters.organisations:
        parts.append("organisations: " + ", ".join(filters.organisations))
    if filters.kinds:
        parts.append("kinds: " + ", ".join(KIND_LABELS.get(kind, kind) for kind in filters.kinds))
    if filters.domains:
        parts.append("report sections: " + ", ".join(filters.domains))
    return "; ".join(parts) or "none"


# ---- case studies --------------------------------------------------------------------------------


def case_study_label(case: CaseStudy) -> str:
    """One line for the results list: organisation first, because that is what innovation leads scan for."""
    organisation = ", ".join(case.organisations) or "Organisation not named"
    return f"{organisation} — {case.summary.strip() or case.title}"


def case_study_markdown(case: CaseStudy) -> str:
    """The full passage of a case study with where it comes from, for the detail panel."""
    chunk = case.chunk
    organisation = ", ".join(case.organisations) or "not named in the passage"
    quoted = "\n".join(f"> {line}" if line else ">" for line in chunk.text.strip().splitlines())
    return (
        f"### {case.title}\n\n"
        f"**Organisation:** {organisation}  \n"
        f"**Type:** {KIND_LABELS.get(chunk.kind, chunk.kind)}  \n"
        f"**Source:** {source_location(chunk)}\n\n"
        f"{quoted}\n"
    )


def case_study_question(case: CaseStudy) -> str:
    """The opening question of a chat scoped to one case study."""
    who = " and ".join(case.organisations[:2]) if case.organisations else "the organisation"
    return f"What did {who} do in “{case.title}”, and what can other trusts learn from it?"


# ---- hub tables ----------------------------------------------------------------------------------

FEEDBACK_HEADERS = ["When (UTC)", "Rating", "Question", "Answer", "Comment", "Sources", "Model", "Prompt"]
DOCUMENT_HEADERS = ["Title", "Kind", "Format", "Pages", "Chunks", "Case studies", "Ingested (UTC)", "Id"]


def feedback_rows(entries: Iterable[Feedback]) -> list[list[str]]:
    return [
        [
            entry.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
            "up" if entry.rating == "up" else "down",
            entry.question,
            _shorten(entry.answer, 300),
            entry.comment,
            "\n".join(_shorten(source.label(), 60) for source in entry.sources),
            entry.model,
            entry.prompt_version,
        ]
        for entry in entries
    ]


def document_rows(documents: Iterable[StoredDocument]) -> list[list[str | int]]:
    return [
        [
            document.title,
            document.kind,
            document.file_format,
            "" if document.pages is None else document.pages,
            document.chunk_count,
            document.case_study_count,
            datetime.fromtimestamp(document.ingested_at, UTC).strftime("%Y-%m-%d %H:%M"),
            document.doc_id,
        ]
        for document in documents
    ]


def ingest_report_markdown(report: IngestReport) -> str:
    """What an upload did, with one line per file that failed and why, so the user can fix that file."""
    status = "✅ Ingest finished" if report.ok else "⚠️ Ingest finished with problems"
    lines = [
        f"**{status}** in {report.seconds:.1f} s: {report.files_seen} file(s) seen, "
        f"{report.documents_added} added, {report.documents_updated} updated, "
        f"{report.documents_unchanged} unchanged, {report.documents_removed} removed"
        f"{f', {report.duplicates_skipped} skipped as copies' if report.duplicates_skipped else ''}; "
        f"{report.chunks_added} passages added, {report.chunks_total} in the index.",
    ]
    if report.failures:
        lines += ["", "**Files that could not be ingested:**"]
        lines += [f"- `{_file_name(failure.path)}`: {failure.reason}" for failure in report.failures]
    if report.warnings:
        lines += ["", "**Warnings:**"]
        lines += [f"- {warning}" for warning in report.warnings]
    return "\n".join(lines)


# ---- helpers -------------------------------------------------------------------------------------


def _content_words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower()) if len(word) > 2 and word not in _STOPWORDS}


def _strip_citation_marks(text: str) -> str:
    return re.sub(r"\s*\[\d+(?:\s*,\s*\d+)*\]", "", text).strip()


def _html_lines(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _file_name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def eval_failure_markdown(item: Mapping[str, Any]) -> str:
    """One failing eval question in full, from the results JSON (the evals' stable interface): what was
    asked, why it failed, the answer against the reference, and the top passages retrieved."""
    lines = [
        f"### {item.get('id', '')} ({item.get('kind', '')})",
        "",
        f"**Question:** {item.get('question', '')}",
    ]
    lines += ["", "**Failures:**", *[f"- {failure}" for failure in item.get("failures") or []]]
    if item.get("answer") is not None:
        lines += ["", "**Answer:**", "", _quote(str(item.get("answer") or "(empty)"))]
    if item.get("reference_answer"):
        lines += ["", "**Reference answer:**", "", _quote(str(item["reference_answer"]))]
    retrieved = [source for source in item.get("retrieved") or [] if isinstance(source, Mapping)]
    if retrieved:
        lines += ["", "**Top retrieved passages:**"]
        for rank, source in enumerate(retrieved[:5], start=1):
            metadata = source.get("metadata")
            where_from = metadata if isinstance(metadata, Mapping) else source
            page = _report_page(where_from)
            where = f"{where_from.get('doc_title', '')}, {where_from.get('section', '')}{page}"
            lines.append(f"{rank}. *{where}*: {_shorten(str(source.get('text', '')), 240)}")
    return "\n".join(lines)


def _report_page(where_from: Mapping[str, Any]) -> str:
    """``, p. 12`` (``, slide 4`` in a deck) for a retrieved passage in an eval report; reports written before
    labels or formats were recorded have none, and their pages read as pages."""
    page = where_from.get("page")
    if not isinstance(page, int):
        return ""
    label = where_from.get("page_label")
    file_format = where_from.get("file_format")
    return ", " + page_reference(
        page, label if isinstance(label, str) else None, file_format if isinstance(file_format, str) else ""
    )


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.strip().splitlines())
