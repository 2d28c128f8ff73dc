"""The hub's corpus view: the documents in the index, uploading files to ingest, and removing a document."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.ui_format import DOCUMENT_HEADERS, document_rows, ingest_report_markdown
from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.pipeline import IngestBusy, ingest_paths, remove_document
from ingest.store import ChunkStore
from ui.context import AppContext, require_hub

UPLOAD_TYPES = sorted(SUPPORTED_SUFFIXES)


def corpus_view(ctx: AppContext, unlocked: gr.State) -> dict[str, Any]:
    """Builds the view; returns the event that refreshes it, which the hub runs on opening and unlocking."""
    gr.Markdown(
        "Documents in the index. Upload PDF, Word (.docx), PowerPoint (.pptx), Markdown, text or HTML files to "
        "add them; re-uploading a file with the same name replaces it. Only changed files are processed."
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
        require_hub(is_unlocked)
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
        require_hub(is_unlocked)
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
        require_hub(is_unlocked)
        if not doc_id:
            return "Choose a document to remove.", gr.skip(), gr.skip(), gr.skip()
        if not sure:
            return "Tick “Yes, remove it from the index” to confirm.", gr.skip(), gr.skip(), gr.skip()
        store = ChunkStore(ctx.settings)
        try:
            documents = {document.doc_id: document for document in store.documents()}
        finally:
            store.close()
        try:
            removed = remove_document(ctx.settings, doc_id)
        except IngestBusy as busy:
            return f"**Not removed:** {busy}", gr.skip(), gr.skip(), gr.skip()
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
