"""The "Ask the reports" tab: the conversation, its filters, rating and export, and the streamed answer.

The case-study tab starts scoped chats through :class:`ChatControls`, so the ways of asking share one set of
event steps and New chat can cancel all of them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import gradio as gr

from assistant.feedback import Rating, feedback_from_answer
from assistant.records import CHUNK_KINDS, AnswerDone, AnswerToken, ChunkKind, Filters, SourcesReady, conversation
from assistant.ui_format import (
    KIND_LABELS,
    Exchange,
    answer_markdown,
    conversation_markdown,
    filters_summary,
    question_problem,
    sources_html,
    sources_title,
)
from ui.context import AppContext, new_id

# The app's logger name from before the views were split out of app.py, so log lines read the same.
log = logging.getLogger("nhs_assistant.app")

EXAMPLE_QUESTIONS = (
    "How can a small trust fund its innovation function?",
    "Which trusts run innovation fellowships?",
    "What challenges did the Innovation Ecosystem rapid insight event identify?",
    "How do sites involve patients and the public in innovation?",
)
STORED_NOTICE = (
    "**What is stored when you rate an answer:** your question, the answer, its sources, the model and "
    "prompt version, the time, your thumbs-up or thumbs-down and any comment you add. Nothing that "
    "identifies you (no name, login or address) is stored. Questions you do not rate are not kept after "
    "you close the page."
)


def _filters(
    documents: Sequence[str], organisations: Sequence[str], kinds: Sequence[str], domains: Sequence[str]
) -> Filters:
    known_kinds: set[str] = set(CHUNK_KINDS)
    return Filters(
        doc_ids=tuple(documents or ()),
        organisations=tuple(organisations or ()),
        kinds=tuple(cast(ChunkKind, kind) for kind in kinds or () if kind in known_kinds),
        domains=tuple(domains or ()),
    )


def status_html(text: str, problem: bool = False) -> str:
    """The chat's status line, read out by screen readers when it changes; ``problem`` marks a failure."""
    css_class = "problem" if problem else ""
    return f'<div role="status" aria-live="polite" class="{css_class}">{text}</div>'


def _answer_message(content: str) -> dict[str, Any]:
    return {"role": "assistant", "content": content}


def _sources_message(sources: Sequence[Any], citations: Sequence[Any] = (), pending: bool = False) -> dict[str, Any]:
    metadata: dict[str, str] = {"title": sources_title(sources, citations)}
    if pending:
        metadata["status"] = "pending"
    return {"role": "assistant", "content": sources_html(sources, citations), "metadata": metadata}


def _exchange_for_message(
    messages: Sequence[dict[str, Any]], index: int, exchanges: Sequence[Exchange]
) -> Exchange | None:
    """The exchange a chat message belongs to: the n-th user message starts the n-th exchange."""
    questions = sum(1 for message in messages[: index + 1] if message.get("role") == "user")
    if questions == 0 or questions > len(exchanges):
        return None
    return exchanges[questions - 1]


def _write_export(ctx: AppContext, exchanges: Sequence[Exchange]) -> str:
    """Write the conversation to a fresh temporary file; the browser downloads it through Gradio's cache."""
    folder = ctx.export_dir / new_id()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    path = folder / f"nhs-assistant-conversation-{stamp}.md"
    path.write_text(conversation_markdown(exchanges), encoding="utf-8")
    return str(path)


