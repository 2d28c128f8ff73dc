"""The index's own words, embedded once, so a question's words can be widened to the corpus's words.

Staff ask with their words ("bigger teams", "tiny team", "sub-domain") and BM25 only matches the report's
("larger functions", "small", "subdomain"). The hand-written staff vocabulary covers the common cases; this
covers the long tail for any corpus: each distinct word of the indexed chunks gets a MiniLM vector, and at
question time (:mod:`assistant.term_neighbours`) a question word's nearest corpus words are added to the
lexical query. Words are embedded once and kept across runs, so re-ingesting an unchanged corpus embeds
nothing; a few thousand words take about two seconds on a 2-core CPU.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ingest.embedding import Embedder
from ingest.store import ChunkStore

# Lower-case letters with inner hyphens; numbers and one- or two-letter words carry no meaning to widen.
_WORD = re.compile(r"[a-z][a-z-]*[a-z]")
MIN_WORD_LENGTH = 3


def corpus_words(texts: Iterable[str]) -> set[str]:
    """Distinct lower-case words of at least three letters in ``texts``."""
    words: set[str] = set()
    for text in texts:
        words.update(word for word in _WORD.findall(text.lower()) if len(word) >= MIN_WORD_LENGTH)
    return words


def refresh_vocabulary(store: ChunkStore, embedder: Embedder) -> int:
    """Make the stored vocabulary match the indexed chunks: embed new words, drop vanished ones.

    Returns how many words were embedded.
    """
    wanted = corpus_words(store.chunk_texts())
    stored = store.vocabulary_terms()
    new = sorted(wanted - stored)
    vectors = embedder.embed_documents(new)
    store.update_vocabulary(dict(zip(new, vectors, strict=True)), stored - wanted)
    return len(new)
