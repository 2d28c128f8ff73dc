"""The index: a SQLite catalog (chunks, documents, FTS5 lexical index) beside a Chroma collection of vectors.

The catalog is the source of truth and is changed in one transaction per document, so an interrupted ingest
leaves either the old or the new version of a file, never half of each. Chroma holds the vectors: one per
chunk, keyed by chunk id, and in a second collection one per sentence of the chunk (see
:mod:`ingest.sentences`), keyed ``<chunk id>#<n>`` and stored with the sentence's text so the answer stage
can reuse it. Vectors are written before the catalog commits (sentences first, so a chunk vector means its
sentences are there too) and stale ones removed after, and any vector whose chunk the catalog does not know
is ignored at query time and swept on the next ingest. Chunk ids hash their text, so an unchanged passage
keeps its id and is never embedded twice.

FTS5 is the lexical side of hybrid retrieval: an inverted index with BM25 ranking that updates incrementally
and scales to thousands of reports without a per-query scan.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.records import Chunk, ChunkKind, Filters, LoadedDocument
from ingest.embedding import embedding_model_name

# Bump when what is stored for a document changes (splitting, the vectors kept), so that the next ingest
# rebuilds documents indexed by an older version instead of skipping them as unchanged.
INDEX_FORMAT = 16
SENTENCES_SUFFIX = "_sentences"
# HNSW candidate-list size at query time. Chroma's default (100) is below the 120 sentences a question asks
# for, and its search then misses true neighbours and returns a different set in different processes: the
# same question ranked its gold passage 2nd or 3rd depending on the run, so an eval could not tell a change
# from noise. 400 still missed one of the 884 bundled sentence vectors in about one process in fifteen; at
# 2,000 the search covers every vector of an index that size, so it is exact and repeatable (20 of 20 runs
# alike). On a larger corpus it stays a high-recall approximate search: over 50,000 768-d vectors a query
# took 6.8 ms at 100 and 7.0 ms at 2,000.
SEARCH_EF = 2000

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    title TEXT NOT NULL,
    publisher TEXT NOT NULL DEFAULT '',
    year INTEGER,
    kind TEXT NOT NULL DEFAULT 'report',
    file_format TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    pages INTEGER,
    ingested_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    doc_title TEXT NOT NULL,
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    embed_text TEXT NOT NULL,
    section_path TEXT NOT NULL,
    domain TEXT NOT NULL,
    page INTEGER,
    kind TEXT NOT NULL,
    organisations TEXT NOT NULL,
    case_study_title TEXT,
    page_label TEXT
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id, position);
CREATE TABLE IF NOT EXISTS chunk_organisations (
    chunk_id TEXT NOT NULL REFERENCES chunks(chunk_id) ON DELETE CASCADE,
    organisation TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunk_organisations_org ON chunk_organisations(organisation);
CREATE INDEX IF NOT EXISTS chunk_organisations_chunk ON chunk_organisations(chunk_id);
CREATE TABLE IF NOT EXISTS organisation_aliases (
    alias_key TEXT PRIMARY KEY,
    canonical TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS vocabulary (
    term TEXT PRIMARY KEY,
    vector BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS index_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    chunk_id UNINDEXED, text, context, tokenize = 'porter unicode61 remove_diacritics 2'
);
"""
# BM25 weight of a passage's context column (document title, section headings, organisations) against its
# text's 1.0. A heading says what every passage under it is about, often in the words staff ask with, while
# the text may only mention them in passing: raised from 0.6, "what did orgs say they'd need in terms of extra
# support ..." found the slide headed "What further support would your organisation need to deliver the
# recommendations?" first (was fourth), "what do the governance and resources ratings show?" the Governance &
# Resources ratings (was third). Retrieval-only hit@5 / MRR averaged over the eight question sets, six written
# blind: 0.3 -> 0.930 / 0.749, 0.6 -> 0.937 / 0.756, 1.0 -> 0.940 / 0.760, 1.5 -> 0.940 / 0.766,
# 2.0 -> 0.940 / 0.764. At 1.5, 24 questions' gold passage rose and 15 fell; MRR rose on seven sets (held-out
# 0.750 -> 0.773, fourth blind set 0.788 -> 0.799, fifth 0.704 -> 0.716) and fell 0.002 on one.
CONTEXT_WEIGHT = 1.5


