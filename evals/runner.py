"""Run golden questions through a pipeline and score them: the engine behind ``nhs-assistant eval``.

The pipeline is anything with the ``Assistant`` surface (:class:`PipelineUnderTest`): the product, the naive
baseline in :mod:`evals.baseline`, or a test fake. For every question the runner calls ``retrieve`` (to score
ranking against the gold quotes) and, unless ``retrieval_only``, ``stream`` (to time sources, first token and
total, and to score the answer). Results are typed records; :func:`write_results` turns them into the
results JSON, whose shape is a stable interface read by the report, the comparison and the app.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, get_args

from langchain_core.messages import HumanMessage
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from assistant.config import PROMPTS_DIR, LLMBackend, Settings
from assistant.prompts import load_prompt
from assistant.records import (
    Answer,
    AnswerDone,
    AnswerEvent,
    AnswerToken,
    Citation,
    Filters,
    RetrievedChunk,
    SourcesReady,
    Turn,
)
from evals import metrics
from evals.compare import compare_runs, comparison_table, flips_table, format_metric_value, question_flips
from evals.golden_check import DEFAULT_GOLDEN_SET, GOLD_KINDS, GoldItem, load_golden_set
from evals.matching import (
    citation_numbers,
    fact_present,
    injected_payloads,
    organisation_mentioned,
    phrase_present,
    quote_matches,
    states_refusal,
)
from evals.report import write_report
from evals.typos import with_typos

DEFAULT_K_VALUES: tuple[int, ...] = (1, 3, 5, 10)
RECALL_K = 5
RESULTS_DIR = Path(__file__).resolve().parent / "results"
JUDGE_PROMPT_NAME = "judge_faithfulness"
PipelineName = Literal["product", "baseline"]
ProgressCallback = Callable[[int, int], None]


class PipelineUnderTest(Protocol):
    """The part of ``assistant.pipeline.Assistant`` the runner uses; the baseline and test fakes match it."""

    def retrieve(
        self, question: str, history: Sequence[Turn] = ..., filters: Filters = ..., k: int | None = ...
    ) -> list[RetrievedChunk]: ...

    def stream(self, question: str, history: Sequence[Turn] = ..., filters: Filters = ...) -> Iterator[AnswerEvent]: ...

    @property
    def model_label(self) -> str: ...

    @property
    def prompt_version(self) -> str: ...


# --------------------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class RetrievedSource:
    """A retrieved chunk as recorded in results: its text, where it came from, and its fused score."""

    text: str
    chunk_id: str
    doc_id: str
    doc_title: str
    section: str
    page: int | None
    page_label: str | None
    file_format: str
    """Says whether ``page`` is a page or a slide; results written before it was recorded lack it (read as "")."""
    kind: str
    organisations: tuple[str, ...]
    case_study_title: str | None
    score: float

    @classmethod
    def from_retrieved(cls, retrieved: RetrievedChunk) -> RetrievedSource:
        chunk = retrieved.chunk
        return cls(
            text=chunk.text,
            chunk_id=chunk.chunk_id,
            doc_id=chunk.doc_id,
            doc_title=chunk.doc_title,
            section=chunk.section,
            page=chunk.page,
            page_label=chunk.page_label,
            file_format=chunk.file_format,
            kind=chunk.kind,
            organisations=chunk.organisations,
            case_study_title=chunk.case_study_title,
            score=retrieved.score,
        )

    @property
    def searchable_text(self) -> str:
        """Passage plus metadata, for case-study matching: a chunk tagged with an organisation names it."""
        extras = [*self.organisations, self.case_study_title or "", self.section]
        return "\n".join([self.text, *(extra for extra in extras if extra)])

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "metadata": {
                "doc_id": self.doc_id,
                "doc_title": self.doc_title,
                "section": self.section,
                "page": self.page,
                "page_label": self.page_label,
                "file_format": self.file_format,
                "kind": self.kind,
                "organisations": list(self.organisations),
                "chunk_id": self.chunk_id,
            },
            "score": self.score,
        }


@dataclass(frozen=True)
class AnswerSource:
    """A numbered source the answer could cite."""

    number: int
    chunk_id: str
    doc_title: str
    section: str
    passage: str

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "chunk_id": self.chunk_id,
            "doc_title": self.doc_title,
            "section": self.section,
            "passage": self.passage,
        }


@dataclass(frozen=True)
class ItemTimings:
    """Seconds from the call, measured by the runner's clock (so product and baseline are timed alike).

    ``first_token_s`` is None when no token was streamed (a refusal); the answer fields are None in a
    retrieval-only run.
    """

    retrieval_s: float
    sources_s: float | None = None
    first_token_s: float | None = None
    total_s: float | None = None
    streamed_tokens: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "retrieval_s": self.retrieval_s,
            "sources_s": self.sources_s,
            "first_token_s": self.first_token_s,
            "total_s": self.total_s,
            "streamed_tokens": self.streamed_tokens,
        }


@dataclass(frozen=True)
class ItemResult:
    """One question's outcome. ``metrics`` maps metric name to value (only metrics that apply to the item);
    ``failures`` explains each shortfall in words."""

    id: str
    kind: str
    question: str
    retrieved: tuple[RetrievedSource, ...]
    answer: str | None
    sources: tuple[AnswerSource, ...]
    citations: tuple[Citation, ...]
    refused: bool | None
    timings: ItemTimings
    metrics: dict[str, float]
    failures: tuple[str, ...]
    reference_answer: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "question": self.question,
            "retrieved": [source.to_json() for source in self.retrieved],
            "answer": self.answer,
            "sources": [source.to_json() for source in self.sources],
            "citations": [
                {
                    "sentence": citation.sentence,
                    "numbers": list(citation.numbers),
                    "supported": citation.supported,
                    "support_score": citation.support_score,
                    "dangling": list(citation.dangling),
                }
                for citation in self.citations
            ],
            "refused": self.refused,
            "timings": self.timings.to_json(),
            "metrics": dict(self.metrics),
            "failures": list(self.failures),
            "reference_answer": self.reference_answer,
        }


@dataclass(frozen=True)
class EvalRun:
    """A whole run: what was evaluated, the per-question results and their summaries."""

    created: str
    questions_file: str
    pipeline: str
    model: str
    prompt_version: str
    retrieval_only: bool
    k_values: tuple[int, ...]
    items: tuple[ItemResult, ...]
    summary: dict[str, float]
    by_kind: dict[str, dict[str, float]]
    judge_prompt_version: str | None = None

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "created": self.created,
            "questions_file": self.questions_file,
            "pipeline": self.pipeline,
            "model": self.model,
            "prompt_version": self.prompt_version,
            "retrieval_only": self.retrieval_only,
            "k_values": list(self.k_values),
            "summary": dict(self.summary),
            "by_kind": {kind: dict(values) for kind, values in self.by_kind.items()},
            "items": [item.to_json() for item in self.items],
        }
        if self.judge_prompt_version is not None:
            document["judge_prompt_version"] = self.judge_prompt_version
        return document


@dataclass(frozen=True)
class JudgeSetup:
    """An LLM judge and the prompt it grades with (text and version, recorded in the results)."""

    judge: metrics.Judge
    template: str
    version: str


# --------------------------------------------------------------------------------------------- running


def load_questions(path: Path) -> list[GoldItem]:
    """Questions from any file in the golden format; a bad line raises ``GoldFormatError`` naming its line."""
    return load_golden_set(path)


def run_eval(
    assistant: PipelineUnderTest,
    questions: Sequence[GoldItem],
    *,
    retrieval_only: bool,
    k_values: Sequence[int] = DEFAULT_K_VALUES,
    progress: ProgressCallback | None = None,
    pipeline: str = "product",
    questions_file: str = "",
    judge: JudgeSetup | None = None,
) -> EvalRun:
    """Evaluate ``questions`` one by one and summarise.

    Retrieval asks for ``max(k_values + (RECALL_K,))`` chunks. A question that raises is recorded with the
    error as its failure and the run goes on: one broken question must not lose an hour-long run.
    ``progress(done, total)`` is called after each question.
    """
    ks = tuple(sorted(set(k_values)))
    depth = max((*ks, RECALL_K))
    results: list[ItemResult] = []
    for index, item in enumerate(questions, start=1):
        results.append(
            evaluate_item(assistant, item, retrieval_only=retrieval_only, k_values=ks, depth=depth, judge=judge)
        )
        if progress is not None:
            progress(index, len(questions))
    items = tuple(results)
    by_kind: dict[str, dict[str, float]] = {
        kind: summarise([result for result in items if result.kind == kind], ks, retrieval_only)
        for kind in GOLD_KINDS
        if any(result.kind == kind for result in items)
    }
    return EvalRun(
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        questions_file=questions_file,
        pipeline=pipeline,
        model=assistant.model_label,
        prompt_version=assistant.prompt_version,
        retrieval_only=retrieval_only,
        k_values=ks,
        items=items,
        summary=summarise(items, ks, retrieval_only),
        by_kind=by_kind,
        judge_prompt_version=judge.version if judge is not None else None,
    )


def evaluate_item(
    assistant: PipelineUnderTest,
    item: GoldItem,
    *,
    retrieval_only: bool,
    k_values: Sequence[int] = DEFAULT_K_VALUES,
    depth: int = 10,
    judge: JudgeSetup | None = None,
) -> ItemResult:
    """Retrieve (and answer) one question, then score it with :func:`score_item`."""
    retrieved: tuple[RetrievedSource, ...] = ()
    answer: Answer | None = None
    errors: list[str] = []
    started = time.perf_counter()
    try:
        chunks = assistant.retrieve(item.question, item.history, Filters(), depth)
        retrieved = tuple(RetrievedSource.from_retrieved(chunk) for chunk in chunks)
    except Exception as error:  # recorded as the item's failure; see run_eval
        errors.append(f"retrieve raised {type(error).__name__}: {error}")
    timings = ItemTimings(retrieval_s=time.perf_counter() - started)
    if not retrieval_only:
        try:
            answer, timings = _stream_answer(assistant, item, timings)
        except Exception as error:  # recorded as the item's failure; see run_eval
            errors.append(f"stream raised {type(error).__name__}: {error}")
    judge_scores = None
    if judge is not None and answer is not None and answer.text.strip() and not answer.refused:
        try:
            judge_scores = metrics.judge_answer(
                item.question,
                answer.text,
                [source.passage for source in answer.sources],
                judge.judge,
                judge.template,
            )
        except Exception as error:  # an endpoint hiccup costs this item's judge scores, not the run
            errors.append(f"judge raised {type(error).__name__}: {error}")
    values, failures = score_item(item, retrieved, answer, k_values=k_values, judge_scores=judge_scores)
    return ItemResult(
        id=item.id,
        kind=item.kind,
        question=item.question,
        retrieved=retrieved,
        answer=answer.text if answer is not None else None,
        sources=tuple(
            AnswerSource(
                number=source.number,
                chunk_id=source.chunk.chunk_id,
                doc_title=source.chunk.doc_title,
                section=source.chunk.section,
                passage=source.passage,
            )
            for source in (answer.sources if answer is not None else ())
        ),
        citations=answer.citations if answer is not None else (),
        refused=answer.refused if answer is not None else None,
        timings=timings,
        metrics=values,
        failures=tuple(errors + failures),
        reference_answer=item.reference_answer,
    )


def score_item(
    item: GoldItem,
    retrieved: Sequence[RetrievedSource],
    answer: Answer | None,
    *,
    k_values: Sequence[int] = DEFAULT_K_VALUES,
    judge_scores: metrics.JudgeScores | None = None,
) -> tuple[dict[str, float], list[str]]:
    """Per-item metric values and human-readable failure reasons. Pure: no pipeline calls.

    Retrieval metrics apply to answerable items with gold quotes; case-study recall to items naming
    organisations; answer metrics only when there is an answer. Which answer metrics apply depends on kind:
    refusal for out-of-scope, resistance for adversarial, facts wherever ``must_include`` is non-empty.
    """
    values: dict[str, float] = {}
    failures: list[str] = []
    texts = [source.text for source in retrieved]
    if item.answerable and item.quotes:
        for k in k_values:
            values[f"hit@{k}"] = metrics.hit_at_k(item.quotes, texts, k)
        values["reciprocal_rank"] = metrics.reciprocal_rank(item.quotes, texts)
        values[f"gold_recall@{RECALL_K}"] = metrics.gold_recall_at_k(item.quotes, texts, RECALL_K)
        top = texts[:RECALL_K]
        failures.extend(
            f"gold quote not in top {RECALL_K}: {_clip(quote)}"
            for quote in item.quotes
            if not any(quote_matches(quote, text) for text in top)
        )
    if item.answerable and item.gold_case_studies:
        searchable = [source.searchable_text for source in retrieved]
        values[f"case_study_recall@{RECALL_K}"] = metrics.case_study_recall_at_k(
            item.gold_case_studies, searchable, RECALL_K
        )
        failures.extend(
            f"case study not in top {RECALL_K}: {_clip(name)}"
            for name in item.gold_case_studies
            if not any(organisation_mentioned(name, text) for text in searchable[:RECALL_K])
        )
    if answer is None:
        return values, failures
    text = answer.claims  # not the notes on what the checks removed, which name it
    if item.must_include:
        values["key_fact_recall"] = metrics.key_fact_recall(item.must_include, text)
        failures.extend(f"missing fact: {_clip(fact)}" for fact in item.must_include if not fact_present(fact, text))
    values["must_not_violations"] = float(metrics.must_not_violations(item.must_not_include, text))
    failures.extend(
        f"made a forbidden claim: {_clip(claim)}" for claim in item.must_not_include if phrase_present(claim, text)
    )
    source_numbers = [source.number for source in answer.sources]
    values["dangling_citations"] = float(metrics.dangling_citations(text, source_numbers))
    failures.extend(
        f"dangling citation [{number}] ({len(source_numbers)} sources listed)"
        for number in dict.fromkeys(citation_numbers(text))
        if number not in source_numbers
    )
    support = metrics.citation_support(answer.citations)
    if support is not None:
        values["citation_support"] = support
        failures.extend(
            f"cited sentence not supported by its sources: {_clip(citation.sentence)}"
            for citation in answer.citations
            if citation.numbers and not citation.supported
        )
    declined = answer.refused or states_refusal(text)
    if item.kind == "out_of_scope":
        correct = metrics.refusal_correct(text, answer.refused, item.must_not_include)
        values["refusal_correct"] = 1.0 if correct else 0.0
        if not declined:
            failures.append("answered an out-of-scope question instead of refusing")
    elif item.kind != "adversarial":
        values["false_refusal"] = 1.0 if metrics.false_refusal(text, answer.refused) else 0.0
        if declined:
            failures.append("refused a question the documents answer")
    if item.kind == "adversarial":
        resisted = metrics.adversarial_resisted(item.question, text, item.must_not_include)
        values["adversarial_resisted"] = 1.0 if resisted else 0.0
        failures.extend(
            f"followed the injected instruction: {_clip(payload)}"
            for payload in injected_payloads(item.question)
            if phrase_present(payload, text)
        )
    if judge_scores is not None:
        if judge_scores.faithfulness is not None:
            values["faithfulness"] = judge_scores.faithfulness
        if judge_scores.answer_relevance is not None:
            values["answer_relevance"] = judge_scores.answer_relevance
    return values, failures


def summarise(items: Sequence[ItemResult], k_values: Sequence[int], retrieval_only: bool) -> dict[str, float]:
    """Summary metrics over ``items``; a metric no item has a value for is left out rather than reported as 0.

    Rates are means of the per-item values over the items they apply to (so hit@k and MRR cover answerable
    questions with gold quotes only); ``must_not_violations`` and ``dangling_citations`` are totals; latencies
    are percentiles of the runner's own timings.
    """
    summary: dict[str, float] = {}

    def mean_of(item_metric: str, summary_metric: str) -> None:
        found = [item.metrics[item_metric] for item in items if item_metric in item.metrics]
        if found:
            summary[summary_metric] = sum(found) / len(found)

    def total_of(item_metric: str) -> None:
        found = [item.metrics[item_metric] for item in items if item_metric in item.metrics]
        if found:
            summary[item_metric] = float(sum(found))

    def percentiles_of(values: Sequence[float], name: str, qs: Sequence[int]) -> None:
        for q in qs:
            if values:
                summary[f"{name}_p{q}_s"] = metrics.percentile(values, q)

    for k in k_values:
        mean_of(f"hit@{k}", f"hit@{k}")
    mean_of("reciprocal_rank", "mrr")
    mean_of(f"gold_recall@{RECALL_K}", f"gold_recall@{RECALL_K}")
    mean_of(f"case_study_recall@{RECALL_K}", f"case_study_recall@{RECALL_K}")
    percentiles_of([item.timings.retrieval_s for item in items], "retrieval", (50, 95))
    if not retrieval_only:
        mean_of("key_fact_recall", "key_fact_recall")
        total_of("must_not_violations")
        total_of("dangling_citations")
        mean_of("citation_support", "citation_support")
        mean_of("refusal_correct", "refusal_accuracy")
        mean_of("adversarial_resisted", "adversarial_resistance")
        mean_of("false_refusal", "false_refusal_rate")
        mean_of("faithfulness", "faithfulness")
        mean_of("answer_relevance", "answer_relevance")
        answered = [item.timings for item in items]
        percentiles_of([t.sources_s for t in answered if t.sources_s is not None], "sources", (50,))
        percentiles_of([t.first_token_s for t in answered if t.first_token_s is not None], "ttft", (50, 95))
        percentiles_of([t.total_s for t in answered if t.total_s is not None], "total", (50, 95))
    summary["n_questions"] = float(len(items))
    return summary


def write_results(run: EvalRun, path: Path) -> Path:
    """Write the results JSON (creating the folder); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load_results(path: Path) -> dict[str, Any]:
    """A results JSON file as written by :func:`write_results`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "summary" not in data:
        raise ValueError(f"{path} is not an evaluation results file")
    return data


def _stream_answer(assistant: PipelineUnderTest, item: GoldItem, timings: ItemTimings) -> tuple[Answer, ItemTimings]:
    started = time.perf_counter()
    sources_s: float | None = None
    first_token_s: float | None = None
    tokens = 0
    answer: Answer | None = None
    for event in assistant.stream(item.question, item.history, Filters()):
        elapsed = time.perf_counter() - started
        if isinstance(event, SourcesReady):
            sources_s = elapsed if sources_s is None else sources_s
        elif isinstance(event, AnswerToken):
            tokens += 1
            first_token_s = elapsed if first_token_s is None else first_token_s
        elif isinstance(event, AnswerDone):
            answer = event.answer
    total_s = time.perf_counter() - started
    if answer is None:
        raise RuntimeError("the stream ended without an AnswerDone event")
    return answer, ItemTimings(
        retrieval_s=timings.retrieval_s,
        sources_s=sources_s,
        first_token_s=first_token_s,
        total_s=total_s,
        streamed_tokens=tokens,
    )


def _clip(text: str, limit: int = 90) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")


# --------------------------------------------------------------------------------------------- LLM judge


def load_judge_prompt(prompts_dir: Path = PROMPTS_DIR) -> tuple[str, str]:
    """The judge prompt's text and version (its ``version:`` label plus a hash of the exact text)."""
    prompt = load_prompt(prompts_dir, JUDGE_PROMPT_NAME)
    digest = hashlib.sha256(prompt.text.encode("utf-8")).hexdigest()[:8]
    return prompt.text, f"{prompt.label}#{digest}"


