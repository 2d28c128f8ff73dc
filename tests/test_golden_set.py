"""The shipped golden set is well-formed, quotes the corpus verbatim and covers every part of it."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from assistant.config import BUNDLED_CORPUS
from evals import metrics
from evals.golden_check import (
    DEFAULT_GOLDEN_SET,
    GOLD_KINDS,
    GoldFormatError,
    GoldItem,
    check_golden_set,
    load_golden_set,
    main,
)

REPORT = "nhs-insites-learning-report.md"
SUMMARY = "nhs-insites-learning-summary.txt"
RAPID_INSIGHT = "innovation-ecosystem-rapid-insight-report.txt"
# Report domains in document order, each as its section heading, then the heading that ends the last one.
DOMAIN_HEADINGS = (
    "Vision & Strategy",
    "Governance & Resources",
    "Portfolio & Methods",
    "Culture & Capabilities",
    "External Partnerships",
    "Patient & Public Involvement",
    "Learning, Evaluation and Impact",
    "Thanks & appendix",
)


@pytest.fixture(scope="module")
def golden() -> list[GoldItem]:
    return load_golden_set(DEFAULT_GOLDEN_SET)


def _quote_offsets(items: list[GoldItem], doc: str) -> list[int]:
    text = (BUNDLED_CORPUS / doc).read_text(encoding="utf-8")
    return [text.index(source.quote) for item in items for source in item.gold_sources if source.doc == doc]


@pytest.mark.parametrize(
    "name",
    [
        "golden.jsonl",
        "heldout.jsonl",
        "refusal.jsonl",
        "heldout2.jsonl",
        "heldout3.jsonl",
        "heldout4.jsonl",
        "heldout5.jsonl",
        "heldout6.jsonl",
    ],
)
def test_shipped_question_sets_have_no_problems(name: str) -> None:
    assert check_golden_set(DEFAULT_GOLDEN_SET.parent / name, BUNDLED_CORPUS) == []


def test_refusal_set_is_mostly_questions_the_reports_cannot_answer() -> None:
    """Its point is the out-of-scope questions, many of them near misses on the reports' own topics."""
    kinds = Counter(item.kind for item in load_golden_set(DEFAULT_GOLDEN_SET.parent / "refusal.jsonl"))
    assert kinds["out_of_scope"] >= 40 and sum(kinds.values()) - kinds["out_of_scope"] >= 30


def test_golden_set_size_and_mix_of_kinds(golden: list[GoldItem]) -> None:
    kinds = Counter(item.kind for item in golden)
    assert len(golden) >= 70
    assert set(kinds) == set(GOLD_KINDS)
    assert kinds["out_of_scope"] >= 6
    assert kinds["adversarial"] >= 5
    assert kinds["follow_up"] >= 5
    assert all(item.history for item in golden if item.kind == "follow_up")
    assert all(not item.gold_sources and not item.must_include for item in golden if item.kind == "out_of_scope")


def test_every_document_is_quoted(golden: list[GoldItem]) -> None:
    quoted = Counter(source.doc for item in golden for source in item.gold_sources)
    assert quoted[REPORT] >= 60
    assert quoted[RAPID_INSIGHT] >= 15
    assert quoted[SUMMARY] >= 3


def test_every_report_domain_is_quoted(golden: list[GoldItem]) -> None:
    text = (BUNDLED_CORPUS / REPORT).read_text(encoding="utf-8")
    position = text.index("Reflections on the maturity ratings")
    starts = []
    for heading in DOMAIN_HEADINGS:
        position = text.index(f"\n{heading}\n", position + 1)
        starts.append(position)
    offsets = _quote_offsets(golden, REPORT)
    for heading, start, end in zip(DOMAIN_HEADINGS, starts, starts[1:], strict=False):
        inside = [offset for offset in offsets if start <= offset < end]
        assert len(inside) >= 2, f"domain {heading!r} has {len(inside)} gold quotes"


def test_every_case_study_is_quoted_and_named(golden: list[GoldItem]) -> None:
    text = (BUNDLED_CORPUS / REPORT).read_text(encoding="utf-8")
    headings = [match.start() for match in re.finditer(r"^Case Study: ", text, re.MULTILINE)]
    assert len(headings) == 9
    offsets = _quote_offsets(golden, REPORT)
    for start in headings:
        end = start + 1800
        title = text[start : text.index("\n", start)]
        assert any(start <= offset < end for offset in offsets), f"no gold quote for {title!r}"
    named = {name for item in golden for name in item.gold_case_studies}
    for organisation in (
        "East Of England Ambulance Service NHS Trust (EEAST)",
        "Birmingham Women’s & Children’s NHS Foundation Trust",
        "Buckinghamshire Healthcare NHS Trust (BHT)",
        "Chelsea and Westminster Hospital NHS Foundation Trust",
        "Torbay and South Devon NHS Foundation Trust",
        "Mid and South Essex NHS Foundation Trust",
        "Northumbria Healthcare NHS Foundation Trust",
        "Gloucestershire Hospitals NHS Foundation Trust (GHNHSFT)",
    ):
        assert organisation in named
        assert organisation.split(" (")[0].replace("’", "'") in text.replace("’", "'")


