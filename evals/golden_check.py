"""The golden-set format: typed records, a parser, and a checker for golden files.

A golden file is JSON Lines, one question per line::

    {"id", "kind", "question", "history": [{"role", "content"}], "must_include": [..],
     "must_not_include": [..], "gold_sources": [{"doc", "quote"}], "gold_case_studies": [..],
     "reference_answer"}

``quote`` is a verbatim substring of the corpus file ``doc`` (8-40 words), so retrieval can be scored by
quote text whatever the store calls its documents. :func:`parse_gold_item` is lenient about optional fields so
users can bring short question files; :func:`check_golden_set` is strict, for the files we ship.

Run ``python -m evals.golden_check [PATH] [--corpus DIR]``: prints each problem and exits 1 if there are any.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from assistant.config import BUNDLED_CORPUS
from assistant.records import Turn

GoldKind = Literal[
    "fact", "case_study", "synthesis", "numeric", "comparison", "out_of_scope", "follow_up", "adversarial"
]
GOLD_KINDS: tuple[GoldKind, ...] = get_args(GoldKind)
_KINDS_BY_NAME: dict[str, GoldKind] = {kind: kind for kind in GOLD_KINDS}
REQUIRED_FIELDS = ("id", "question")
ALL_FIELDS = (
    "id",
    "kind",
    "question",
    "history",
    "must_include",
    "must_not_include",
    "gold_sources",
    "gold_case_studies",
    "reference_answer",
)
# Kinds whose answer must come from the documents, so they must say where it is.
SOURCED_KINDS: frozenset[GoldKind] = frozenset(
    {"fact", "case_study", "synthesis", "numeric", "comparison", "follow_up"}
)
QUOTE_MIN_WORDS = 8
QUOTE_MAX_WORDS = 40
DEFAULT_GOLDEN_SET = Path(__file__).resolve().parent / "golden.jsonl"


@dataclass(frozen=True)
class GoldSource:
    """Where the answer is: ``quote`` is copied verbatim from the corpus file named ``doc``."""

    doc: str
    quote: str


@dataclass(frozen=True)
class GoldItem:
    """One golden question with everything needed to score retrieval and the answer."""

    id: str
    kind: GoldKind
    question: str
    history: tuple[Turn, ...] = ()
    must_include: tuple[str, ...] = ()
    must_not_include: tuple[str, ...] = ()
    gold_sources: tuple[GoldSource, ...] = ()
    gold_case_studies: tuple[str, ...] = ()
    reference_answer: str = ""

    @property
    def answerable(self) -> bool:
        """Out-of-scope questions should be refused; every other kind has an answer in the corpus."""
        return self.kind != "out_of_scope"

    @property
    def quotes(self) -> tuple[str, ...]:
        return tuple(source.quote for source in self.gold_sources)


class GoldFormatError(ValueError):
    """A line of a golden file that is not a valid item; the message names the file and line."""


def parse_gold_item(data: object) -> GoldItem:
    """Build a :class:`GoldItem` from one decoded JSON line; raises ValueError naming the bad field."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    for name in REQUIRED_FIELDS:
        if name not in data:
            raise ValueError(f"missing field {name!r}")
    item_id = _string(data, "id")
    if not item_id.strip():
        raise ValueError("empty 'id'")
    # A hub team's own file may leave out the kind; it then counts as an answerable fact question.
    kind_name = _string(data, "kind") if "kind" in data else "fact"
    kind = _KINDS_BY_NAME.get(kind_name)
    if kind is None:
        raise ValueError(f"unknown kind {kind_name!r} (expected one of {', '.join(GOLD_KINDS)})")
    question = _string(data, "question")
    if not question.strip():
        raise ValueError("empty 'question'")
    return GoldItem(
        id=item_id,
        kind=kind,
        question=question,
        history=_history(data.get("history", [])),
        must_include=_strings(data, "must_include"),
        must_not_include=_strings(data, "must_not_include"),
        gold_sources=_sources(data.get("gold_sources", [])),
        gold_case_studies=_strings(data, "gold_case_studies"),
        reference_answer=_string(data, "reference_answer") if "reference_answer" in data else "",
    )


def read_golden_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Non-blank lines with their 1-based line numbers."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def load_golden_set(path: Path) -> list[GoldItem]:
    """Parse every line; the first bad line raises :class:`GoldFormatError` with its line number."""
    items: list[GoldItem] = []
    for number, line in read_golden_lines(path):
        try:
            items.append(parse_gold_item(json.loads(line)))
        except (json.JSONDecodeError, ValueError) as error:
            raise GoldFormatError(f"{path}:{number}: {error}") from error
    return items


