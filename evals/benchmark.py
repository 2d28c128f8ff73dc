"""How fast and how big, on this machine: the product and the naive baseline side by side in one process.

    python -m evals.benchmark [--questions PATH] [--skip-llm] [--answers N] [--json PATH]

Phases, in order, each timed with the same clock:

1. Index the bundled corpus: the product's ``ingest_paths`` into a temporary data directory, then the naive
   baseline's textbook index. Both include loading their embedding model, as a first run would.
2. Retrieve for every golden question (after one untimed warm-up query each): latency p50/p95, hit@5, MRR.
3. Unless ``--skip-llm``: load the chat model once (shared by both), then answer N answerable questions with
   each pipeline (after one untimed warm-up answer each): time to first token and tokens per second.

Memory is the process's peak resident set size (``ru_maxrss``) and how much each phase raised it. The models
live in native code (torch, llama.cpp, Chroma's Rust core) that ``tracemalloc`` cannot see, and RSS is what a
laptop feels. Because one process holds both pipelines, a phase's growth is what it added on top of
everything loaded before it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

from assistant.config import Settings, load_settings
from assistant.records import AnswerDone, AnswerToken, Filters
from evals import metrics
from evals.golden_check import DEFAULT_GOLDEN_SET, GoldItem, load_golden_set
from evals.runner import EvalRun, PipelineUnderTest, run_eval

DEFAULT_ANSWERS = 5
T = TypeVar("T")


@dataclass(frozen=True)
class Measured:
    """A phase's result with its wall time and the peak-RSS growth it caused (MB)."""

    seconds: float
    rss_growth_mb: float


@dataclass(frozen=True)
class SideResult:
    """One pipeline's numbers; the answer fields are None when the LLM phase was skipped."""

    chunks: int
    index_seconds: float
    chunks_per_s: float
    index_rss_growth_mb: float
    retrieval_p50_s: float
    retrieval_p95_s: float
    hit_at_5: float
    mrr: float
    answers: int = 0
    ttft_p50_s: float | None = None
    total_p50_s: float | None = None
    tokens_per_s_p50: float | None = None


@dataclass(frozen=True)
class BenchmarkResult:
    machine: dict[str, str]
    questions: int
    product: SideResult
    baseline: SideResult
    chat_model: str | None = None
    chat_model_load_s: float | None = None
    chat_model_rss_growth_mb: float | None = None
    peak_rss_mb: float = 0.0


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def measure(action: Callable[[], T]) -> tuple[T, Measured]:
    """Run ``action`` and return its result with wall time and peak-RSS growth."""
    before = peak_rss_mb()
    started = time.perf_counter()
    result = action()
    return result, Measured(time.perf_counter() - started, peak_rss_mb() - before)


def time_answers(pipeline: PipelineUnderTest, questions: Sequence[GoldItem]) -> tuple[float, float, float]:
    """p50 of time to first token, total time and tokens per second over ``questions``.

    Tokens are the answer's ``completion_tokens`` when the pipeline reports them, else the streamed token
    events (llama.cpp streams one per token); tokens/s counts generation only, after the first token.
    """
    first_tokens: list[float] = []
    totals: list[float] = []
    rates: list[float] = []
    for item in questions:
        started = time.perf_counter()
        first: float | None = None
        streamed = 0
        completion_tokens: int | None = None
        for event in pipeline.stream(item.question, item.history, Filters()):
            if isinstance(event, AnswerToken):
                streamed += 1
                first = time.perf_counter() - started if first is None else first
            elif isinstance(event, AnswerDone):
                completion_tokens = event.answer.timings.completion_tokens
        total = time.perf_counter() - started
        totals.append(total)
        if first is not None:
            first_tokens.append(first)
            tokens = completion_tokens or streamed
            if total > first and tokens > 1:
                rates.append((tokens - 1) / (total - first))
    return (
        metrics.percentile(first_tokens, 50) if first_tokens else float("nan"),
        metrics.percentile(totals, 50),
        metrics.percentile(rates, 50) if rates else float("nan"),
    )


def run_benchmark(
    settings: Settings,
    questions: Sequence[GoldItem],
    *,
    skip_llm: bool,
    answers: int = DEFAULT_ANSWERS,
    log: Callable[[str], None] = print,
) -> BenchmarkResult:
    """All phases (see the module docstring) against an empty ``settings.data_dir``."""
    from assistant.llm import build_chat_model, describe_model
    from assistant.pipeline import Assistant
    from evals.baseline import NaiveBaseline
    from ingest.pipeline import ingest_paths

    log("Indexing the corpus with the product pipeline…")
    report, product_index = measure(lambda: ingest_paths([settings.corpus_dir], settings))
    log("Indexing the corpus with the naive baseline…")
    baseline, baseline_index = measure(lambda: NaiveBaseline(settings))
    with baseline:
        assistant = Assistant(settings)
        log(f"Retrieving for {len(questions)} questions with each pipeline…")
        product_run = _retrieval_run(assistant, questions)
        baseline_run = _retrieval_run(baseline, questions)
        product = _side(report.chunks_total, product_index, product_run.summary)
        naive = _side(baseline.chunk_count, baseline_index, baseline_run.summary)
        chat_label = None
        load: Measured | None = None
        if not skip_llm:
            log("Loading the chat model…")
            chat_model, load = measure(lambda: build_chat_model(settings))
            chat_label = describe_model(settings)
            baseline.use_chat_model(chat_model)
            answerable = [item for item in questions if item.answerable and item.gold_sources]
            warm_up, timed = answerable[:1], answerable[1 : 1 + answers]
            log(f"Answering {len(timed)} questions with each pipeline (after one warm-up)…")
            for side, pipeline in (("product", assistant), ("baseline", baseline)):
                time_answers(pipeline, warm_up)
                ttft, total, rate = time_answers(pipeline, timed)
                fields = {
                    "answers": len(timed),
                    "ttft_p50_s": ttft,
                    "total_p50_s": total,
                    "tokens_per_s_p50": rate,
                }
                if side == "product":
                    product = SideResult(**{**asdict(product), **fields})
                else:
                    naive = SideResult(**{**asdict(naive), **fields})
    return BenchmarkResult(
        machine=machine_description(),
        questions=len(questions),
        product=product,
        baseline=naive,
        chat_model=chat_label,
        chat_model_load_s=load.seconds if load else None,
        chat_model_rss_growth_mb=load.rss_growth_mb if load else None,
        peak_rss_mb=peak_rss_mb(),
    )


