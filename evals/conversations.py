"""Conversations: follow-up questions scored three ways, so the reading of a follow-up and the first answer are
told apart.

    python -m evals.conversations run --split dev     # the public suite's conversations (evals/public/conversations.jsonl)
    python -m evals.conversations seeds               # the seed conversations (evals/conversations.jsonl)

Each conversation is 2–4 turns over one article. The first turn is asked alone. Each later turn (a follow-up) is
asked three times: *standalone* (the question it stands for, asked alone: what the answerer can do), with the
*ideal* history (the earlier questions as asked, answered with their expected figures) and with the *real* history
(the earlier questions with the engine's own answers). A follow-up's turn is judged like any evaluation question
(`evals.metrics.judge`). A public conversation's turn may name a question of the built suite (`from`: its id), whose
question, figures, evidence and article it takes; a turn of its own gives `standalone`, `figures` and `evidence`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .dataset import Case
from .metrics import Verdict, failure, judge

if TYPE_CHECKING:
    from rag.engine import Engine

HERE = Path(__file__).resolve().parent
SEEDS = HERE / "conversations.jsonl"  # over the seed articles
PUBLIC = HERE / "public" / "conversations.jsonl"  # over the public suite's dev and test articles
STYLES = ("time", "place", "entity", "subset", "measure", "pronoun")
WAYS = ("standalone", "ideal", "real")


@dataclass(frozen=True)
class Turn:
    """One turn: the question as the reader asks it, and the evaluation case of the question it stands for."""

    question: str
    case: Case


@dataclass(frozen=True)
class Conversation:
    """Turns over one article, in one language and one style of follow-up."""

    id: str
    lang: str
    style: str
    turns: tuple[Turn, ...]
    split: str = "seed"


@dataclass
class Scores:
    """The verdicts of a set of conversations: first turns, and follow-ups asked each way."""

    first: list[Verdict] = field(default_factory=list)
    follow_ups: dict[str, list[Verdict]] = field(default_factory=lambda: {way: [] for way in WAYS})
    read_as: list[dict[str, Any]] = field(default_factory=list)  # each follow-up, how it was read, and its verdicts


def load(path: Path = SEEDS, questions: Mapping[str, Mapping[str, Any]] | None = None) -> list[Conversation]:
    """The conversations of a JSONL file; a turn with `from` takes its case from `questions` (the built suite)."""
    conversations = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row["style"] not in STYLES or not 2 <= len(row["turns"]) <= 4:
            raise ValueError(f"{path}:{number}: style must be one of {STYLES}, and 2–4 turns")
        turns = []
        for position, turn in enumerate(row["turns"]):
            if "from" in turn:
                if questions is None or turn["from"] not in questions:
                    raise ValueError(f"{path}:{number}: {turn['from']} is not a question of the built suite")
                source = questions[turn["from"]]
                standalone, figures = source["question"], source["figures"]
                evidence, document = source["evidence"], source["document"]
            else:
                standalone, figures, evidence = turn["standalone"], turn["figures"], turn["evidence"]
                document = turn.get("document", row.get("document"))
            case = Case(
                id=f"{row['id']}-{position + 1}",
                question=standalone,
                lang=row["lang"],
                kind="same",
                figures=tuple(figures),
                evidence=evidence,
                document=document,
            )
            turns.append(Turn(turn["question"], case))
        conversations.append(Conversation(row["id"], row["lang"], row["style"], tuple(turns), row.get("split", "seed")))
    return conversations


def public(split: str, cache: Path, path: Path = PUBLIC) -> list[Conversation]:
    """The public conversations of one split, their `from` turns read from the split's built question files."""
    questions: dict[str, dict[str, Any]] = {}
    for file in sorted((cache / "questions").glob(f"{split}-*.jsonl")):
        for line in file.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            questions[row["id"]] = row
    if not questions:
        raise FileNotFoundError(f"no built questions of {split} in {cache}: run `python -m evals.public build` first")
    kept = [row for row in path.read_text(encoding="utf-8").splitlines() if row.strip()]
    mine = [row for row in kept if json.loads(row).get("split") == split]
    scratch = cache / f"conversations-{split}.jsonl"
    scratch.write_text("\n".join(mine) + "\n", encoding="utf-8")
    return load(scratch, questions)


