"""The `rag` command: ingest articles, ask questions, open the chat page, run the evaluation."""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

if TYPE_CHECKING:
    from rag.engine import Engine
    from rag.store import Progress

EXAMPLES = """examples:
  rag ingest                      ingest the seed articles (only new or changed ones are embedded)
  rag ingest ~/articles           ingest a folder of .txt / .md articles
  rag ask "How many talents does Suzhou have?"
  rag ask "苏州高新区已累计集聚各类人才多少人？" --json
  rag chat                        open the chat page on http://127.0.0.1:7860
  rag eval --check                score answers against evals/questions.jsonl

settings come from RAG_* environment variables (see README.md), e.g. RAG_DATA_DIR=/tmp/rag rag ask "..."
"""


def parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per job."""
    main = argparse.ArgumentParser(
        prog="rag",
        description="Cited answers from news articles, offline by default.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = main.add_subparsers(dest="command", metavar="COMMAND")

    ingest = commands.add_parser("ingest", help="ingest a folder of articles into the store")
    ingest.add_argument("path", nargs="?", type=Path, help="folder of .txt/.md articles (default: the seeds folder)")
    ingest.add_argument(
        "--keep", action="store_true", help="keep stored articles that are not in PATH (default: remove them)"
    )
    ingest.add_argument("--rebuild", action="store_true", help="delete the store and ingest everything again")

    ask = commands.add_parser("ask", help="answer a question with citations")
    ask.add_argument("question", help="the question, in English or Chinese")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")

    commands.add_parser("chat", help="open the chat web page")
    commands.add_parser("eval", help="score answers against a question set (rag eval --help)", add_help=False)
    return main


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `rag` command; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["eval"]:
        from evals.run import main as run_eval

        return run_eval(argv[1:])
    args = parser().parse_args(argv)
    if args.command is None:
        parser().print_help()
        return 2
    try:
        from rag.settings import Settings

        settings = Settings()
    except ValidationError as error:
        print(f"rag: a setting is wrong:\n{error}", file=sys.stderr)
        return 2
    try:
        if args.command == "ingest":
            return _ingest(settings, args.path, keep=args.keep, rebuild=args.rebuild)
        if args.command == "ask":
            return _ask(settings, args.question, as_json=args.json)
        if args.command == "chat":
            from ui.app import main as chat

            chat(settings)
            return 0
    except (OSError, RuntimeError, ValueError) as error:
        print(f"rag: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 2


@contextmanager
def progress_bar() -> Iterator[Progress]:
    """A progress callback for `Engine.ingest` that draws a bar on stderr (when it is a terminal)."""
    from tqdm import tqdm

    with tqdm(unit="article", desc="Ingesting", disable=None) as bar:

        def progress(done: int, total: int, name: str) -> None:
            bar.total = total
            bar.set_postfix_str(name[:40])
            bar.update(done - bar.n)

        yield progress


def first_run(engine: Engine) -> None:
    """Ingest the seed articles into an empty store, saying so on stderr: embedding them takes a while."""
    if engine.store.count():
        return
    print("Ingesting the seed articles (first run)…", file=sys.stderr, flush=True)
    with progress_bar() as progress:
        engine.ingest(engine.settings.seeds_dir, progress=progress)


def _ingest(settings: object, path: Path | None, keep: bool, rebuild: bool) -> int:
    from rag.engine import Engine

    engine = Engine(settings)  # type: ignore[arg-type]
    if rebuild:
        engine.rebuild()
    with progress_bar() as progress:
        report = engine.ingest(path, progress=progress, prune=not keep)
    for skipped in report.skipped:
        print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    print(
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed, {len(report.skipped)} skipped; "
        f"{report.sentences_embedded} sentences embedded in {report.seconds:.1f} s"
    )
    return 0


def _ask(settings: object, question: str, as_json: bool) -> int:
    from rag.engine import Engine

    engine = Engine(settings)  # type: ignore[arg-type]
    first_run(engine)
    answer = engine.ask(question)
    if isinstance(sys.stdout, io.TextIOWrapper) and sys.stdout.errors == "strict":
        # A question given as bytes that are not UTF-8 arrives as lone surrogates: echo them escaped, not crash.
        sys.stdout.reconfigure(errors="backslashreplace")
    if as_json:
        print(json.dumps(dataclasses.asdict(answer), ensure_ascii=False, indent=2))
        return 0
    print(answer.text)
    for warning in answer.warnings:
        print(f"! {warning}")
    for citation in answer.citations:
        print(f"\n[{citation.number}] {citation.title} — paragraph {citation.paragraph} ({citation.document})")
        print(f"    “{citation.quote}”")
    if answer.nearest:
        print("\nClosest passages (they may not answer the question):")
    for passage in answer.nearest:
        print(f"\n- {passage.title} — paragraph {passage.paragraph} ({passage.document})")
        print(f"    “{passage.quote}”")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
