"""Chat backends behind one LangChain ``BaseChatModel``, chosen by ``settings.llm_backend``.

The rest of the assistant only streams messages into a ``BaseChatModel``, so swapping the embedded
llama.cpp model for a vLLM, Azure OpenAI or Ollama endpoint is a settings change. ``ScriptedChatModel`` is
the fake the fast tests and the browser tests use; it is a backend like the others, never the default.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain_community.chat_models import ChatLlamaCpp
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_openai import ChatOpenAI
from pydantic import Field, PrivateAttr, SecretStr

from assistant.config import Settings
from assistant.model_files import QWEN25_CODER_1_5B_Q4_K_M, resolve_model_path

SCRIPTED_REFUSAL = "The reports I have do not cover this."
DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"
DEFAULT_OLLAMA_MODEL = "qwen2.5:1.5b-instruct"

# Prompt tokens llama.cpp evaluates per step. Measured on 2 cores with a 900-token RAG prompt: ChatLlamaCpp's
# default of 8 runs at ~40 tokens/s, 128, 256 and 512 all at 65-72 on a quiet machine; 512 held up best when
# other processes competed for the cores (median 37 tokens/s against 18), as it synchronises threads least.
LLAMACPP_BATCH_TOKENS = 512

_SOURCE_MARKER = re.compile(r"^(?:Source )?\[(\d+)\]", re.MULTILINE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD_CHUNK = re.compile(r"\s*\S+(?:\s+$)?")


def build_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model for ``settings.llm_backend``; raises ValueError when its configuration is incomplete.

    Building the llamacpp backend loads the GGUF (seconds, and assembles the bundled file on first use);
    the same settings return the same loaded instance, so the KV cache of the fixed system prompt survives
    between callers in one process.
    """
    backend = settings.llm_backend
    if backend == "llamacpp":
        return _llamacpp_chat_model(settings)
    if backend == "openai":
        return _openai_chat_model(settings)
    if backend == "ollama":
        return _ollama_chat_model(settings)
    if backend == "fake":
        return ScriptedChatModel()
    raise ValueError(f"Unknown llm_backend {backend!r}; expected llamacpp, openai, ollama or fake.")


def describe_model(settings: Settings) -> str:
    """The label recorded with every answer and eval result, so a quality change can be traced to a model.

    Never loads or contacts anything, and never raises: a misconfigured endpoint reads as ``<unset>``.
    """
    backend = settings.llm_backend
    if backend == "llamacpp":
        if settings.llm_model_path is not None:
            return f"llamacpp:{settings.llm_model_path.name.removesuffix('.gguf')}"
        return f"llamacpp:{QWEN25_CODER_1_5B_Q4_K_M.label}"
    if backend == "openai":
        model = settings.llm_model or "<unset>"
        base_url = settings.llm_base_url.rstrip("/") if settings.llm_base_url else "<unset>"
        return f"openai:{model}@{base_url}"
    if backend == "ollama":
        return f"ollama:{settings.llm_model or DEFAULT_OLLAMA_MODEL}@{_ollama_root(settings)}"
    return "fake:scripted"


def read_api_key(env_var: str) -> str | None:
    """The value of the environment variable named ``env_var``, or None when unset or blank.

    This is the one environment read outside ``assistant.config``: settings hold only the *name* of the
    variable, so the secret itself stays out of settings dumps, logs and ``.env`` files checked in by mistake.
    """
    value = os.environ.get(env_var, "").strip()
    return value or None


class ScriptedChatModel(BaseChatModel):
    """A deterministic chat model: queued replies first, then a cited echo of the first source.

    ``enqueue`` replies (an exception is raised instead of answered, for testing failure paths); every
    call's messages are kept in ``calls``. With the queue empty it answers from the last human message: the
    first sentence of the first ``[n]`` source followed by `` [n]``, or :data:`SCRIPTED_REFUSAL` when the
    message has no sources, which is what a well-behaved model does on an easy question. Streaming yields
    word-sized chunks whose concatenation is exactly the reply.
    """

    replies: list[str | BaseException] = Field(default_factory=list)
    calls: list[list[BaseMessage]] = Field(default_factory=list)

    def enqueue(self, *replies: str | BaseException) -> None:
        self.replies.extend(replies)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = _cut_at_stop(self._next_reply(messages), stop)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        reply = _cut_at_stop(self._next_reply(messages), stop)
        for piece in _WORD_CHUNK.findall(reply) or [reply]:
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager is not None:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk

    def _next_reply(self, messages: Sequence[BaseMessage]) -> str:
        self.calls.append(list(messages))
        if not self.replies:
            return answer_from_first_source(messages)
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return reply


def answer_from_first_source(messages: Sequence[BaseMessage]) -> str:
    """The scripted fallback: first sentence of the first ``[n]`` source in the last human message, cited."""
    human = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
    if human is None:
        return SCRIPTED_REFUSAL
    text = human.text
    markers = list(_SOURCE_MARKER.finditer(text))
    if not markers:
        return SCRIPTED_REFUSAL
    first = markers[0]
    end = markers[1].start() if len(markers) > 1 else len(text)
    passage = " ".join(text[first.end() : end].split())
    if not passage:
        return SCRIPTED_REFUSAL
    sentence = _SENTENCE_END.split(passage, maxsplit=1)[0]
    return f"{sentence} [{first.group(1)}]"