def score(engine: Engine, conversations: Sequence[Conversation], progress: bool = True) -> Scores:
    """Ask every conversation: first turns alone, follow-ups standalone, with the ideal and with the real history."""
    scores = Scores()
    for number, conversation in enumerate(conversations, 1):
        if progress:
            print(f"\r{number}/{len(conversations)} conversations", end="", file=sys.stderr)
        real: list[tuple[str, str]] = []
        ideal: list[tuple[str, str]] = []
        for position, turn in enumerate(conversation.turns):
            if position == 0:
                verdict = _ask(engine, turn.case, turn.question, [])
                scores.first.append(verdict)
            else:
                case = turn.case
                ways = {
                    "standalone": _ask(engine, case, case.question, []),
                    "ideal": _ask(engine, case, turn.question, ideal),
                    "real": _ask(engine, case, turn.question, real),
                }
                for way, verdict in ways.items():
                    scores.follow_ups[way].append(verdict)
                real_answer = ways["real"].answer
                scores.read_as.append(
                    {
                        "id": turn.case.id,
                        "style": conversation.style,
                        "question": turn.question,
                        "standalone": case.question,
                        "read_as": real_answer.read_as if real_answer is not None else "",
                        **{way: v.correct for way, v in ways.items()},
                    }
                )
                verdict = ways["real"]
            answer = verdict.answer
            real.append((turn.question, answer.text if answer is not None else ""))
            ideal.append((turn.question, " / ".join(turn.case.figures)))
    if progress:
        print(file=sys.stderr)
    return scores


def _ask(engine: Engine, case: Case, question: str, history: Sequence[tuple[str, str]]) -> Verdict:
    try:
        answer = engine.ask(question, history=list(history))
    except Exception as error:  # counted as wrong, the run goes on
        return failure(case, error, 0.0)
    return judge(case, answer, answer.seconds)


def table(scores: Scores) -> str:
    """First turns and follow-ups (standalone, ideal history, real history) correct, per language and overall."""
    rows = ["| turns | lang | n | correct |", "|---|---|---|---|"]

    def share(verdicts: Sequence[Verdict]) -> str:
        return f"{100 * sum(v.correct for v in verdicts) / len(verdicts):.1f}%" if verdicts else "—"

    for lang in ("en", "zh", "all"):
        first = [v for v in scores.first if lang in ("all", v.case.lang)]
        rows.append(f"| first turns | {lang} | {len(first)} | {share(first)} |")
        for way in WAYS:
            mine = [v for v in scores.follow_ups[way] if lang in ("all", v.case.lang)]
            rows.append(f"| follow-ups, {way} | {lang} | {len(mine)} | {share(mine)} |")
    return "\n".join(rows)


def run_public(split: str, cache: Path, progress: bool = True) -> Scores:
    """Score the public conversations of `split` over its corpus (`evals.public`: built, then ingested)."""
    from .public import engine_for
    from .vectors import VectorCache

    conversations = public(split, cache)
    vectors = VectorCache(cache, f"e5-{split}")
    name = f"{split}-1"
    engine = engine_for(name, cache / "corpora" / name, cache, vectors)
    engine.ingest()
    vectors.save()
    try:
        return score(engine, conversations, progress)
    finally:
        engine.close()


def main(argv: list[str] | None = None) -> int:
    """`python -m evals.conversations run|seeds`; returns the exit status."""
    from .public import CACHE

    parser = argparse.ArgumentParser(prog="python -m evals.conversations", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["run", "seeds"])
    parser.add_argument("--split", choices=("dev", "test"), default="dev", help="public split (default: dev)")
    parser.add_argument("--cache", type=Path, default=CACHE, help="the public suite's cache (default: %(default)s)")
    parser.add_argument("--out", type=Path, help="write each follow-up's reading and verdicts here (JSON)")
    parser.add_argument("--no-progress", action="store_true", help="no progress")
    args = parser.parse_args(argv)
    if args.command == "run":
        try:
            scores = run_public(args.split, args.cache, not args.no_progress)
        except FileNotFoundError as error:
            print(error, file=sys.stderr)
            return 2
    else:
        from rag.engine import Engine
        from rag.settings import Settings

        engine = Engine(Settings())
        engine.first_start()
        scores = score(engine, load(SEEDS), not args.no_progress)
    print(table(scores))
    if args.out:
        args.out.write_text(json.dumps(scores.read_as, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
