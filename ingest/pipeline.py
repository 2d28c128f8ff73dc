"""Incremental ingestion: load -> split -> embed -> store, one document at a time.

Unchanged files (same content hash) are skipped, changed ones replaced, and documents whose file has gone from
an ingested folder are removed. A file that cannot be read is reported with a reason and the rest still
ingests. Each document is committed on its own, so stopping half-way loses only the document in flight, and
only one ingest runs at a time (a lock file in the data directory), so the app's upload and the CLI cannot
interleave writes.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import Settings
from assistant.records import DocumentInfo, LoadedDocument
from ingest.embedding import Embedder, load_embedder
from ingest.loaders import UnreadableDocument, discover_files, load_document, read_corpus_metadata
from ingest.organisations import OrganisationIndex, build_organisation_index
from ingest.sentences import indexed_sentences
from ingest.split import split_document
from ingest.store import ChunkStore, SentenceUnits
from ingest.vocabulary import refresh_vocabulary

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class FileFailure:
    path: str
    reason: str


@dataclass
class IngestReport:
    """What an ingest run did; ``--json`` prints it as is."""

    files_seen: int = 0
    documents_added: int = 0
    documents_updated: int = 0
    documents_unchanged: int = 0
    documents_removed: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_embedded: int = 0
    chunks_total: int = 0
    failures: list[FileFailure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures


class IngestBusy(RuntimeError):
    """Another ingest holds the lock on this data directory."""


def ingest_paths(
    paths: Sequence[Path],
    settings: Settings,
    progress: Progress | None = None,
    store: ChunkStore | None = None,
    embedder: Embedder | None = None,
) -> IngestReport:
    """Bring the index in line with the files under ``paths`` (files or folders)."""
    started = time.perf_counter()
    report = IngestReport()
    with _exclusive(settings.data_dir):
        owned_store = store is None
        active_store = store or ChunkStore(settings)
        try:
            _ingest(paths, settings, active_store, embedder, progress, report)
        finally:
            report.chunks_total = active_store.chunk_count()
            if owned_store:
                active_store.close()
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _ingest(
    paths: Sequence[Path],
    settings: Settings,
    store: ChunkStore,
    embedder: Embedder | None,
    progress: Progress | None,
    report: IngestReport,
) -> None:
    store.sweep_orphan_vectors()
    files, problems = discover_files(paths)
    report.failures.extend(FileFailure(str(problem.path), problem.reason) for problem in problems)
    report.files_seen = len(files) + len(problems)
    metadata = _metadata_for(files)
    organisations = _organisation_index(store)
    seen_ids: set[str] = set()
    active_embedder = embedder

    for done, path in enumerate(files):
        if progress:
            progress(done, len(files), path.name)
        try:
            document = load_document(path, metadata.get(path.resolve()))
        except UnreadableDocument as problem:
            report.failures.append(FileFailure(str(path), problem.reason))
            continue
        document = _unique_id(document, seen_ids)
        seen_ids.add(document.doc_id)
        report.warnings.extend(f"{path.name}: {warning}" for warning in document.warnings)
        previous_hash = store.document_hash(document.doc_id)
        if previous_hash == store.index_key(document):
            report.documents_unchanged += 1
            continue
        if active_embedder is None:
            active_embedder = load_embedder(settings)
        added, removed, embedded = _store_document(document, store, active_embedder, organisations)
        report.chunks_added += added
        report.chunks_removed += removed
        report.chunks_embedded += embedded
        if previous_hash is None:
            report.documents_added += 1
        else:
            report.documents_updated += 1
    if progress:
        progress(len(files), len(files), "")

    store.save_organisation_aliases(organisations.canonical_by_key)
    for stored in store.documents():
        if stored.doc_id not in seen_ids and _was_under(Path(stored.path), paths) and not Path(stored.path).exists():
            report.chunks_removed += store.remove_document(stored.doc_id)
            report.documents_removed += 1
    # Every run, not only one that changed something: a run interrupted after committing some documents
    # leaves words the next (unchanged) run must still add. Nothing is embedded when nothing is new.
    refresh_vocabulary(store, lambda: active_embedder or load_embedder(settings))


def remove_document(settings: Settings, doc_id: str) -> int:
    """Take one document out of the index (chunks, vectors, and words no other document uses).

    Returns the number of chunks removed; 0 when the document was not indexed.
    """
    with _exclusive(settings.data_dir), closing(ChunkStore(settings)) as store:
        removed = store.remove_document(doc_id)
        refresh_vocabulary(store, lambda: load_embedder(settings))
    return removed


def prepare_index(settings: Settings, progress: Progress | None = None) -> tuple[str, IngestReport] | None:
    """Make the index usable before answering: fill an empty one from the bundled corpus (a fresh checkout),
    or rebuild the documents an older version indexed (after an upgrade that changed what is stored).

    Returns what was done, in words, with the ingest report; None when the index was already current.
    """
    store = ChunkStore(settings)
    try:
        empty = store.chunk_count() == 0
        stale = [Path(doc.path) for doc in store.stale_documents()]
        unworded = not empty and not store.has_vocabulary()
    finally:
        store.close()
    if empty:
        what = f"The index in {settings.data_dir} is empty: ingesting {settings.corpus_dir}"
        return what, ingest_paths([settings.corpus_dir], settings, progress)
    if stale:
        present = [path for path in stale if path.exists()]
        what = (
            f"The index in {settings.data_dir} was built by an older version or another embedding model: "
            f"re-indexing {len(present)} document(s)"
        )
        if len(present) < len(stale):
            what += f" ({len(stale) - len(present)} no longer on disk; run `nhs-assistant ingest` on their folder)"
        return what, ingest_paths(present, settings, progress)
    if unworded:
        what = f"The index in {settings.data_dir} has no word vectors yet (built by an older version): adding them"
        return what, ingest_paths([], settings, progress)
    return None


def _store_document(
    document: LoadedDocument, store: ChunkStore, embedder: Embedder, organisations: OrganisationIndex
) -> tuple[int, int, int]:
    organisations.learn_from_text("\n".join(page.text for page in document.pages))
    chunks = split_document(document, organisations, embedder.count_tokens)
    units_of = {chunk.chunk_id: indexed_sentences(chunk.text) for chunk in chunks}
    missing = store.missing_vectors(units_of)
    to_embed = [chunk for chunk in chunks if chunk.chunk_id in missing]
    vectors = {}
    sentences: dict[str, SentenceUnits] = {}
    if to_embed:
        matrix = embedder.embed_documents([chunk.embed_text for chunk in to_embed])
        vectors = {chunk.chunk_id: matrix[row] for row, chunk in enumerate(to_embed)}
        units = [units_of[chunk.chunk_id] for chunk in to_embed]
        sentence_matrix = embedder.embed_documents([unit for chunk_units in units for unit in chunk_units])
        start = 0
        for chunk, chunk_units in zip(to_embed, units, strict=True):
            sentences[chunk.chunk_id] = SentenceUnits(chunk_units, sentence_matrix[start : start + len(chunk_units)])
            start += len(chunk_units)
    added, removed = store.replace_document(document, chunks, vectors, sentences)
    return added, removed, len(to_embed)


def _organisation_index(store: ChunkStore) -> OrganisationIndex:
    """The gazetteer plus aliases earlier runs learned, so re-ingesting one file keeps every alias."""
    index = build_organisation_index()
    for key, canonical in store.organisation_aliases().items():
        index.canonical_by_key.setdefault(key, canonical)
    return index


def _metadata_for(files: Sequence[Path]) -> dict[Path, DocumentInfo]:
    by_path: dict[Path, DocumentInfo] = {}
    for folder in sorted({path.resolve().parent for path in files}):
        for name, info in read_corpus_metadata(folder).items():
            by_path[(folder / name).resolve()] = info
    return by_path


def _unique_id(document: LoadedDocument, seen: set[str]) -> LoadedDocument:
    """Two files with the same name in different folders must not overwrite each other."""
    if document.doc_id not in seen:
        return document
    from dataclasses import replace

    return replace(document, doc_id=f"{document.doc_id}-{document.content_hash[:8]}")


def _was_under(path: Path, roots: Sequence[Path]) -> bool:
    resolved = path.resolve()
    for root in roots:
        root_resolved = root.resolve()
        if resolved == root_resolved or root_resolved in resolved.parents:
            return True
    return False


@contextmanager
def _exclusive(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "ingest.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as busy:
            raise IngestBusy(f"another ingest is running on {data_dir}; try again when it finishes") from busy
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
