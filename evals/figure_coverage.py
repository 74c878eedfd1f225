"""How many figure answers of the QA development data the figure reader reads, and how fast it scans sentences.

For every question flagged ``numeric`` (see the data's README), an answer counts as covered when
`parse_figure` reads its first answer as exactly one figure and `find_figures` finds that same figure
(`same_figure`, or a date in the year wanted, as `states_figure` reads it) in the context, overlapping the answer's span (``answer_start``). CMRC answers are often whole
clauses with several figures: those stay uncovered, so 100% is out of reach; the share is for comparing
versions of the reader, not an absolute score.

    python evals/figure_coverage.py                     # the three default files, from /work/shared/datasets
    python evals/figure_coverage.py --misses 40 --files tatqa-text-span.en.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.figures import Figure, find_figures, parse_figure, same_figure

DATA = Path("/work/shared/datasets")  # where the development data lives on the team's machines
FILES = ("cmrc2018-train.zh.jsonl", "squadshifts-new_wiki.en.jsonl", "tatqa-text-span.en.jsonl")
HELD_OUT = ("cmrc2018-trial.zh.jsonl", "squadshifts-reddit.en.jsonl", "squadshifts-amazon.en.jsonl")
SENTENCES_PER_FILE = 2000  # for timing: sentences taken from each file's contexts
_SENTENCE_END = re.compile(r"(?<=[。！？；])|(?<=[.!?;])\s+")


@dataclass(frozen=True)
class Coverage:
    """Numeric answers of one file: how many there are, how many read as one figure, how many found in place."""

    file: str
    numeric: int
    parsed: int
    found: int
    ranges: int = 0  # answers read as a range ("10-15%") whose two ends are both found in place


@dataclass(frozen=True)
class Miss:
    """A numeric answer not covered, with the context around it."""

    answer: str
    reason: str  # "parse" (not exactly one figure) or "find" (not found in place in the context)
    around: str


def rows(path: Path) -> Iterator[dict[str, object]]:
    """The questions of one JSON Lines file."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def found_in_place(figure: Figure, context: str, start: int, end: int) -> bool:
    """Whether the context states `figure` in a span that overlaps context[start:end]."""
    return any(_states(f, figure) and f.start < end and f.end > start for f in find_figures(context))


def _states(found: Figure, wanted: Figure) -> bool:
    """The same figure, or a date in the year wanted (as `states_figure` reads them)."""
    if wanted.kind == "year" and found.kind == "date":
        return int(found.value) // 10000 == int(wanted.value)
    return same_figure(found, wanted)


def coverage(path: Path, misses: list[Miss] | None = None) -> Coverage:
    """Coverage of the numeric answers of one file; uncovered answers go to `misses` when given."""
    numeric = parsed = found = ranges = 0
    for row in rows(path):
        if not row["numeric"]:
            continue
        numeric += 1
        answer, context = str(row["answers"][0]), str(row["context"])  # type: ignore[index]
        start = int(row["answer_start"])  # type: ignore[call-overload]
        end = start + len(answer)
        figure = parse_figure(answer)
        reason = "parse"
        if figure is None and _range_found(answer, context, start):
            ranges += 1
        if figure is not None:
            parsed += 1
            reason = "find"
            if found_in_place(figure, context, start, end):
                found += 1
                continue
        if misses is not None:
            around = context[max(0, start - 30) : end + 30].replace("\n", " ")
            misses.append(Miss(answer, reason, around))
    return Coverage(path.name, numeric, parsed, found, ranges)


def _range_found(answer: str, context: str, start: int) -> bool:
    """Whether the answer is one range whose two ends the context states at the answer's place."""
    ends = find_figures(answer)
    if [f.bound for f in ends] != ["low", "high"]:
        return False
    return all(found_in_place(f, context, start + f.start, start + f.end) for f in ends)


def sentences(path: Path, limit: int) -> list[str]:
    """Up to `limit` distinct sentences from the file's contexts, in file order."""
    seen: dict[str, None] = {}
    for row in rows(path):
        for sentence in _SENTENCE_END.split(str(row["context"])):
            if sentence.strip():
                seen.setdefault(sentence.strip(), None)
        if len(seen) >= limit:
            break
    return list(seen)[:limit]


def milliseconds_per_thousand(texts: list[str], rounds: int = 3) -> float:
    """Time `find_figures` takes for 1,000 sentences: the best of a few rounds (the machine is shared)."""
    find_figures("一百")  # the first Chinese numeral loads cn2an
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for text in texts:
            find_figures(text)
        best = min(best, time.perf_counter() - started)
    return best * 1000 / len(texts) * 1000


def main(argv: list[str] | None = None) -> None:
    """Print coverage per file, the time per 1,000 sentences, and optionally a sample of misses."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the *.jsonl files")
    parser.add_argument("--files", nargs="+", default=[*FILES, *HELD_OUT], help="file names inside --data")
    parser.add_argument("--misses", type=int, default=0, help="print this many uncovered answers per file")
    parser.add_argument("--no-timing", action="store_true", help="skip the timing run")
    args = parser.parse_args(argv)

    print(f"{'file':34} {'numeric':>8} {'one figure':>11} {'found':>8} {'covered':>8} {'ranges':>7}")
    for name in args.files:
        missed: list[Miss] = []
        result = coverage(args.data / name, missed)
        share = result.found / result.numeric if result.numeric else 0.0
        held = " (held out)" if name in HELD_OUT else ""
        print(
            f"{name:34} {result.numeric:8d} {result.parsed:11d} {result.found:8d} {share:8.1%} {result.ranges:7d}{held}"
        )
        for miss in random.Random(0).sample(missed, min(args.misses, len(missed))):
            print(f"    {miss.reason:5} {miss.answer[:60]!r:64} | {miss.around[:110]}")
    if not args.no_timing:
        for lang in ("zh", "en"):
            texts = [
                s for name in args.files if f".{lang}." in name for s in sentences(args.data / name, SENTENCES_PER_FILE)
            ]
            if texts:
                ms = milliseconds_per_thousand(texts)
                print(f"find_figures, {lang}: {ms:.1f} ms per 1,000 sentences ({len(texts)} sentences)")


if __name__ == "__main__":
    main()
