"""Durable thumbs-up/down feedback on answers, in one SQLite file (``settings.feedback_db``).

The app writes a row when a user rates an answer; the hub's feedback log and the evals read them back, so
the row keeps everything needed to judge the answer later without the index that produced it: the
question, the answer text, the sources as shown (title, section, page and passage), the model label and
the prompt version. Nothing that identifies the person is stored: no name, login, address or session id.

One row per answer: rating the same answer again (or adding a comment afterwards) replaces that answer's
row, because the latest opinion is the one that counts. Every call opens its own short-lived connection,
so the store can be shared by Gradio's worker threads and read by another process at the same time.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, cast

from assistant.records import Answer, page_reference

Rating = Literal["up", "down"]
RATINGS: tuple[Rating, ...] = ("up", "down")

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    answer_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    sources TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    refused INTEGER NOT NULL DEFAULT 0,
    unsupported_sentences INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS feedback_created ON feedback(created_at);
"""

CSV_COLUMNS = (
    "answer_id",
    "created_at",
    "rating",
    "comment",
    "question",
    "answer",
    "sources",
    "model",
    "prompt_version",
    "refused",
    "unsupported_sentences",
)


@dataclass(frozen=True)
class FeedbackSource:
    """A source as the user saw it beside the rated answer; ``page`` is 1-based (a slide number when
    ``file_format`` is a deck's), None for pageless formats."""

    number: int
    doc_id: str
    doc_title: str
    section: str
    page: int | None
    chunk_id: str
    passage: str
    page_label: str | None = None
    file_format: str = ""

    def label(self) -> str:
        """``[2] Title, Section, p. 14`` — how the CSV export and the feedback log name a source."""
        parts = [f"[{self.number}] {self.doc_title}"]
        if self.section:
            parts.append(self.section)
        if self.page is not None:
            parts.append(page_reference(self.page, self.page_label, self.file_format))
        return ", ".join(parts)


@dataclass(frozen=True)
class Feedback:
    """One rated answer. ``created_at`` is timezone-aware UTC: the time of the latest rating or comment."""

    answer_id: str
    question: str
    answer: str
    sources: tuple[FeedbackSource, ...]
    model: str
    prompt_version: str
    rating: Rating
    created_at: datetime
    comment: str = ""
    refused: bool = False
    unsupported_sentences: int = 0


def feedback_from_answer(
    answer_id: str, answer: Answer, rating: Rating, comment: str = "", now: datetime | None = None
) -> Feedback:
    """The feedback row for ``answer`` as shown to the user; ``answer_id`` is the app's id for that answer."""
    if rating not in RATINGS:
        raise ValueError(f"rating must be one of {RATINGS}, not {rating!r}")
    sources = tuple(
        FeedbackSource(
            number=source.number,
            doc_id=source.chunk.doc_id,
            doc_title=source.chunk.doc_title,
            section=source.chunk.section,
            page=source.chunk.page,
            chunk_id=source.chunk.chunk_id,
            passage=source.passage,
            page_label=source.chunk.page_label,
            file_format=source.chunk.file_format,
        )
        for source in answer.sources
    )
    return Feedback(
        answer_id=answer_id,
        question=answer.question,
        answer=answer.text,
        sources=sources,
        model=answer.model,
        prompt_version=answer.prompt_version,
        rating=rating,
        comment=comment.strip(),
        created_at=now or datetime.now(UTC),
        refused=answer.refused,
        unsupported_sentences=len(answer.unsupported_sentences),
    )


