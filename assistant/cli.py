"""``nhs-assistant``: the command line over the library (ingest, ask, chat, serve, eval).

Thin on purpose: each subcommand parses flags into :class:`Settings`, calls the same public functions the app
and the evals call, and prints. The CLI is the outermost edge, so it alone may reach into ``evals`` and the app.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from contextlib import closing
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.config import Settings, load_settings
from assistant.records import CHUNK_KINDS, Answer, AnswerDone, Filters, Source, SourcesReady, Turn, conversation

if TYPE_CHECKING:
    from assistant.pipeline import Assistant

DATA_DIR_HELP = "index directory (default: $NHS_ASSISTANT_DATA_DIR or ./.nhs-assistant)"
BACKENDS = ("llamacpp", "openai", "ollama", "fake")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    handler = {"ingest": _ingest, "ask": _ask, "chat": _chat, "serve": _serve, "eval": _eval}[args.command]
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nhs-assistant",
        description="Ask cited questions of NHS innovation learning reports, offline.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    ingest = commands.add_parser(
        "ingest",
        help="index documents (PDF, Word, PowerPoint, Markdown, HTML, text); incremental",
        description="Index files or folders. Unchanged files are skipped, changed ones replaced, files removed "
        "from an ingested folder are dropped. Exit status 0 when every file ingested, 1 when some failed "
        "(the others are still committed).",
    )
    ingest.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the bundled corpus/)")
    ingest.add_argument("--data-dir", type=Path, help=DATA_DIR_HELP)
    ingest.add_argument("--json", action="store_true", help="print a machine-readable summary")

    ask = commands.add_parser(
        "ask", help="answer one question with cited sources", description="Answer a question from the index."
    )
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument(
        "--after",
        action="append",
        default=[],
        metavar="QUESTION",
        help="an earlier question this one follows on from (repeat for several, oldest first), so "
        "'how did they fund it?' is read with it in mind",
    )
    ask.add_argument("--json", action="store_true", help="print the full answer record as JSON")
    chat = commands.add_parser(
        "chat",
        help="a conversation in the terminal: follow-up questions are read with the earlier ones in mind",
        description="Ask questions one after another; each is answered with cited sources, and a follow-up "
        "('and what about ambulance trusts?') is read with the conversation so far. 'exit' or the end of input "
        "(Ctrl-D) ends it; Ctrl-C stops a slow answer.",
    )
    for command in (ask, chat):
        command.add_argument("--data-dir", type=Path, help=DATA_DIR_HELP)
        command.add_argument("--backend", choices=BACKENDS, help="chat model backend (default: llamacpp)")
        command.add_argument(
            "--organisation", action="append", default=[], help="only passages about this organisation"
        )
        command.add_argument(
            "--kind", action="append", default=[], choices=CHUNK_KINDS, help="only this kind of passage"
        )
        command.add_argument("--document", action="append", default=[], help="only this document id")
        command.add_argument(
            "--domain",
            action="append",
            default=[],
            help="only this report section, e.g. 'Governance & Resources'",
        )

    serve = commands.add_parser(
        "serve",
        help="run the web app (ingests the bundled corpus first if the index is empty)",
        description="Serve the Gradio app on 127.0.0.1:7860 unless configured otherwise.",
    )
    serve.add_argument("--data-dir", type=Path, help=DATA_DIR_HELP)
    serve.add_argument("--backend", choices=BACKENDS, help="chat model backend")
    serve.add_argument("--host", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 7860)")

    evaluate = commands.add_parser(
        "eval",
        help="score retrieval and answers on a question set",
        description="Run the golden question set (or --questions PATH) through the same Assistant the app uses; "
        "writes a JSON results file and an HTML report.",
    )
    evaluate.add_argument("--data-dir", type=Path, help=DATA_DIR_HELP)
    from evals.runner import add_eval_arguments

    add_eval_arguments(evaluate)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        data_dir=getattr(args, "data_dir", None),
        llm_backend=getattr(args, "backend", None),
        app_host=getattr(args, "host", None),
        app_port=getattr(args, "port", None),
    )


def _ingest(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    from ingest.pipeline import IngestBusy, ingest_paths

    settings = _settings(args)
    paths = args.paths or [settings.corpus_dir]
    try:
        if args.json:
            report = ingest_paths(paths, settings)
        else:
            with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn()) as bar:
                task = bar.add_task("ingesting", total=None)

                def progress(done: int, total: int, name: str) -> None:
                    bar.update(task, completed=done, total=total, description=f"ingesting {name}"[:60])

                report = ingest_paths(paths, settings, progress=progress)
    except IngestBusy as busy:
        print(f"error: {busy}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(asdict(report) | {"ok": report.ok}, indent=2))
    else:
        print(
            f"{report.files_seen} files: {report.documents_added} added, {report.documents_updated} updated, "
            f"{report.documents_unchanged} unchanged, {report.documents_removed} removed, "
            f"{report.duplicates_skipped} duplicate(s) skipped, {len(report.failures)} failed\n"
            f"chunks: {report.chunks_added} added, {report.chunks_removed} removed, "
            f"{report.chunks_embedded} embedded, {report.chunks_total} in the index ({report.seconds:.1f} s)"
        )
        for warning in report.warnings:
            print(f"warning: {warning}")
        for failure in report.failures:
            print(f"failed: {failure.path}: {failure.reason}", file=sys.stderr)
    return 0 if report.ok else 1


def _ask(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if not args.question.strip():
        print("error: the question is empty", file=sys.stderr)
        return 2
    if not _ensure_index(settings):
        return 1
    assistant, filters = _assistant(settings, args)
    # Earlier questions only, not earlier answers: a follow-up is resolved from the question it follows
    # (its organisation, its topic), which is what a user can give on one command line.
    history = [Turn("user", earlier) for earlier in args.after if earlier.strip()]
    answer = _answer(assistant, args.question, history, filters, quiet=args.json)
    if answer is None:
        return 1
    if args.json:
        print(json.dumps(asdict(answer), indent=2, default=str))
    else:
        _print_answer(answer)
    return 0


def _chat(args: argparse.Namespace) -> int:
    """A conversation: the same answers as ``ask``, each follow-up read with the earlier answers as the app
    reads them (:func:`conversation`), so "how did they fund it?" finds the trust the last answer was about.

    Only "exit", "quit" or the end of input ends it: a stray blank line would lose the conversation. Ctrl-C
    during a slow answer stops that answer, not the conversation. The prompt goes to stderr, so piped output
    holds only the answers."""
    settings = _settings(args)
    if not _ensure_index(settings):
        return 1
    assistant, filters = _assistant(settings, args)
    answers: list[Answer] = []
    print("Ask a question about the reports ('exit' or Ctrl-D ends).", file=sys.stderr)
    while True:
        print("\n> ", end="", file=sys.stderr, flush=True)
        try:
            line = sys.stdin.readline()
        except KeyboardInterrupt:
            line = ""
        if not line:
            print(file=sys.stderr)
            break
        question = line.strip()
        if question.lower() in ("exit", "quit"):
            break
        if not question:
            continue
        try:
            answer = _answer(assistant, question, conversation(answers), filters, quiet=False)
        except KeyboardInterrupt:
            print("(stopped; ask again or 'exit')", file=sys.stderr)
            continue
        if answer is None:
            return 1
        print(f"> {question}\n" if not sys.stdin.isatty() else "", end="")
        _print_answer(answer)
        answers.append(answer)
    return 0


def _assistant(settings: Settings, args: argparse.Namespace) -> tuple[Assistant, Filters]:
    from assistant.pipeline import Assistant
    from ingest.store import ChunkStore

    assistant = Assistant(settings, store=ChunkStore(settings))
    filters = Filters(
        doc_ids=tuple(args.document),
        organisations=tuple(assistant.organisations.canonical(o) or o for o in args.organisation),
        kinds=tuple(args.kind),
        domains=tuple(args.domain),
    )
    return assistant, filters


def _answer(
    assistant: Assistant, question: str, history: Sequence[Turn], filters: Filters, quiet: bool
) -> Answer | None:
    # The model's tokens are not echoed: the checks after generation may cut a sentence (an invented figure,
    # a trust credited with another's work) or turn the answer into a refusal, and a terminal cannot take
    # back what it printed. The checked answer is printed whole, as the app shows it once the answer ends.
    answer = None
    with closing(assistant.stream(question, history, filters=filters)) as events:
        for event in events:
            if isinstance(event, SourcesReady) and not quiet and event.sources:
                print(f"Found {len(event.sources)} sources; answering…\n", file=sys.stderr)
            elif isinstance(event, AnswerDone):
                answer = event.answer
    return answer


def _print_answer(answer: Answer) -> None:
    print(answer.text)
    if answer.refused or not answer.sources:
        return
    print("\nSources:")
    for source in answer.sources:
        print(f"  [{source.number}] {_describe_source(source)}")
    if answer.unsupported_sentences:
        print("\nNot supported by the cited sources (check before relying on it):")
        for sentence in answer.unsupported_sentences:
            print(f"  - {sentence}")
    timings = answer.timings
    first = f"{timings.first_token_s:.1f}" if timings.first_token_s is not None else "-"
    print(
        f"\n({answer.model}; sources {timings.sources_s:.1f} s, first token {first} s, total {timings.total_s:.1f} s)"
    )


def _describe_source(source: Source) -> str:
    chunk = source.chunk
    parts = [chunk.doc_title, chunk.section or "-"]
    if chunk.page is not None:
        parts.append(chunk.page_reference)
    if chunk.organisations:
        parts.append(", ".join(chunk.organisations[:3]))
    return " | ".join(parts)


def _serve(args: argparse.Namespace) -> int:
    from app import serve

    serve(_settings(args))
    return 0


def _eval(args: argparse.Namespace) -> int:
    from assistant.pipeline import Assistant
    from evals.runner import run_from_args
    from ingest.store import ChunkStore

    settings = _settings(args)
    if not _ensure_index(settings):
        return 1
    indexed = None
    if args.pipeline == "product":  # the baseline builds its own index from the corpus folder
        with closing(ChunkStore(settings)) as store:
            indexed = [document.path for document in store.documents()]
    return run_from_args(args, lambda: Assistant(settings), settings, indexed_files=indexed)


def _ensure_index(settings: Settings) -> bool:
    """An empty index is filled from the bundled corpus first, as on a fresh checkout, and documents indexed
    by an older version are rebuilt; False if nothing could be indexed."""
    from ingest.pipeline import prepare_index

    prepared = prepare_index(settings)
    if prepared is None:
        return True
    what, report = prepared
    print(f"{what}…", file=sys.stderr)
    for failure in report.failures:
        print(f"failed: {failure.path}: {failure.reason}", file=sys.stderr)
    if report.chunks_total == 0:
        print("error: nothing could be ingested; see the messages above", file=sys.stderr)
        return False
    return True


if __name__ == "__main__":
    raise SystemExit(main())