def machine_description() -> dict[str, str]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": str(os.cpu_count()),
        "python": platform.python_version(),
    }


def format_benchmark(result: BenchmarkResult) -> str:
    """A plain-text table: one row per measure, product and baseline columns, and their ratio."""
    rows: list[tuple[str, float | None, float | None, str]] = [
        ("chunks indexed", result.product.chunks, result.baseline.chunks, "{:.0f}"),
        ("index whole corpus (s)", result.product.index_seconds, result.baseline.index_seconds, "{:.1f}"),
        ("index throughput (chunks/s)", result.product.chunks_per_s, result.baseline.chunks_per_s, "{:.1f}"),
        (
            "index RSS growth (MB)",
            result.product.index_rss_growth_mb,
            result.baseline.index_rss_growth_mb,
            "{:.0f}",
        ),
        ("retrieval p50 (s)", result.product.retrieval_p50_s, result.baseline.retrieval_p50_s, "{:.3f}"),
        ("retrieval p95 (s)", result.product.retrieval_p95_s, result.baseline.retrieval_p95_s, "{:.3f}"),
        ("hit@5", result.product.hit_at_5, result.baseline.hit_at_5, "{:.3f}"),
        ("MRR", result.product.mrr, result.baseline.mrr, "{:.3f}"),
    ]
    if result.chat_model is not None:
        rows += [
            ("time to first token p50 (s)", result.product.ttft_p50_s, result.baseline.ttft_p50_s, "{:.2f}"),
            ("answer total p50 (s)", result.product.total_p50_s, result.baseline.total_p50_s, "{:.2f}"),
            (
                "generation tokens/s p50",
                result.product.tokens_per_s_p50,
                result.baseline.tokens_per_s_p50,
                "{:.1f}",
            ),
        ]
    machine = result.machine
    lines = [
        f"Machine: {machine['platform']} · {machine['cpus']} CPUs · Python {machine['python']}",
        f"Questions: {result.questions} retrieval, {result.product.answers} answered per pipeline",
    ]
    if result.chat_model is not None:
        lines.append(
            f"Chat model: {result.chat_model} (shared; load {result.chat_model_load_s:.1f} s, "
            f"+{result.chat_model_rss_growth_mb:.0f} MB)"
        )
    lines.append("")
    lines.append(f"{'':32}{'product':>12}{'baseline':>12}{'product/baseline':>19}")
    for label, product, baseline, style in rows:
        ratio = product / baseline if product is not None and baseline else None
        lines.append(f"{label:32}{_cell(product, style):>12}{_cell(baseline, style):>12}{_cell(ratio, '{:.2f}x'):>19}")
    lines.append("")
    lines.append(f"Peak RSS of this process: {result.peak_rss_mb:.0f} MB")
    lines.append("RSS growth adds to earlier phases: the product indexes first, so it also pays for loading torch.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.benchmark", description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=DEFAULT_GOLDEN_SET, help="golden-format JSONL file")
    parser.add_argument("--skip-llm", action="store_true", help="skip the answer phase (no chat model)")
    parser.add_argument(
        "--answers", type=int, default=DEFAULT_ANSWERS, help="questions answered by each pipeline (default 5)"
    )
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the numbers as JSON")
    args = parser.parse_args(argv)
    questions = load_golden_set(args.questions)
    with tempfile.TemporaryDirectory(prefix="nhs-benchmark-") as folder:
        settings = load_settings(data_dir=Path(folder) / "index")
        result = run_benchmark(settings, questions, skip_llm=args.skip_llm, answers=args.answers)
    print()
    print(format_benchmark(result))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(asdict(result), indent=2) + "\n", encoding="utf-8")
    return 0


def _retrieval_run(pipeline: PipelineUnderTest, questions: Sequence[GoldItem]) -> EvalRun:
    pipeline.retrieve(questions[0].question, (), Filters(), 5)  # warm-up: first-call costs are not latency
    return run_eval(pipeline, questions, retrieval_only=True, k_values=(5,))


def _side(chunks: int, index: Measured, summary: dict[str, float]) -> SideResult:
    return SideResult(
        chunks=chunks,
        index_seconds=index.seconds,
        chunks_per_s=chunks / index.seconds if index.seconds else 0.0,
        index_rss_growth_mb=index.rss_growth_mb,
        retrieval_p50_s=summary.get("retrieval_p50_s", float("nan")),
        retrieval_p95_s=summary.get("retrieval_p95_s", float("nan")),
        hit_at_5=summary.get("hit@5", float("nan")),
        mrr=summary.get("mrr", float("nan")),
    )


def _cell(value: float | None, style: str) -> str:
    if value is None or value != value:  # None or NaN
        return "–"
    return style.format(value)


if __name__ == "__main__":
    sys.exit(main())
