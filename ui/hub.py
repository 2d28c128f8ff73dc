"""The "Hub team" tab: the password gate and, behind it, the feedback log, corpus and evals views.

Hub protection: when ``settings.app_password`` is set, the hub tab shows only a password box until the
session unlocks it (compared with ``hmac.compare_digest``), and every hub handler checks the session's
unlocked flag on the server (:func:`ui.context.require_hub`), so calling a hub event directly without
unlocking fails too. Chat and case studies stay open to all NHS staff who can reach the app. With no password
configured the hub is open, which is the right default on a single-user laptop bound to 127.0.0.1.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

import gradio as gr

from ui.context import AppContext
from ui.corpus_view import corpus_view
from ui.evals_view import evals_view
from ui.feedback_view import feedback_view


def hub_tab(ctx: AppContext, tab: gr.Tab) -> None:
    """Builds the hub inside ``tab``; selecting the tab refreshes every hub view once the hub is unlocked."""
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
                show_feedback = feedback_view(ctx, unlocked)
            with gr.Tab("Corpus", id="hub-corpus"):
                show_corpus = corpus_view(ctx, unlocked)
            with gr.Tab("Evals", id="hub-evals"):
                show_evals = evals_view(ctx, unlocked)

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
    opened = tab.select(**_quietly(show_feedback))
    for show in (show_corpus, show_evals):
        opened = opened.then(**_quietly(show))


def _quietly(event: dict[str, Any]) -> dict[str, Any]:
    """The same hub event for automatic refreshes: does nothing (instead of raising) while locked."""
    fn = event["fn"]
    count = len(event["outputs"])

    def refresh_if_unlocked(is_unlocked: bool, *values: Any) -> Any:
        if not is_unlocked:
            return (gr.skip(),) * count
        return fn(is_unlocked, *values)

    return {**event, "fn": refresh_if_unlocked}