class FeedbackStore:
    """Read and write feedback in the SQLite file at ``path`` (created, with its folder, on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as db:
            db.executescript(SCHEMA)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def record(self, feedback: Feedback) -> None:
        """Store ``feedback``, replacing any earlier rating of the same answer."""
        with self._connection() as db:
            db.execute(
                f"INSERT OR REPLACE INTO feedback ({', '.join(CSV_COLUMNS)}) VALUES ({', '.join('?' * 11)})",
                (
                    feedback.answer_id,
                    _utc(feedback.created_at).isoformat(timespec="seconds"),
                    feedback.rating,
                    feedback.comment,
                    feedback.question,
                    feedback.answer,
                    json.dumps([_source_dict(source) for source in feedback.sources], ensure_ascii=False),
                    feedback.model,
                    feedback.prompt_version,
                    int(feedback.refused),
                    feedback.unsupported_sentences,
                ),
            )

    def remove(self, answer_id: str) -> bool:
        """Forget the rating of one answer (the user took it back); True when there was one."""
        with self._connection() as db:
            return db.execute("DELETE FROM feedback WHERE answer_id = ?", (answer_id,)).rowcount > 0

    def get(self, answer_id: str) -> Feedback | None:
        with self._connection() as db:
            row = db.execute(
                f"SELECT {', '.join(CSV_COLUMNS)} FROM feedback WHERE answer_id = ?", (answer_id,)
            ).fetchone()
        return None if row is None else _feedback_from_row(row)

    def entries(
        self,
        rating: Rating | None = None,
        text: str = "",
        model: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Feedback]:
        """Feedback newest first, narrowed by rating, model, time, and ``text`` found in the question,
        answer or comment (case-insensitive substring)."""
        clauses: list[str] = []
        params: list[object] = []
        if rating is not None:
            clauses.append("rating = ?")
            params.append(rating)
        if model:
            clauses.append("model = ?")
            params.append(model)
        if since is not None:
            clauses.append("created_at >= ?")
            params.append(_utc(since).isoformat(timespec="seconds"))
        if text.strip():
            clauses.append("(instr(lower(question), ?) OR instr(lower(answer), ?) OR instr(lower(comment), ?))")
            needle = text.strip().lower()
            params.extend([needle, needle, needle])
        where = " AND ".join(clauses) or "1"
        columns = ", ".join(CSV_COLUMNS)
        sql = f"SELECT {columns} FROM feedback WHERE {where} ORDER BY created_at DESC, rowid DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._connection() as db:
            rows = db.execute(sql, params).fetchall()
        return [_feedback_from_row(row) for row in rows]

    def models(self) -> list[str]:
        """Model labels that have feedback, for the log's filter."""
        with self._connection() as db:
            return [str(row[0]) for row in db.execute("SELECT DISTINCT model FROM feedback ORDER BY model")]

    def counts(self) -> dict[Rating, int]:
        with self._connection() as db:
            found = dict(db.execute("SELECT rating, COUNT(*) FROM feedback GROUP BY rating").fetchall())
        return {rating: int(found.get(rating, 0)) for rating in RATINGS}

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=10.0)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            with db:
                yield db


def feedback_to_csv(entries: Sequence[Feedback]) -> str:
    """The entries as CSV text with a header row (UTF-8 safe for spreadsheets once written with a BOM).

    ``sources`` is one cell listing the source labels separated by `` | ``, which is what a reviewer reads;
    the passages themselves stay in the database.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow(
            (
                entry.answer_id,
                _utc(entry.created_at).isoformat(timespec="seconds"),
                entry.rating,
                entry.comment,
                entry.question,
                entry.answer,
                " | ".join(source.label() for source in entry.sources),
                entry.model,
                entry.prompt_version,
                int(entry.refused),
                entry.unsupported_sentences,
            )
        )
    return buffer.getvalue()


def write_feedback_csv(entries: Sequence[Feedback], path: Path) -> Path:
    """Write :func:`feedback_to_csv` to ``path`` with a UTF-8 BOM so Excel shows non-ASCII text correctly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(feedback_to_csv(entries), encoding="utf-8-sig")
    return path


def _utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC so that stored strings always sort in time order."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _source_dict(source: FeedbackSource) -> dict[str, object]:
    return {
        "number": source.number,
        "doc_id": source.doc_id,
        "doc_title": source.doc_title,
        "section": source.section,
        "page": source.page,
        "page_label": source.page_label,
        "file_format": source.file_format,
        "chunk_id": source.chunk_id,
        "passage": source.passage,
    }


def _feedback_from_row(row: Sequence[object]) -> Feedback:
    answer_id, created_at, rating, comment, question, answer, sources, model, prompt, refused, unsupported = row
    source_dicts = cast(list[dict[str, object]], json.loads(str(sources)))
    return Feedback(
        answer_id=str(answer_id),
        question=str(question),
        answer=str(answer),
        sources=tuple(_source_from_dict(item) for item in source_dicts),
        model=str(model),
        prompt_version=str(prompt),
        rating=cast(Rating, str(rating)),
        comment=str(comment),
        created_at=datetime.fromisoformat(str(created_at)),
        refused=bool(refused),
        unsupported_sentences=int(cast(int, unsupported)),
    )


def _source_from_dict(item: dict[str, object]) -> FeedbackSource:
    page = item.get("page")
    label = item.get("page_label")
    return FeedbackSource(
        number=int(cast(int, item["number"])),
        doc_id=str(item.get("doc_id", "")),
        doc_title=str(item.get("doc_title", "")),
        section=str(item.get("section", "")),
        page=None if page is None else int(cast(int, page)),
        chunk_id=str(item.get("chunk_id", "")),
        passage=str(item.get("passage", "")),
        page_label=label if isinstance(label, str) else None,
        file_format=str(item.get("file_format", "")),
    )
