"""The naive baseline: LangChain's textbook RAG pipeline on the same corpus, for the product to beat.

Exactly what a tutorial builds, and nothing more: load each corpus file, split it with
``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)``, embed the chunks with the same
bundled MiniLM through ``HuggingFaceEmbeddings`` into a throwaway ``Chroma`` collection, take the dense top 4,
and ask the same chat model to "answer the question using the context". No hybrid search, query planning,
filters, conversation history, refusal or citation checking. It exposes the ``Assistant`` surface the runner
uses, so both are scored by identical code and any difference in the numbers is the product's doing.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType

from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langchain_huggingface import HuggingFaceEmbeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.config import PROMPTS_DIR, Settings
from assistant.llm import describe_model
from assistant.prompts import load_prompt
from assistant.records import (
    Answer,
    AnswerDone,
    AnswerEvent,
    AnswerToken,
    Chunk,
    DocumentInfo,
    Filters,
    RetrievedChunk,
    Source,
    SourcesReady,
    Timings,
    Turn,
)
from ingest.embedding import model_folder
from ingest.loaders import discover_files, load_document, read_corpus_metadata

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
TOP_K = 4
# The one-shot prompt of the LangChain RAG tutorial, kept with the other prompts and versioned like them.
BASELINE_PROMPT = load_prompt(PROMPTS_DIR, "baseline_answer")
COLLECTION = "naive_baseline"


class NaiveBaseline:
    """Textbook LangChain RAG behind the ``Assistant`` surface (``retrieve``/``stream``/``ask``).

    Building it indexes the corpus (seconds); ``index_seconds`` and ``chunk_count`` record that for the
    benchmark. ``chat_model`` may be None for retrieval-only use. Close it (or use ``with``) to delete the
    temporary index.
    """

    def __init__(
        self,
        settings: Settings,
        chat_model: BaseChatModel | None = None,
        corpus_paths: Sequence[Path] | None = None,
    ) -> None:
        self._settings = settings
        self._chat_model = chat_model
        self._folder = tempfile.TemporaryDirectory(prefix="nhs-baseline-", ignore_cleanup_errors=True)
        started = time.perf_counter()
        documents = load_corpus_documents(corpus_paths or [settings.corpus_dir])
        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
        chunks = splitter.split_documents(documents)
        for position, chunk in enumerate(chunks):
            chunk.metadata["chunk_id"] = f"baseline-{position}"
            chunk.metadata["position"] = position
        self._store = Chroma(
            collection_name=COLLECTION,
            embedding_function=HuggingFaceEmbeddings(
                # The product's own model (never a download): the comparison is of pipelines, not embedders.
                model_name=str(model_folder(settings)[0]),
                model_kwargs={"device": "cpu"},
            ),
            persist_directory=self._folder.name,
            collection_metadata={"hnsw:space": "cosine"},
        )
        if chunks:
            self._store.add_documents(chunks, ids=[str(chunk.metadata["chunk_id"]) for chunk in chunks])
        self.chunk_count = len(chunks)
        self.index_seconds = time.perf_counter() - started

    # ---- the Assistant surface ----------------------------------------------------------------------

    @property
    def model_label(self) -> str:
        if self._chat_model is None:
            return "none (retrieval only)"
        return describe_model(self._settings)

    @property
    def prompt_version(self) -> str:
        return f"{BASELINE_PROMPT.label}#{hashlib.sha256(BASELINE_PROMPT.text.encode()).hexdigest()[:8]}"

    def retrieve(
        self,
        question: str,
        history: Sequence[Turn] = (),
        filters: Filters | None = None,
        k: int | None = None,
    ) -> list[RetrievedChunk]:
        """Dense top-``k`` (default 4) by cosine similarity; ``history`` and ``filters`` are ignored, as in
        the tutorial."""
        found = self._store.similarity_search_with_relevance_scores(question, k=k or TOP_K)
        return [
            RetrievedChunk(chunk=_chunk_from_document(document), score=score, dense_similarity=score, dense_rank=rank)
            for rank, (document, score) in enumerate(found, start=1)
        ]

    def stream(
        self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None
    ) -> Iterator[AnswerEvent]:
        """SourcesReady with the top 4, the model's tokens, then one AnswerDone. Never refuses."""
        started = time.perf_counter()
        retrieved = self.retrieve(question, k=TOP_K)
        sources = tuple(
            Source(number=number, chunk=item.chunk, passage=item.chunk.text, similarity=item.score)
            for number, item in enumerate(retrieved, start=1)
        )
        sources_s = time.perf_counter() - started
        yield SourcesReady(sources=sources)
        model = self._require_chat_model()
        context = "\n\n".join(source.passage for source in sources)
        prompt = BASELINE_PROMPT.render(context=context, question=question)
        pieces: list[str] = []
        first_token_s: float | None = None
        for message in model.stream([HumanMessage(content=prompt)]):
            piece = message.text
            if not piece:
                continue
            if first_token_s is None:
                first_token_s = time.perf_counter() - started
            pieces.append(piece)
            yield AnswerToken(text=piece)
        yield AnswerDone(
            answer=Answer(
                question=question,
                text="".join(pieces).strip(),
                sources=sources,
                citations=(),
                refused=False,
                refusal_reason=None,
                timings=Timings(
                    sources_s=sources_s, first_token_s=first_token_s, total_s=time.perf_counter() - started
                ),
                prompt_version=self.prompt_version,
                model=self.model_label,
            )
        )

    def ask(self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None) -> Answer:
        """``stream`` drained to its final Answer."""
        for event in self.stream(question, history, filters):
            if isinstance(event, AnswerDone):
                return event.answer
        raise RuntimeError("the baseline stream ended without an answer")

    def use_chat_model(self, chat_model: BaseChatModel) -> None:
        """Answer with ``chat_model`` from now on (the benchmark indexes before it loads the model)."""
        self._chat_model = chat_model

    # ---- lifetime -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Delete the temporary index."""
        self._folder.cleanup()

    def __enter__(self) -> NaiveBaseline:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def _require_chat_model(self) -> BaseChatModel:
        if self._chat_model is None:
            raise RuntimeError("this baseline was built without a chat model (retrieval only)")
        return self._chat_model


def load_corpus_documents(paths: Sequence[Path]) -> list[Document]:
    """One LangChain Document per page (per file for formats without pages), read with the product's
    loaders so both pipelines see the same text; titles come from each folder's ``metadata.json``."""
    files, _unreadable = discover_files(paths)
    catalogues: dict[Path, dict[str, DocumentInfo]] = {}
    documents: list[Document] = []
    for path in files:
        folder = path.parent
        if folder not in catalogues:
            catalogues[folder] = read_corpus_metadata(folder)
        loaded = load_document(path, catalogues[folder].get(path.name))
        for page in loaded.pages:
            if page.text.strip():
                documents.append(
                    Document(
                        page_content=page.text,
                        metadata={
                            "doc_id": loaded.doc_id,
                            "doc_title": loaded.info.title,
                            "page": page.number if page.number is not None else -1,
                            "source": str(path),
                        },
                    )
                )
    return documents


def _chunk_from_document(document: Document) -> Chunk:
    metadata = document.metadata
    page = metadata.get("page")
    return Chunk(
        chunk_id=str(metadata.get("chunk_id", "")),
        doc_id=str(metadata.get("doc_id", "")),
        doc_title=str(metadata.get("doc_title", "")),
        text=document.page_content,
        embed_text=document.page_content,
        section_path=(),
        page=page if isinstance(page, int) and page > 0 else None,
        kind="text",
        organisations=(),
        position=int(metadata.get("position", 0)),
    )