@dataclass
class ChatControls:
    """The chat components the case-study tab drives when it starts a scoped chat."""

    question: gr.Textbox
    chatbot: gr.Chatbot
    exchanges: gr.State
    pending: gr.State
    status: gr.HTML
    export: gr.DownloadButton
    filter_box: gr.Accordion
    documents: gr.Dropdown
    organisations: gr.Dropdown
    kinds: gr.Dropdown
    domains: gr.Dropdown
    feedback_box: gr.Group
    send: gr.Button
    new_chat: gr.Button
    answer_events: list[Any] = field(default_factory=list)

    @property
    def filter_inputs(self) -> list[gr.Dropdown]:
        return [self.documents, self.organisations, self.kinds, self.domains]

    def accept_step(self, ctx: AppContext) -> dict[str, Any]:
        """Event keywords for showing the question at once (or saying why it was not sent)."""
        return {
            "fn": _accept_question(ctx),
            "inputs": [self.question, self.chatbot],
            "outputs": [self.question, self.chatbot, self.pending, self.status, self.send],
            "queue": False,
            "show_progress": "hidden",
            "api_visibility": "private",
        }

    def answer_step(self, ctx: AppContext) -> dict[str, Any]:
        """Event keywords for the queued, streamed answer; shares one concurrency slot with eval runs."""
        return {
            "fn": _answer_question(ctx),
            "inputs": [self.pending, self.chatbot, self.exchanges, *self.filter_inputs],
            "outputs": [
                self.chatbot,
                self.exchanges,
                self.pending,
                self.status,
                self.export,
                self.question,
                self.send,
            ],
            "concurrency_limit": ctx.settings.concurrency_limit,
            "concurrency_id": "model",
            "show_progress": "full",
            "show_progress_on": [self.chatbot],
            "api_visibility": "private",
        }

    def ask_after(self, dependency: Any, ctx: AppContext) -> None:
        """Send whatever ``dependency`` put in the question box, as if the user pressed Ask."""
        self.answer_events.append(dependency.then(**self.accept_step(ctx)).then(**self.answer_step(ctx)))

    def ask_on(self, trigger: Any, ctx: AppContext) -> None:
        """Send the question box's text when ``trigger`` (e.g. ``question.submit``) fires."""
        self.answer_events.append(trigger(**self.accept_step(ctx)).then(**self.answer_step(ctx)))

    def wire_new_chat(self) -> None:
        """New chat (and the chatbot's own clear button) stops an answer in progress and forgets the
        conversation; wired last so that it can cancel every way of asking, including the case-study tab's."""

        def start_new_chat() -> tuple[Any, ...]:
            return (
                [],
                [],
                None,
                status_html("New chat started."),
                gr.DownloadButton(visible=False, value=None),
                gr.Group(visible=False),
                gr.Textbox(value="", interactive=True),
                gr.Button(interactive=True),
            )

        outputs = [
            self.chatbot,
            self.exchanges,
            self.pending,
            self.status,
            self.export,
            self.feedback_box,
            self.question,
            self.send,
        ]
        for trigger in (self.new_chat.click, self.chatbot.clear):
            trigger(
                start_new_chat,
                outputs=outputs,
                cancels=self.answer_events,
                queue=False,
                api_visibility="private",
            )


