"""The `rag` command: ingest articles, ask questions, open the chat page, run the evaluation."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from rag.answer import Answer, Citation

if TYPE_CHECKING:
    from rag.engine import Engine, IngestReport
    from rag.settings import Settings
    from rag.store import Progress

EXAMPLES = """examples:
  rag ingest                      ingest the seed articles (only new or changed ones are embedded)
  rag ingest ~/articles           add and update the articles of a folder (removes nothing)
  rag ingest ~/articles --prune   ... and remove those that came from ~/articles and are gone from it
  rag ingest report.pdf           add one file (.txt .md .html .pdf .docx)
  rag ingest https://example.org/news/story.html   fetch web pages and ingest their articles
  rag ingest links.txt            fetch the links a file lists, one a line
  rag ask "How many talents does the city have?"
  rag ask "苏州高新区已累计集聚各类人才多少人？" --json
  rag chat                        open the chat page on http://127.0.0.1:7860
  rag eval --check                score answers against evals/questions.jsonl
  rag eval --feedback             score the readers' verdicts (DATA_DIR/feedback.jsonl) on the current engine
  rag feedback export --out mine.jsonl   the verdicts as evaluation questions, to review and add

settings come from RAG_* environment variables (see docs/configuration.md), e.g. RAG_DATA_DIR=/tmp/rag rag ask "..."

exit status:
  rag ask      0 answered, 1 not found in the articles, 2 usage error (bad arguments or setting, a question that
               cannot be asked as it is) or store error (damaged, in use)
  rag ingest   0 at least one article ingested (files that cannot be read are skipped and listed), 1 nothing could
               be ingested (every link refused, every file unreadable, an empty folder), 2 usage or store error
"""

ASK = """Answer QUESTION from the articles, with numbered citations.

exit status: 0 answered, 1 not found in the articles, 2 usage error (bad arguments or setting, a question that
cannot be asked as it is: empty, no words, too long) or store error (damaged, in use by another process).
"""


INGEST = """Add the articles of PATH that are new and update those whose text changed (only these are embedded).

Nothing is removed unless you ask: the store remembers where each article came from (a folder, or an upload
through the chat page), so an article that came from PATH and is no longer in it is only listed, and removed with
--prune. Articles from other folders and uploads are never touched by ingesting PATH. An article's id is its file
name: a file of the same name in another folder replaces it.

