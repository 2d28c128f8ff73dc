"""Retrieval steps that need no model: widening hits to their section."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.records import Chunk
from assistant.retrieve import widen_to_section
from tests.conftest import make_chunk


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
