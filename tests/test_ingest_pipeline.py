"""Incremental, failure-tolerant ingestion into a real Chroma store and SQLite catalog."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.query import fts_expression
from assistant.records import Filters
from ingest.pipeline import IngestBusy, _exclusive, ingest_paths
from ingest.store import SEARCH_EF, ChunkStore, _open_collection
from tests.conftest import FakeEmbedder


def _ingest(paths: list[Path], settings: Settings, embedder: FakeEmbedder):
    return ingest_paths(paths, settings, embedder=embedder)  # type: ignore[arg-type]


def test_first_ingest_indexes_everything(tiny_corpus: Path, settings: Settings, fake_embedder: FakeEmbedder) -> None:
    report = _ingest([tiny_corpus], settings, fake_embedder)
    assert report.ok and report.documents_added == 2
    assert report.chunks_total == report.chunks_added == report.chunks_embedded > 5
    store = ChunkStore(settings)
    titles = {doc.title for doc in store.documents()}
    assert titles == {"Tiny learning report", "Tiny rapid insight report"}
    report_doc = next(doc for doc in store.documents() if doc.doc_id == "learning-report")
    assert report_doc.case_study_count == 2
    assert store.dense_search(fake_embedder.embed_query("charity CW+ funding"), 3)
    store.close()


def test_reingest_skips_unchanged_and_replaces_changed(
    tiny_corpus: Path, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    _ingest([tiny_corpus], settings, fake_embedder)
    again = _ingest([tiny_corpus], settings, fake_embedder)
    assert again.documents_unchanged == 2 and again.chunks_embedded == 0 and again.chunks_added == 0

    report = tiny_corpus / "learning-report.md"
    report.write_text(report.read_text().replace("130 responses", "150 responses"), encoding="utf-8")
    changed = _ingest([tiny_corpus], settings, fake_embedder)
    assert changed.documents_updated == 1 and changed.documents_unchanged == 1
    assert changed.chunks_embedded == 1 and changed.chunks_removed == 1
    store = ChunkStore(settings)
    texts = " ".join(chunk.text for chunk in store.chunks())
    assert "150 responses" in texts and "130 responses" not in texts
    assert store.chunk_count() == changed.chunks_total
    store.close()


def test_deleted_files_are_removed(tiny_corpus: Path, settings: Settings, fake_embedder: FakeEmbedder) -> None:
    _ingest([tiny_corpus], settings, fake_embedder)
    (tiny_corpus / "rapid-insight.txt").unlink()
    report = _ingest([tiny_corpus], settings, fake_embedder)
    assert report.documents_removed == 1
    store = ChunkStore(settings)
    assert [doc.doc_id for doc in store.documents()] == ["learning-report"]
    assert store.chunks(Filters(doc_ids=("rapid-insight",))) == []
    store.close()


def test_bad_files_are_reported_and_the_rest_ingests(
    tiny_corpus: Path, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    (tiny_corpus / "empty.txt").write_text("   \n", encoding="utf-8")
    (tiny_corpus / "broken.pdf").write_bytes(b"%PDF-1.7\nthis is not really a pdf")
    (tiny_corpus / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    report = _ingest([tiny_corpus], settings, fake_embedder)
    assert not report.ok
    reasons = {Path(failure.path).name: failure.reason for failure in report.failures}
    assert reasons.keys() == {"empty.txt", "broken.pdf", "sheet.xlsx"}
    assert "empty" in reasons["empty.txt"]
    assert "unsupported" in reasons["sheet.xlsx"]
    assert report.documents_added == 2


def test_interrupted_document_leaves_old_version_and_no_orphans(
    tiny_corpus: Path, settings: Settings, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ingest([tiny_corpus], settings, fake_embedder)
    before = ChunkStore(settings)
    old_texts = sorted(chunk.text for chunk in before.chunks())
    before.close()
    report = tiny_corpus / "learning-report.md"
    report.write_text(report.read_text().replace("130 responses", "170 responses"), encoding="utf-8")

    def crash(self: ChunkStore, chunk: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(ChunkStore, "_insert_chunk", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        _ingest([tiny_corpus], settings, fake_embedder)
    monkeypatch.undo()

    store = ChunkStore(settings)
    assert sorted(chunk.text for chunk in store.chunks()) == old_texts
    assert store.sweep_orphan_vectors() == 1
    store.close()
    recovered = _ingest([tiny_corpus], settings, fake_embedder)
    assert recovered.documents_updated == 1
    store = ChunkStore(settings)
    assert "170 responses" in " ".join(chunk.text for chunk in store.chunks())
    assert store.sweep_orphan_vectors() == 0
    store.close()


def test_metadata_filters_in_both_indexes(tiny_corpus: Path, settings: Settings, fake_embedder: FakeEmbedder) -> None:
    _ingest([tiny_corpus], settings, fake_embedder)
    store = ChunkStore(settings)
    cw = Filters(organisations=("CW+",))
    dense = store.dense_search(fake_embedder.embed_query("innovation funding"), 10, cw)
    lexical = store.lexical_search('"innovation" OR "funding"', 10, cw)
    for ids in ([cid for cid, _ in dense], [cid for cid, _ in lexical]):
        assert ids
        assert all("CW+" in chunk.organisations for chunk in store.get_chunks(ids).values())
    studies = store.chunks(Filters(kinds=("case_study",)))
    assert len(studies) == 2 and all(chunk.kind == "case_study" for chunk in studies)
    assert store.chunks(Filters(domains=("Culture & Capabilities",)))
    store.close()


def test_only_one_ingest_at_a_time(settings: Settings) -> None:
    with _exclusive(settings.data_dir), pytest.raises(IngestBusy), _exclusive(settings.data_dir):
        pass


def test_cli_ingest_json_and_exit_codes(
    tiny_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant import cli
    from ingest import pipeline

    monkeypatch.setattr(pipeline, "load_embedder", lambda settings: FakeEmbedder())
    data = tmp_path / "cli-data"
    assert cli.main(["ingest", str(tiny_corpus), "--data-dir", str(data), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["documents_added"] == 2 and summary["ok"] is True
    (tiny_corpus / "scan.pdf").write_bytes(b"not a pdf at all")
    assert cli.main(["ingest", str(tiny_corpus), "--data-dir", str(data), "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["documents_unchanged"] == 2
    assert [Path(f["path"]).name for f in summary["failures"]] == ["scan.pdf"]


def test_adjacent_chunks_are_the_document_neighbours(
    tiny_corpus: Path, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    _ingest([tiny_corpus], settings, fake_embedder)
    store = ChunkStore(settings)
    document = [chunk for chunk in store.chunks() if chunk.doc_id == store.chunks()[0].doc_id]
    assert len(document) >= 3
    middle = document[1]
    assert [chunk.chunk_id for chunk in store.adjacent_chunks(middle)] == [document[0].chunk_id, document[2].chunk_id]
    assert [chunk.chunk_id for chunk in store.adjacent_chunks(document[0])] == [document[1].chunk_id]
    store.close()


def test_sentence_vectors_are_written_and_removed_with_their_chunks(
    tiny_corpus: Path, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    _ingest([tiny_corpus], settings, fake_embedder)
    store = ChunkStore(settings)
    query = fake_embedder.embed_query("cultural shift funding evidence implementation")
    found = store.sentence_search(query, 1000)
    assert set(found) == {chunk.chunk_id for chunk in store.chunks()}
    assert any(chunk_id.startswith("rapid-insight") for chunk_id in found)
    store.close()

    (tiny_corpus / "rapid-insight.txt").unlink()
    _ingest([tiny_corpus], settings, fake_embedder)
    store = ChunkStore(settings)
    remaining = store.sentence_search(query, 1000)
    assert remaining and set(remaining) == {chunk.chunk_id for chunk in store.chunks()}
    assert not any(chunk_id.startswith("rapid-insight") for chunk_id in remaining)
    store.close()


def test_each_sentence_unit_is_stored_with_its_text_and_vector(
    tiny_corpus: Path, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    from ingest.sentences import indexed_sentences

    _ingest([tiny_corpus], settings, fake_embedder)
    store = ChunkStore(settings)
    chunk = store.chunks()[0]
    units = indexed_sentences(chunk.text)
    stored = store.sentence_vectors([chunk.chunk_id])
    assert set(stored) == set(units)
    for text in units:
        assert np.allclose(stored[text], fake_embedder.embed_query(text), atol=1e-6)
    assert store.sentence_vectors(["no-such-chunk"]) == {}
    store.close()


def test_an_index_built_by_an_older_version_is_rebuilt_not_skipped(
    tiny_corpus: Path, settings: Settings, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest import store as store_module

    _ingest([tiny_corpus], settings, fake_embedder)
    store = ChunkStore(settings)
    report_chunks = store.chunks(Filters(doc_ids=("learning-report",)))
    # An index from before sentence vectors: chunk vectors only.
    store._sentences.delete(where={"doc_id": "learning-report"})
    store.close()

    monkeypatch.setattr(store_module, "INDEX_FORMAT", store_module.INDEX_FORMAT + 1)
    rebuilt = _ingest([tiny_corpus], settings, fake_embedder)
    assert rebuilt.documents_updated == 2 and rebuilt.documents_unchanged == 0
    assert rebuilt.chunks_embedded == len(report_chunks)
    store = ChunkStore(settings)
    found = store.sentence_search(fake_embedder.embed_query("funding"), 1000)
    assert {chunk.chunk_id for chunk in report_chunks} <= set(found)
    store.close()
    assert _ingest([tiny_corpus], settings, fake_embedder).documents_unchanged == 2


def test_a_new_sentence_cut_of_an_unchanged_passage_is_embedded_again(
    tiny_corpus: Path, settings: Settings, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunk ids follow the text, so a version that only cuts sentences differently keeps every chunk id;
    its sentences must still be replaced, or search and quoting would run on the old cut."""
    from ingest import pipeline
    from ingest import store as store_module

    _ingest([tiny_corpus], settings, fake_embedder)
    with closing(ChunkStore(settings)) as store:
        chunk_ids = [chunk.chunk_id for chunk in store.chunks(Filters(doc_ids=("learning-report",)))]
    original = pipeline.indexed_sentences
    monkeypatch.setattr(pipeline, "indexed_sentences", lambda text: [f"Recut: {unit}" for unit in original(text)])
    monkeypatch.setattr(store_module, "INDEX_FORMAT", store_module.INDEX_FORMAT + 1)

    rebuilt = _ingest([tiny_corpus], settings, fake_embedder)

    assert rebuilt.chunks_added == 0 and rebuilt.chunks_embedded >= len(chunk_ids)
    with closing(ChunkStore(settings)) as store:
        texts = set(store.sentence_vectors(chunk_ids))
    assert texts and all(text.startswith("Recut: ") for text in texts)
    assert _ingest([tiny_corpus], settings, fake_embedder).chunks_embedded == 0


