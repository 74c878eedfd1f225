"""Warm `ask()` latency over the evaluation questions, with the query-embedding floor measured in the same run.

    python benchmarks/latency.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from rag.engine import Engine
from rag.settings import PROJECT_ROOT, Settings


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main(argv: list[str] | None = None) -> int:
    """Print p50/p95 of warm ask() and of the embedding floor, and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the question list (default 3)")
    parser.add_argument("--questions", type=Path, default=PROJECT_ROOT / "evals" / "questions.jsonl")
    args = parser.parse_args(argv)

    questions = [json.loads(line)["question"] for line in args.questions.read_text().splitlines() if line.strip()]
    engine = Engine(Settings())
    engine.first_start()
    engine.ask(questions[0])  # warm: open the store, load the index, load jieba and the model

    ask_ms: list[float] = []
    floor_ms: list[float] = []
    for _ in range(args.repeat):
        for question in questions:
            started = time.perf_counter()
            engine.embedder.get_query_embedding(question)
            engine.store.search(engine.embedder.get_query_embedding(question), engine.settings.candidates)
            floor_ms.append((time.perf_counter() - started) * 1000 / 2)
            started = time.perf_counter()
            engine.ask(question)
            ask_ms.append((time.perf_counter() - started) * 1000)

    ask_p50, floor_p50 = statistics.median(ask_ms), statistics.median(floor_ms)
    print(f"{len(questions)} questions x {args.repeat}, {len(engine.index)} sentences")
    print(f"warm ask()          p50 {ask_p50:6.1f} ms   p95 {percentile(ask_ms, 0.95):6.1f} ms")
    print(f"floor (embed+query) p50 {floor_p50:6.1f} ms   p95 {percentile(floor_ms, 0.95):6.1f} ms")
    print(f"ratio ask/floor     p50 {ask_p50 / floor_p50:6.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
