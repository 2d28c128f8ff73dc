"""The web app: a Gradio UI over the ``Assistant`` (chat, case studies) and, for the hub team, evals,
feedback and the corpus.

Thin on purpose: answering, retrieval and ingestion live in ``assistant/`` and ``ingest/``; what the user
reads is formatted by ``assistant.ui_format``; feedback is kept by ``assistant.feedback``; each tab and hub
view is a module of ``ui/``. This module only lays the tabs out as one page and serves it. ``python app.py``
and ``nhs-assistant serve`` both call :func:`serve`.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from pathlib import Path

import gradio as gr

from assistant.config import Settings, load_settings
from assistant.feedback import FeedbackStore
from assistant.pipeline import Assistant
from ingest.pipeline import prepare_index
from ui.case_studies import case_study_tab
from ui.chat import chat_tab, refresh_filter_choices
from ui.context import AppContext
from ui.hub import hub_tab
from ui.theme import launch_style, nhs_theme

__all__ = ["APP_TITLE", "build_app", "launch_style", "nhs_theme", "serve"]

log = logging.getLogger("nhs_assistant.app")

APP_TITLE = "NHS innovation reports assistant"


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
                chat = chat_tab(ctx)
            with gr.Tab("Case studies", id="cases"):
                list_case_studies = case_study_tab(ctx, tabs, chat)
            with gr.Tab("Hub team", id="hub") as hub:
                hub_tab(ctx, hub)
        gr.Markdown(
            f"Model: `{ctx.assistant.model_label}` · prompt `{ctx.assistant.prompt_version}`",
            elem_classes="small-print",
        )
        chat.wire_new_chat()
        demo.load(refresh_filter_choices(ctx), outputs=chat.filter_inputs, api_visibility="private")
        demo.load(**list_case_studies)
    demo.queue(default_concurrency_limit=settings.concurrency_limit)
    return demo


def serve(settings: Settings) -> None:
    """Ingest the bundled corpus if the index is empty (or rebuild an outdated one), build the Assistant once,
    and serve the app.

    Blocks until the server stops (Ctrl+C).
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's own health checks, not worth a line each
    prepared = prepare_index(settings)
    if prepared is not None:
        what, report = prepared
        log.info("%s: %d chunks in the index after %.1f s", what, report.chunks_total, report.seconds)
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