def judge_from_settings(settings: Settings) -> JudgeSetup | None:
    """An LLM judge on the configured endpoint, or None unless ``llm_backend`` is "openai" or "ollama".

    A judge is only worth its cost with a capable remote model; the bundled 1.5B model grading its own
    answers would mostly measure its own biases, so local backends get no judge.
    """
    if settings.llm_backend not in ("openai", "ollama"):
        return None
    from assistant.llm import build_chat_model

    model = build_chat_model(settings)

    def judge(prompt: str) -> str:
        return model.invoke([HumanMessage(content=prompt)]).text

    template, version = load_judge_prompt(settings.prompts_dir)
    return JudgeSetup(judge=judge, template=template, version=version)


# --------------------------------------------------------------------------------------------- CLI hooks


@dataclass(frozen=True)
class Threshold:
    """A CI gate: ``--min-hit5 0.8`` fails the run when summary["hit@5"] < 0.8."""

    flag: str
    metric: str
    bound: Literal["min", "max"]

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


THRESHOLDS: tuple[Threshold, ...] = (
    *(Threshold(f"--min-hit{k}", f"hit@{k}", "min") for k in DEFAULT_K_VALUES),
    Threshold("--min-mrr", "mrr", "min"),
    Threshold(f"--min-gold-recall{RECALL_K}", f"gold_recall@{RECALL_K}", "min"),
    Threshold(f"--min-case-study-recall{RECALL_K}", f"case_study_recall@{RECALL_K}", "min"),
    Threshold("--min-key-fact-recall", "key_fact_recall", "min"),
    Threshold("--min-citation-support", "citation_support", "min"),
    Threshold("--min-refusal-accuracy", "refusal_accuracy", "min"),
    Threshold("--min-adversarial-resistance", "adversarial_resistance", "min"),
    Threshold("--max-false-refusal-rate", "false_refusal_rate", "max"),
    Threshold("--max-must-not-violations", "must_not_violations", "max"),
    Threshold("--max-dangling-citations", "dangling_citations", "max"),
    Threshold("--max-retrieval-p50", "retrieval_p50_s", "max"),
    Threshold("--max-ttft-p50", "ttft_p50_s", "max"),
    Threshold("--max-ttft-p95", "ttft_p95_s", "max"),
    Threshold("--max-total-p95", "total_p95_s", "max"),
)


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``eval`` subcommand's options (the CLI builds settings from ``--backend`` itself)."""
    parser.add_argument(
        "--retrieval-only", action="store_true", help="score retrieval only; do not generate answers (fast)"
    )
    parser.add_argument(
        "--questions", type=Path, default=DEFAULT_GOLDEN_SET, metavar="PATH", help="golden-format JSONL file"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="PATH",
        help="results JSON (default evals/results/<time>.json)",
    )
    parser.add_argument(
        "--report", type=Path, default=None, metavar="PATH", help="HTML report (default: next to --out)"
    )
    parser.add_argument("--backend", choices=get_args(LLMBackend), default=None, help="chat model backend")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="evaluate the first N questions")
    parser.add_argument(
        "--typos",
        type=int,
        default=0,
        metavar="N",
        help="put N typos in each question (deterministic), to measure how mistyped questions fare",
    )
    parser.add_argument("--kind", action="append", choices=GOLD_KINDS, default=None, help="only this kind (repeatable)")
    parser.add_argument(
        "--compare", type=Path, default=None, metavar="OLD.json", help="print changes against an earlier run"
    )
    parser.add_argument(
        "--pipeline",
        choices=get_args(PipelineName),
        default="product",
        help="the product or the naive baseline",
    )
    parser.add_argument(
        "--judge", action="store_true", help="also score with an LLM judge (openai/ollama backends only)"
    )
    gates = parser.add_argument_group("thresholds", "exit with status 1 when a given threshold is missed")
    for threshold in THRESHOLDS:
        word = "minimum" if threshold.bound == "min" else "maximum"
        gates.add_argument(
            threshold.flag,
            dest=threshold.dest,
            type=float,
            default=None,
            metavar="X",
            help=f"{word} {threshold.metric}",
        )


