"""Compare two results files: which metrics got better or worse, and which questions flipped.

Works on the results JSON (the stable interface written by :func:`evals.runner.write_results`), not on live
objects, so any two saved runs can be compared, including runs written by older versions. Pure functions:
the CLI prints their output and the app's evals view can show it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rich.table import Table

Direction = Literal["higher", "lower", "neutral"]
Verdict = Literal["better", "worse", "same", "changed", "added", "removed"]

# Rates and scores are "same" within this absolute difference (one question in a thousand).
ABSOLUTE_TOLERANCE = 1e-3
# Timings are "same" within this relative difference: run-to-run noise on a shared laptop is about this big.
LATENCY_RELATIVE_TOLERANCE = 0.05
_LOWER_IS_BETTER = frozenset({"must_not_violations", "dangling_citations", "false_refusal_rate"})
_NEUTRAL = frozenset({"n_questions"})


@dataclass(frozen=True)
class MetricDelta:
    """One summary metric in two runs. ``delta`` = new - old; ``verdict`` accounts for ``better_when``."""

    metric: str
    old: float | None
    new: float | None
    delta: float | None
    better_when: Direction
    verdict: Verdict


@dataclass(frozen=True)
class QuestionFlip:
    """A question whose pass/fail on ``metric`` changed between runs."""

    id: str
    kind: str
    question: str
    metric: str
    old: float
    new: float

    @property
    def change(self) -> Literal["lost", "gained"]:
        return "gained" if self.new > self.old else "lost"


def metric_direction(metric: str) -> Direction:
    """Which way is better: lower for timings (``*_s``), violations and false refusals; higher otherwise."""
    if metric in _NEUTRAL:
        return "neutral"
    if metric.endswith("_s") or metric in _LOWER_IS_BETTER:
        return "lower"
    return "higher"


def compare_runs(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[MetricDelta]:
    """Every summary metric of either run, in the new run's order (then metrics only the old run has).

    A change within tolerance is "same": ``ABSOLUTE_TOLERANCE`` for scores and counts, and
    ``LATENCY_RELATIVE_TOLERANCE`` of the old value for timings. A metric in only one run is "added" or
    "removed".
    """
    old_summary = _summary(old)
    new_summary = _summary(new)
    names = list(new_summary) + [name for name in old_summary if name not in new_summary]
    return [_delta(name, old_summary.get(name), new_summary.get(name)) for name in names]


def question_flips(old: Mapping[str, Any], new: Mapping[str, Any], metric: str = "hit@5") -> list[QuestionFlip]:
    """Questions (matched by id) whose ``metric`` went between failing (< 1) and passing (1), lost first."""
    old_items = {item.get("id"): item for item in _items(old)}
    flips: list[QuestionFlip] = []
    for item in _items(new):
        before = old_items.get(item.get("id"))
        if before is None:
            continue
        old_value = _item_metric(before, metric)
        new_value = _item_metric(item, metric)
        if old_value is None or new_value is None or (old_value >= 1) == (new_value >= 1):
            continue
        flips.append(
            QuestionFlip(
                id=str(item.get("id")),
                kind=str(item.get("kind", "")),
                question=str(item.get("question", "")),
                metric=metric,
                old=old_value,
                new=new_value,
            )
        )
    return sorted(flips, key=lambda flip: (flip.change != "lost", flip.id))


def comparison_table(deltas: Sequence[MetricDelta], title: str = "Compared with the previous run") -> Table:
    """A rich table of the deltas, one row per metric."""
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("old", justify="right")
    table.add_column("new", justify="right")
    table.add_column("change", justify="right")
    table.add_column("verdict")
    styles = {"better": "green", "worse": "red"}
    for delta in deltas:
        change = "" if delta.delta is None else _signed(delta.metric, delta.delta)
        verdict = delta.verdict
        if delta.better_when != "neutral" and verdict in ("better", "worse"):
            verdict_text = f"[{styles[verdict]}]{verdict}[/]"
        else:
            verdict_text = verdict
        table.add_row(
            delta.metric,
            format_metric_value(delta.metric, delta.old),
            format_metric_value(delta.metric, delta.new),
            change,
            verdict_text,
        )
    return table


def flips_table(flips: Sequence[QuestionFlip]) -> Table:
    """A rich table of per-question flips."""
    metric = flips[0].metric if flips else "hit@5"
    table = Table(title=f"Questions whose {metric} changed")
    table.add_column("change")
    table.add_column("id")
    table.add_column("kind")
    table.add_column("question")
    for flip in flips:
        style = "green" if flip.change == "gained" else "red"
        table.add_row(f"[{style}]{flip.change}[/]", flip.id, flip.kind, flip.question)
    return table


def format_metric_value(metric: str, value: float | None) -> str:
    """How a summary value reads: seconds with 2 decimals, counts as integers, rates with 3 decimals."""
    if value is None:
        return "–"
    if metric.endswith("_s"):
        return f"{value:.2f} s"
    if metric in ("n_questions", "must_not_violations", "dangling_citations"):
        return f"{value:.0f}"
    return f"{value:.3f}"


def _delta(metric: str, old: float | None, new: float | None) -> MetricDelta:
    direction = metric_direction(metric)
    if old is None or new is None:
        verdict: Verdict = "added" if old is None else "removed"
        return MetricDelta(metric, old, new, None, direction, verdict)
    change = new - old
    tolerance = ABSOLUTE_TOLERANCE
    if metric.endswith("_s"):
        tolerance = max(tolerance, LATENCY_RELATIVE_TOLERANCE * abs(old))
    if abs(change) <= tolerance:
        verdict = "same"
    elif direction == "neutral":
        verdict = "changed"
    elif (change > 0) == (direction == "higher"):
        verdict = "better"
    else:
        verdict = "worse"
    return MetricDelta(metric, old, new, change, direction, verdict)


def _signed(metric: str, value: float) -> str:
    text = format_metric_value(metric, abs(value))
    return f"+{text}" if value > 0 else f"-{text}" if value < 0 else text


def _summary(results: Mapping[str, Any]) -> dict[str, float]:
    summary = results.get("summary", {})
    if not isinstance(summary, Mapping):
        return {}
    return {
        str(name): float(value)
        for name, value in summary.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def _items(results: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = results.get("items", [])
    return [item for item in items if isinstance(item, Mapping)] if isinstance(items, list) else []


def _item_metric(item: Mapping[str, Any], metric: str) -> float | None:
    values = item.get("metrics", {})
    value = values.get(metric) if isinstance(values, Mapping) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