class _SerialChatLlamaCpp(ChatLlamaCpp):
    """ChatLlamaCpp that lets one call at a time use its ``Llama``.

    A ``Llama`` holds one KV cache and is not thread-safe; the instance is shared (see ``build_chat_model``)
    and the app may serve requests from several threads. The lock is a plain ``Lock``, not an ``RLock``,
    because Gradio may resume one streaming generator on different worker threads. It is held until a
    stream is exhausted or closed, so an abandoned stream must be closed (``for`` loops and Gradio do this).
    Every call streams, which is also how ChatLlamaCpp answers ``invoke`` when ``streaming`` is set.
    """

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop=stop, run_manager=run_manager, **kwargs))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with self._lock:
            yield from super()._stream(messages, stop=stop, run_manager=run_manager, **kwargs)


def _cut_at_stop(reply: str, stop: Sequence[str] | None) -> str:
    """The reply up to its first stop sequence, as a real model or endpoint would end it."""
    for sequence in stop or ():
        reply = reply.split(sequence, 1)[0]
    return reply


_LLAMACPP_MODELS: dict[tuple[object, ...], _SerialChatLlamaCpp] = {}
_LLAMACPP_MODELS_LOCK = threading.Lock()


def _llamacpp_chat_model(settings: Settings) -> _SerialChatLlamaCpp:
    """One loaded model per (file, parameters) per process.

    llama.cpp reuses the KV cache for the prompt prefix it evaluated last (the system prompt), which cuts
    time-to-first-token several-fold; that only works if every question goes to the same ``Llama``, and a
    second load would also cost seconds and another KV cache's worth of memory.
    """
    model_path = resolve_model_path(settings)
    key: tuple[object, ...] = (
        model_path.resolve(),
        settings.llm_context_tokens,
        settings.llm_threads,
        settings.llm_max_new_tokens,
        settings.llm_temperature,
    )
    with _LLAMACPP_MODELS_LOCK:
        if key not in _LLAMACPP_MODELS:
            _LLAMACPP_MODELS[key] = _load_llamacpp(model_path, settings)
        return _LLAMACPP_MODELS[key]


def _load_llamacpp(model_path: Path, settings: Settings) -> _SerialChatLlamaCpp:
    return _SerialChatLlamaCpp(
        model_path=str(model_path),
        n_ctx=settings.llm_context_tokens,
        n_threads=settings.llm_threads,
        n_batch=LLAMACPP_BATCH_TOKENS,
        max_tokens=settings.llm_max_new_tokens,
        temperature=settings.llm_temperature,
        streaming=True,
        verbose=False,
        # Prompt evaluation otherwise uses every core the OS reports, ignoring llm_threads.
        model_kwargs={"n_threads_batch": settings.llm_threads},
    )


def _openai_chat_model(settings: Settings) -> ChatOpenAI:
    """Any OpenAI-compatible endpoint: OpenAI, vLLM, or Azure OpenAI's ``/openai/v1`` route."""
    if not settings.llm_base_url or not settings.llm_model:
        missing = [
            name
            for name, value in (
                ("NHS_ASSISTANT_LLM_BASE_URL", settings.llm_base_url),
                ("NHS_ASSISTANT_LLM_MODEL", settings.llm_model),
            )
            if not value
        ]
        raise ValueError(f"The openai backend needs {' and '.join(missing)} to be set.")
    api_key = settings.llm_api_key or _secret(read_api_key(settings.llm_api_key_env))
    if api_key is None:
        raise ValueError(
            "The openai backend needs an API key: set NHS_ASSISTANT_LLM_API_KEY or "
            f"{settings.llm_api_key_env} (a server without authentication, such as a local vLLM, accepts any "
            "value)."
        )
    return ChatOpenAI(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        api_key=api_key,
        timeout=settings.llm_timeout_s,
        temperature=settings.llm_temperature,
        max_completion_tokens=settings.llm_max_new_tokens,
        streaming=True,
    )


def _ollama_chat_model(settings: Settings) -> ChatOpenAI:
    """Ollama through its OpenAI-compatible ``/v1`` API, so no extra client package is needed.

    The answer limit goes in the request body as ``max_tokens`` because ChatOpenAI only sends
    ``max_completion_tokens``, which Ollama ignores. Ollama's context length is set on the server
    (``OLLAMA_CONTEXT_LENGTH``), not per request here; a prompt longer than it is silently truncated.
    """
    return ChatOpenAI(
        base_url=f"{_ollama_root(settings)}/v1",
        model=settings.llm_model or DEFAULT_OLLAMA_MODEL,
        api_key=SecretStr("ollama"),
        timeout=settings.llm_timeout_s,
        temperature=settings.llm_temperature,
        extra_body={"max_tokens": settings.llm_max_new_tokens},
        streaming=True,
    )


def _ollama_root(settings: Settings) -> str:
    """The server root, accepting a configured URL with or without the ``/v1`` suffix."""
    root = (settings.llm_base_url or DEFAULT_OLLAMA_URL).rstrip("/")
    return root.removesuffix("/v1")


def _secret(value: str | None) -> SecretStr | None:
    return SecretStr(value) if value is not None else None