def chat_tab(ctx: AppContext) -> ChatControls:
    settings = ctx.settings
    chatbot = gr.Chatbot(
        label="Conversation",
        height=520,
        buttons=["copy", "copy_all"],
        feedback_options=("Like", "Dislike"),
        examples=[{"text": question} for question in EXAMPLE_QUESTIONS],
        placeholder="**Ask a question about the NHS innovation learning reports.** "
        "Every answer cites numbered passages you can open and check. Try one of these:",
        elem_id="chatbot",
        autoscroll=True,
    )
    status = gr.HTML(status_html(""), elem_id="chat-status")
    with gr.Row(equal_height=True):
        question = gr.Textbox(
            label="Your question",
            placeholder="e.g. How do sites evaluate innovations? (Enter to send, Shift+Enter for a new line)",
            lines=1,
            max_lines=6,
            scale=5,
            elem_id="question",
            info=f"Up to {settings.max_question_chars} characters. Follow-up questions keep the context.",
        )
        with gr.Column(scale=1, min_width=160):
            send = gr.Button("Ask", variant="primary", elem_id="ask-button")
            new_chat = gr.Button("New chat", variant="secondary", elem_id="new-chat")
            export = gr.DownloadButton(
                "Export as Markdown", visible=False, variant="secondary", elem_id="export-button", size="md"
            )
    with gr.Accordion("Filters: only search some reports, organisations or passage types", open=False) as box:
        with gr.Row():
            documents = gr.Dropdown(label="Documents", multiselect=True, choices=[], elem_id="filter-documents")
            organisations = gr.Dropdown(
                label="Organisations",
                multiselect=True,
                choices=[],
                allow_custom_value=True,
                elem_id="filter-organisations",
            )
        with gr.Row():
            kinds = gr.Dropdown(
                label="Passage type",
                multiselect=True,
                choices=[(KIND_LABELS[kind], kind) for kind in CHUNK_KINDS],
                elem_id="filter-kinds",
            )
            domains = gr.Dropdown(label="Report domain", multiselect=True, choices=[], elem_id="filter-domains")
        clear_filters = gr.Button("Clear filters", size="sm")
    with gr.Group(visible=False) as feedback_box:
        feedback_note = gr.Markdown(elem_id="feedback-note")
        comment = gr.Textbox(label="Comment (optional)", lines=2, elem_id="feedback-comment")
        save_comment = gr.Button("Save comment", size="sm", elem_id="save-comment")
    gr.Markdown(STORED_NOTICE, elem_classes="small-print", elem_id="stored-notice")

    exchanges = gr.State([])
    pending = gr.State(None)
    feedback_target = gr.State(None)
    controls = ChatControls(
        question=question,
        chatbot=chatbot,
        exchanges=exchanges,
        pending=pending,
        status=status,
        export=export,
        filter_box=box,
        documents=documents,
        organisations=organisations,
        kinds=kinds,
        domains=domains,
        feedback_box=feedback_box,
        send=send,
        new_chat=new_chat,
    )
    controls.ask_on(question.submit, ctx)
    controls.ask_on(send.click, ctx)

    def pick_example(selection: gr.SelectData) -> str:
        value = selection.value
        return str(value.get("text", "")) if isinstance(value, dict) else str(value)

    controls.ask_after(
        chatbot.example_select(pick_example, outputs=question, queue=False, api_visibility="private"), ctx
    )

    clear_filters.click(lambda: ([], [], [], []), outputs=controls.filter_inputs, queue=False, api_visibility="private")

    def on_rate(selection: gr.LikeData, messages: list[dict[str, Any]], history: list[Exchange]) -> tuple[Any, ...]:
        index = selection.index if isinstance(selection.index, int) else selection.index[0]
        exchange = _exchange_for_message(messages, index, history)
        if exchange is None:
            return None, gr.Group(visible=False), "", ""
        if selection.liked is True or selection.liked == "Like":
            rating: Rating = "up"
        elif selection.liked is False or selection.liked == "Dislike":
            rating = "down"
        else:
            # Clicking the same thumb again takes the rating back, so the stored row goes too.
            ctx.feedback.remove(exchange.answer_id)
            return None, gr.Group(visible=False), "", ""
        previous = ctx.feedback.get(exchange.answer_id)
        comment_text = previous.comment if previous is not None else ""
        ctx.feedback.record(feedback_from_answer(exchange.answer_id, exchange.answer, rating, comment_text))
        number = history.index(exchange) + 1
        verdict = "helpful (thumbs up)" if rating == "up" else "not helpful (thumbs down)"
        note = (
            f"Thank you: answer {number} is rated **{verdict}** and stored. "
            "Add a comment to say what was good or wrong (optional)."
        )
        return (exchange.answer_id, rating), gr.Group(visible=True), note, comment_text

    chatbot.like(
        on_rate,
        inputs=[chatbot, exchanges],
        outputs=[feedback_target, feedback_box, feedback_note, comment],
        queue=False,
        api_visibility="private",
    )

    def on_comment(target: tuple[str, Rating] | None, text: str, history: list[Exchange]) -> str:
        if target is None:
            return "Rate an answer with the thumbs-up or thumbs-down button first."
        answer_id, rating = target
        exchange = next((item for item in history if item.answer_id == answer_id), None)
        if exchange is None:
            return "That answer is no longer in this chat."
        ctx.feedback.record(feedback_from_answer(answer_id, exchange.answer, rating, text))
        return "Comment saved with your rating. Thank you."

    save_comment.click(
        on_comment,
        inputs=[feedback_target, comment, exchanges],
        outputs=feedback_note,
        queue=False,
        api_visibility="private",
    )
    return controls


def _accept_question(ctx: AppContext) -> Any:
    """Show the user's message at once (or say why it was not sent); the answer is a separate queued step
    so that a second user sees their message and their place in the queue rather than a frozen page."""

    def accept(text: str, messages: list[dict[str, Any]]) -> tuple[Any, ...]:
        problem = question_problem(text, ctx.settings.max_question_chars)
        if problem is not None:
            return text, messages, None, status_html(problem, problem=True), gr.skip()
        question = text.strip()
        messages = [
            *messages,
            {"role": "user", "content": question},
            _answer_message(
                "Waiting for the model… If someone else's question is being answered, your place in the "
                "queue is shown at the bottom right of the conversation."
            ),
        ]
        waiting = status_html("Waiting for the model (queued behind any earlier questions)…")
        # Asking again is switched off until this answer ends, so two answers never race in one chat.
        return (
            gr.Textbox(value="", interactive=False),
            messages,
            question,
            waiting,
            gr.Button(interactive=False),
        )

    return accept


