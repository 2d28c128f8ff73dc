"""Chat backends: the scripted fake in detail, endpoint backends built without any network, and one real
streamed answer from the bundled llama.cpp model (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from assistant import llm
from assistant.config import Settings
from assistant.llm import (
    SCRIPTED_REFUSAL,
    ScriptedChatModel,
    build_chat_model,
    describe_model,
    read_api_key,
)

SOURCES_MESSAGE = (
    "Sources:\n"
    "[1] Sites set up innovation hubs within their trusts. Each hub had a lead.\n"
    "[2] Funding was ring-fenced for two years.\n\n"
    "Question: How did sites organise innovation?"
)


def _text(message: BaseMessage) -> str:
    return message.text


def test_queued_replies_come_back_in_order_and_calls_are_recorded() -> None:
    model = ScriptedChatModel()
    model.enqueue("First answer [1].", "Second answer [2].")

    first = model.invoke([SystemMessage("rules"), HumanMessage("q1")])
    second = model.invoke("q2")

    assert (_text(first), _text(second)) == ("First answer [1].", "Second answer [2].")
    assert [[type(m).__name__ for m in call] for call in model.calls] == [
        ["SystemMessage", "HumanMessage"],
        ["HumanMessage"],
    ]
    assert _text(model.calls[1][0]) == "q2"


def test_stream_yields_word_sized_chunks_that_rebuild_the_reply() -> None:
    model = ScriptedChatModel()
    reply = "Hubs were set up in 18 trusts [1].\nEach had a lead [2]. "
    model.enqueue(reply)

    # LangChain appends one empty chunk marking the end of every stream.
    chunks = [_text(chunk) for chunk in model.stream("q") if _text(chunk)]

    assert "".join(chunks) == reply
    assert chunks[:3] == ["Hubs", " were", " set"]
    assert len(chunks) == len(reply.split())


def test_stream_and_invoke_share_one_queue() -> None:
    model = ScriptedChatModel()
    model.enqueue("streamed", "invoked")

    assert "".join(_text(c) for c in model.stream("a")) == "streamed"
    assert _text(model.invoke("b")) == "invoked"
    assert len(model.calls) == 2


def test_empty_queue_cites_the_first_sentence_of_the_first_source() -> None:
    model = ScriptedChatModel()

    answer = model.invoke([SystemMessage("[9] not a source: system text"), HumanMessage(SOURCES_MESSAGE)])

    assert _text(answer) == "Sites set up innovation hubs within their trusts. [1]"


def test_fallback_reads_only_the_last_human_message() -> None:
    model = ScriptedChatModel()
    history: list[BaseMessage] = [
        HumanMessage(SOURCES_MESSAGE),
        AIMessage("Sites set up hubs. [1]"),
        HumanMessage("And what about patients?"),
    ]

    assert _text(model.invoke(history)) == SCRIPTED_REFUSAL


def test_fallback_refuses_without_sources_also_when_streaming() -> None:
    model = ScriptedChatModel()

    streamed = "".join(_text(c) for c in model.stream("Who won the 1966 World Cup?"))

    assert streamed == SCRIPTED_REFUSAL == "The reports I have do not cover this."


def test_fallback_joins_a_source_passage_that_spans_lines() -> None:
    model = ScriptedChatModel()
    message = "[3]\nGovernance boards met\nmonthly. They reported upward.\n[4] Other."

    assert _text(model.invoke(message)) == "Governance boards met monthly. [3]"


def test_queued_exception_is_raised_for_failure_path_tests() -> None:
    model = ScriptedChatModel()
    model.enqueue(TimeoutError("model timed out"))

    with pytest.raises(TimeoutError, match="timed out"):
        list(model.stream("q"))


def test_fake_backend_builds_a_fresh_scripted_model() -> None:
    first = build_chat_model(Settings(llm_backend="fake"))
    second = build_chat_model(Settings(llm_backend="fake"))

    assert isinstance(first, ScriptedChatModel)
    assert first is not second


def _openai_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "llm_backend": "openai",
        "llm_base_url": "https://example.openai.azure.com/openai/v1",
        "llm_model": "gpt-4o-mini",
        "llm_api_key": "sk-test",
        "llm_timeout_s": 30.0,
        "llm_max_new_tokens": 200,
        "llm_temperature": 0.1,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any HTTP request fails the test: building a client must not contact the endpoint."""
    import httpx

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network request made while building a chat model")

    monkeypatch.setattr(httpx.Client, "send", refuse)
    monkeypatch.setattr(httpx.AsyncClient, "send", refuse)


@pytest.mark.usefixtures("no_network")
def test_openai_backend_passes_the_settings_through() -> None:
    model = build_chat_model(_openai_settings())

    assert isinstance(model, ChatOpenAI)
    assert model.openai_api_base == "https://example.openai.azure.com/openai/v1"
    assert model.model_name == "gpt-4o-mini"
    assert model.openai_api_key is not None
    assert model.openai_api_key.get_secret_value() == "sk-test"  # type: ignore[union-attr]
    assert (model.request_timeout, model.max_tokens, model.temperature) == (30.0, 200, 0.1)
    assert model.extra_body is None
    assert model.streaming is True