exit status: 0 at least one article ingested, updated or already there (unreadable files are skipped, each with a
reason); 1 nothing could be ingested (every link refused, every file unreadable, no article in PATH); 2 usage or
store error.
"""


ANSWERED, NOT_FOUND, FAILED = 0, 1, 2  # `rag ask`'s exit status; FAILED: a usage or store error, as argparse's
INGESTED, NOTHING_INGESTED = 0, 1  # `rag ingest`'s; a usage or store error is 2


def parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per job."""
    main = argparse.ArgumentParser(
        prog="rag",
        description="Cited answers from news articles, offline by default.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = main.add_subparsers(dest="command", metavar="COMMAND")

    ingest = commands.add_parser(
        "ingest",
        help="add and update the articles of a folder (removes nothing unless --prune)",
        description=INGEST,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ingest.add_argument(
        "path",
        nargs="*",
        help="a folder or file of articles (.txt .md .html .htm .pdf .docx), or links to web pages, or a file "
        "listing links (default: the seeds folder)",
    )
    removal = ingest.add_mutually_exclusive_group()
    removal.add_argument(
        "--prune",
        "--sync",
        action="store_true",
        help="also remove the stored articles that came from PATH and are gone from it (listed before)",
    )
    removal.add_argument("--keep", action="store_true", help="keep every stored article (the default; kept for scripts)")
    ingest.add_argument(
        "--rebuild",
        action="store_true",
        help="delete the store and ingest again every folder its articles came from (uploads included), and PATH",
    )

    ask = commands.add_parser(
        "ask",
        help="answer a question with citations (exit 0 answered, 1 not found, 2 usage or store error)",
        description=ASK,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ask.add_argument("question", help="the question, in English or Chinese")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")

    commands.add_parser("chat", help="open the chat web page")
    feedback = commands.add_parser("feedback", help="the readers' verdicts on answers (rag feedback export)")
    jobs = feedback.add_subparsers(dest="job", metavar="JOB", required=True)
    export = jobs.add_parser(
        "export", help="write the verdicts as evaluation questions (the schema of evals/questions.jsonl)"
    )
    export.add_argument("--out", type=Path, metavar="FILE", help="where to write them (default: standard output)")
    export.add_argument("--feedback", type=Path, metavar="PATH", help="the verdicts (default DATA_DIR/feedback.jsonl)")
    commands.add_parser("eval", help="score answers against a question set (rag eval --help)", add_help=False)
    return main


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `rag` command; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["eval"]:
        from rag.layout import part

        return int(part("evals.run").main(argv[1:], prog="rag eval"))
    args = parser().parse_args(argv)
    if args.command is None:
        parser().print_help()
        return FAILED
    try:
        from rag.settings import Settings

        settings = Settings()
    except ValidationError as error:
        print(f"rag: a setting is wrong:\n{error}", file=sys.stderr)
        return FAILED
    try:
        if args.command == "ingest":
            return _ingest(settings, args.path, prune=args.prune, rebuild=args.rebuild)
        if args.command == "ask":
            return _ask(settings, args.question, as_json=args.json)
        if args.command == "feedback":
            from rag.feedback import feedback_path
            from rag.layout import part

            source = args.feedback or feedback_path(settings.data_dir)
            return int(part("evals.feedback").export(source, args.out))
        if args.command == "chat":
            from rag.layout import part

            part("ui.app").main(settings)
            return 0
    except (OSError, RuntimeError, ValueError) as error:
        # A store that is damaged or in use, a folder that is not there: 2, apart from "not found" (1) for scripts.
        print(f"rag: {error}", file=sys.stderr)
        return FAILED
    except KeyboardInterrupt:
        return 130
    return FAILED


def _ingest(settings: Settings, paths: list[str], prune: bool, rebuild: bool) -> int:
    from rag.engine import Engine
    from rag.links import is_link, read_link_list

    links = [p for p in paths if is_link(p)]
    if links and len(links) < len(paths) or len(paths) > 1 and not links:
        print("rag: give one folder or file, or links (not both)", file=sys.stderr)
        return FAILED
    path = Path(paths[0]) if paths and not links else None
    if path is not None and path.is_file() and path.suffix.lower() in (".txt", ""):
        links = read_link_list(path) or []
    if links and rebuild:
        print("rag: --rebuild takes a folder, not links (the pages of links are ingested again with it)", file=sys.stderr)
        return FAILED
    engine = Engine(settings, notice=_notice)
    if links:
        report = engine.ingest_links(links)
        _print_report(report, None)
        return _ingest_status([report], links)
    folders = [path or settings.seeds_dir]
    if rebuild:
        recorded = engine.rebuild()
        # Every folder the articles came from, so that a rebuild loses none (the seeds when none is recorded).
        folders = list(dict.fromkeys([*([path] if path else []), *recorded])) or folders
        for folder in folders:
            print(f"Rebuilding from {folder}", file=sys.stderr)
    reports = []
    for folder in folders:
        if rebuild and not folder.exists():
            print(f"rag: {folder} is gone; the articles that came from it cannot be restored", file=sys.stderr)
            continue
        reports.append(_ingest_one(engine, folder, prune))
    return _ingest_status(reports, [str(folder) for folder in folders])


def _ingest_status(reports: list[IngestReport], paths: list[str]) -> int:
    """0 when an article was read (added, updated or unchanged) or a pruned one removed; 1, saying so, when none."""
    if any(r.added or r.updated or r.unchanged or r.removed for r in reports):
        return INGESTED
    print(f"rag: nothing could be ingested from {', '.join(paths)}", file=sys.stderr)
    return NOTHING_INGESTED


def _ingest_one(engine: Engine, folder: Path, prune: bool) -> IngestReport:
    from tqdm import tqdm

    def announce(doomed: list[str]) -> None:
        print(f"Removing {_articles(len(doomed))} gone from {folder}: {', '.join(doomed)}")

    with tqdm(unit="article", desc="Ingesting", disable=None) as bar:

        def progress(done: int, total: int, name: str) -> None:
            bar.total = total
            bar.set_postfix_str(name[:40])
            bar.update(done - bar.n)

        report = engine.ingest(folder, progress=progress, prune=prune, announce=announce)
    _print_report(report, folder)
    return report


def _print_report(report: IngestReport, folder: Path | None) -> None:
    for skipped in report.skipped:
        print(f"skipped {skipped.url or skipped.path}: {skipped.reason}", file=sys.stderr)
    if report.missing:
        print(
            f"Kept {_articles(len(report.missing))} gone from {folder} "
            f"(`rag ingest {folder} --prune` removes them): {', '.join(report.missing)}"
        )
    print(
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed, {len(report.skipped)} skipped; "
        f"{report.sentences_embedded} sentences embedded in {report.seconds:.1f} s"
    )


def _articles(count: int) -> str:
    return f"{count} article{'' if count == 1 else 's'}"


def _notice(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def progress_bar() -> Progress:
    """A progress callback for an ingest: a bar on stderr (when it is a terminal), closed after the last article."""
    bar: Any = None

    def progress(done: int, total: int, name: str) -> None:
        nonlocal bar
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="article", desc="Ingesting", disable=None)
        bar.set_postfix_str(name[:40])
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return progress


def _ask(settings: Settings, question: str, as_json: bool) -> int:
    from rag.engine import Engine

    engine = Engine(settings, notice=_notice, progress=progress_bar())
    engine.first_start()  # a data directory that never held anything gets the seed articles, and says so
    answer = engine.ask(question)
    if isinstance(sys.stdout, io.TextIOWrapper) and sys.stdout.errors == "strict":
        # A question given as bytes that are not UTF-8 arrives as lone surrogates: echo them escaped, not crash.
        sys.stdout.reconfigure(errors="backslashreplace")
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return _ask_status(settings, question, answer)
    print(answer.text)
    for warning in answer.warnings:
        print(f"! {warning}")
    for citation in answer.citations:
        print(f"\n[{citation.number}] {citation.title} — {_where(citation)}")
        print(f"    “{citation.quote}”")
    if answer.nearest:
        print("\nClosest passages (they may not answer the question):")
    for passage in answer.nearest:
        print(f"\n- {passage.title} — {_where(passage)}")
        print(f"    “{passage.quote}”")
    return _ask_status(settings, question, answer)


def _ask_status(settings: Settings, question: str, answer: Answer) -> int:
    """0 answered, 1 not found, 2 a question that cannot be asked as it is (its answer says why)."""
    from rag.question import clean, problem

    if problem(clean(question), settings.max_question_chars) is not None:
        return FAILED
    return ANSWERED if answer.found else NOT_FOUND


def _where(citation: Citation) -> str:
    """Where a cited paragraph is: page and paragraph (or paragraph), and the article's source and date."""
    if citation.page is not None:
        place = f"page {citation.page}, paragraph {citation.page_paragraph} (paragraph {citation.paragraph})"
    else:
        place = f"paragraph {citation.paragraph}"
    origin = " · ".join(part for part in (citation.source or citation.document, citation.published) if part)
    return f"{place} — {origin}"


if __name__ == "__main__":
    raise SystemExit(main())
