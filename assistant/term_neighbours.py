"""Widening a question's words to the corpus's nearest words, for the lexical (BM25) side of retrieval.

A staff question and the passage that answers it often share the meaning but not the word: "bigger teams"
against "larger innovation functions", "tiny team" against "small", "sub-domain" against "Subdomain". Porter
stemming does not join these, and the hand-written staff vocabulary (``query_vocabulary.json``) cannot list
every pair of a corpus nobody has read yet. So each question word is embedded with the same MiniLM model and
matched against the index's own words (:mod:`ingest.vocabulary`); the closest ones above a high similarity
are added to the BM25 query. Only words the corpus uses can be added, so the expansion cannot drift to
vocabulary no passage holds.

Measured on retrieval (hit@5 / MRR) against the same code without it, similarity 0.80, two words per
question word: golden 0.927 / 0.771 -> 0.927 / 0.778, held-out 0.804 / 0.649 -> 0.804 / 0.656, the refusal
set's answerable questions 0.833 / 0.722 -> 0.833 / 0.729. Small, but on all three sets; here the hand-written
vocabulary already covers the common staff words, so its worth is mostly for corpora nobody has written one
for. A first version also added a short word's own plural ("hin" -> "hins") and scored 0.839 / 0.701 on the
held-out set, but only because two questions about HINs then counted "HIN" twice: not a gain to keep. At 0.70
the golden set lost hit@5 (0.911; "innovation" -> "invention"); 0.75-0.85 stayed within 0.01.

A word that most passages hold is not widened. It needs no bridge (the reports use it) and cannot tell passages
apart, while its neighbour can be rare and so weigh heavily in BM25: with the mpnet index "innovation", in every
passage of the bundled corpus and in 240 of the eval sets' questions, still brought in "invention" (5 passages),
which put the report's "Invention" section near the top for any question about innovation. Not widening words
in more than half the passages, mean hit@5 / MRR over eight eval sets 0.941 / 0.773 -> 0.944 / 0.776 (heldout6
0.905 -> 0.929 hit@5, heldout5 MRR 0.728 -> 0.740; golden MRR 0.796 -> 0.794, no other set down).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ingest.embedding import Vectors

NEIGHBOURS_PER_TERM = 2
# A word in more than this share of the passages is not widened (see above).
WIDESPREAD_SHARE = 0.5
_SHORTLIST = 10
_SAME_STEM_PREFIX = 4
# Embeddings put numbers next to numbers: "three" is close to "four", which would change the question.
_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred thousand "
    "first second third fourth fifth".split()
)


class TermNeighbours:
    """The corpus words nearest to a question's words; empty when the index has no vocabulary."""

    def __init__(
        self,
        terms: Sequence[str],
        vectors: Vectors,
        embed: Callable[[Sequence[str]], Vectors],
        threshold: float,
        skip: frozenset[str] = frozenset(),
        passages_with: Callable[[str], int] | None = None,
        passages: int = 0,
    ) -> None:
        """``passages_with`` (how many passages hold a word) and ``passages`` (how many there are) let a word
        most passages hold go unwidened; without them every word may be."""
        self._terms = list(terms)
        self._row = {term: row for row, term in enumerate(self._terms)}
        self._vectors = vectors
        self._embed = embed
        self._threshold = threshold
        self._skip = skip | _NUMBER_WORDS
        self._passages_with = passages_with
        self._passages = passages
        # Counts per word, asked once per index rather than once per question: a refresh builds a new instance.
        self._held_by: dict[str, int] = {}

    def __call__(self, words: Sequence[str]) -> tuple[str, ...]:
        asked = [
            word
            for word in dict.fromkeys(words)
            if word.replace("-", "").isalpha() and word not in self._skip and not self._widespread(word)
        ]
        if not asked or not self._terms or self._threshold >= 1.0:
            return ()
        similarities = self._vectors @ self._vectors_of(asked).T
        shortlist = min(_SHORTLIST, len(self._terms))
        found: list[str] = []
        for column, word in enumerate(asked):
            scores = similarities[:, column]
            # The best few by partial sort: a full sort of a 100,000-word vocabulary per word costs ~10 ms.
            best = np.argpartition(-scores, shortlist - 1)[:shortlist]
            kept = 0
            for row in best[np.argsort(-scores[best])]:
                if scores[row] < self._threshold or kept == NEIGHBOURS_PER_TERM:
                    break
                candidate = self._terms[row]
                if candidate in self._skip or _same_stem(word, candidate):
                    continue
                found.append(candidate)
                kept += 1
        return tuple(dict.fromkeys(found))

    def _widespread(self, word: str) -> bool:
        if self._passages_with is None or not self._passages:
            return False
        if word not in self._held_by:
            self._held_by[word] = self._passages_with(word)
        return self._held_by[word] > WIDESPREAD_SHARE * self._passages

    def _vectors_of(self, words: Sequence[str]) -> Vectors:
        """Most question words are corpus words whose vectors are stored; only the others are embedded, which
        keeps this step to a few milliseconds (an embedding call costs tens)."""
        unknown = [word for word in words if word not in self._row]
        embedded = dict(zip(unknown, self._embed(unknown), strict=True)) if unknown else {}
        return np.vstack([self._vectors[self._row[word]] if word in self._row else embedded[word] for word in words])


def _same_stem(word: str, candidate: str) -> bool:
    """An inflection ("grow" / "growth", "app" / "apps"), which the Porter stemmer already joins: adding it
    would only count the word twice."""
    return candidate.startswith(word[:_SAME_STEM_PREFIX]) or word.startswith(candidate[:_SAME_STEM_PREFIX])
