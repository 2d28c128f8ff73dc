"""The index's own words, embedded once, so a question's words can be widened to the corpus's words.

Staff ask with their words and BM25 only matches the report's; :mod:`assistant.term_neighbours` bridges the
two with these vectors (the reasons and measurements are there). Each distinct word is embedded once and kept
while any chunk uses it, so re-ingesting an unchanged corpus or removing a document embeds nothing; a few
thousand words take about two seconds on a 2-core CPU.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from ingest.embedding import Embedder
from ingest.store import ChunkStore

# Letters in any script, joined by inner hyphens ("sub-domain"); words under three letters ("of", the "q" of
# "Q1") and numbers carry no meaning worth widening.
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def corpus_words(texts: Iterable[str]) -> set[str]:
    """Lower-cased, so "Trust" at a sentence start and "trust" inside one share a single vector."""
    words: set[str] = set()
    for text in texts:
        words.update(word for word in _WORD.findall(text.lower()) if len(word) >= 3)
    return words


def refresh_vocabulary(store: ChunkStore, embedder: Callable[[], Embedder]) -> int:
    """Make the stored vocabulary match the indexed chunks: embed new words, drop vanished ones.

    ``embedder`` is called only when there are new words, so a run that changed nothing or only removed
    documents does not load the model. Returns how many words were embedded.
    """
    wanted = corpus_words(store.chunk_texts())
    stored = store.vocabulary_terms()
    new = sorted(wanted - stored)
    vectors = dict(zip(new, embedder().embed_documents(new), strict=True)) if new else {}
    store.update_vocabulary(vectors, stored - wanted)
    return len(new)
