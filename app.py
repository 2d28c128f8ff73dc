"""The web app: a Gradio UI over the ``Assistant`` (chat, case studies) and, for the hub team, evals,
feedback and the corpus.

Thin on purpose: answering, retrieval and ingestion live in ``assistant/`` and ``ingest/``; what the user
reads is formatted by ``assistant.ui_format``; feedback is kept by ``assistant.feedback``. This module only
wires components to those functions. ``python app.py`` and ``nhs-assistant serve`` both call :func:`serve`.

Hub protection: when ``settings.app_password`` is set, the hub tab shows only a password box until the
session unlocks it (compared with ``hmac.compare_digest``), and every hub handler checks the session's
unlocked flag on the server, so calling a hub event directly without unlocking fails too. Chat and case
studies stay open to all NHS staff who can reach the app. With no password configured the hub is open,
which is the right default on a single-user laptop bound to 127.0.0.1.
"""

from __future__ import annotations

import hmac
import html
import logging
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import gradio as gr

from assistant.config import Settings, load_settings
from assistant.feedback import FeedbackStore, Rating, feedback_from_answer, write_feedback_csv
from assistant.pipeline import Assistant
from assistant.records import (
    CHUNK_KINDS,
    AnswerDone,
    AnswerToken,
    CaseStudy,
    ChunkKind,
    Filters,
    SourcesReady,
    Turn,
)
from assistant.ui_format import (
    DOCUMENT_HEADERS,
    FEEDBACK_HEADERS,
    KIND_LABELS,
    Exchange,
    answer_markdown,
    case_study_label,
    case_study_markdown,
    case_study_question,
    conversation_markdown,
    document_rows,
    eval_failure_markdown,
    feedback_rows,
    filters_summary,
    ingest_report_markdown,
    question_problem,
    sources_html,
    sources_title,
)
from evals.compare import compare_runs, format_metric_value, question_flips
from evals.golden_check import DEFAULT_GOLDEN_SET, GOLD_KINDS
from evals.report import KIND_COLUMNS, failure_severity, render_report, write_report
from evals.runner import RESULTS_DIR, load_questions, load_results, run_eval, select_questions, write_results
from ingest.pipeline import IngestBusy, ingest_paths
from ingest.store import ChunkStore

log = logging.getLogger("nhs_assistant.app")

APP_TITLE = "NHS innovation reports assistant"
EXAMPLE_QUESTIONS = (
    "How can a small trust fund its innovation function?",
    "Which trusts run innovation fellowships?",
    "What challenges did the Innovation Ecosystem rapid insight event identify?",
    "How do sites involve patients and the public in innovation?",
)
UPLOAD_TYPES = [".pdf", ".md", ".markdown", ".txt", ".docx", ".html", ".htm"]
STORED_NOTICE = (
    "**What is stored when you rate an answer:** your question, the answer, its sources, the model and "
    "prompt version, the time, your thumbs-up or thumbs-down and any comment you add. Nothing that "
    "identifies you (no name, login or address) is stored. Questions you do not rate are not kept after "
    "you close the page."
)
NHS_BLUE = "#005EB8"
SYSTEM_FONTS = ("Frutiger W01", "Arial", "Helvetica Neue", "Helvetica", "sans-serif")
MONO_FONTS = ("ui-monospace", "Consolas", "Menlo", "monospace")
CSS = """
.gradio-container { width: 100% !important; max-width: 1200px !important; margin: 0 auto !important; }
#app-header { background: #005EB8; color: #fff; padding: 14px 20px; border-radius: 4px; }
#app-header h1 { color: #fff; margin: 0; font-size: 1.5rem; }
#app-header p { color: #fff; margin: 4px 0 0; }
:focus-visible {
  outline: 3px solid #FFEB3B !important; outline-offset: 0; box-shadow: 0 4px 0 #212B32 !important;
}
.source summary { cursor: pointer; padding: 4px 0; }
.source blockquote { border-left: 4px solid #005EB8; margin: 6px 0; padding: 4px 10px; background: #F0F4F5; }
.source mark { background: #FFEB3B; color: #212B32; }
.unsupported-flag { color: #8A1538; font-weight: 600; }
.not-cited { color: #4C6272; }
.cited-for { font-size: 0.9em; color: #4C6272; margin: 2px 0 8px; }
#chat-status, #hub-status { min-height: 1.5em; color: #4C6272; }
#chat-status .problem { color: #8A1538; font-weight: 600; }
.case-results label { width: 100%; }
.small-print { font-size: 0.85em; color: #4C6272; }
.hub-table table, .hub-table td, .hub-table th, .hub-table span { font-family: var(--font) !important; }
.eval-report-frame { width: 100%; height: 640px; border: 1px solid #D8DDE0; }
"""


