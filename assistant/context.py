"""Building the numbered sources the model reads: few, short, and labelled with who and where.

The embedded model reads roughly 60-100 prompt tokens a second on two cores, so every token of context costs
time to first token, and a small model given long context starts mixing facts between sources. Each chunk is
therefore cut to its sentences most related to the question (kept in their original order, so the passage
still reads as the report wrote it), within a token budget. The label names the organisation, so a fact
reaches the model already attached to the right trust.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from assistant.citations import named_row_labels
from assistant.prompts import Prompt
from assistant.records import Chunk, RetrievedChunk, Source, page_reference
from ingest.sentences import split_sentences

_WORD = re.compile(r"[a-z0-9]+")
_COMMON = frozenset(
    """the a an and or of to in for on with by is are was were be as at that this it its from do go he if me my
    no so up us we our you""".split()
)

_MARKUP = re.compile(r"\*\*|__|</?u>|<[^>]+>")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")

Embed = Callable[[Sequence[str]], np.ndarray]
CountTokens = Callable[[str], int]


@dataclass(frozen=True)
class ScoredSentence:
    """A sentence of a source with its relevance to the question, for compression and evidence points."""

    number: int
    position: int
    text: str
    score: float


def score_sentences(
    sentences: Sequence[str], sentence_vectors: np.ndarray, query_vector: np.ndarray, query_terms: set[str]
) -> np.ndarray:
    """score(s) = cos(q, s) + 0.3 * |terms(q) ∩ terms(s)| / |terms(q)|."""
    scores: np.ndarray = sentence_vectors @ query_vector
    if query_terms:
        overlap = np.array([len(query_terms & _terms(s)) / len(query_terms) for s in sentences])
        scores = scores + 0.3 * overlap
    return scores


def compress_passage(
    chunk: Chunk,
    sentences: Sequence[str],
    scores: np.ndarray,
    budget: int,
    count_tokens: CountTokens,
    asked: str = "",
) -> str:
    """Keep the highest-scoring sentences within ``budget`` tokens, in document order.

    The first sentence of a case study is always kept because it usually says which organisation did what.
    So is each table row whose label ``asked`` (the question, with what a follow-up inherits) names: asked how
    many bed days the Midlands saved, the model was given the North East's and the South West's rows, which
    every row's "Bed days saved" made score alike, and not the Midlands', and it gave the North East's figure.
    """
    if count_tokens(chunk.text) <= budget:
        return chunk.text
    keep: set[int] = set()
    if chunk.kind == "case_study" and len(sentences) > 1:
        keep.add(1 if sentences[0].lower().startswith("case study") else 0)
    keep.update(_named_rows(chunk.text, sentences, asked))
    used = sum(count_tokens(sentences[i]) for i in keep)
    for index in np.argsort(-scores):
        cost = count_tokens(sentences[int(index)])
        if int(index) in keep or (used + cost > budget and keep):
            continue
        keep.add(int(index))
        used += cost
    return " ".join(sentences[i] for i in sorted(keep))


def _named_rows(text: str, sentences: Sequence[str], asked: str) -> set[int]:
    """The indexes of the sentences that are rows of a table in ``text`` whose label ``asked`` names."""
    if not asked:
        return set()
    wanted = named_row_labels(text, asked)
    return {index for index, sentence in enumerate(sentences) for label in wanted if sentence.startswith(f"{label}:")}


def source_label(chunk: Chunk) -> str:
    """ "Case study: EEAST ... | Vision & Strategy | p. 12" (or "slide 4" in a deck) — enough for the model to
    attribute correctly."""
    parts: list[str] = []
    if chunk.case_study_title:
        parts.append(f"Case study: {chunk.case_study_title}")
    elif chunk.organisations:
        parts.append("About: " + ", ".join(chunk.organisations[:3]))
    if chunk.section_path:
        parts.append(chunk.section_path[-1].split(": ")[-1])
    if chunk.page is not None:
        parts.append(page_reference(chunk.page, chunk.page_label, chunk.file_format, brief=True))
    return " | ".join(parts)


def score_sources(
    retrieved: Sequence[RetrievedChunk], query_vector: np.ndarray, embed: Embed, query_text: str
) -> list[ScoredSentence]:
    """Every sentence of every source scored against the question, sources numbered in retrieval order.

    Sentence embeddings are computed in one batch for all sources.
    """
    split = [split_sentences(item.chunk.text) for item in retrieved]
    flat = [sentence for sentences in split for sentence in sentences]
    vectors = embed(flat) if flat else np.zeros((0, query_vector.shape[0]), dtype=np.float32)
    scores = score_sentences(flat, vectors, query_vector, _terms(query_text)) if flat else np.zeros(0)
    numbered = [
        (number, position) for number, sentences in enumerate(split, start=1) for position in range(len(sentences))
    ]
    return [
        ScoredSentence(number, position, sentence, float(score))
        for (number, position), sentence, score in zip(numbered, flat, scores, strict=True)
    ]


def compress_sources(
    retrieved: Sequence[RetrievedChunk],
    scored: Sequence[ScoredSentence],
    count_tokens: CountTokens,
    budget: int,
    asked: str = "",
) -> list[Source]:
    """Numbered sources in retrieval order, each cut to its best-scoring sentences within ``budget`` tokens
    (see :func:`compress_passage` for what ``asked`` keeps)."""
    sources: list[Source] = []
    for number, item in enumerate(retrieved, start=1):
        own = sorted((s for s in scored if s.number == number), key=lambda s: s.position)
        texts, scores = [s.text for s in own], np.array([s.score for s in own])
        passage = compress_passage(item.chunk, texts, scores, budget, count_tokens, asked) if own else item.chunk.text
        sources.append(Source(number=number, chunk=item.chunk, passage=passage, similarity=item.dense_similarity))
    return sources


def rescore(
    scored: Sequence[ScoredSentence], vectors: Mapping[str, np.ndarray], query_vector: np.ndarray, query_text: str
) -> list[ScoredSentence]:
    """The same sentences scored with other vectors (the index model's), by the same formula; a sentence
    without a vector is left out."""
    kept = [sentence for sentence in scored if sentence.text in vectors]
    if not kept:
        return []
    matrix = np.stack([vectors[sentence.text] for sentence in kept])
    scores = score_sentences([sentence.text for sentence in kept], matrix, query_vector, _terms(query_text))
    return [replace(sentence, score=float(score)) for sentence, score in zip(kept, scores, strict=True)]


def render_sources(sources: Sequence[Source], template: Prompt) -> str:
    """The sources as the model reads them, in plain text: given "[The Health Foundation](#) commissioned
    [Innovation Unit](#)", the small model copied the markup into its answer, where it showed raw."""
    return "\n\n".join(
        template.render(number=str(source.number), label=source_label(source.chunk), passage=plain_text(source.passage))
        for source in sources
    )


def plain_text(text: str) -> str:
    """``text`` without bold, underline or HTML markup, and with each Markdown link reduced to its words."""
    return _LINK.sub(r"\1", _MARKUP.sub("", text))


def _terms(text: str) -> set[str]:
    """Words that count as overlap; two letters are enough for abbreviations such as "AI", "QI" or "XR"."""
    return {word for word in _WORD.findall(text.lower()) if word not in _COMMON and len(word) > 1}
