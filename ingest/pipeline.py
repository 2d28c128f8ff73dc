"""Incremental ingestion: load -> split -> embed -> store, one document at a time.

Unchanged files (same content hash) are skipped, changed ones replaced, and documents whose file has gone from
an ingested folder are removed. A document is its file's resolved path, not its name: the id from the name is
only the first choice of id (see :class:`_Catalogue`). A file whose content is already indexed under another
name is reported and not indexed twice. A file that cannot be read is reported with a reason and the rest
still ingests. Each document is committed on its own, so stopping half-way loses only the document in flight, and
only one ingest runs at a time (a lock file in the data directory), so the app's upload and the CLI cannot
interleave writes.
"""

from __future__ import annotations

import fcntl
import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from assistant.config import Settings
from assistant.records import DocumentInfo, LoadedDocument
from ingest.embedding import Embedder, load_embedder
from ingest.loaders import UnreadableDocument, discover_files, load_document, read_corpus_metadata
from ingest.organisations import OrganisationIndex, build_organisation_index
from ingest.sentences import indexed_sentences
from ingest.split import split_document
from ingest.store import ChunkStore, SentenceUnits, StoredDocument
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
    duplicates_skipped: int = 0
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
    catalogue = _Catalogue(store, settings)
    report.failures.extend(catalogue.failure(problem.path, problem.reason) for problem in problems)
    report.files_seen = len(files) + len(problems)
    metadata = _metadata_for(files)
    organisations = _organisation_index(store)
    active_embedder = embedder
    # Files already indexed at their path go first, so the copy check sees this run's content of each: a
    # saved copy of a report's old version, read before the report's new version replaced it, matched the
    # old content and was skipped, and the old version was then in the index nowhere.
    files = sorted(files, key=lambda path: path.resolve() not in catalogue.by_path)

    for done, path in enumerate(files):
        if progress:
            progress(done, len(files), path.name)
        resolved = path.resolve()
        try:
            loaded = load_document(path, metadata.get(resolved))
        except UnreadableDocument as problem:
            report.failures.append(catalogue.failure(path, problem.reason))
            continue
        document = replace(loaded, path=resolved, doc_id=catalogue.id_for(resolved, loaded.doc_id))
        report.warnings.extend(f"{path.name}: {warning}" for warning in document.warnings)
        previous_hash = store.document_hash(document.doc_id)
        if previous_hash == store.index_key(document):
            known = catalogue.documents.get(document.doc_id)
            if known is not None and known.path != str(resolved):
                store.move_document(document.doc_id, str(resolved))
            catalogue.record(document)
            report.documents_unchanged += 1
            continue
        copy = catalogue.same_content(document)
        if copy is not None and previous_hash is None:
            report.warnings.append(f"{path.name}: the same content as {copy}, already in the index; not indexed again")
            report.duplicates_skipped += 1
            continue
        if copy is not None:
            report.warnings.append(f"{path.name}: now the same content as {copy}; both stay in the index")
        if active_embedder is None:
            active_embedder = load_embedder(settings)
        added, removed, embedded = _store_document(document, store, active_embedder, organisations)
        catalogue.record(document)
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
    for stored in catalogue.documents.values():
        location = catalogue.location[stored.doc_id]
        if stored.doc_id not in catalogue.claimed and _was_under(location, paths) and not location.exists():
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
        stale = [_stored_location(doc.path, settings) for doc in store.stale_documents()]
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


