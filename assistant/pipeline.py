"""The public face of the product: the ``Assistant`` the CLI, the app and the evals all call.

(Interface first; bodies are being filled in.)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from langchain_core.language_models import BaseChatModel

from assistant.config import Settings
from assistant.records import Answer, AnswerEvent, CaseStudy, ChunkKind, Filters, RetrievedChunk, Turn


class Assistant:
    """Holds the loaded embedder, index and chat model; cheap to call, expensive to build (build once)."""

    def __init__(self, settings: Settings, chat_model: BaseChatModel | None = None) -> None:
        """``chat_model`` overrides the configured backend (tests pass a fake); it is built lazily otherwise."""
        raise NotImplementedError

    def retrieve(
        self,
        question: str,
        history: Sequence[Turn] = (),
        filters: Filters = Filters(),
        k: int | None = None,
    ) -> list[RetrievedChunk]:
        """Hybrid retrieval, best first; ``k`` defaults to ``settings.sources_in_context``."""
        raise NotImplementedError

    def stream(
        self, question: str, history: Sequence[Turn] = (), filters: Filters = Filters()
    ) -> Iterator[AnswerEvent]:
        """Yields SourcesReady, then AnswerToken per token, then exactly one AnswerDone."""
        raise NotImplementedError

    def ask(self, question: str, history: Sequence[Turn] = (), filters: Filters = Filters()) -> Answer:
        """``stream`` drained to its final Answer."""
        raise NotImplementedError

    def case_studies(
        self,
        topic: str = "",
        organisation: str | None = None,
        domain: str | None = None,
        kind: ChunkKind | None = None,
        limit: int = 20,
    ) -> list[CaseStudy]:
        """Case studies and best-practice examples for the finder; ranked by ``topic`` when given."""
        raise NotImplementedError

    @property
    def model_label(self) -> str:
        raise NotImplementedError

    @property
    def prompt_version(self) -> str:
        raise NotImplementedError
