"""Run the evaluation: ask every question, score the answers, write the results, and optionally gate on a baseline."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.layout import installed

from . import baseline, report
from .dataset import KINDS, QUESTIONS, Case, load, select
from .metrics import Verdict, evidence_rank, failure, judge, summarize_by_kind

if TYPE_CHECKING:
    from rag.engine import Engine

# Installed, the package's own folder is no place for results (it may not even be writable): the working folder is.
RESULTS = Path("rag-eval-results") if installed() else Path(__file__).resolve().parent / "results"
EPILOG = """\
examples (`rag eval` takes the same options):
  python -m evals                         all questions, offline backend, results in evals/results/
  python -m evals --kind cross --limit 5  a quick look at five cross-language questions
  python -m evals --check                 exit 1 if correct-accuracy is >2 points below evals/baseline.json,
                                          here or on the public suite's ci subset (evals/baseline-public.json)
  python -m evals --update-baseline       measure and rewrite evals/baseline.json
  python -m evals --questions my.jsonl    your own questions (same schema as evals/questions.jsonl)
  python -m evals --feedback              the readers' verdicts (DATA_DIR/feedback.jsonl) on the current engine

The store is the settings' data dir (RAG_DATA_DIR), so the seeds are embedded once and later runs are quick.
Exit status: 0 done, 1 below the baseline, 2 bad arguments, question file or baseline.
"""


def build_parser(prog: str = "python -m evals") -> argparse.ArgumentParser:
    """The command-line options of `python -m evals` (and `rag eval`)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Score the answers against known figures, citations and refusals; write a JSON, report.md "
        "and a chart; print a table per question kind.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--questions", type=Path, default=QUESTIONS, metavar="PATH", help="JSONL question file")
    parser.add_argument("--backend", choices=["offline", "openai"], help="answer backend (default: RAG_LLM or offline)")
    parser.add_argument("--kind", choices=KINDS, help="evaluate only questions of this kind")
    parser.add_argument("--limit", type=int, metavar="N", help="evaluate only the first N questions (after --kind)")
    parser.add_argument(
        "--out", type=Path, default=RESULTS, metavar="DIR", help="results folder (default: %(default)s)"
    )
    parser.add_argument("--baseline", type=Path, default=baseline.BASELINE, metavar="PATH", help="baseline file")
    gate = parser.add_mutually_exclusive_group()
    gate.add_argument(
        "--check", action="store_true", help="exit 1 when correct-accuracy falls >2 points below baseline"
    )
    gate.add_argument("--update-baseline", action="store_true", help="rewrite the baseline with this run's scores")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--feedback",
        nargs="?",
        const="",
        type=str,
        metavar="PATH",
        help="score the readers' verdicts instead (default DATA_DIR/feedback.jsonl): exit 1 when one no longer holds",
    )
    return parser


def evaluate(engine: Engine, cases: Sequence[Case], progress: bool = True) -> list[Verdict]:
    """Ask every question and judge the answer; an ask() that raises is a wrong answer, and the run goes on."""
    from tqdm import tqdm

    verdicts = []
    bar = tqdm(cases, desc="evaluating", unit="q", disable=not progress, file=sys.stderr)
    for case in bar:
        rank = None
        if case.answerable:
            try:
                rank = evidence_rank(case, engine.search(case.question)[1], engine.index.paragraphs)
            except Exception as error:  # a retrieval bug must not hide the other questions' scores
                bar.write(f"{case.id}: retrieval raised {type(error).__name__}: {error}")
        started = time.perf_counter()
        try:
            answer = engine.ask(case.question)
        except Exception as error:  # counted as wrong and listed in the report
            verdicts.append(failure(case, error, time.perf_counter() - started, rank))
            continue
        wall = time.perf_counter() - started
        verdicts.append(judge(case, answer, answer.seconds or wall, rank))
    return verdicts


def describe(engine: Engine) -> dict[str, Any]:
    """What the report names: backend, embedder model, and the settings that change the scores."""
    from rag.embeddings import model_slug

    settings = engine.settings
    knobs: dict[str, Any] = {"top_k": settings.top_k, "candidates": settings.candidates, "rrf_k": settings.rrf_k}
    if settings.llm == "openai":
        knobs.update(llm_model=settings.llm_model, temperature=settings.temperature)
        if settings.openai_base_url:
            knobs["openai_base_url"] = settings.openai_base_url
    index = engine.index
    return {
        "backend": settings.llm,
        "embedder": f"{settings.embedder} ({model_slug(engine.embedder)})",
        "settings": knobs,
        "store": settings.chroma_url or str(settings.data_dir),
        "index": {
            "documents": len({r.document for r in index.records}),
            "paragraphs": len(index.paragraphs),
            "sentences": len(index.records),
        },
    }


