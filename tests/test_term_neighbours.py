"""Question words widened to the corpus's nearest words: what is added, what never is."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from assistant.query import plan_query
from assistant.term_neighbours import TermNeighbours
from ingest.organisations import build_organisation_index

# Hand-made unit vectors: "larger" and "large" sit next to "bigger", "four" next to "three", "growth" is an
# inflection-like neighbour of "grow", "funding" is unrelated to all of them.
_AXES = {
    "bigger": [1.0, 0.0, 0.0, 0.0],
    "larger": [0.95, 0.31, 0.0, 0.0],
    "large": [0.85, 0.53, 0.0, 0.0],
    "size": [0.6, 0.8, 0.0, 0.0],
    "three": [0.0, 0.0, 1.0, 0.0],
    "four": [0.0, 0.0, 0.98, 0.2],
    "grow": [0.0, 0.0, 0.0, 1.0],
    "growth": [0.0, 0.0, 0.2, 0.98],
    "funding": [0.0, 1.0, 0.0, 0.0],
    "many": [0.0, 0.0, 0.9, 0.1],
    "the": [0.97, 0.24, 0.0, 0.0],
}


def _embed(words: Sequence[str]) -> np.ndarray:
    return np.asarray([_AXES[word] for word in words], dtype=np.float32)


def _neighbours(threshold: float = 0.8) -> TermNeighbours:
    corpus = ["larger", "large", "size", "four", "growth", "funding", "the"]
    return TermNeighbours(corpus, _embed(corpus), _embed, threshold, skip=frozenset({"the"}))


def test_close_corpus_words_are_added_best_first_and_at_most_two() -> None:
    assert _neighbours()(["bigger"]) == ("larger", "large")


def test_words_below_the_threshold_are_not_added() -> None:
    assert _neighbours(threshold=0.9)(["bigger"]) == ("larger",)
    assert "size" not in _neighbours(threshold=0.5)(["bigger"])  # only the best two


def test_inflections_stopwords_and_numbers_are_never_added() -> None:
    assert _neighbours()(["grow"]) == ()  # "growth": the stemmer's job
    assert _neighbours()(["three"]) == ()  # "four" would change the question
    assert _neighbours()(["many"]) == (), "nor is a number word added to another word"
    assert "the" not in _neighbours(threshold=0.5)(["bigger"])


def test_a_word_most_passages_hold_is_not_widened() -> None:
    """ "innovation", in every passage of the bundled corpus, brought in the rare "invention"."""
    corpus = ["larger", "large", "size", "four", "growth", "funding", "the"]
    held_by = {"bigger": 6, "three": 1}

    def neighbours(passages: int) -> TermNeighbours:
        return TermNeighbours(
            corpus,
            _embed(corpus),
            _embed,
            0.8,
            frozenset({"the"}),
            passages_with=held_by.__getitem__,
            passages=passages,
        )

    assert neighbours(passages=10)(["bigger"]) == ()
    assert neighbours(passages=12)(["bigger"]) == ("larger", "large")


def test_a_threshold_of_one_or_an_empty_vocabulary_adds_nothing() -> None:
    assert _neighbours(threshold=1.0)(["bigger"]) == ()
    empty = TermNeighbours([], np.empty((0, 0), dtype=np.float32), _embed, 0.8)
    assert empty(["bigger"]) == ()


def test_neighbours_widen_the_lexical_query_only() -> None:
    question = "Are bigger teams better funded?"
    plan = plan_query(question, [], build_organisation_index(), lambda words: ("larger",) if "bigger" in words else ())
    assert '"larger"' in plan.lexical and '"bigger"' in plan.lexical
    assert plan.search_text == question


@pytest.mark.parametrize("word", ["2024", "q1"])
def test_numbers_and_codes_are_not_embedded(word: str) -> None:
    def refuse(words: Sequence[str]) -> np.ndarray:
        raise AssertionError(f"embedded {list(words)}")

    assert TermNeighbours(["larger"], _embed(["larger"]), refuse, 0.8)([word]) == ()


def test_corpus_words_reuse_their_stored_vectors() -> None:
    embedded: list[str] = []

    def embed(words: Sequence[str]) -> np.ndarray:
        embedded.extend(words)
        return _embed(words)

    corpus = ["larger", "large", "bigger"]
    neighbours = TermNeighbours(corpus, _embed(corpus), embed, 0.8)
    assert neighbours(["bigger", "three"]) == ("larger", "large")
    assert embedded == [], "'bigger' is stored and 'three' is never widened"
    assert neighbours(["size"]) == ("large", "larger") and embedded == ["size"]


def test_a_short_word_does_not_gain_its_own_plural() -> None:
    def embed(words: Sequence[str]) -> np.ndarray:
        return np.asarray([[1.0, 0.0] for _ in words], dtype=np.float32)

    neighbours = TermNeighbours(["apps", "software"], embed(["apps", "software"]), embed, 0.8)
    assert neighbours(["app"]) == ("software",)