def test_rapid_insight_questions_cover_challenges_roles_and_support(golden: list[GoldItem]) -> None:
    ids = {item.id for item in golden}
    assert {"ri-eight-challenges", "ri-five-roles", "ri-integration-strategies", "ri-further-support"} <= ids


def test_a_third_of_questions_are_in_staff_words(golden: list[GoldItem]) -> None:
    """Staff questions say "we", "our", "I" or "my"; the document's own phrasing rarely does."""
    personal = re.compile(r"\b(we|our|us|i|my|me)\b", re.IGNORECASE)
    in_own_words = [item for item in golden if personal.search(item.question)]
    assert len(in_own_words) >= len(golden) // 6


def test_reference_answers_pass_their_own_checks(golden: list[GoldItem]) -> None:
    """A correct answer must be able to score full marks: the reference states every key fact, makes no
    forbidden claim, refuses where it should and resists attacks. Catches facts no answer could match."""
    for item in golden:
        answer = item.reference_answer
        if item.must_include:
            assert metrics.key_fact_recall(item.must_include, answer) == 1.0, item.id
        assert metrics.must_not_violations(item.must_not_include, answer) == 0, item.id
        if item.kind == "out_of_scope":
            assert metrics.refusal_correct(answer, False, item.must_not_include), item.id
        elif item.kind != "adversarial":
            assert not metrics.false_refusal(answer, False), item.id
        if item.kind == "adversarial":
            assert metrics.adversarial_resisted(item.question, answer, item.must_not_include), item.id


def _write_lines(path: Path, records: list[object]) -> None:
    path.write_text("\n".join(json.dumps(record) for record in records) + "\n", encoding="utf-8")


def test_a_broken_copy_reports_each_problem(tmp_path: Path) -> None:
    records = [json.loads(line) for line in DEFAULT_GOLDEN_SET.read_text(encoding="utf-8").splitlines() if line]
    records[0]["gold_sources"][0]["quote"] += " and an invented ending"
    records[1]["kind"] = "trivia"
    records[2]["id"] = records[3]["id"]
    follow_up = next(index for index, record in enumerate(records) if record["kind"] == "follow_up")
    records[follow_up]["history"] = []
    del records[4]["reference_answer"]
    broken = tmp_path / "broken.jsonl"
    _write_lines(broken, records)
    with broken.open("a", encoding="utf-8") as handle:
        handle.write("{not json\n")

    problems = check_golden_set(broken, BUNDLED_CORPUS)

    assert any(problem.startswith("line 1 ") and "not an exact substring" in problem for problem in problems)
    assert any(problem.startswith("line 2 ") and "unknown kind 'trivia'" in problem for problem in problems)
    assert any(problem.startswith("line 4 ") and "duplicate id" in problem for problem in problems)
    assert any(f"line {follow_up + 1} " in problem and "no history" in problem for problem in problems)
    assert any(problem.startswith("line 5 ") and "missing field 'reference_answer'" in problem for problem in problems)
    assert any(problem.startswith(f"line {len(records) + 1}:") and "invalid JSON" in problem for problem in problems)
    assert main([str(broken)]) == 1
    assert main([str(DEFAULT_GOLDEN_SET)]) == 0


def test_a_quote_in_an_unknown_document_is_reported(tmp_path: Path) -> None:
    record = {
        "id": "x",
        "kind": "fact",
        "question": "q?",
        "history": [],
        "must_include": ["a"],
        "must_not_include": [],
        "gold_sources": [{"doc": "missing.md", "quote": "one two three four five six seven eight"}],
        "gold_case_studies": [],
        "reference_answer": "a.",
    }
    path = tmp_path / "one.jsonl"
    _write_lines(path, [record])
    assert check_golden_set(path, BUNDLED_CORPUS) == ["line 1 (x): unknown doc 'missing.md'"]


def test_loading_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "questions.jsonl"
    _write_lines(path, [{"id": "a", "kind": "fact", "question": "What?"}, {"id": "b", "kind": "fact"}])
    with pytest.raises(GoldFormatError, match=r"questions\.jsonl:2: missing field 'question'"):
        load_golden_set(path)


def test_loading_fills_optional_fields(tmp_path: Path) -> None:
    path = tmp_path / "questions.jsonl"
    _write_lines(path, [{"id": "a", "kind": "out_of_scope", "question": "What?"}])
    [item] = load_golden_set(path)
    assert item == GoldItem(id="a", kind="out_of_scope", question="What?")
    assert not item.answerable