@pytest.mark.usefixtures("no_network")
def test_openai_key_comes_from_the_named_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_GATEWAY_KEY", "key-from-env")

    model = build_chat_model(_openai_settings(llm_api_key=None, llm_api_key_env="MY_GATEWAY_KEY"))

    assert isinstance(model, ChatOpenAI)
    assert model.openai_api_key.get_secret_value() == "key-from-env"  # type: ignore[union-attr]


def test_read_api_key_treats_blank_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLANK_KEY", "  ")
    monkeypatch.delenv("ABSENT_KEY", raising=False)

    assert read_api_key("BLANK_KEY") is None
    assert read_api_key("ABSENT_KEY") is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"llm_base_url": None}, "NHS_ASSISTANT_LLM_BASE_URL"),
        ({"llm_model": None}, "NHS_ASSISTANT_LLM_MODEL"),
        ({"llm_api_key": None, "llm_api_key_env": "NHS_TEST_UNSET_KEY"}, "NHS_TEST_UNSET_KEY"),
    ],
)
def test_openai_backend_names_the_missing_setting(
    overrides: dict[str, object], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NHS_TEST_UNSET_KEY", raising=False)

    with pytest.raises(ValueError, match=message):
        build_chat_model(_openai_settings(**overrides))


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        (None, "http://127.0.0.1:11434/v1"),
        ("http://gpu-box:11434/", "http://gpu-box:11434/v1"),
        ("http://gpu-box:11434/v1", "http://gpu-box:11434/v1"),
    ],
)
def test_ollama_backend_uses_the_openai_compatible_route(base_url: str | None, expected: str) -> None:
    model = build_chat_model(Settings(llm_backend="ollama", llm_base_url=base_url, llm_max_new_tokens=350))

    assert isinstance(model, ChatOpenAI)
    assert model.openai_api_base == expected
    assert model.model_name == "qwen2.5:1.5b-instruct"
    assert model.extra_body == {"max_tokens": 350}
    assert model.max_tokens is None


@pytest.mark.parametrize(
    ("settings", "label"),
    [
        (Settings(llm_backend="llamacpp"), "llamacpp:qwen2.5-coder-1.5b-instruct-q4_k_m"),
        (
            Settings(llm_backend="llamacpp", llm_model_path=Path("/m/Phi-3-mini.Q4.gguf")),
            "llamacpp:Phi-3-mini.Q4",
        ),
        (
            Settings(llm_backend="openai", llm_model="gpt-4o-mini", llm_base_url="https://host/"),
            "openai:gpt-4o-mini@https://host",
        ),
        (Settings(llm_backend="openai"), "openai:<unset>@<unset>"),
        (Settings(llm_backend="ollama"), "ollama:qwen2.5:1.5b-instruct@http://127.0.0.1:11434"),
        (Settings(llm_backend="fake"), "fake:scripted"),
    ],
)
def test_describe_model_labels(settings: Settings, label: str) -> None:
    assert describe_model(settings) == label


@pytest.mark.slow
def test_bundled_llamacpp_model_streams_a_short_answer() -> None:
    settings = Settings(llm_backend="llamacpp", llm_max_new_tokens=24)
    model = build_chat_model(settings)

    chunks = [
        _text(chunk)
        for chunk in model.stream(
            [
                SystemMessage("Answer in one short sentence."),
                HumanMessage("What does NHS stand for in the United Kingdom?"),
            ]
        )
    ]

    assert len([c for c in chunks if c]) >= 3
    assert "health" in "".join(chunks).lower()
    assert build_chat_model(settings) is model
    assert llm.describe_model(settings) == "llamacpp:qwen2.5-coder-1.5b-instruct-q4_k_m"


@pytest.mark.slow
def test_bundled_llamacpp_model_reuses_the_system_prompt_between_questions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The KV cache for an unchanged system prompt is what keeps time-to-first-token low on a laptop."""
    model = build_chat_model(Settings(llm_backend="llamacpp", llm_max_new_tokens=4))
    client = model.client  # type: ignore[attr-defined]
    system = SystemMessage(" ".join(f"Rule {n}: cite every source you use by its number." for n in range(25)))
    system_tokens = len(client.tokenize(system.text.encode(), add_bos=False))
    evaluated: list[int] = []
    real_eval = client.eval

    def counting_eval(tokens: list[int]) -> None:
        evaluated.append(len(tokens))
        real_eval(tokens)

    monkeypatch.setattr(client, "eval", counting_eval)

    model.invoke([system, HumanMessage("What is a trust?")])
    first_prompt = evaluated[0]
    evaluated.clear()
    model.invoke([system, HumanMessage("Who runs the hub?")])

    assert first_prompt > system_tokens > 250
    assert evaluated[0] < 20