def test_printed_page_names_survive_the_index_and_an_older_index_gains_them(
    tmp_path: Path, settings: Settings, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest import store as store_module
    from tests.test_loaders import labelled_pdf

    texts = [
        "Contents\nForeword and summary.",
        "Foreword\nThe programme asked eighteen sites what helps innovation take hold.",
        "Governance and resources\nSmaller sites rely heavily on programme funding to support core activity.",
    ]
    pdf = labelled_pdf(tmp_path / "report.pdf", texts)
    _ingest([pdf], settings, fake_embedder)
    with closing(sqlite3.connect(settings.catalog_db)) as db:  # an index written before printed page names
        db.execute("ALTER TABLE chunks DROP COLUMN page_label")
        db.commit()

    store = ChunkStore(settings)
    assert {chunk.page_label for chunk in store.chunks(Filters())} == {None}, "old rows read, names unknown"
    store.close()
    monkeypatch.setattr(store_module, "INDEX_FORMAT", store_module.INDEX_FORMAT + 1)
    assert _ingest([pdf], settings, fake_embedder).documents_updated == 1
    store = ChunkStore(settings)
    funding = next(chunk for chunk in store.chunks(Filters()) if "programme funding" in chunk.text)
    store.close()
    assert (funding.page, funding.page_label, funding.page_reference) == (3, "1", "p. 1 (PDF p. 3)")


def test_a_slide_deck_is_indexed_slide_by_slide_and_cited_by_slide(
    tmp_path: Path, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    from tests.test_loaders import learning_deck

    deck = learning_deck(tmp_path / "sdec.pptx")
    report = _ingest([deck], settings, fake_embedder)

    assert report.ok and report.documents_added == 1
    with closing(ChunkStore(settings)) as store:
        [document] = store.documents()
        chunks = store.chunks(Filters())
    assert (document.title, document.file_format, document.pages) == ("SDEC learning deck", "pptx", 3)
    where = {chunk.page_reference: (chunk.section, chunk.text) for chunk in chunks}
    assert sorted(where) == ["slide 1", "slide 2", "slide 4"]
    assert where["slide 2"][0] == "Why we changed"
    assert "Staff morale was low" in where["slide 2"][1] and "funded a pilot" in where["slide 2"][1]
    assert where["slide 4"][0] == "Results after six months"
    assert "Median wait | 9 hours | 4 hours" in where["slide 4"][1]
    assert not any("Draft figures" in chunk.text for chunk in chunks), "a hidden slide is not indexed"


def test_prepare_index_rebuilds_what_an_older_version_indexed_and_then_does_nothing(
    tiny_corpus: Path, settings: Settings, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest import pipeline
    from ingest import store as store_module

    monkeypatch.setattr(pipeline, "load_embedder", lambda settings: fake_embedder)
    _ingest([tiny_corpus], settings, fake_embedder)
    assert pipeline.prepare_index(settings) is None

    monkeypatch.setattr(store_module, "INDEX_FORMAT", store_module.INDEX_FORMAT + 1)
    prepared = pipeline.prepare_index(settings)
    assert prepared is not None
    what, report = prepared
    assert "older version or another embedding model: re-indexing 2 document(s)" in what
    assert report.documents_updated == 2 and report.ok
    assert pipeline.prepare_index(settings) is None


def test_switching_the_embedding_model_reindexes_into_its_own_collection_and_words(
    tiny_corpus: Path, settings: Settings, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest import pipeline

    monkeypatch.setattr(pipeline, "load_embedder", lambda settings: fake_embedder)
    _ingest([tiny_corpus], settings, fake_embedder)
    with closing(ChunkStore(settings)) as store:
        words = store.vocabulary_terms()
    assert words
    switched = settings.model_copy(update={"embedding_model": "minilm"})

    with closing(ChunkStore(switched)) as store:
        assert store.vocabulary_terms() == set()  # the other model's word vectors are not reused
        assert len(store.stale_documents()) == 2
        assert store.dense_search(fake_embedder.embed_query("funding"), 5) == []  # a collection of its own
    prepared = pipeline.prepare_index(switched)

    assert prepared is not None and "another embedding model: re-indexing 2 document(s)" in prepared[0]
    with closing(ChunkStore(switched)) as store:
        assert store.dense_search(fake_embedder.embed_query("funding"), 5)
        assert store.vocabulary_terms() == words
    assert pipeline.prepare_index(switched) is None


def test_the_vocabulary_follows_the_indexed_words(
    tiny_corpus: Path, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    _ingest([tiny_corpus], settings, fake_embedder)
    store = ChunkStore(settings)
    terms, vectors = store.vocabulary(fake_embedder.dimension)
    assert {"funding", "cultural"} <= set(terms) and vectors.shape == (len(terms), fake_embedder.dimension)
    assert np.allclose(vectors[terms.index("funding")], fake_embedder.embed_query("funding"))
    assert not any(term.isdigit() or len(term) < 3 for term in terms)
    store.close()

    calls = fake_embedder.calls
    assert _ingest([tiny_corpus], settings, fake_embedder).documents_unchanged == 2
    assert fake_embedder.calls == calls, "an unchanged corpus embeds nothing, words included"

    (tiny_corpus / "rapid-insight.txt").unlink()
    _ingest([tiny_corpus], settings, fake_embedder)
    store = ChunkStore(settings)
    remaining = " ".join(chunk.text.lower() for chunk in store.chunks())
    assert "cultural" not in remaining and "cultural" not in store.vocabulary_terms()
    assert "funding" in store.vocabulary_terms()
    store.close()


def test_removing_a_document_drops_the_words_only_it_used(
    tiny_corpus: Path, settings: Settings, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest import pipeline

    _ingest([tiny_corpus], settings, fake_embedder)
    monkeypatch.setattr(pipeline, "load_embedder", lambda settings: pytest.fail("a removal embeds nothing"))
    assert pipeline.remove_document(settings, "rapid-insight") > 0
    store = ChunkStore(settings)
    assert "cultural" not in store.vocabulary_terms() and "funding" in store.vocabulary_terms()
    store.close()
    assert pipeline.remove_document(settings, "no-such-document") == 0


def test_an_index_without_a_vocabulary_gets_one_before_answering(
    tiny_corpus: Path, settings: Settings, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest import pipeline

    monkeypatch.setattr(pipeline, "load_embedder", lambda settings: fake_embedder)
    _ingest([tiny_corpus], settings, fake_embedder)
    store = ChunkStore(settings)
    store.update_vocabulary({}, store.vocabulary_terms())
    assert not store.has_vocabulary()
    store.close()

    prepared = pipeline.prepare_index(settings)
    assert prepared is not None and "no word vectors yet" in prepared[0]
    assert prepared[1].documents_unchanged == 0 and prepared[1].ok
    store = ChunkStore(settings)
    assert "funding" in store.vocabulary_terms()
    store.close()
    assert pipeline.prepare_index(settings) is None


def test_word_vectors_of_another_model_are_skipped_not_fatal(settings: Settings) -> None:
    store = ChunkStore(settings)
    store.update_vocabulary({"funding": np.ones(4, dtype=np.float32), "charity": np.ones(8, dtype=np.float32)}, ())
    terms, vectors = store.vocabulary(8)
    assert terms == ["charity"] and vectors.shape == (1, 8)
    assert store.vocabulary(16)[1].shape == (0, 16)
    store.close()


def test_a_hyphenated_neighbour_is_a_valid_lexical_query(
    tiny_corpus: Path, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    _ingest([tiny_corpus], settings, fake_embedder)
    store = ChunkStore(settings)
    found = store.lexical_search(fts_expression(["zzz"], related=("cultural-shift",)), 5)
    assert found, "a hyphenated word must not turn the whole query into a syntax error"
    assert all("cultural shift" in chunk.text for chunk in store.get_chunks([cid for cid, _ in found]).values())
    store.close()


def test_vector_search_returns_the_true_nearest_neighbours(settings: Settings) -> None:
    """Chroma's default HNSW search (ef 100) misses about 4% of the 120 nearest of 3,000 vectors and differs
    between processes; retrieval asks for 120 sentences, so the index must search wide enough to be exact."""
    collection = _open_collection(settings, "probe")
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(3000, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    for start in range(0, len(vectors), 500):
        batch = vectors[start : start + 500]
        collection.add(ids=[f"s{start + n}" for n in range(len(batch))], embeddings=batch.tolist())
    missed = 0
    for _ in range(10):
        query = rng.normal(size=64).astype(np.float32)
        query /= np.linalg.norm(query)
        found = set(collection.query(query_embeddings=[query.tolist()], n_results=120)["ids"][0])
        missed += len({f"s{n}" for n in np.argsort(-(vectors @ query))[:120]} - found)
    assert missed == 0


def test_an_index_opened_with_a_narrow_search_is_widened(settings: Settings) -> None:
    narrow = _open_collection(settings, "probe")
    narrow.modify(configuration={"hnsw": {"ef_search": 50}})
    assert _open_collection(settings, "probe").configuration["hnsw"]["ef_search"] == SEARCH_EF


def _stored(settings: Settings) -> dict[str, str]:
    """doc id -> stored path."""
    with closing(ChunkStore(settings)) as store:
        return {doc.doc_id: doc.path for doc in store.documents()}


def test_another_file_whose_name_gives_the_same_id_is_added_alongside(
    tiny_corpus: Path, tmp_path: Path, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    """``Learning_Report.md`` elsewhere maps to the id of ``learning-report.md``; replacing it lost a document."""
    _ingest([tiny_corpus], settings, fake_embedder)
    other = tmp_path / "other" / "Learning_Report.md"
    other.parent.mkdir()
    other.write_text("A different report\n\nVirtual wards cut readmissions by 17 per cent.\n", encoding="utf-8")

    added = _ingest([other], settings, fake_embedder)

    assert (added.documents_added, added.documents_updated) == (1, 0)
    stored = _stored(settings)
    new_id = next(doc_id for doc_id, path in stored.items() if path == str(other.resolve()))
    assert new_id != "learning-report" and new_id.startswith("learning-report")
    assert stored["learning-report"] == str((tiny_corpus / "learning-report.md").resolve())
    with closing(ChunkStore(settings)) as store:
        assert store.chunks(Filters(doc_ids=("learning-report",)))
    again = _ingest([other, tiny_corpus], settings, fake_embedder)
    assert again.documents_unchanged == 3 and again.documents_added == 0, "the same path keeps its id"
    other.write_text("A different report\n\nVirtual wards cut readmissions by 19 per cent.\n", encoding="utf-8")
    changed = _ingest([other], settings, fake_embedder)
    assert (changed.documents_updated, changed.documents_added) == (1, 0)
    assert set(_stored(settings)) == {"learning-report", "rapid-insight", new_id}


def test_a_moved_folder_keeps_its_ids_and_its_deletions_are_noticed(
    tiny_corpus: Path, tmp_path: Path, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    _ingest([tiny_corpus], settings, fake_embedder)
    moved = tiny_corpus.rename(tmp_path / "moved")

    report = _ingest([moved], settings, fake_embedder)

    assert report.documents_unchanged == 2 and report.documents_added == 0 and report.chunks_embedded == 0
    assert _stored(settings) == {
        "learning-report": str((moved / "learning-report.md").resolve()),
        "rapid-insight": str((moved / "rapid-insight.txt").resolve()),
    }
    (moved / "rapid-insight.txt").unlink()
    assert _ingest([moved], settings, fake_embedder).documents_removed == 1


def test_deleted_files_are_removed_when_ingest_runs_from_another_directory(
    tiny_corpus: Path, tmp_path: Path, settings: Settings, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _ingest([Path("corpus")], settings, fake_embedder)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    (tiny_corpus / "rapid-insight.txt").unlink()

    report = _ingest([tiny_corpus], settings, fake_embedder)

    assert report.documents_removed == 1 and list(_stored(settings)) == ["learning-report"]
    assert _stored(settings)["learning-report"] == str((tiny_corpus / "learning-report.md").resolve())


def test_an_index_with_relative_paths_is_read_from_another_directory(
    tiny_corpus: Path, tmp_path: Path, settings: Settings, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older version stored paths relative to the directory ingest ran in; the default data directory is
    in that directory, so the data directory's parent finds them from anywhere."""
    from ingest import pipeline
    from ingest import store as store_module

    monkeypatch.setattr(pipeline, "load_embedder", lambda settings: fake_embedder)
    assert settings.data_dir.parent == tmp_path
    _ingest([tiny_corpus], settings, fake_embedder)
    with closing(sqlite3.connect(settings.catalog_db)) as db:
        db.executemany(
            "UPDATE documents SET path = ? WHERE doc_id = ?",
            [("corpus/learning-report.md", "learning-report"), ("corpus/rapid-insight.txt", "rapid-insight")],
        )
        db.commit()
    assert sorted(_stored(settings).values()) == ["corpus/learning-report.md", "corpus/rapid-insight.txt"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    monkeypatch.setattr(store_module, "INDEX_FORMAT", store_module.INDEX_FORMAT + 1)
    prepared = pipeline.prepare_index(settings)
    assert prepared is not None and "re-indexing 2 document(s)" in prepared[0] and "no longer" not in prepared[0]
    assert prepared[1].documents_updated == 2
    assert all(Path(path).is_absolute() for path in _stored(settings).values())

    with closing(sqlite3.connect(settings.catalog_db)) as db:
        db.execute("UPDATE documents SET path = 'corpus/rapid-insight.txt' WHERE doc_id = 'rapid-insight'")
        db.commit()
    (tiny_corpus / "rapid-insight.txt").unlink()
    assert _ingest([tiny_corpus], settings, fake_embedder).documents_removed == 1


def test_the_same_content_under_another_name_is_skipped_and_named(
    tiny_corpus: Path,
    settings: Settings,
    fake_embedder: FakeEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from assistant import cli
    from ingest import pipeline

    _ingest([tiny_corpus], settings, fake_embedder)
    (tiny_corpus / "copy-of-the-report.md").write_bytes((tiny_corpus / "learning-report.md").read_bytes())

    report = _ingest([tiny_corpus], settings, fake_embedder)

    assert report.ok and report.documents_unchanged == 2 and report.documents_added == 0
    assert report.duplicates_skipped == 1
    assert set(_stored(settings)) == {"learning-report", "rapid-insight"}
    assert [warning for warning in report.warnings if "copy-of-the-report.md" in warning] == [
        "copy-of-the-report.md: the same content as “Tiny learning report” (learning-report, "
        f"{(tiny_corpus / 'learning-report.md').resolve()}), already in the index; not indexed again"
    ]
    monkeypatch.setattr(pipeline, "load_embedder", lambda settings: fake_embedder)
    assert cli.main(["ingest", str(tiny_corpus), "--data-dir", str(settings.data_dir), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["duplicates_skipped"] == 1 and any("“Tiny learning report”" in w for w in summary["warnings"])

    (tiny_corpus / "learning-report.md").unlink()
    moved = _ingest([tiny_corpus], settings, fake_embedder)
    assert (moved.documents_added, moved.documents_removed, moved.duplicates_skipped) == (1, 1, 0)
    assert set(_stored(settings)) == {"copy-of-the-report", "rapid-insight"}


def test_an_unreadable_new_version_says_the_previous_one_is_still_indexed(
    tiny_corpus: Path, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    _ingest([tiny_corpus], settings, fake_embedder)
    (tiny_corpus / "rapid-insight.txt").write_text("   \n", encoding="utf-8")
    (tiny_corpus / "new-and-empty.txt").write_text("   \n", encoding="utf-8")

    report = _ingest([tiny_corpus], settings, fake_embedder)

    reasons = {Path(failure.path).name: failure.reason for failure in report.failures}
    assert reasons["new-and-empty.txt"] == "empty file"
    assert reasons["rapid-insight.txt"].startswith("empty file; the previous version is still in the index")
    assert "rapid-insight" in _stored(settings) and report.documents_removed == 0


def test_a_saved_copy_of_the_old_version_is_indexed_when_the_file_gets_a_new_version(
    tiny_corpus: Path, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    """The copy sorts before the file it was saved from; checked against the index before that file's new
    version was stored, it matched the old version and was skipped, and then the old version was gone."""
    _ingest([tiny_corpus], settings, fake_embedder)
    report = tiny_corpus / "learning-report.md"
    old = report.read_text(encoding="utf-8")
    (tiny_corpus / "learning-report-2023.md").write_text(old, encoding="utf-8")
    report.write_text(old.replace("130 responses", "150 responses"), encoding="utf-8")

    run = _ingest([tiny_corpus], settings, fake_embedder)

    assert (run.documents_added, run.documents_updated, run.duplicates_skipped) == (1, 1, 0)
    assert set(_stored(settings)) == {"learning-report", "learning-report-2023", "rapid-insight"}
    with closing(ChunkStore(settings)) as store:
        texts = {
            doc_id: " ".join(chunk.text for chunk in store.chunks(Filters(doc_ids=(doc_id,))))
            for doc_id in ("learning-report", "learning-report-2023")
        }
    assert "150 responses" in texts["learning-report"] and "130 responses" in texts["learning-report-2023"]


def test_a_named_file_that_is_gone_is_removed_not_kept_as_unreadable(
    tiny_corpus: Path, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    _ingest([tiny_corpus], settings, fake_embedder)
    (tiny_corpus / "rapid-insight.txt").unlink()

    report = _ingest([tiny_corpus / "rapid-insight.txt"], settings, fake_embedder)

    assert [failure.reason for failure in report.failures] == ["file not found"]
    assert report.documents_removed == 1 and set(_stored(settings)) == {"learning-report"}


def test_a_heading_naming_the_asked_word_outranks_a_passing_mention(
    tmp_path: Path, settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    """A section's heading says what every passage under it is about; a passage of another section that
    mentions the word once is not the answer. Each passage under "Apprenticeships" (the word in none of their
    texts) must rank above the passage that mentions apprenticeships in passing."""

    def paragraphs(first: int, count: int) -> str:
        words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma"
        return "\n\n".join(
            f"Paragraph {n} covers {' '.join(f'{word}{n}' for word in words.split())} in detail."
            for n in range(first, first + count)
        )

    report = tmp_path / "report.md"
    report.write_text(
        f"# Test report\n\n## Apprenticeships\n\n{paragraphs(0, 12)}\n\n## Budgets\n\n{paragraphs(20, 10)}\n\n"
        f"## Other matters\n\n{paragraphs(40, 5)}\n\nOne attendee mentioned apprenticeships in passing.\n",
        encoding="utf-8",
    )
    _ingest([report], settings, fake_embedder)
    store = ChunkStore(settings)
    ranked = [cid for cid, _ in store.lexical_search('"apprenticeships"', 10)]
    chunks = store.get_chunks(ranked)
    sections = [chunks[cid].section_path[-1] for cid in ranked]
    store.close()
    assert sections.count("Apprenticeships") >= 2 and sections[-1] == "Other matters", sections
