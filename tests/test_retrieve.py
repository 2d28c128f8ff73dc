"""Retrieval steps: widening hits to their section, blending chunk and sentence scores, question intents."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant import retrieve
from assistant.config import Settings
from assistant.query import plan_query
from assistant.records import Chunk, Filters
from assistant.retrieve import Candidate, Retriever, blend_dense, diversify, widen_to_section
from ingest.organisations import build_organisation_index
from ingest.pipeline import ingest_paths
from ingest.store import ChunkStore
from tests.conftest import FakeEmbedder, make_chunk


def _chunk(position: int, section: str) -> Chunk:
    return make_chunk(position, f"text {position}", section_path=("Part", section))


DOCUMENT = [_chunk(0, "A"), _chunk(1, "B"), _chunk(2, "B"), _chunk(3, "B"), _chunk(4, "C")]


def _adjacent(chunk: Chunk) -> Sequence[Chunk]:
    return [c for c in DOCUMENT if abs(c.position - chunk.position) == 1]


def test_a_hit_is_joined_with_its_neighbours_in_the_same_section_only() -> None:
    (widened,) = widen_to_section([DOCUMENT[1]], _adjacent)
    assert widened.text == "text 1\n\ntext 2"
    (middle,) = widen_to_section([DOCUMENT[2]], _adjacent)
    assert middle.text == "text 1\n\ntext 2\n\ntext 3"
    assert middle.chunk_id == "c2" and middle.section_path == ("Part", "B")


def test_text_is_never_repeated_across_sources() -> None:
    first, second = widen_to_section([DOCUMENT[3], DOCUMENT[1]], _adjacent)
    assert first.text == "text 2\n\ntext 3"
    assert second.text == "text 1"


def test_a_lone_chunk_is_returned_unchanged() -> None:
    assert widen_to_section([DOCUMENT[0], DOCUMENT[4]], _adjacent) == [DOCUMENT[0], DOCUMENT[4]]


def test_dense_score_blends_the_chunk_with_its_best_sentence() -> None:
    query = np.array([1.0, 0.0], dtype=np.float32)
    chunk_scores = [("broad", 0.5), ("exact", 0.45)]
    sentence_scores = {"exact": 0.9, "only-sentence": 0.8}
    vectors = {"only-sentence": np.array([0.5, 0.5], dtype=np.float32)}
    blended = dict(blend_dense(chunk_scores, sentence_scores, lambda ids: {i: vectors[i] for i in ids}, query, 10))
    assert blended["exact"] == pytest.approx(0.5 * 0.45 + 0.5 * 0.9)
    assert blended["only-sentence"] == pytest.approx(0.5 * 0.5 + 0.5 * 0.8)
    # No sentence of "broad" was among the nearest, so it gets the lowest sentence score seen.
    assert blended["broad"] == pytest.approx(0.5 * 0.5 + 0.5 * 0.8)
    assert next(iter(blended)) == "exact"


def test_without_sentence_vectors_the_chunk_ranking_is_kept() -> None:
    query = np.array([1.0, 0.0], dtype=np.float32)
    ranking = [("a", 0.7), ("b", 0.5), ("c", 0.4)]
    assert blend_dense(ranking, {}, lambda ids: {}, query, 2) == ranking[:2]


def test_diversify_skips_a_copy_of_a_chosen_passage_but_keeps_a_close_neighbour() -> None:
    report = "Torbay's digital innovation service is about 80% self funded through external income and grants."
    copy = make_chunk(1, report)  # the summary repeating the report word for word
    neighbour = make_chunk(2, "Chelsea and Westminster funds its fellowship through its charity CW+.")
    candidates = [
        Candidate(make_chunk(0, report), 1.0, None, 1, 1),
        Candidate(copy, 0.9, None, 2, 2),
        Candidate(neighbour, 0.8, None, 3, 3),
    ]
    # Passages of one report embed close together (titles are embedded with them): closeness alone is no copy.
    vectors = {f"c{i}": np.array([1.0, 0.05 * i], dtype=np.float32) for i in range(3)}
    vectors = {key: vector / np.linalg.norm(vector) for key, vector in vectors.items()}

    chosen = diversify(candidates, vectors, k=3)

    assert [candidate.chunk.chunk_id for candidate in chosen] == ["c0", "c2"]


def test_a_when_question_puts_the_passage_giving_a_date_first(
    tmp_path: Path, settings: Settings, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "When was the event?" names the event, not the date; the passages that talk most about the event
    outrank the one sentence that says when it was, unless a passage giving a date counts for more."""
    (tmp_path / "event.md").write_text(
        "# Part one\n\nThe rapid insight event explored four key questions in small groups with regional partners.\n",
        encoding="utf-8",
    )
    (tmp_path / "background.md").write_text(
        "# Part two\n\nThe rapid insight event took place on 16 October 2024 with regional partners.\n",
        encoding="utf-8",
    )
    (tmp_path / "other.md").write_text(
        "# Other\n\nThe insight team wrote a plan for staff training, budgets and estates.\n", encoding="utf-8"
    )
    ingest_paths([tmp_path], settings, embedder=fake_embedder)  # type: ignore[arg-type]
    store = ChunkStore(settings)
    retriever = Retriever(store, fake_embedder)  # type: ignore[arg-type]
    plan = plan_query("when was the rapid insight event?", [], build_organisation_index())
    assert (
        plan.asks_when
        and not plan_query("what happened when the event ended?", [], build_organisation_index()).asks_when
    )

    def first_document() -> str:
        candidates = retriever.candidates_for(plan, Filters(), fake_embedder.embed_query(plan.search_text))
        return candidates[0].chunk.doc_title

    assert first_document() == "Part two"
    monkeypatch.setattr(retrieve, "DATE_BOOST", 0.0)
    assert first_document() == "Part one"
    store.close()
