"""The feedback store: what the app writes is what the hub's log and the evals read back."""

from __future__ import annotations

import csv
import io
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.feedback import (
    CSV_COLUMNS,
    FeedbackStore,
    feedback_from_answer,
    feedback_to_csv,
    write_feedback_csv,
)
from assistant.records import Answer, Chunk, Citation, Source, Timings

NOON = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def make_answer(question: str = "How is CW+ involved?", text: str = "CW+ funds the programme [1].") -> Answer:
    chunk = Chunk(
        chunk_id="chunk-7",
        doc_id="insites-report",
        doc_title="Learning from the NHS InSites Programme",
        text="In Chelsea and Westminster, the innovation programme is funded by its charity CW+.",
        embed_text="",
        section_path=("Governance & Resources", "Key theme 2"),
        page=61,
        kind="case_study",
        organisations=("Chelsea and Westminster Hospital NHS Foundation Trust",),
        position=3,
    )
    return Answer(
        question=question,
        text=text,
        sources=(Source(1, chunk, chunk.text),),
        citations=(Citation(text, (1,), True, 0.8),),
        refused=False,
        refusal_reason=None,
        timings=Timings(),
        prompt_version="answer-v1#abc",
        model="llamacpp:qwen",
    )


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "nested" / "feedback.sqlite3")


def test_round_trip_keeps_everything_needed_to_judge_the_answer(store: FeedbackStore) -> None:
    store.record(feedback_from_answer("a1", make_answer(), "down", "  wrong trust  ", now=NOON))

    [entry] = store.entries()
    assert entry.answer_id == "a1"
    assert entry.rating == "down"
    assert entry.comment == "wrong trust"
    assert entry.question == "How is CW+ involved?"
    assert entry.answer == "CW+ funds the programme [1]."
    assert entry.model == "llamacpp:qwen"
    assert entry.prompt_version == "answer-v1#abc"
    assert entry.created_at == NOON
    [source] = entry.sources
    assert (source.number, source.doc_title, source.section, source.page) == (
        1,
        "Learning from the NHS InSites Programme",
        "Governance & Resources > Key theme 2",
        61,
    )
    assert "funded by its charity CW+" in source.passage


def test_a_printed_page_name_is_kept_and_named_in_the_export(store: FeedbackStore) -> None:
    answer = make_answer()
    labelled = replace(answer.sources[0].chunk, page_label="59")
    store.record(feedback_from_answer("a1", replace(answer, sources=(Source(1, labelled, "passage"),)), "up"))

    [entry] = store.entries()
    assert (entry.sources[0].page, entry.sources[0].page_label) == (61, "59")
    assert entry.sources[0].label().endswith(", p. 59 (PDF p. 61)")


def test_a_slide_deck_source_is_named_by_its_slide_in_the_export(store: FeedbackStore) -> None:
    answer = make_answer()
    slide = replace(answer.sources[0].chunk, page=4, file_format="pptx")
    store.record(feedback_from_answer("a1", replace(answer, sources=(Source(1, slide, "passage"),)), "up"))

    [entry] = store.entries()
    assert entry.sources[0].label().endswith("Key theme 2, slide 4")


def test_rating_the_same_answer_again_replaces_the_row(store: FeedbackStore) -> None:
    answer = make_answer()
    store.record(feedback_from_answer("a1", answer, "up", now=NOON))
    store.record(feedback_from_answer("a1", answer, "down", "changed my mind", now=NOON + timedelta(minutes=1)))

    assert [(entry.rating, entry.comment) for entry in store.entries()] == [("down", "changed my mind")]
    assert store.counts() == {"up": 0, "down": 1}


def test_a_withdrawn_rating_is_deleted(store: FeedbackStore) -> None:
    store.record(feedback_from_answer("a1", make_answer(), "up", now=NOON))
    store.record(feedback_from_answer("a2", make_answer(), "up", now=NOON))

    assert store.remove("a1") is True
    assert store.remove("a1") is False
    assert store.get("a1") is None
    assert [entry.answer_id for entry in store.entries()] == ["a2"]


def test_entries_filter_by_rating_text_model_and_time(store: FeedbackStore) -> None:
    store.record(feedback_from_answer("old", make_answer("Old question?"), "up", now=NOON - timedelta(days=10)))
    store.record(feedback_from_answer("new", make_answer("Fellowships?"), "down", "Missing Barts", now=NOON))

    assert [entry.answer_id for entry in store.entries()] == ["new", "old"]
    assert [entry.answer_id for entry in store.entries(rating="up")] == ["old"]
    assert [entry.answer_id for entry in store.entries(text="barts")] == ["new"]
    assert [entry.answer_id for entry in store.entries(since=NOON - timedelta(days=1))] == ["new"]
    assert store.entries(model="some-other-model") == []
    assert store.models() == ["llamacpp:qwen"]
    assert len(store.entries(limit=1)) == 1


def test_unknown_rating_is_refused() -> None:
    with pytest.raises(ValueError, match="rating"):
        feedback_from_answer("a1", make_answer(), "meh")  # type: ignore[arg-type]


def test_the_file_is_plain_sqlite_readable_by_other_tools(store: FeedbackStore) -> None:
    store.record(feedback_from_answer("a1", make_answer(), "up", now=NOON))

    with sqlite3.connect(store.path) as db:
        row = db.execute("SELECT rating, question, created_at FROM feedback").fetchone()
    assert row == ("up", "How is CW+ involved?", "2025-03-01T12:00:00+00:00")


def test_csv_export_has_a_header_and_one_row_per_entry(store: FeedbackStore, tmp_path: Path) -> None:
    store.record(feedback_from_answer("a1", make_answer(text='Says "yes", then no [1].'), "up", "ok", now=NOON))

    rows = list(csv.DictReader(io.StringIO(feedback_to_csv(store.entries()))))

    assert list(rows[0]) == list(CSV_COLUMNS)
    assert rows[0]["answer"] == 'Says "yes", then no [1].'
    assert rows[0]["sources"] == (
        "[1] Learning from the NHS InSites Programme, Governance & Resources > Key theme 2, p. 61"
    )
    written = write_feedback_csv(store.entries(), tmp_path / "out" / "feedback.csv")
    assert written.read_bytes().startswith(b"\xef\xbb\xbf")
    assert len(written.read_text(encoding="utf-8-sig").splitlines()) == 2