class _Catalogue:
    """The indexed documents by where their files are and by content, kept current as a run stores documents.

    A document is its file's resolved path. The id from the file name (:func:`ingest.loaders.document_id`) is
    only a first choice: ``Westbrook_Falls.pdf`` in another folder maps to the same id as ``westbrook-falls.pdf``
    and, taking it, silently replaced a different document.
    """

    def __init__(self, store: ChunkStore, settings: Settings) -> None:
        self.documents: dict[str, StoredDocument] = {doc.doc_id: doc for doc in store.documents()}
        self.location: dict[str, Path] = {
            doc_id: _stored_location(doc.path, settings) for doc_id, doc in self.documents.items()
        }
        self.by_path: dict[Path, str] = {path: doc_id for doc_id, path in self.location.items()}
        self.claimed: set[str] = set()
        self._content: dict[str, tuple[str, str]] = {}
        """Each indexed document's file hash and description, by id; only documents whose file is on disk."""
        for doc_id, doc in self.documents.items():
            path = self.location[doc_id]
            if path.exists():
                self._content[doc_id] = (doc.file_hash, _described(doc.title, doc_id, path))

    def id_for(self, path: Path, name_id: str) -> str:
        """The id of the document at ``path`` (resolved): the id it is indexed under; else the id from its name,
        unless another file on disk, or another file of this run, holds that; else the name id with a hash of
        the path, which the same path gets again next run.

        An indexed document whose file is no longer where it was (a moved folder, or a relative path an older
        version stored, looked for in the wrong folder) gives its id up to the first file of that name: it is
        most likely the same document moved, which keeps its id and needs no re-embedding, and the name was the
        only identity an older index had.
        """
        known = self.by_path.get(path)
        if known is not None:
            return known
        holder = self.location.get(name_id)
        if name_id not in self.claimed and (holder is None or not holder.exists()):
            return name_id
        return f"{name_id}-{hashlib.sha256(str(path).encode('utf-8')).hexdigest()[:8]}"

    def record(self, document: LoadedDocument) -> None:
        """``document`` is now in the index at ``document.path``, with its content; nothing else takes its id this
        run. The content it had before is no longer in the index, so a copy of that content is not skipped."""
        self.claimed.add(document.doc_id)
        self.location[document.doc_id] = document.path
        self.by_path[document.path] = document.doc_id
        self._content[document.doc_id] = (
            document.content_hash,
            _described(document.info.title, document.doc_id, document.path),
        )

    def same_content(self, document: LoadedDocument) -> str | None:
        """Another indexed document with byte-for-byte the same file, in words; None when there is none.

        Only one whose file is still on disk counts: one whose file is gone is removed at the end of the run,
        and skipping its copy then would lose the content from the index. A document given new content this
        run counts with its new content only (see :meth:`record`).
        """
        return next(
            (
                described
                for doc_id, (file_hash, described) in self._content.items()
                if file_hash == document.content_hash and doc_id != document.doc_id
            ),
            None,
        )

    def failure(self, path: Path, reason: str) -> FileFailure:
        """A file that could not be read. When an earlier version of it is indexed and the file is still there,
        only unreadable, that version stays and the reason says so: answers still quote it. A named file that
        is gone is only reported."""
        indexed = self.by_path.get(path.resolve())
        if indexed is None or not path.exists():
            return FileFailure(str(path), reason)
        self.claimed.add(indexed)
        return FileFailure(
            str(path),
            f"{reason}; the previous version is still in the index ({indexed}) and answers still quote it, "
            "until this file can be read or the document is removed",
        )


def _described(title: str, doc_id: str, path: Path) -> str:
    return f"“{title}” ({doc_id}, {path})"


def _stored_location(stored_path: str, settings: Settings) -> Path:
    """Where a stored document's file is, or was, as an absolute path.

    Paths are stored resolved, so ingest and the "no longer on disk" checks mean the same file from any
    directory. Older versions stored them as given, relative to the directory ingest ran in, which the index
    does not record; the old code resolved them against the current directory, so run from elsewhere it never
    removed a deleted file (and could mistake another folder's file for it). The default data directory sits
    in the directory ingest ran in, so a relative path is looked for beside the data directory, then in the
    current directory, and the first place the file exists is taken (re-ingesting it there stores it
    resolved). A file found in neither is taken to have been beside the data directory: it is removed only by
    ingesting the folder it was in there, as before. If the index was in fact built from somewhere else, the
    worst case is that ingesting a folder of the same name beside the data directory drops the document, and
    ingesting its real folder brings it back.
    """
    path = Path(stored_path)
    if path.is_absolute():
        return path
    beside_index = (settings.data_dir.resolve().parent / path).resolve()
    for candidate in (beside_index, (Path.cwd() / path).resolve()):
        if candidate.exists():
            return candidate
    return beside_index


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