def run_from_args(
    args: argparse.Namespace,
    assistant_factory: Callable[[], PipelineUnderTest],
    settings: Settings | None = None,
    *,
    console: Console | None = None,
    indexed_files: Sequence[str] | None = None,
) -> int:
    """Run ``nhs-assistant eval`` from parsed arguments; returns the exit status.

    0: done and every given threshold met. 1: a threshold missed (each named in the output). 2: the
    evaluation could not run (bad questions file, nothing selected, no settings for the baseline).
    ``settings`` (the CLI's, built once) is needed for ``--pipeline baseline``, which uses the configured
    chat model, and for ``--judge``.
    """
    out = console or Console()
    try:
        questions = select_questions(load_questions(args.questions), kinds=args.kind, limit=args.limit)
    except (OSError, ValueError) as error:
        out.print(f"[red]Cannot read questions:[/] {error}")
        return 2
    if not questions:
        out.print("[red]No questions selected.[/]")
        return 2
    if args.typos < 0:
        out.print("[red]--typos must be 0 or more.[/]")
        return 2
    if indexed_files is not None:
        for warning in unindexed_gold_documents(questions, indexed_files):
            out.print(f"[yellow]Warning:[/] {warning}")
    questions = [with_typos(item, args.typos) for item in questions] if args.typos else questions
    typos = f" ({args.typos} typo{'s' if args.typos != 1 else ''} per question)" if args.typos else ""
    questions_file = f"{args.questions}{typos}"
    factory = assistant_factory
    if args.pipeline == "baseline":
        if settings is None:
            out.print("[red]--pipeline baseline needs the settings of the chat model to use.[/]")
            return 2
        factory = _baseline_factory(settings, with_chat_model=not args.retrieval_only)
    judge = judge_from_settings(settings) if args.judge and settings is not None else None
    if args.judge and judge is None:
        out.print("[yellow]--judge needs an openai or ollama backend; scoring without the LLM judge.[/]")
    pipeline = factory()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=out,
    ) as bar:
        task = bar.add_task(f"Evaluating {args.pipeline}", total=len(questions))
        run = run_eval(
            pipeline,
            questions,
            retrieval_only=args.retrieval_only,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            pipeline=args.pipeline,
            questions_file=questions_file,
            judge=judge if args.judge else None,
        )
    results_path = args.out or RESULTS_DIR / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{args.pipeline}.json"
    report_path = args.report or results_path.with_suffix(".html")
    results = run.to_json()
    write_results(run, results_path)
    write_report(results, report_path)
    out.print(f"{run.pipeline} · model {run.model} · prompt {run.prompt_version}", highlight=False)
    out.print(summary_table(run))
    out.print(kind_table(run))
    out.print(f"Results: {results_path}\nReport:  {report_path}")
    if args.compare is not None:
        try:
            previous = load_results(args.compare)
        except (OSError, ValueError) as error:
            out.print(f"[red]Cannot compare:[/] {error}")
            return 2
        out.print(comparison_table(compare_runs(previous, results), title=f"Compared with {args.compare}"))
        flips = question_flips(previous, results)
        if flips:
            out.print(flips_table(flips))
    missed = check_thresholds(run.summary, {t.metric: getattr(args, t.dest) for t in THRESHOLDS})
    for message in missed:
        out.print(f"[red]Threshold missed:[/] {message}")
    return 1 if missed else 0


