"""The hub's evals view: run the golden questions, read scores and the worst failures, compare two runs.

Runs go through the same ``Assistant`` the chat uses and take the answers' concurrency slot (``"model"``), so
chat users queue behind a run rather than compete with it for the model.
"""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.config import Settings
from assistant.ui_format import eval_failure_markdown
from evals.compare import compare_runs, format_metric_value, question_flips
from evals.golden_check import DEFAULT_GOLDEN_SET, GOLD_KINDS
from evals.report import KIND_COLUMNS, failure_severity, render_report, write_report
from evals.runner import RESULTS_DIR, load_questions, load_results, run_eval, select_questions, write_results
from ui.context import AppContext, new_id, require_hub

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


def evals_view(ctx: AppContext, unlocked: gr.State) -> dict[str, Any]:
    """Builds the view; returns the event that refreshes it, which the hub runs on opening and unlocking."""
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
        require_hub(is_unlocked)
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
        report_path = ctx.export_dir / new_id() / f"{Path(path).stem}.html"
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
        require_hub(is_unlocked)
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
        require_hub(is_unlocked)
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
        require_hub(is_unlocked)
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
