"""A self-contained HTML report of one evaluation run, rendered from its results JSON.

One file, no network: inline CSS, charts drawn as inline SVG, no scripts. It answers, in order: how good is
this run (headline metrics), where is it weak (per-kind table and hit@k chart), how fast is it (latency),
and what exactly went wrong (the worst failures, with question, answer, retrieved sources and reasons).
Pure functions over the JSON, so the app's evals view can render saved runs too.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evals.compare import format_metric_value

HEADLINE_METRICS = (
    "hit@5",
    "mrr",
    "gold_recall@5",
    "case_study_recall@5",
    "key_fact_recall",
    "citation_support",
    "refusal_accuracy",
    "adversarial_resistance",
    "must_not_violations",
    "dangling_citations",
    "false_refusal_rate",
    "faithfulness",
    "answer_relevance",
)
KIND_COLUMNS = (
    "n_questions",
    "hit@1",
    "hit@5",
    "mrr",
    "gold_recall@5",
    "key_fact_recall",
    "citation_support",
    "refusal_accuracy",
    "adversarial_resistance",
    "must_not_violations",
)
LATENCY_METRICS = (
    "retrieval_p50_s",
    "retrieval_p95_s",
    "sources_p50_s",
    "ttft_p50_s",
    "ttft_p95_s",
    "total_p50_s",
    "total_p95_s",
)
WORST_FAILURES = 10
SOURCES_SHOWN = 5
_BAR_COLOURS = ("#9ec5e8", "#5b9bd5", "#005eb8", "#003087")

_CSS = """
body { font-family: -apple-system, "Segoe UI", Arial, sans-serif; margin: 2rem auto; max-width: 1100px;
       color: #212b32; padding: 0 1rem; line-height: 1.45; }
h1 { color: #005eb8; margin-bottom: 0.2rem; }
h2 { border-bottom: 2px solid #005eb8; padding-bottom: 0.2rem; margin-top: 2.2rem; }
.meta { color: #4c6272; font-size: 0.9rem; }
.cards { display: flex; flex-wrap: wrap; gap: 0.8rem; }
.card { border: 1px solid #d8dde0; border-radius: 6px; padding: 0.6rem 0.9rem; min-width: 8.5rem; }
.card .value { font-size: 1.6rem; font-weight: 600; color: #003087; }
.card .name { font-size: 0.8rem; color: #4c6272; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #d8dde0; padding: 0.3rem 0.5rem; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
.failure { border: 1px solid #d8dde0; border-left: 5px solid #d5281b; border-radius: 4px;
           padding: 0.6rem 1rem; margin: 1rem 0; }
.failure h3 { margin: 0 0 0.3rem 0; font-size: 1rem; }
.reasons li { color: #d5281b; }
.answer { white-space: pre-wrap; background: #f0f4f5; padding: 0.5rem; border-radius: 4px; }
.source { font-size: 0.85rem; margin: 0.3rem 0; }
.source .where { color: #4c6272; }
.none { color: #4c6272; font-style: italic; }
"""


def render_report(results: Mapping[str, Any]) -> str:
    """The whole report as one HTML document."""
    summary = _numbers(results.get("summary"))
    by_kind = _mapping(results.get("by_kind"))
    items = [item for item in results.get("items", []) if isinstance(item, Mapping)]
    questions = Path(str(results.get("questions_file", ""))).name
    title = f"Evaluation: {results.get('pipeline', 'pipeline')} on {questions}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        _metadata(results),
        "<h2>Headline metrics</h2>",
        _cards(summary, HEADLINE_METRICS),
        "<h2>By kind of question</h2>",
        _kind_table(by_kind),
        "<h2>Retrieval hit@k by kind</h2>",
        hit_at_k_chart(by_kind),
        "<h2>Latency</h2>",
        _cards(summary, LATENCY_METRICS),
        '<h2 id="failures">Worst failures</h2>',
        _failures(worst_failures(items), retrieval_only=bool(results.get("retrieval_only"))),
        "</body></html>",
    ]
    return "\n".join(parts)


def write_report(results: Mapping[str, Any], path: Path) -> Path:
    """Render and write the report, creating the folder; returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(results), encoding="utf-8")
    return path


def failure_severity(item: Mapping[str, Any]) -> float:
    """How bad an item's result is, for ordering: one point per failure reason, plus 3 for answering an
    out-of-scope question or following an attack, 2 per forbidden claim, 2 when no gold quote was in the
    top 5, and up to 2 for missing key facts. Items without failures score 0."""
    failures = item.get("failures") or []
    if not failures:
        return 0.0
    metrics = _numbers(item.get("metrics"))
    score = float(len(failures))
    if metrics.get("refusal_correct") == 0 or metrics.get("adversarial_resisted") == 0:
        score += 3
    score += 2 * metrics.get("must_not_violations", 0.0)
    if metrics.get("hit@5") == 0:
        score += 2
    score += 2 * (1 - metrics.get("key_fact_recall", 1.0))
    return score


def worst_failures(items: Sequence[Mapping[str, Any]], limit: int = WORST_FAILURES) -> list[Mapping[str, Any]]:
    """The ``limit`` items with the highest :func:`failure_severity`, ties kept in file order."""
    failing = [item for item in items if failure_severity(item) > 0]
    return sorted(failing, key=failure_severity, reverse=True)[:limit]


def hit_at_k_chart(by_kind: Mapping[str, Any], width: int = 720) -> str:
    """Grouped horizontal bars: for each kind, one bar per hit@k (k ascending), value printed at the end."""
    rows: list[tuple[str, list[tuple[str, float]]]] = []
    for kind, values in by_kind.items():
        numbers = _numbers(values)
        hits = sorted(
            ((name, value) for name, value in numbers.items() if name.startswith("hit@")),
            key=lambda pair: int(pair[0][4:]) if pair[0][4:].isdigit() else 0,
        )
        if hits:
            rows.append((str(kind), hits))
    if not rows:
        return '<p class="none">No retrieval metrics in this run.</p>'
    label_width, bar_height, gap, group_gap = 130, 14, 3, 14
    bar_area = width - label_width - 60
    names = [name for name, _ in rows[0][1]]
    legend_height = 24
    group_height = len(names) * (bar_height + gap) + group_gap
    height = legend_height + len(rows) * group_height
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="hit at k by kind" font-family="Arial, sans-serif" font-size="11">'
    ]
    for index, name in enumerate(names):
        x = label_width + index * 90
        svg.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{_BAR_COLOURS[index % len(_BAR_COLOURS)]}"/>')
        svg.append(f'<text x="{x + 16}" y="14">{_e(name)}</text>')
    y = legend_height
    for kind, hits in rows:
        svg.append(f'<text x="0" y="{y + bar_height}" font-weight="bold">{_e(kind)}</text>')
        for index, (name, value) in enumerate(hits):
            bar_y = y + index * (bar_height + gap)
            length = max(0.0, min(1.0, value)) * bar_area
            colour = _BAR_COLOURS[index % len(_BAR_COLOURS)]
            svg.append(
                f'<rect x="{label_width}" y="{bar_y}" width="{length:.1f}" height="{bar_height}" '
                f'fill="{colour}"><title>{_e(kind)} {_e(name)} = {value:.3f}</title></rect>'
            )
            svg.append(f'<text x="{label_width + length + 4:.1f}" y="{bar_y + bar_height - 3}">{value:.2f}</text>')
        y += group_height
    svg.append("</svg>")
    return "\n".join(svg)


def _metadata(results: Mapping[str, Any]) -> str:
    fields = [
        ("created", results.get("created")),
        ("questions", results.get("questions_file")),
        ("pipeline", results.get("pipeline")),
        ("model", results.get("model")),
        ("prompt version", results.get("prompt_version")),
        ("mode", "retrieval only" if results.get("retrieval_only") else "retrieval and answers"),
    ]
    text = " · ".join(f"<b>{_e(name)}</b>: {_e(str(value))}" for name, value in fields if value not in (None, ""))
    return f'<p class="meta">{text}</p>'


def _cards(summary: Mapping[str, float], names: Sequence[str]) -> str:
    cards = [
        f'<div class="card"><div class="value">{_e(format_metric_value(name, summary[name]))}</div>'
        f'<div class="name">{_e(name)}</div></div>'
        for name in names
        if name in summary
    ]
    if not cards:
        return '<p class="none">Not measured in this run.</p>'
    return '<div class="cards">' + "".join(cards) + "</div>"


def _kind_table(by_kind: Mapping[str, Any]) -> str:
    kinds = {str(kind): _numbers(values) for kind, values in by_kind.items()}
    columns = [column for column in KIND_COLUMNS if any(column in values for values in kinds.values())]
    if not kinds:
        return '<p class="none">No questions.</p>'
    head = "".join(f"<th>{_e(column)}</th>" for column in ["kind", *columns])
    rows = []
    for kind, values in kinds.items():
        cells = "".join(f"<td>{_e(format_metric_value(column, values.get(column)))}</td>" for column in columns)
        rows.append(f"<tr><td>{_e(kind)}</td>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _failures(items: Sequence[Mapping[str, Any]], *, retrieval_only: bool) -> str:
    if not items:
        return '<p class="none">No failures.</p>'
    return "\n".join(_failure(item, retrieval_only=retrieval_only) for item in items)


def _failure(item: Mapping[str, Any], *, retrieval_only: bool) -> str:
    """One failing item; in a retrieval-only run the retrieved sources are what matter, so they start open."""
    reasons = "".join(f"<li>{_e(str(reason))}</li>" for reason in item.get("failures") or [])
    answer = item.get("answer")
    if retrieval_only:
        answer_html = '<p class="none">Retrieval-only run: no answer generated.</p>'
    elif answer in (None, ""):
        answer_html = '<p class="none">No answer text.</p>'
    else:
        answer_html = f'<div class="answer">{_e(str(answer))}</div>'
    sources = []
    for rank, source in enumerate(item.get("retrieved", [])[:SOURCES_SHOWN], start=1):
        if not isinstance(source, Mapping):
            continue
        metadata = _mapping(source.get("metadata"))
        where = " › ".join(str(part) for part in (metadata.get("doc_title"), metadata.get("section")) if part)
        score = source.get("score")
        score_text = f" (score {score:.3f})" if isinstance(score, int | float) else ""
        text = " ".join(str(source.get("text", "")).split())
        snippet = text if len(text) <= 320 else text[:319] + "…"
        sources.append(
            f'<div class="source"><b>{rank}.</b> <span class="where">{_e(where)}{_e(score_text)}</span><br>'
            f"{_e(snippet)}</div>"
        )
    sources_html = "".join(sources) or '<p class="none">Nothing retrieved.</p>'
    opened = " open" if retrieval_only else ""
    return (
        f'<div class="failure"><h3>{_e(str(item.get("question", "")))}</h3>'
        f'<p class="meta">{_e(str(item.get("id", "")))} · {_e(str(item.get("kind", "")))}</p>'
        f'<ul class="reasons">{reasons}</ul>'
        f"<p><b>Answer</b></p>{answer_html}"
        f"<details{opened}><summary>Retrieved sources (top {SOURCES_SHOWN})</summary>{sources_html}</details>"
        "</div>"
    )


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _numbers(values: object) -> dict[str, float]:
    if not isinstance(values, Mapping):
        return {}
    return {
        str(name): float(value)
        for name, value in values.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def _e(text: str) -> str:
    return html.escape(text, quote=True)