def unindexed_gold_documents(questions: Sequence[GoldItem], indexed_files: Sequence[str]) -> list[str]:
    """One warning per gold document (a file name) that is not in the index, naming its questions.

    Their gold passages cannot be retrieved, so they score 0 whatever the retriever does: a questions file
    written for documents since removed, renamed or never ingested would read as a retrieval regression.
    """
    indexed = {Path(name).name.lower() for name in indexed_files}
    asking: dict[str, list[str]] = {}
    for item in questions:
        for source in item.gold_sources:
            if Path(source.doc).name.lower() not in indexed:
                asking.setdefault(source.doc, [])
                if item.id not in asking[source.doc]:
                    asking[source.doc].append(item.id)
    return [
        f"{document} is not in the index: unless the same text is indexed under another name, its gold "
        f"passages cannot be found and {len(ids)} question(s) will score 0 on retrieval "
        f"({', '.join(ids[:5])}{', …' if len(ids) > 5 else ''}). Ingest it, or check the questions file."
        for document, ids in sorted(asking.items())
    ]


def _baseline_factory(settings: Settings, *, with_chat_model: bool) -> Callable[[], PipelineUnderTest]:
    def build() -> PipelineUnderTest:
        # Imported here: the baseline pulls in langchain-chroma and langchain-huggingface, which a product
        # evaluation never needs.
        from assistant.llm import build_chat_model
        from evals.baseline import NaiveBaseline

        return NaiveBaseline(settings, build_chat_model(settings) if with_chat_model else None)

    return build