def check_golden_set(path: Path, corpus_dir: Path) -> list[str]:
    """Every problem in a golden file, one human-readable line each; an empty list means it is clean.

    Checks: valid JSON objects, all fields present with the right types, known kinds, unique ids,
    follow-ups with a history, sourced kinds with gold sources, out-of-scope items without facts or sources,
    and every quote an exact substring (8-40 words) of an existing corpus file.
    """
    if not path.is_file():
        return [f"{path}: no such file"]
    documents = _corpus_texts(corpus_dir)
    problems: list[str] = []
    seen_ids: dict[str, int] = {}
    for number, line in read_golden_lines(path):
        where = f"line {number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"{where}: invalid JSON ({error.msg})")
            continue
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            where = f"line {number} ({data['id']})"
        if isinstance(data, dict):
            problems.extend(f"{where}: missing field {name!r}" for name in ALL_FIELDS if name not in data)
        try:
            item = parse_gold_item(data)
        except ValueError as error:
            problems.append(f"{where}: {error}")
            continue
        if item.id in seen_ids:
            problems.append(f"{where}: duplicate id {item.id!r} (first on line {seen_ids[item.id]})")
        else:
            seen_ids[item.id] = number
        problems.extend(f"{where}: {problem}" for problem in _item_problems(item, documents))
    return problems


def _item_problems(item: GoldItem, documents: dict[str, str]) -> Iterator[str]:
    if item.kind == "follow_up" and not item.history:
        yield "follow_up item has no history"
    if item.kind in SOURCED_KINDS and not item.gold_sources:
        yield f"{item.kind} item has no gold_sources"
    if item.kind == "out_of_scope" and (item.gold_sources or item.must_include):
        yield "out_of_scope item should have empty gold_sources and must_include"
    if item.answerable and not item.reference_answer.strip():
        yield "empty reference_answer"
    for source in item.gold_sources:
        words = len(source.quote.split())
        if not QUOTE_MIN_WORDS <= words <= QUOTE_MAX_WORDS:
            expected = f"{QUOTE_MIN_WORDS}-{QUOTE_MAX_WORDS}"
            yield f"quote has {words} words (expected {expected}): {_clip(source.quote)}"
        text = documents.get(source.doc)
        if text is None:
            yield f"unknown doc {source.doc!r}"
        elif source.quote not in text:
            yield f"quote is not an exact substring of {source.doc}: {_clip(source.quote)}"


def _corpus_texts(corpus_dir: Path) -> dict[str, str]:
    """Text files of the corpus by file name; quotes are checked against the raw text, byte for byte."""
    if not corpus_dir.is_dir():
        return {}
    return {
        path.name: path.read_text(encoding="utf-8")
        for path in sorted(corpus_dir.iterdir())
        if path.is_file() and path.suffix.lower() in {".md", ".txt"}
    }


def _string(data: dict[str, object], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise ValueError(f"{name!r} must be a string")
    return value


def _strings(data: dict[str, object], name: str) -> tuple[str, ...]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
        raise ValueError(f"{name!r} must be a list of strings")
    return tuple(value)


def _history(value: object) -> tuple[Turn, ...]:
    if not isinstance(value, list):
        raise ValueError("'history' must be a list of {role, content} objects")
    turns: list[Turn] = []
    for entry in value:
        if not isinstance(entry, dict):
            raise ValueError("'history' entries must be {role, content} objects")
        role, content = entry.get("role"), entry.get("content")
        if role == "user" and isinstance(content, str):
            turns.append(Turn(role="user", content=content))
        elif role == "assistant" and isinstance(content, str):
            turns.append(Turn(role="assistant", content=content))
        else:
            raise ValueError("'history' entries need role 'user' or 'assistant' and a string content")
    return tuple(turns)


def _sources(value: object) -> tuple[GoldSource, ...]:
    if not isinstance(value, list):
        raise ValueError("'gold_sources' must be a list of {doc, quote} objects")
    sources: list[GoldSource] = []
    for entry in value:
        if not (isinstance(entry, dict) and isinstance(entry.get("doc"), str) and isinstance(entry.get("quote"), str)):
            raise ValueError("'gold_sources' entries need string 'doc' and 'quote'")
        sources.append(GoldSource(doc=entry["doc"], quote=entry["quote"]))
    return tuple(sources)


def _clip(text: str, limit: int = 70) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.golden_check", description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_GOLDEN_SET, help="golden JSONL file")
    parser.add_argument("--corpus", type=Path, default=BUNDLED_CORPUS, help="folder holding the quoted documents")
    args = parser.parse_args(argv)
    problems = check_golden_set(args.path, args.corpus)
    for problem in problems:
        print(problem)
    count = sum(1 for _ in read_golden_lines(args.path)) if args.path.is_file() else 0
    print(f"{args.path}: {count} items, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