def nhs_theme() -> gr.themes.Base:
    """NHS blue on white with system fonts only: Gradio's stock fonts would be fetched from the internet."""
    blue = gr.themes.Color(
        c50="#E8F1FA",
        c100="#C6DCF2",
        c200="#9EC5E8",
        c300="#5B9BD5",
        c400="#2F7FC8",
        c500=NHS_BLUE,
        c600="#0055A5",
        c700="#004A91",
        c800="#003087",
        c900="#002060",
        c950="#001A4D",
        name="nhs_blue",
    )
    return gr.themes.Default(
        primary_hue=blue,
        secondary_hue=blue,
        neutral_hue="slate",
        font=list(SYSTEM_FONTS),
        font_mono=list(MONO_FONTS),
    ).set(
        body_text_color="#212B32",
        body_background_fill="#FFFFFF",
        button_primary_background_fill=NHS_BLUE,
        button_primary_background_fill_hover="#003087",
        button_primary_text_color="#FFFFFF",
        link_text_color=NHS_BLUE,
    )


def launch_style() -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch`` that give the app its look (Gradio 6 takes them at launch)."""
    return {"theme": nhs_theme(), "css": CSS}


# ---- app state -----------------------------------------------------------------------------------


@dataclass
class AppContext:
    """What every session shares: the one Assistant, the feedback store and the settings."""

    settings: Settings
    assistant: Assistant
    feedback: FeedbackStore
    export_dir: Path

    def hub_password(self) -> str | None:
        secret = self.settings.app_password
        return secret.get_secret_value() if secret is not None and secret.get_secret_value() else None


def _new_id() -> str:
    return uuid.uuid4().hex


# ---- chat ----------------------------------------------------------------------------------------


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


def _history(exchanges: Sequence[Exchange]) -> list[Turn]:
    """Earlier turns for follow-up questions; refusals are left out because they carry no content."""
    turns: list[Turn] = []
    for exchange in exchanges:
        if exchange.answer.refused:
            continue
        turns.append(Turn("user", exchange.answer.question))
        turns.append(Turn("assistant", exchange.answer.text))
    return turns


def _status(text: str, problem: bool = False) -> str:
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
    folder = ctx.export_dir / _new_id()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    path = folder / f"nhs-assistant-conversation-{stamp}.md"
    path.write_text(conversation_markdown(exchanges), encoding="utf-8")
    return str(path)


# ---- building the app ----------------------------------------------------------------------------


def build_app(settings: Settings, assistant: Assistant | None = None) -> gr.Blocks:
    """The whole UI over one shared ``assistant`` (built from ``settings`` when not given).

    The queue is configured here (``settings.concurrency_limit`` answers at a time, later users see their
    place in the queue), so ``build_app(settings).launch(**launch_style())`` behaves like :func:`serve`.
    """
    ctx = AppContext(
        settings=settings,
        assistant=assistant or Assistant(settings),
        feedback=FeedbackStore(settings.feedback_db),
        export_dir=Path(tempfile.mkdtemp(prefix="nhs-assistant-exports-")),
    )
    demo = gr.Blocks(title=APP_TITLE, analytics_enabled=False)
    with demo:
        gr.HTML(
            f'<header id="app-header" role="banner"><h1>{APP_TITLE}</h1>'
            "<p>Answers from NHS innovation learning reports, with the passages they come from. "
            "Runs offline: questions never leave this computer.</p></header>"
        )
        with gr.Tabs(selected="chat") as tabs:
            with gr.Tab("Ask the reports", id="chat"):
                chat = _chat_tab(ctx)
            with gr.Tab("Case studies", id="cases"):
                list_case_studies = _case_study_tab(ctx, tabs, chat)
            with gr.Tab("Hub team", id="hub") as hub_tab:
                _hub_tab(ctx, hub_tab)
        gr.Markdown(
            f"Model: `{ctx.assistant.model_label}` · prompt `{ctx.assistant.prompt_version}`",
            elem_classes="small-print",
        )
        chat.wire_new_chat()
        demo.load(_refresh_filter_choices(ctx), outputs=chat.filter_inputs, api_visibility="private")
        demo.load(**list_case_studies)
    demo.queue(default_concurrency_limit=settings.concurrency_limit)
    return demo


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
                _status("New chat started."),
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


def _chat_tab(ctx: AppContext) -> ChatControls:
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
    status = gr.HTML(_status(""), elem_id="chat-status")
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
            return text, messages, None, _status(problem, problem=True), gr.skip()
        question = text.strip()
        messages = [
            *messages,
            {"role": "user", "content": question},
            _answer_message(
                "Waiting for the model… If someone else's question is being answered, your place in the "
                "queue is shown at the bottom right of the conversation."
            ),
        ]
        waiting = _status("Waiting for the model (queued behind any earlier questions)…")
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
        yield _chat_update(searching, status=_status(f"Searching the reports{scope}…"))
        sources: tuple[Any, ...] = ()
        text = ""
        last_shown = 0.0
        try:
            for event in ctx.assistant.stream(question, _history(history), filters):
                if isinstance(event, SourcesReady):
                    sources = event.sources
                    if sources:
                        writing = _answer_message(f"Writing the answer from {len(sources)} sources…")
                        found = [*base, writing, _sources_message(sources, pending=True)]
                        yield _chat_update(found, status=_status("Sources found; the model is writing…"))
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
                    history = [*history, Exchange(answer_id=_new_id(), answer=final, filters=filters)]
                    done = [*base, _answer_message(answer_markdown(final))]
                    if final.sources:
                        done.append(_sources_message(final.sources, final.citations))
                    timings = final.timings
                    note = (
                        f"Answered in {timings.total_s:.1f} s (sources after {timings.sources_s:.1f} s). "
                        "Rate it with the thumbs-up or thumbs-down buttons under the answer."
                    )
                    export = gr.DownloadButton(value=_write_export(ctx, history), visible=True)
                    yield _chat_update(done, history, status=_status(note), export=export, finished=True)
                    return
            raise RuntimeError("the answer ended without a final result")
        except Exception as error:
            log.exception("answering failed")
            failed = [*base, _answer_message(f"Sorry, something went wrong while answering: {error}")]
            problem = _status("The answer failed; please try again.", problem=True)
            yield _chat_update(failed, history, status=problem, finished=True)

    return answer


def _refresh_filter_choices(ctx: AppContext) -> Any:
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


# ---- case studies --------------------------------------------------------------------------------


def _case_study_tab(ctx: AppContext, tabs: gr.Tabs, chat: ChatControls) -> dict[str, Any]:
    """Builds the finder; returns the page-load event that lists every case study before any search."""
    store = ctx.assistant.store
    gr.Markdown(
        "Find case studies and best-practice examples from the reports. Choose a result to read the full "
        "passage with its source and page, then ask about it in the chat."
    )
    with gr.Row():
        topic = gr.Textbox(label="Topic", placeholder="e.g. fellowships, charity funding, evaluation", scale=3)
        organisation = gr.Dropdown(
            label="Organisation",
            choices=[name for name, _ in store.organisations()],
            allow_custom_value=True,
            value=None,
            scale=2,
            elem_id="case-organisation",
        )
    with gr.Row():
        domain = gr.Dropdown(label="Report domain", choices=store.domains(), value=None, scale=2)
        kind = gr.Radio(
            label="Type",
            choices=[("Any", ""), ("Case study", "case_study"), ("Best practice", "best_practice")],
            value="",
            scale=2,
        )
        search = gr.Button("Search case studies", variant="primary", scale=1, elem_id="case-search")
    summary = gr.Markdown(elem_id="case-summary")
    results = gr.Radio(label="Results", choices=[], elem_classes="case-results", elem_id="case-results")
    detail = gr.Markdown(elem_id="case-detail")
    ask = gr.Button("Ask about this case study", variant="primary", interactive=False, elem_id="case-ask")
    found = gr.State([])
    chosen = gr.State(None)

    def find(
        topic_text: str, organisation_name: str | None, domain_name: str | None, kind_name: str
    ) -> tuple[Any, ...]:
        studies = ctx.assistant.case_studies(
            topic=topic_text.strip(),
            organisation=organisation_name or None,
            domain=domain_name or None,
            kind=cast(ChunkKind, kind_name) if kind_name else None,
            limit=30,
        )
        choices = [(case_study_label(study), str(number)) for number, study in enumerate(studies)]
        count = f"**{len(studies)} result{'s' if len(studies) != 1 else ''}**" if studies else "**No results.**"
        if not studies:
            count += " Try fewer filters or another topic."
        return studies, gr.Radio(choices=choices, value=None), count, "", None, gr.Button(interactive=False)

    outputs = [found, results, summary, detail, chosen, ask]
    inputs = [topic, organisation, domain, kind]
    search.click(find, inputs=inputs, outputs=outputs, api_visibility="private")
    topic.submit(find, inputs=inputs, outputs=outputs, api_visibility="private")

    def choose(selected: str | None, studies: list[CaseStudy]) -> tuple[Any, ...]:
        if selected is None or not selected.isdigit() or int(selected) >= len(studies):
            return "", None, gr.Button(interactive=False)
        study = studies[int(selected)]
        return case_study_markdown(study), study, gr.Button(interactive=True)

    results.change(
        choose, inputs=[results, found], outputs=[detail, chosen, ask], queue=False, api_visibility="private"
    )

    def scope_chat(study: CaseStudy | None) -> tuple[Any, ...]:
        if study is None:
            return (gr.skip(),) * 12
        return (
            gr.Tabs(selected="chat"),
            [],
            [],
            gr.DownloadButton(visible=False, value=None),
            gr.Accordion(open=True),
            [study.chunk.doc_id],
            list(study.organisations),
            [],
            [],
            gr.Textbox(value=case_study_question(study), interactive=True),
            _status(f"New chat scoped to the case study “{study.title}” (see Filters)."),
            gr.Group(visible=False),
        )

    scoped = ask.click(
        scope_chat,
        inputs=chosen,
        outputs=[
            tabs,
            chat.chatbot,
            chat.exchanges,
            chat.export,
            chat.filter_box,
            *chat.filter_inputs,
            chat.question,
            chat.status,
            chat.feedback_box,
        ],
        cancels=chat.answer_events,
        queue=False,
        api_visibility="private",
    )
    chat.ask_after(scoped, ctx)
    return {"fn": lambda: find("", None, None, ""), "outputs": outputs, "api_visibility": "private"}


# ---- hub -----------------------------------------------------------------------------------------


def _hub_tab(ctx: AppContext, hub_tab: gr.Tab) -> None:
    password = ctx.hub_password()
    unlocked = gr.State(password is None)
    with gr.Group(visible=password is not None) as lock_panel:
        gr.Markdown("The hub views (evals, feedback log, corpus) are for the hub team. Enter the hub password.")
        entered = gr.Textbox(label="Hub password", type="password", elem_id="hub-password")
        unlock = gr.Button("Unlock hub", variant="primary", elem_id="hub-unlock")
        lock_message = gr.Markdown(elem_id="hub-lock-message")
    with gr.Column(visible=password is None) as hub:
        if password is None:
            gr.Markdown(
                "The hub is open because no hub password is configured "
                "(set `NHS_ASSISTANT_APP_PASSWORD` to protect it).",
                elem_classes="small-print",
            )
        else:
            lock = gr.Button("Lock hub", size="sm", elem_id="hub-lock")
        with gr.Tabs():
            with gr.Tab("Feedback log", id="hub-feedback"):
                show_feedback = _feedback_view(ctx, unlocked)
            with gr.Tab("Corpus", id="hub-corpus"):
                show_corpus = _corpus_view(ctx, unlocked)
            with gr.Tab("Evals", id="hub-evals"):
                show_evals = _evals_view(ctx, unlocked)

    def try_unlock(text: str) -> tuple[Any, ...]:
        if password is not None and hmac.compare_digest(text.encode(), password.encode()):
            return True, gr.Group(visible=False), gr.Column(visible=True), "", ""
        time.sleep(1.0)  # slows guessing; one wrong try costs a person only a second
        return False, gr.skip(), gr.skip(), "", "**Wrong hub password.** Ask the hub team for it."

    unlock_outputs = [unlocked, lock_panel, hub, entered, lock_message]
    for trigger in (unlock.click, entered.submit):
        unlocked_now = trigger(try_unlock, inputs=entered, outputs=unlock_outputs, api_visibility="private")
        for show in (show_feedback, show_corpus, show_evals):
            unlocked_now = unlocked_now.then(**_quietly(show))
    if password is not None:
        lock.click(
            lambda: (False, gr.Group(visible=True), gr.Column(visible=False), "", ""),
            outputs=unlock_outputs,
            queue=False,
            api_visibility="private",
        )
    opened = hub_tab.select(**_quietly(show_feedback))
    for show in (show_corpus, show_evals):
        opened = opened.then(**_quietly(show))


def _require_hub(unlocked: bool) -> None:
    """Server-side check for every hub handler: hidden components alone do not protect an endpoint."""
    if not unlocked:
        raise gr.Error("Unlock the hub with its password first.")


def _quietly(event: dict[str, Any]) -> dict[str, Any]:
    """The same hub event for automatic refreshes: does nothing (instead of raising) while locked."""
    fn = event["fn"]
    count = len(event["outputs"])

    def refresh_if_unlocked(is_unlocked: bool, *values: Any) -> Any:
        if not is_unlocked:
            return (gr.skip(),) * count
        return fn(is_unlocked, *values)

    return {**event, "fn": refresh_if_unlocked}


SINCE_CHOICES = {"All time": None, "Last 24 hours": 1, "Last 7 days": 7, "Last 30 days": 30}


def _feedback_view(ctx: AppContext, unlocked: gr.State) -> dict[str, Any]:
    with gr.Row():
        rating = gr.Radio(
            label="Rating",
            choices=[("All", ""), ("Thumbs up", "up"), ("Thumbs down", "down")],
            value="",
            scale=2,
        )
        since = gr.Dropdown(label="When", choices=list(SINCE_CHOICES), value="All time", scale=1)
        model = gr.Dropdown(label="Model", choices=[("Any", "")], value="", scale=2)
        text = gr.Textbox(label="Contains", placeholder="words in question, answer or comment", scale=2)
    with gr.Row():
        refresh = gr.Button("Show feedback", variant="primary", elem_id="feedback-refresh")
        export = gr.DownloadButton("Export CSV", visible=False, elem_id="feedback-export")
    counts = gr.Markdown(elem_id="feedback-counts")
    table = gr.Dataframe(
        headers=FEEDBACK_HEADERS,
        elem_classes="hub-table",
        interactive=False,
        wrap=True,
        elem_id="feedback-table",
        column_widths=["11%", "7%", "18%", "26%", "14%", "14%", "5%", "5%"],
        label="Feedback",
    )

    def show(is_unlocked: bool, rating_value: str, since_label: str, model_value: str, needle: str) -> tuple[Any, ...]:
        _require_hub(is_unlocked)
        days = SINCE_CHOICES.get(since_label)
        entries = ctx.feedback.entries(
            rating=cast(Rating, rating_value) if rating_value else None,
            text=needle or "",
            model=model_value or None,
            since=datetime.now(UTC) - timedelta(days=days) if days else None,
        )
        total = ctx.feedback.counts()
        summary = (
            f"Showing **{len(entries)}** of {total['up'] + total['down']} rated answers "
            f"({total['up']} up, {total['down']} down)."
        )
        csv_path = ctx.export_dir / _new_id() / "nhs-assistant-feedback.csv"
        write_feedback_csv(entries, csv_path)
        models = [("Any", ""), *((label, label) for label in ctx.feedback.models())]
        return (
            summary,
            gr.Dataframe(value=feedback_rows(entries) or None, headers=FEEDBACK_HEADERS),
            gr.DownloadButton(value=str(csv_path), visible=True),
            gr.Dropdown(choices=models),
        )

    event: dict[str, Any] = {
        "fn": show,
        "inputs": [unlocked, rating, since, model, text],
        "outputs": [counts, table, export, model],
        "api_visibility": "private",
    }
    refresh.click(**event)
    text.submit(**event)
    return event


def _corpus_view(ctx: AppContext, unlocked: gr.State) -> dict[str, Any]:
    gr.Markdown(
        "Documents in the index. Upload PDF, Word (.docx), Markdown, text or HTML files to add them; "
        "re-uploading a file with the same name replaces it. Only changed files are processed."
    )
    table = gr.Dataframe(
        headers=DOCUMENT_HEADERS,
        elem_classes="hub-table",
        interactive=False,
        wrap=True,
        label="Documents",
        elem_id="corpus-table",
        column_widths=["32%", "12%", "8%", "6%", "7%", "8%", "12%", "15%"],
    )
    with gr.Row():
        uploads = gr.File(
            label="Add documents",
            file_count="multiple",
            file_types=UPLOAD_TYPES,
            elem_id="corpus-upload",
            scale=3,
        )
        ingest = gr.Button("Ingest uploaded files", variant="primary", elem_id="corpus-ingest", scale=1)
    report = gr.Markdown(elem_id="corpus-report")
    with gr.Row():
        doomed = gr.Dropdown(label="Remove a document", choices=[], scale=3, elem_id="corpus-remove-choice")
        confirm = gr.Checkbox(label="Yes, remove it from the index", value=False, scale=1)
        remove = gr.Button("Remove", variant="stop", scale=1, elem_id="corpus-remove")
    upload_dir = ctx.settings.data_dir / "uploads"

    def listing(is_unlocked: bool) -> tuple[Any, ...]:
        _require_hub(is_unlocked)
        documents = ctx.assistant.store.documents()
        choices = [(f"{document.title} ({document.doc_id})", document.doc_id) for document in documents]
        return (
            gr.Dataframe(value=document_rows(documents) or None, headers=DOCUMENT_HEADERS),
            gr.Dropdown(choices=choices, value=None),
        )

    def add(
        is_unlocked: bool,
        files: list[str] | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - how Gradio finds its tracker
    ) -> tuple[Any, ...]:
        _require_hub(is_unlocked)
        if not files:
            return "Choose one or more files to upload first.", gr.skip(), gr.skip(), gr.skip()
        upload_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for name in files:
            target = upload_dir / Path(name).name
            shutil.copyfile(name, target)
            paths.append(target)

        def on_progress(done: int, total: int, current: str) -> None:
            progress((done, max(total, 1)), desc=f"Ingesting {current}" if current else "Finishing")

        try:
            result = ingest_paths(paths, ctx.settings, progress=on_progress)
        except IngestBusy as busy:
            return f"**Not ingested:** {busy}", gr.skip(), gr.skip(), gr.skip()
        ctx.assistant.refresh()
        table_value, choices = listing(is_unlocked)
        return ingest_report_markdown(result), table_value, choices, None

    def drop(is_unlocked: bool, doc_id: str | None, sure: bool) -> tuple[Any, ...]:
        _require_hub(is_unlocked)
        if not doc_id:
            return "Choose a document to remove.", gr.skip(), gr.skip(), gr.skip()
        if not sure:
            return "Tick “Yes, remove it from the index” to confirm.", gr.skip(), gr.skip(), gr.skip()
        store = ChunkStore(ctx.settings)
        try:
            documents = {document.doc_id: document for document in store.documents()}
            removed = store.remove_document(doc_id)
        finally:
            store.close()
        gone = documents.get(doc_id)
        # An uploaded file is deleted too, so that re-ingesting the uploads folder does not bring it back.
        if gone is not None and Path(gone.path).resolve().parent == upload_dir.resolve():
            Path(gone.path).unlink(missing_ok=True)
        ctx.assistant.refresh()
        table_value, choices = listing(is_unlocked)
        title = gone.title if gone is not None else doc_id
        return f"Removed **{title}** ({removed} passages).", table_value, choices, False

    ingest.click(
        add,
        inputs=[unlocked, uploads],
        outputs=[report, table, doomed, uploads],
        concurrency_id="ingest",
        concurrency_limit=1,
        api_visibility="private",
    )
    remove.click(
        drop,
        inputs=[unlocked, doomed, confirm],
        outputs=[report, table, doomed, confirm],
        concurrency_id="ingest",
        api_visibility="private",
    )
    return {"fn": listing, "inputs": [unlocked], "outputs": [table, doomed], "api_visibility": "private"}


EVAL_MODES = [
    ("Retrieval only (fast, no model)", "retrieval"),
    ("Full answers (slow: runs the model)", "full"),
]
SUMMARY_HEADERS = ["Metric", "Value"]
COMPARE_HEADERS = ["Metric", "Old", "New", "Change", "Verdict"]
FLIP_HEADERS = ["Change", "Id", "Kind", "Question"]
FAILURE_HEADERS = ["Id", "Kind", "Question", "Failures"]


def _eval_results_dir(settings: Settings) -> Path:
    """Runs started from the app are kept with the index they measured, not in the source tree."""
    return settings.data_dir / "eval-results"


def _result_files(settings: Settings) -> list[tuple[str, str]]:
    """Saved results, newest first: the app's runs and the CLI's (``evals/results``), so either can be
    compared with the other."""
    folders = (_eval_results_dir(settings), RESULTS_DIR)
    files = [path for folder in folders if folder.is_dir() for path in folder.glob("*.json")]
    files.sort(key=lambda path: path.stat().st_mtime, reverse=True)
    return [(f"{path.name} ({'app' if path.parent == folders[0] else 'CLI'})", str(path)) for path in files]


def _evals_view(ctx: AppContext, unlocked: gr.State) -> dict[str, Any]:
    gr.Markdown(
        "Run the golden questions through the same assistant the chat uses and score retrieval and answers. "
        "Full runs hold the model, so chat users queue behind them meanwhile."
    )
    with gr.Row():
        mode = gr.Radio(label="What to run", choices=EVAL_MODES, value="retrieval", scale=2)
        kinds = gr.Dropdown(label="Question kinds (all when empty)", choices=list(GOLD_KINDS), multiselect=True)
        limit = gr.Number(label="At most this many questions (0 = all)", value=0, precision=0, minimum=0)
    questions_file = gr.Textbox(label="Question set (JSONL in the golden format)", value=str(DEFAULT_GOLDEN_SET))
    run = gr.Button("Run eval", variant="primary", elem_id="eval-run")
    run_report = gr.Markdown(elem_id="eval-status")
    results_header = gr.Markdown(elem_id="eval-results-header")
    with gr.Row():
        chosen = gr.Dropdown(label="Results file", choices=[], scale=3, elem_id="eval-results-file")
        older = gr.Dropdown(label="Compare with (an older results file)", choices=[], scale=3)
        compare = gr.Button("Compare", scale=1, elem_id="eval-compare")
    scores = gr.Dataframe(
        headers=SUMMARY_HEADERS,
        elem_classes="hub-table",
        interactive=False,
        label="Scores",
        elem_id="eval-scores",
    )
    by_kind = gr.Dataframe(elem_classes="hub-table", interactive=False, label="By kind of question", wrap=True)
    comparison = gr.Dataframe(
        headers=COMPARE_HEADERS,
        elem_classes="hub-table",
        interactive=False,
        label="Comparison",
        visible=False,
    )
    flips = gr.Dataframe(
        headers=FLIP_HEADERS,
        elem_classes="hub-table",
        interactive=False,
        label="Questions whose hit@5 changed",
        visible=False,
    )
    failures = gr.Dataframe(
        headers=FAILURE_HEADERS,
        elem_classes="hub-table",
        interactive=False,
        wrap=True,
        label="Failures (worst first): select a row for details",
        elem_id="eval-failures",
    )
    failure_detail = gr.Markdown(elem_id="eval-failure-detail")
    with gr.Accordion("HTML report", open=False):
        report_frame = gr.HTML(elem_id="eval-report")
        report_download = gr.DownloadButton("Download HTML report", visible=False, size="sm")
    failing_items = gr.State([])

    def show(is_unlocked: bool, path: str | None) -> tuple[Any, ...]:
        _require_hub(is_unlocked)
        if not path:
            return (
                "No results yet: run an eval.",
                None,
                None,
                None,
                [],
                "",
                "",
                gr.DownloadButton(visible=False),
            )
        results = load_results(Path(path))
        summary = results.get("summary", {})
        rows = [[name, format_metric_value(name, value)] for name, value in summary.items()]
        kind_rows = [
            [kind, *(format_metric_value(name, values.get(name)) for name in KIND_COLUMNS)]
            for kind, values in results.get("by_kind", {}).items()
        ]
        items = sorted(
            (item for item in results.get("items", []) if item.get("failures")),
            key=failure_severity,
            reverse=True,
        )
        failure_rows = [
            [item.get("id", ""), item.get("kind", ""), item.get("question", ""), "; ".join(item["failures"])]
            for item in items
        ]
        scope = "retrieval only" if results.get("retrieval_only") else "full answers"
        header = (
            f"**{Path(path).name}**: {results.get('pipeline', '')} · {results.get('model', '')} · prompt "
            f"{results.get('prompt_version', '')} · {scope} · {len(items)} of "
            f"{len(results.get('items', []))} questions with failures"
        )
        report_html = render_report(results)
        report_path = ctx.export_dir / _new_id() / f"{Path(path).stem}.html"
        report_path.parent.mkdir(parents=True)
        report_path.write_text(report_html, encoding="utf-8")
        frame = (
            '<iframe title="Evaluation report" sandbox="" class="eval-report-frame" '
            f'srcdoc="{html.escape(report_html, quote=True)}"></iframe>'
        )
        return (
            header,
            gr.Dataframe(value=rows or None, headers=SUMMARY_HEADERS),
            gr.Dataframe(value=kind_rows or None, headers=["kind", *KIND_COLUMNS]),
            gr.Dataframe(value=failure_rows or None, headers=FAILURE_HEADERS),
            items,
            "",
            frame,
            gr.DownloadButton(value=str(report_path), visible=True),
        )

    def drill(selection: gr.SelectData, items: list[dict[str, Any]]) -> str:
        row = selection.index[0] if isinstance(selection.index, (list, tuple)) else selection.index
        if not isinstance(row, int) or row >= len(items):
            return ""
        return eval_failure_markdown(items[row])

    def compare_files(is_unlocked: bool, new_path: str | None, old_path: str | None) -> tuple[Any, ...]:
        _require_hub(is_unlocked)
        if not new_path or not old_path:
            raise gr.Error("Choose both a results file and an older one to compare with.")
        old, new = load_results(Path(old_path)), load_results(Path(new_path))
        deltas = compare_runs(old, new)
        rows = [
            [
                delta.metric,
                format_metric_value(delta.metric, delta.old),
                format_metric_value(delta.metric, delta.new),
                "" if delta.delta is None else f"{delta.delta:+.3f}",
                delta.verdict,
            ]
            for delta in deltas
        ]
        flipped = [[flip.change, flip.id, flip.kind, flip.question] for flip in question_flips(old, new)]
        return (
            gr.Dataframe(value=rows or None, headers=COMPARE_HEADERS, visible=True),
            gr.Dataframe(value=flipped or None, headers=FLIP_HEADERS, visible=True),
        )

    def start_run(
        is_unlocked: bool,
        mode_value: str,
        kind_values: list[str],
        most: float | None,
        file_text: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - how Gradio finds its tracker
    ) -> tuple[Any, ...]:
        _require_hub(is_unlocked)
        retrieval_only = mode_value != "full"
        try:
            questions = select_questions(
                load_questions(Path(file_text.strip())),
                kinds=kind_values or None,
                limit=int(most or 0) or None,
            )
        except (OSError, ValueError) as error:
            raise gr.Error(f"Cannot read the question set: {error}") from error
        if not questions:
            raise gr.Error("No questions selected: check the kinds and the question set.")
        progress((0, len(questions)), desc="Evaluating")
        run_result = run_eval(
            ctx.assistant,
            questions,
            retrieval_only=retrieval_only,
            progress=lambda done, total: progress((done, total), desc=f"Evaluated {done} of {total}"),
            questions_file=file_text.strip(),
        )
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = _eval_results_dir(ctx.settings) / f"{stamp}-product{'-retrieval' if retrieval_only else ''}.json"
        write_results(run_result, path)
        write_report(run_result.to_json(), path.with_suffix(".html"))
        files = _result_files(ctx.settings)
        done = f"Finished {len(questions)} questions; results saved to `{path}`."
        return done, gr.Dropdown(choices=files, value=str(path)), gr.Dropdown(choices=files)

    shown = [
        results_header,
        scores,
        by_kind,
        failures,
        failing_items,
        failure_detail,
        report_frame,
        report_download,
    ]
    chosen.input(show, inputs=[unlocked, chosen], outputs=shown, api_visibility="private")
    failures.select(drill, inputs=failing_items, outputs=failure_detail, queue=False, api_visibility="private")
    compare.click(
        compare_files, inputs=[unlocked, chosen, older], outputs=[comparison, flips], api_visibility="private"
    )
    run.click(
        start_run,
        inputs=[unlocked, mode, kinds, limit, questions_file],
        outputs=[run_report, chosen, older],
        concurrency_id="model",
        concurrency_limit=ctx.settings.concurrency_limit,
        api_visibility="private",
    ).success(show, inputs=[unlocked, chosen], outputs=shown, api_visibility="private")

    def list_and_show(is_unlocked: bool) -> tuple[Any, ...]:
        _require_hub(is_unlocked)
        files = _result_files(ctx.settings)
        newest = files[0][1] if files else None
        return (
            gr.Dropdown(choices=files, value=newest),
            gr.Dropdown(choices=files, value=None),
            *show(is_unlocked, newest),
        )

    return {
        "fn": list_and_show,
        "inputs": [unlocked],
        "outputs": [chosen, older, *shown],
        "api_visibility": "private",
    }


# ---- start-up ------------------------------------------------------------------------------------


def serve(settings: Settings) -> None:
    """Ingest the bundled corpus if the index is empty, build the Assistant once, and serve the app.

    Blocks until the server stops (Ctrl+C).
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's own health checks, not worth a line each
    store = ChunkStore(settings)
    try:
        empty = store.chunk_count() == 0
    finally:
        store.close()
    if empty:
        log.info("index in %s is empty: ingesting %s", settings.data_dir, settings.corpus_dir)
        report = ingest_paths([settings.corpus_dir], settings)
        log.info("ingested %d chunks in %.1f s", report.chunks_total, report.seconds)
        for failure in report.failures:
            log.warning("not ingested: %s: %s", failure.path, failure.reason)
    assistant = Assistant(settings)
    threading.Thread(target=assistant.warm_up, name="warm-up", daemon=True).start()
    demo = build_app(settings, assistant)
    demo.launch(
        server_name=settings.app_host,
        server_port=settings.app_port,
        show_error=True,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        footer_links=[],
        max_file_size="100mb",
        **launch_style(),
    )


if __name__ == "__main__":
    serve(load_settings())