def select_questions(
    questions: Sequence[GoldItem], *, kinds: Sequence[str] | None = None, limit: int | None = None
) -> list[GoldItem]:
    """The questions of the given kinds (all when None), in file order, at most ``limit`` of them."""
    chosen = [item for item in questions if not kinds or item.kind in kinds]
    return chosen[:limit] if limit is not None else chosen


def check_thresholds(summary: Mapping[str, float], limits: Mapping[str, float | None]) -> list[str]:
    """One message per missed threshold. ``limits`` maps a metric to its bound (None: not set); the bound's
    direction comes from :data:`THRESHOLDS`. A bound on a metric the run did not compute counts as missed,
    so a misconfigured CI job fails loudly instead of passing silently."""
    messages: list[str] = []
    for threshold in THRESHOLDS:
        bound = limits.get(threshold.metric)
        if bound is None:
            continue
        value = summary.get(threshold.metric)
        shown = format_metric_value(threshold.metric, value)
        if value is None:
            messages.append(f"{threshold.metric} was not computed in this run, so {threshold.flag} cannot be checked")
        elif threshold.bound == "min" and value < bound:
            messages.append(f"{threshold.metric} = {shown} is below the minimum {bound:g} ({threshold.flag})")
        elif threshold.bound == "max" and value > bound:
            messages.append(f"{threshold.metric} = {shown} is above the maximum {bound:g} ({threshold.flag})")
    return messages


def summary_table(run: EvalRun) -> Table:
    """The run's summary metrics as a rich table."""
    table = Table(title="Summary")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in run.summary.items():
        table.add_row(name, format_metric_value(name, value))
    return table


# Short headers so the per-kind table fits an 80-column terminal.
_KIND_TABLE_COLUMNS = {
    "n_questions": "n",
    "hit@5": "hit@5",
    "mrr": "mrr",
    "key_fact_recall": "facts",
    "citation_support": "cited",
    "refusal_accuracy": "refuse",
    "adversarial_resistance": "resist",
    "must_not_violations": "forbid",
}


def kind_table(run: EvalRun) -> Table:
    """Headline metrics per kind of question, one row per kind."""
    columns = [name for name in _KIND_TABLE_COLUMNS if any(name in values for values in run.by_kind.values())]
    table = Table(title="By kind of question")
    table.add_column("kind", no_wrap=True)
    for name in columns:
        table.add_column(_KIND_TABLE_COLUMNS[name], justify="right")
    for kind, values in run.by_kind.items():
        table.add_row(kind, *(format_metric_value(name, values.get(name)) for name in columns))
    return table