@dataclass(frozen=True)
class SentenceUnits:
    """A chunk's sentence units and one vector per unit (rows in the same order)."""

    texts: Sequence[str]
    vectors: np.ndarray


@dataclass(frozen=True)
class StoredDocument:
    """A document as the index knows it, for the corpus view and incremental ingest."""

    doc_id: str
    path: str
    title: str
    publisher: str
    year: int | None
    kind: str
    file_format: str
    content_hash: str
    pages: int | None
    ingested_at: float
    chunk_count: int
    case_study_count: int

    @property
    def file_hash(self) -> str:
        """The SHA-256 of the file's bytes: ``content_hash`` without the version tag :meth:`ChunkStore.index_key`
        adds, so that the same file is recognised whichever version or model indexed it."""
        return self.content_hash.split("/", 1)[0]


class ChunkStore:
    """Read and write access to the index. One instance per process; not shared across threads for writes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(settings.catalog_db, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        self._add_missing_columns()
        # Vectors of different models never share a collection (nor could they: dimensions differ), and the
        # format tag names the model, so switching models re-indexes every document instead of mixing vectors.
        model = embedding_model_name(settings)
        self._format_tag = f"/v{INDEX_FORMAT}/{model}"
        collection = collection_name(settings.collection, model)
        self._collection = _open_collection(settings, collection)
        self._sentences = _open_collection(settings, collection + SENTENCES_SUFFIX)
        self._forget_other_models_words(model)

    def close(self) -> None:
        self._db.close()

    def _add_missing_columns(self) -> None:
        """An index written before a column existed gains it empty; its documents carry an older
        :data:`INDEX_FORMAT`, so the next ingest re-reads them and fills it."""
        present = {row[1] for row in self._db.execute("PRAGMA table_info(chunks)")}
        if "page_label" not in present:
            self._db.execute("ALTER TABLE chunks ADD COLUMN page_label TEXT")

    def _forget_other_models_words(self, model: str) -> None:
        """Word vectors from another embedding model would expand queries with the wrong neighbours (silently
        when both models have the same dimension), so they are dropped and the next ingest embeds the words
        again with this model; an index without a record of its model is treated the same way."""
        row = self._db.execute("SELECT value FROM index_meta WHERE key = 'vocabulary_model'").fetchone()
        if row is not None and row[0] == model:
            return
        with self._transaction():
            self._db.execute("DELETE FROM vocabulary")
            self._db.execute("INSERT OR REPLACE INTO index_meta VALUES ('vocabulary_model', ?)", (model,))

    # ---- reading -------------------------------------------------------------------------------------

    def documents(self) -> list[StoredDocument]:
        rows = self._db.execute(
            """SELECT d.doc_id, d.path, d.title, d.publisher, d.year, d.kind, d.file_format, d.content_hash,
                      d.pages, d.ingested_at,
                      (SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.doc_id),
                      (SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.doc_id AND c.kind = 'case_study')
               FROM documents d ORDER BY d.title"""
        ).fetchall()
        return [StoredDocument(*row) for row in rows]

    def stale_documents(self) -> list[StoredDocument]:
        """Documents indexed by an older index format (see :data:`INDEX_FORMAT`) or another embedding model."""
        return [doc for doc in self.documents() if not doc.content_hash.endswith(self._format_tag)]

    def index_key(self, document: LoadedDocument) -> str:
        """What ``documents.content_hash`` stores: the file's hash, the index format and the embedding model
        it was indexed with, so an unchanged file indexed by an older version or another model is rebuilt."""
        return document.content_hash + self._format_tag

    def document_hash(self, doc_id: str) -> str | None:
        """The stored version key of a document (see :meth:`index_key`), None when it is not indexed."""
        row = self._db.execute("SELECT content_hash FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return None if row is None else str(row[0])

    def chunk_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])

    def get_chunks(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        found: dict[str, Chunk] = {}
        for batch in _batches(list(chunk_ids), 500):
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(f"SELECT {_CHUNK_SELECT} FROM chunks c WHERE chunk_id IN ({marks})", batch)
            for row in rows:
                chunk = _chunk_from_row(row)
                found[chunk.chunk_id] = chunk
        return found

    def adjacent_chunks(self, chunk: Chunk) -> list[Chunk]:
        """The chunks just before and after ``chunk`` in its document, in document order."""
        rows = self._db.execute(
            f"SELECT {_CHUNK_SELECT} FROM chunks c WHERE c.doc_id = ? AND c.position IN (?, ?) ORDER BY c.position",
            (chunk.doc_id, chunk.position - 1, chunk.position + 1),
        )
        return [_chunk_from_row(row) for row in rows]

    def chunks(self, filters: Filters = Filters()) -> list[Chunk]:
        """All chunks matching the filters, in document order (for the case-study finder and the baseline)."""
        where, params = _sql_filter(filters)
        rows = self._db.execute(
            f"SELECT {_CHUNK_SELECT} FROM chunks c WHERE {where} ORDER BY c.doc_id, c.position", params
        )
        return [_chunk_from_row(row) for row in rows]

    def organisations(self) -> list[tuple[str, int]]:
        """Organisation names with how many chunks mention them, most mentioned first."""
        rows = self._db.execute(
            "SELECT organisation, COUNT(*) FROM chunk_organisations GROUP BY organisation ORDER BY 2 DESC, 1"
        )
        return [(str(name), int(count)) for name, count in rows]

    def organisation_aliases(self) -> dict[str, str]:
        """Alias key -> canonical name, as learned from the documents at ingest time."""
        return {str(k): str(v) for k, v in self._db.execute("SELECT alias_key, canonical FROM organisation_aliases")}

    def save_organisation_aliases(self, aliases: dict[str, str]) -> None:
        with self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO organisation_aliases VALUES (?,?)", sorted(aliases.items()))

    def chunk_texts(self) -> Iterator[str]:
        """Every chunk's text, streamed: the vocabulary refresh reads the whole corpus without holding it."""
        for row in self._db.execute("SELECT text FROM chunks"):
            yield str(row[0])

    def has_vocabulary(self) -> bool:
        return self._db.execute("SELECT 1 FROM vocabulary LIMIT 1").fetchone() is not None

    def vocabulary_terms(self) -> set[str]:
        return {str(row[0]) for row in self._db.execute("SELECT term FROM vocabulary")}

    def vocabulary(self, dimension: int) -> tuple[list[str], np.ndarray]:
        """The index's words and their unit vectors (one row each), for query expansion.

        Rows of another ``dimension`` (left by a different embedding model) are skipped rather than breaking
        every question; the model's own words keep working.
        """
        terms: list[str] = []
        rows: list[np.ndarray] = []
        for term, blob in self._db.execute("SELECT term, vector FROM vocabulary ORDER BY term"):
            vector = np.frombuffer(blob, dtype=np.float32)
            if vector.shape[0] == dimension:
                terms.append(str(term))
                rows.append(vector)
        return terms, (np.vstack(rows) if rows else np.empty((0, dimension), dtype=np.float32))

    def update_vocabulary(self, added: dict[str, np.ndarray], removed: Iterable[str]) -> None:
        with self._transaction():
            self._db.executemany("DELETE FROM vocabulary WHERE term = ?", [(term,) for term in sorted(removed)])
            self._db.executemany(
                "INSERT OR REPLACE INTO vocabulary VALUES (?, ?)",
                [(term, np.asarray(vector, dtype=np.float32).tobytes()) for term, vector in sorted(added.items())],
            )

    def domains(self) -> list[str]:
        rows = self._db.execute("SELECT DISTINCT domain FROM chunks WHERE domain != '' ORDER BY domain")
        return [str(row[0]) for row in rows]

    def dense_search(self, query: np.ndarray, k: int, filters: Filters = Filters()) -> list[tuple[str, float]]:
        """Chunk ids with cosine similarity, best first; vectors unknown to the catalog are dropped."""
        total = self._collection.count()
        if total == 0:
            return []
        result = self._collection.query(
            query_embeddings=[query.astype(np.float32).tolist()],
            n_results=min(k, total),
            where=_chroma_filter(filters),
            include=["distances"],
        )
        ids = result["ids"][0]
        distances = (result.get("distances") or [[]])[0]
        known = self._known_ids(ids)
        return [(cid, 1.0 - float(dist)) for cid, dist in zip(ids, distances, strict=False) if cid in known]

    def sentence_search(self, query: np.ndarray, k: int, filters: Filters = Filters()) -> dict[str, float]:
        """Chunk id -> cosine of its best-matching sentence, over the ``k`` nearest sentences.

        Empty for an index built before sentence vectors existed; retrieval then ranks on chunks alone.
        """
        total = self._sentences.count()
        if total == 0:
            return {}
        result = self._sentences.query(
            query_embeddings=[query.astype(np.float32).tolist()],
            n_results=min(k, total),
            where=_chroma_filter(filters),
            include=["distances", "metadatas"],
        )
        distances = (result.get("distances") or [[]])[0]
        metadatas = (result.get("metadatas") or [[]])[0]
        best: dict[str, float] = {}
        for metadata, distance in zip(metadatas, distances, strict=False):
            chunk_id = str((metadata or {}).get("chunk_id", ""))
            best[chunk_id] = max(best.get(chunk_id, -1.0), 1.0 - float(distance))
        known = self._known_ids(best)
        return {chunk_id: score for chunk_id, score in best.items() if chunk_id in known}

    def sentence_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these chunks' sentence units, keyed by the unit's text.

        The answer stage ranks a source's sentences to choose the points it quotes; the index's embedder
        (all-mpnet-base-v2) ranks them better than the small sentence model, and its vectors are already
        here, so reading them costs milliseconds where embedding 40-odd sentences again would cost seconds.
        Keyed by text, not position, so a unit the caller splits differently is simply absent. An index
        written before unit texts were stored returns nothing.
        """
        found: dict[str, np.ndarray] = {}
        for batch in _batches(list(chunk_ids), 100):
            result = self._sentences.get(where={"chunk_id": {"$in": batch}}, include=["embeddings", "documents"])
            texts = result.get("documents") or []
            vectors = result.get("embeddings")
            if vectors is None:
                continue
            for text, vector in zip(texts, vectors, strict=False):
                if text:
                    found[text] = np.asarray(vector, dtype=np.float32)
        return found

    def lexical_search(self, match: str, k: int, filters: Filters = Filters()) -> list[tuple[str, float]]:
        """Chunk ids ranked by FTS5 BM25 for an FTS5 MATCH expression; higher score is better."""
        if not match.strip():
            return []
        where, params = _sql_filter(filters)
        try:
            rows = self._db.execute(
                f"""SELECT f.chunk_id, -bm25(chunks_fts, 0.0, 1.0, {CONTEXT_WEIGHT}) AS score
                    FROM chunks_fts f JOIN chunks c ON c.chunk_id = f.chunk_id
                    WHERE chunks_fts MATCH ? AND {where}
                    ORDER BY score DESC LIMIT ?""",
                (match, *params, k),
            ).fetchall()
        except sqlite3.OperationalError:
            return []
        return [(str(cid), float(score)) for cid, score in rows]

    def passages_with(self, word: str) -> int:
        """How many passages use ``word`` (Porter-stemmed, as BM25 matches it); 0 for anything FTS5 rejects."""
        try:
            row = self._db.execute(
                "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", ('"' + word.replace('"', "") + '"',)
            ).fetchone()
        except sqlite3.OperationalError:
            return 0
        return int(row[0])

    def embeddings(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors by id, so diversification and support checks need not re-embed passages."""
        found: dict[str, np.ndarray] = {}
        for batch in _batches(list(chunk_ids), 500):
            result = self._collection.get(ids=batch, include=["embeddings"])
            vectors = result.get("embeddings")
            if vectors is None:
                continue
            for cid, vector in zip(result["ids"], vectors, strict=False):
                found[cid] = np.asarray(vector, dtype=np.float32)
        return found

    # ---- writing -------------------------------------------------------------------------------------

    def missing_vectors(self, units: Mapping[str, Sequence[str]]) -> set[str]:
        """Which chunks need embedding: those with no vector yet, and those whose stored sentence units differ
        from ``units`` (chunk id -> :func:`ingest.sentences.indexed_sentences` of its text). Unchanged passages
        keep their vectors; a passage whose text is unchanged but which a newer version cuts into sentences
        differently is embedded again, or its sentences would be searched and quoted as the old cut."""
        chunk_ids = list(units)
        with_vector: set[str] = set()
        stored: dict[str, set[str]] = {}
        for batch in _batches(chunk_ids, 500):
            with_vector.update(self._collection.get(ids=batch, include=[])["ids"])
            found = self._sentences.get(where={"chunk_id": {"$in": batch}}, include=["metadatas", "documents"])
            for metadata, text in zip(found["metadatas"] or [], found["documents"] or [], strict=False):
                stored.setdefault(str((metadata or {}).get("chunk_id", "")), set()).add(text or "")
        return {
            chunk_id
            for chunk_id in chunk_ids
            if chunk_id not in with_vector or stored.get(chunk_id) != set(units[chunk_id])
        }

    def replace_document(
        self,
        document: LoadedDocument,
        chunks: Sequence[Chunk],
        vectors: dict[str, np.ndarray],
        sentences: dict[str, SentenceUnits],
    ) -> tuple[int, int]:
        """Make the index hold exactly ``chunks`` for this document. Returns (added, removed) chunk counts.

        ``vectors`` must cover every chunk id reported by :meth:`missing_vectors`; ``sentences`` holds, for
        those chunks, their sentence units (:func:`ingest.sentences.indexed_sentences`) and one vector each.
        """
        old_ids = {row[0] for row in self._db.execute("SELECT chunk_id FROM chunks WHERE doc_id=?", (document.doc_id,))}
        new_ids = [chunk.chunk_id for chunk in chunks]
        to_embed = [chunk for chunk in chunks if chunk.chunk_id in vectors]
        sentence_ids: list[str] = []
        sentence_rows: list[list[float]] = []
        sentence_texts: list[str] = []
        sentence_metadata: list[dict[str, str | int | bool]] = []
        for chunk in to_embed:
            units = sentences.get(chunk.chunk_id, SentenceUnits((), np.zeros((0, 0))))
            sentence_ids.extend(f"{chunk.chunk_id}#{n}" for n in range(len(units.texts)))
            sentence_rows.extend(row.tolist() for row in units.vectors)
            sentence_texts.extend(units.texts)
            sentence_metadata.extend([{**_chroma_metadata(chunk), "chunk_id": chunk.chunk_id}] * len(units.texts))
        for batch in _batches([chunk.chunk_id for chunk in to_embed], 500):
            self._sentences.delete(where={"chunk_id": {"$in": batch}})
        for start in range(0, len(sentence_ids), 1000):
            self._sentences.upsert(
                ids=sentence_ids[start : start + 1000],
                embeddings=sentence_rows[start : start + 1000],  # type: ignore[arg-type]
                documents=sentence_texts[start : start + 1000],
                metadatas=sentence_metadata[start : start + 1000],  # type: ignore[arg-type]
            )
        if to_embed:
            self._collection.upsert(
                ids=[chunk.chunk_id for chunk in to_embed],
                embeddings=[vectors[chunk.chunk_id].tolist() for chunk in to_embed],
                metadatas=[_chroma_metadata(chunk) for chunk in to_embed],  # type: ignore[misc]
            )
        with self._transaction():
            self._delete_document_rows(document.doc_id)
            self._db.execute(
                "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    document.doc_id,
                    str(document.path),
                    document.info.title,
                    document.info.publisher,
                    document.info.year,
                    document.info.kind,
                    document.file_format,
                    self.index_key(document),
                    sum(1 for page in document.pages if page.number is not None) or None,
                    time.time(),
                ),
            )
            for chunk in chunks:
                self._insert_chunk(chunk)
        stale = sorted(old_ids - set(new_ids))
        self._delete_vectors(stale)
        return len(set(new_ids) - old_ids), len(stale)

    def move_document(self, doc_id: str, path: str) -> None:
        """Record a new place for a document's file without re-indexing it: its content is unchanged, and
        removal of deleted files and the next ingest's matching both go by the stored path."""
        with self._transaction():
            self._db.execute("UPDATE documents SET path = ? WHERE doc_id = ?", (path, doc_id))

    def remove_document(self, doc_id: str) -> int:
        ids = [row[0] for row in self._db.execute("SELECT chunk_id FROM chunks WHERE doc_id=?", (doc_id,))]
        with self._transaction():
            self._delete_document_rows(doc_id)
        self._delete_vectors(ids)
        return len(ids)

    def sweep_orphan_vectors(self) -> int:
        """Delete vectors the catalog does not know (left by an ingest interrupted mid-document).

        A chunk's sentence vectors go with it. Sentences are written before their chunk's vector, so a run
        stopped between the two leaves sentences whose chunk has no vector: that chunk counts as missing
        and the next ingest of its document replaces them, so they need no sweep of their own.
        """
        orphans: list[str] = []
        offset = 0
        while True:
            page = self._collection.get(include=[], limit=1000, offset=offset)["ids"]
            if not page:
                break
            known = self._known_ids(page)
            orphans.extend(cid for cid in page if cid not in known)
            offset += len(page)
        self._delete_vectors(orphans)
        return len(orphans)

    # ---- internals -----------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _delete_document_rows(self, doc_id: str) -> None:
        self._db.execute(
            "DELETE FROM chunks_fts WHERE chunk_id IN (SELECT chunk_id FROM chunks WHERE doc_id=?)", (doc_id,)
        )
        self._db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))

    def _insert_chunk(self, chunk: Chunk) -> None:
        self._db.execute(
            f"INSERT INTO chunks ({_CHUNK_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                chunk.chunk_id,
                chunk.doc_id,
                chunk.doc_title,
                chunk.position,
                chunk.text,
                chunk.embed_text,
                json.dumps(list(chunk.section_path)),
                chunk.domain,
                chunk.page,
                chunk.kind,
                json.dumps(list(chunk.organisations)),
                chunk.case_study_title,
                chunk.page_label,
            ),
        )
        self._db.executemany(
            "INSERT INTO chunk_organisations VALUES (?,?)",
            [(chunk.chunk_id, org) for org in chunk.organisations],
        )
        context = " ".join((chunk.doc_title, *chunk.section_path, *chunk.organisations))
        self._db.execute("INSERT INTO chunks_fts VALUES (?,?,?)", (chunk.chunk_id, chunk.text, context))

    def _known_ids(self, ids: Iterable[str]) -> set[str]:
        id_list = list(ids)
        known: set[str] = set()
        for batch in _batches(id_list, 500):
            marks = ",".join("?" * len(batch))
            known.update(
                row[0] for row in self._db.execute(f"SELECT chunk_id FROM chunks WHERE chunk_id IN ({marks})", batch)
            )
        return known

    def _delete_vectors(self, ids: Sequence[str]) -> None:
        for batch in _batches(list(ids), 500):
            self._collection.delete(ids=batch)
            self._sentences.delete(where={"chunk_id": {"$in": batch}})