def _chat_update(
    messages: Any = None,
    history: Any = None,
    pending: Any = None,
    status: Any = None,
    export: Any = None,
    finished: bool = False,
) -> tuple[Any, ...]:
    """Outputs of the answer step in :meth:`ChatControls.answer_step` order; None leaves a part unchanged.

    ``finished`` clears the pending question and switches asking back on, which every way out of an answer
    (done, failed, or nothing to answer) must do or the chat stays locked.
    """

    def keep(value: Any) -> Any:
        return gr.skip() if value is None else value

    if finished:
        return (
            keep(messages),
            keep(history),
            None,
            keep(status),
            keep(export),
            gr.Textbox(interactive=True),
            gr.Button(interactive=True),
        )
    return keep(messages), keep(history), keep(pending), keep(status), keep(export), gr.skip(), gr.skip()


def _answer_question(ctx: AppContext) -> Any:
    def answer(
        question: str | None,
        messages: list[dict[str, Any]],
        history: list[Exchange],
        documents: list[str],
        organisations: list[str],
        kinds: list[str],
        domains: list[str],
    ) -> Iterator[tuple[Any, ...]]:
        """Stream one answer: a searching note, then the sources as soon as they are found, then the
        answer token by token (at most ~12 screen updates a second), then the checked, flagged answer."""
        if not question:
            yield _chat_update(finished=True)
            return
        filters = _filters(documents, organisations, kinds, domains)
        base = messages[:-1]
        scope = "" if filters.is_empty() else f" (filters: {filters_summary(filters)})"
        searching = [*base, _answer_message("Searching the reports…")]
        yield _chat_update(searching, status=status_html(f"Searching the reports{scope}…"))
        sources: tuple[Any, ...] = ()
        text = ""
        last_shown = 0.0
        try:
            for event in ctx.assistant.stream(question, conversation(exchange.answer for exchange in history), filters):
                if isinstance(event, SourcesReady):
                    sources = event.sources
                    if sources:
                        writing = _answer_message(f"Writing the answer from {len(sources)} sources…")
                        found = [*base, writing, _sources_message(sources, pending=True)]
                        yield _chat_update(found, status=status_html("Sources found; the model is writing…"))
                elif isinstance(event, AnswerToken):
                    text += event.text
                    if time.monotonic() - last_shown >= 0.08:
                        last_shown = time.monotonic()
                        partial = [*base, _answer_message(text + " ▌")]
                        if sources:
                            partial.append(_sources_message(sources, pending=True))
                        yield _chat_update(partial)
                elif isinstance(event, AnswerDone):
                    final = event.answer
                    history = [*history, Exchange(answer_id=new_id(), answer=final, filters=filters)]
                    done = [*base, _answer_message(answer_markdown(final))]
                    if final.sources:
                        done.append(_sources_message(final.sources, final.citations))
                    timings = final.timings
                    note = (
                        f"Answered in {timings.total_s:.1f} s (sources after {timings.sources_s:.1f} s). "
                        "Rate it with the thumbs-up or thumbs-down buttons under the answer."
                    )
                    export = gr.DownloadButton(value=_write_export(ctx, history), visible=True)
                    yield _chat_update(done, history, status=status_html(note), export=export, finished=True)
                    return
            raise RuntimeError("the answer ended without a final result")
        except Exception as error:
            log.exception("answering failed")
            failed = [*base, _answer_message(f"Sorry, something went wrong while answering: {error}")]
            problem = status_html("The answer failed; please try again.", problem=True)
            yield _chat_update(failed, history, status=problem, finished=True)

    return answer


def refresh_filter_choices(ctx: AppContext) -> Any:
    """Filter choices come from the index on every page load, so documents ingested later appear."""

    def refresh() -> tuple[Any, ...]:
        store = ctx.assistant.store
        documents = [(document.title, document.doc_id) for document in store.documents()]
        organisations = [(f"{name} ({count})", name) for name, count in store.organisations()]
        return (
            gr.Dropdown(choices=documents),
            gr.Dropdown(choices=organisations),
            gr.skip(),
            gr.Dropdown(choices=store.domains()),
        )

    return refresh
