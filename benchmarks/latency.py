"""Warm `ask()` latency over the evaluation questions, with the query-embedding floor measured in the same run,
overall and per kind of question (figure, fact, summary: `Question.asks`).

    python benchmarks/latency.py [--repeat 3]

The floor is one query embedding and one Chroma query. A question set without summary questions gets
`SUMMARIES`, one per article language, so every kind is timed. Follow-ups: each later turn of the seed
conversations (`evals/conversations.jsonl`), asked after the turns before it, against its standalone question asked
alone in the same pass (target: follow-up p50 at most 1.2x the standalone's).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from rag.engine import Engine
from rag.question import analyse
from rag.settings import PROJECT_ROOT, Settings

KINDS = ("figure", "fact", "summary")
SUMMARIES = ("What is the English article about?", "这篇中文文章讲了什么？")


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main(argv: list[str] | None = None) -> int:
    """Print p50/p95 of warm ask() and of the embedding floor, and their ratio, overall and per kind of question."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the question list (default 3)")
    parser.add_argument("--questions", type=Path, default=PROJECT_ROOT / "evals" / "questions.jsonl")
    parser.add_argument("--conversations", type=Path, default=PROJECT_ROOT / "evals" / "conversations.jsonl")
    args = parser.parse_args(argv)

    questions = [json.loads(line)["question"] for line in args.questions.read_text().splitlines() if line.strip()]
    kind = {question: analyse(question).asks for question in questions}
    if "summary" not in kind.values():
        questions += SUMMARIES
        kind |= dict.fromkeys(SUMMARIES, "summary")
    engine = Engine(Settings())
    engine.first_start()
    engine.ask(questions[0])  # warm: open the store, load the index, load jieba and the model

    ask_ms: dict[str, list[float]] = {name: [] for name in KINDS}
    floor_ms: dict[str, list[float]] = {name: [] for name in KINDS}
    for _ in range(args.repeat):
        for question in questions:
            started = time.perf_counter()
            engine.embedder.get_query_embedding(question)
            engine.store.search(engine.embedder.get_query_embedding(question), engine.settings.candidates)
            floor_ms[kind[question]].append((time.perf_counter() - started) * 1000 / 2)
            started = time.perf_counter()
            engine.ask(question)
            ask_ms[kind[question]].append((time.perf_counter() - started) * 1000)

    follow_ms, alone_ms = follow_ups(engine, args.conversations, args.repeat)

    every_ask = [ms for name in KINDS for ms in ask_ms[name]]
    every_floor = [ms for name in KINDS for ms in floor_ms[name]]
    floor_p50 = statistics.median(every_floor)
    print(f"{len(questions)} questions x {args.repeat}, {len(engine.index)} sentences")
    print(f"warm ask()          p50 {statistics.median(every_ask):6.1f} ms   p95 {percentile(every_ask, 0.95):6.1f} ms")
    print(f"floor (embed+query) p50 {floor_p50:6.1f} ms   p95 {percentile(every_floor, 0.95):6.1f} ms")
    print(f"ratio ask/floor     p50 {statistics.median(every_ask) / floor_p50:6.2f}x")
    for name in KINDS:
        if ask_ms[name]:
            p50 = statistics.median(ask_ms[name])
            print(
                f"  {name:<8} {len(ask_ms[name]) // args.repeat:4d} questions   ask p50 {p50:6.1f} ms"
                f"   p95 {percentile(ask_ms[name], 0.95):6.1f} ms   ask/floor p50 {p50 / floor_p50:5.2f}x"
            )
    if follow_ms:
        follow, alone = statistics.median(follow_ms), statistics.median(alone_ms)
        print(
            f"follow-ups {len(follow_ms) // args.repeat:4d} turns       ask p50 {follow:6.1f} ms   standalone p50 "
            f"{alone:6.1f} ms   follow-up/standalone p50 {follow / alone:5.2f}x"
        )
    return 0


def follow_ups(engine: Engine, path: Path, repeat: int) -> tuple[list[float], list[float]]:
    """Milliseconds of each later conversation turn asked as a follow-up (after the turns before it, with their
    answers) and of its standalone question asked alone, `repeat` times."""
    if not path.exists():
        return [], []
    conversations = [json.loads(line)["turns"] for line in path.read_text(encoding="utf-8").splitlines() if line]
    follow_ms: list[float] = []
    alone_ms: list[float] = []
    for _ in range(repeat):
        for turns in conversations:
            history = [(turns[0]["question"], engine.ask(turns[0]["question"]).text)]
            for turn in turns[1:]:
                started = time.perf_counter()
                answer = engine.ask(turn["question"], history)
                follow_ms.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                engine.ask(turn["standalone"])
                alone_ms.append((time.perf_counter() - started) * 1000)
                history.append((turn["question"], answer.text))
    return follow_ms, alone_ms


if __name__ == "__main__":
    raise SystemExit(main())