_CHUNK_COLUMNS = (
    "chunk_id, doc_id, doc_title, position, text, embed_text, section_path, domain, page, kind, organisations, "
    "case_study_title, page_label"
)
# A chunk is read with its document's file format, which the catalog keeps once, on the document.
_CHUNK_SELECT = f"{_CHUNK_COLUMNS}, (SELECT d.file_format FROM documents d WHERE d.doc_id = c.doc_id)"


def _chunk_from_row(row: Sequence[Any]) -> Chunk:
    kind: ChunkKind = row[9]
    return Chunk(
        chunk_id=row[0],
        doc_id=row[1],
        doc_title=row[2] or row[1],
        position=row[3],
        text=row[4],
        embed_text=row[5],
        section_path=tuple(json.loads(row[6])),
        page=row[8],
        kind=kind,
        organisations=tuple(json.loads(row[10])),
        case_study_title=row[11],
        page_label=row[12],
        file_format=row[13] or "",
    )


def organisation_flag(name: str) -> str:
    """Chroma metadata key marking a chunk as about an organisation (Chroma has no list-valued filters)."""
    return "org_" + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:60]


def _chroma_metadata(chunk: Chunk) -> dict[str, str | int | bool]:
    metadata: dict[str, str | int | bool] = {
        "doc_id": chunk.doc_id,
        "kind": chunk.kind,
        "domain": chunk.domain,
        "page": chunk.page if chunk.page is not None else -1,
    }
    for organisation in chunk.organisations:
        metadata[organisation_flag(organisation)] = True
    return metadata