def _shown(path: Path) -> str:
    from rag.settings import PROJECT_ROOT

    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _feedback(args: argparse.Namespace, engine: Engine | None) -> int:
    """`--feedback`: the readers' verdicts scored on the current engine (evals/feedback.py)."""
    from rag.engine import Engine
    from rag.feedback import feedback_path
    from rag.settings import Settings

    from .feedback import run

    engine = engine or Engine(Settings(llm=args.backend) if args.backend else Settings())
    engine.first_start()
    return run(engine, Path(args.feedback) if args.feedback else feedback_path(engine.settings.data_dir))


def main(argv: list[str] | None = None, engine: Engine | None = None, prog: str = "python -m evals") -> int:
    """Run the evaluation from the command line; returns the exit status (0 ok, 1 below baseline, 2 usage).

    `rag eval` delegates here with `prog="rag eval"`; tests hand in an `engine` to share one across runs.
    """
    args = build_parser(prog).parse_args(argv)
    if args.feedback is not None:
        return _feedback(args, engine)
    if args.limit is not None and args.limit < 1:
        print("--limit must be at least 1", file=sys.stderr)
        return 2
    if args.update_baseline and (args.kind or args.limit):
        print("--update-baseline needs the whole question set: drop --kind and --limit", file=sys.stderr)
        return 2
    try:
        dataset = load(args.questions)
    except OSError as error:
        print(f"cannot read the questions: {error}", file=sys.stderr)
        return 2
    for problem in dataset.errors:
        print(f"{args.questions}:{problem} (skipped)", file=sys.stderr)
    cases = select(dataset.cases, args.kind, args.limit)
    if not cases:
        print(f"no questions to evaluate in {args.questions}", file=sys.stderr)
        return 2
    reference = None
    if args.check:
        try:
            reference = baseline.read(args.baseline)
        except ValueError as error:
            print(error, file=sys.stderr)
            return 2

    from rag.engine import Engine
    from rag.settings import Settings

    if engine is None:
        engine = Engine(Settings(llm=args.backend) if args.backend else Settings())
    elif args.backend and args.backend != engine.settings.llm:
        print(f"--backend {args.backend} differs from the given engine's {engine.settings.llm}", file=sys.stderr)
        return 2
    engine.first_start()  # a data directory that never held anything gets the seed articles, and says so
    settings = engine.settings
    started = time.perf_counter()
    print(f"Loading the index from {settings.chroma_url or settings.data_dir} …", file=sys.stderr)
    about = describe(engine)
    verdicts = evaluate(engine, cases, progress=not args.no_progress)
    summaries = summarize_by_kind(verdicts)

    now = datetime.now().astimezone()
    filters = {key: value for key, value in (("kind", args.kind), ("limit", args.limit)) if value}
    run = {
        "timestamp": now.isoformat(timespec="seconds"),
        **about,
        "answer_backends": dict(Counter(v.answer.backend for v in verdicts if v.answer is not None)),
        "questions_file": _shown(args.questions),
        "questions": len(cases),
        "filters": filters,
        "load_errors": len(dataset.errors),
        "seconds": round(time.perf_counter() - started, 2),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / f"eval-{now:%Y%m%d-%H%M%S}.json"
    chart = args.out / "chart.png"
    markdown = args.out / "report.md"
    report.write_json(results, run, summaries, verdicts, dataset.errors)
    title = f"{run['backend']} backend, {run['embedder']}, {len(cases)} questions, {now:%Y-%m-%d %H:%M}"
    drawn = report.write_chart(chart, summaries, title=title)
    report.write_markdown(markdown, run, summaries, verdicts, dataset.errors, chart=chart if drawn else None)

    print(f"\nbackend {run['backend']}, embedder {run['embedder']}, {len(cases)} questions in {run['seconds']} s")
    print(report.terminal(summaries))
    if args.questions == QUESTIONS and not filters:  # the seed conversations: first turns and follow-ups apart
        from . import conversations

        print("\nConversations (evals/conversations.jsonl)")
        print(conversations.table(conversations.score(engine, conversations.load(), progress=not args.no_progress)))
    print(f"\nresults: {results}\nreport:  {markdown}\nchart:   {chart if drawn else report.CHART_HINT}")
    if args.update_baseline:
        baseline.write(args.baseline, summaries, run)
        print(f"baseline rewritten: {args.baseline}")
    if reference is not None:
        if filters or reference.get("about", {}).get("questions") not in (None, len(cases)):
            print("note: this run's questions differ from the baseline's; the comparison is indicative")
        verdict = baseline.check(summaries["overall"], reference, kind=args.kind)
        print(verdict.message)
        from .public import gate

        public = gate(progress=not args.no_progress)  # the public suite's ci subset (skipped without the data)
        return 0 if verdict.passed and public == 0 else 1
    return 0
