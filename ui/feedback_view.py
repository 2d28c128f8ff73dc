"""The hub's feedback log: rated answers filtered by rating, time, model and words, with a CSV export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import gradio as gr

from assistant.feedback import Rating, write_feedback_csv
from assistant.ui_format import FEEDBACK_HEADERS, feedback_rows
from ui.context import AppContext, new_id, require_hub

SINCE_CHOICES = {"All time": None, "Last 24 hours": 1, "Last 7 days": 7, "Last 30 days": 30}


def feedback_view(ctx: AppContext, unlocked: gr.State) -> dict[str, Any]:
    """Builds the view; returns the event that refreshes it, which the hub runs on opening and unlocking."""
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
        require_hub(is_unlocked)
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
        csv_path = ctx.export_dir / new_id() / "nhs-assistant-feedback.csv"
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