def _chroma_filter(filters: Filters) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = []
    if filters.doc_ids:
        clauses.append({"doc_id": {"$in": list(filters.doc_ids)}})
    if filters.kinds:
        clauses.append({"kind": {"$in": list(filters.kinds)}})
    if filters.domains:
        clauses.append({"domain": {"$in": list(filters.domains)}})
    if filters.organisations:
        flags = [{organisation_flag(name): True} for name in filters.organisations]
        clauses.append(flags[0] if len(flags) == 1 else {"$or": flags})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _sql_filter(filters: Filters) -> tuple[str, list[str]]:
    """A WHERE fragment over alias ``c`` (chunks); always valid, "1=1" when unfiltered."""
    parts: list[str] = ["1=1"]
    params: list[str] = []
    for column, values in (
        ("c.doc_id", filters.doc_ids),
        ("c.kind", filters.kinds),
        ("c.domain", filters.domains),
    ):
        if values:
            parts.append(f"{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
    if filters.organisations:
        marks = ",".join("?" * len(filters.organisations))
        parts.append(f"c.chunk_id IN (SELECT chunk_id FROM chunk_organisations WHERE organisation IN ({marks}))")
        params.extend(filters.organisations)
    return " AND ".join(parts), params


def collection_name(base: str, model: str) -> str:
    """``nhs_reports-all-mpnet-base-v2``: Chroma allows letters, digits, ``._-``, starting and ending alphanumeric."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip("-._") or "model"
    return f"{base}-{slug}"[:200]


def _open_collection(settings: Settings, name: str) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        client = chromadb.HttpClient(
            host=settings.chroma_host,
            port=settings.chroma_port,
            ssl=settings.chroma_ssl,
            settings=chroma_settings,
        )
    else:
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    collection = client.get_or_create_collection(
        name=name,
        embedding_function=None,
        configuration={"hnsw": {"space": "cosine", "ef_search": SEARCH_EF}},
    )
    # An index created before SEARCH_EF was set keeps the old value unless told: raise it in place (the
    # search setting only; the stored graph is unchanged, so nothing is re-embedded).
    hnsw = (collection.configuration or {}).get("hnsw") or {}
    if int(hnsw.get("ef_search") or 0) < SEARCH_EF:
        collection.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})
    return collection


def _batches(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def open_store(settings: Settings) -> ChunkStore:
    return ChunkStore(settings)


def with_store(settings: Settings) -> closing[ChunkStore]:
    """``with with_store(settings) as store:`` closes the catalog connection afterwards."""
    return closing(ChunkStore(settings))
