"""How many figure answers of the QA development data the figure reader reads, and how fast it scans sentences.

For every question flagged ``numeric`` (see the data's README), an answer counts as covered when
`parse_figure` reads its first answer as exactly one figure and `find_figures` finds that figure in the
context (`same_figure`, or a date in the year wanted, as `states_figure` reads it), overlapping the answer's
span (``answer_start``). CMRC answers are often whole clauses with several figures: those stay uncovered, so
100% is out of reach; the share is for comparing versions of the reader, not an absolute score. The column
"ranges" counts the answers that are one range ("10-15%") whose two ends are found in place.

    python evals/figure_coverage.py                      # every file, from /work/shared/datasets
    python evals/figure_coverage.py --misses 40 --files tatqa-text-span.en.jsonl
    git show <commit>:rag/figures.py > /tmp/old_figures.py
    python evals/figure_coverage.py --against /tmp/old_figures.py   # that version side by side with this one
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import rag.figures

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

    @property
    def share(self) -> float:
        """Share of the numeric answers covered."""
        return self.found / self.numeric if self.numeric else 0.0


@dataclass(frozen=True)
class Miss:
    """A numeric answer not covered, with the context around it."""

    answer: str
    reason: str  # "parse" (not exactly one figure) or "find" (not found in place in the context)
    around: str


def rows(path: Path) -> Iterator[dict[str, Any]]:
    """The questions of one JSON Lines file."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def found_in_place(reader: ModuleType, figure: Any, context: str, start: int, end: int) -> bool:
    """Whether the context states `figure` in a span that overlaps context[start:end]."""
    return any(_states(reader, f, figure) and f.start < end and f.end > start for f in reader.find_figures(context))


def _states(reader: ModuleType, found: Any, wanted: Any) -> bool:
    """The same figure, or a date in the year wanted (as `states_figure` reads them)."""
    if wanted.kind == "year" and found.kind == "date":
        return int(found.value) // 10000 == int(wanted.value)
    return bool(reader.same_figure(found, wanted))


def coverage(path: Path, reader: ModuleType = rag.figures, misses: list[Miss] | None = None) -> Coverage:
    """Coverage of the numeric answers of one file; uncovered answers go to `misses` when given."""
    numeric = parsed = found = ranges = 0
    for row in rows(path):
        if not row["numeric"]:
            continue
        numeric += 1
        answer, context, start = str(row["answers"][0]), str(row["context"]), int(row["answer_start"])
        end = start + len(answer)
        figure = reader.parse_figure(answer)
        reason = "parse"
        if figure is None and _range_found(reader, answer, context, start):
            ranges += 1
        if figure is not None:
            parsed += 1
            reason = "find"
            if found_in_place(reader, figure, context, start, end):
                found += 1
                continue
        if misses is not None:
            around = context[max(0, start - 30) : end + 30].replace("\n", " ")
            misses.append(Miss(answer, reason, around))
    return Coverage(path.name, numeric, parsed, found, ranges)


def _range_found(reader: ModuleType, answer: str, context: str, start: int) -> bool:
    """Whether the answer is one range whose two ends the context states at the answer's place."""
    ends = reader.find_figures(answer)
    if [getattr(f, "bound", "") for f in ends] != ["low", "high"]:
        return False
    return all(found_in_place(reader, f, context, start + f.start, start + f.end) for f in ends)


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


def milliseconds_per_thousand(readers: list[ModuleType], texts: list[str], rounds: int = 5) -> list[float]:
    """Time each reader's `find_figures` takes for 1,000 sentences: the best of a few interleaved rounds (the
    machine is shared, so readers are timed turn about)."""
    best = [float("inf")] * len(readers)
    for reader in readers:
        reader.find_figures("一百")  # the first Chinese numeral loads cn2an
    for _ in range(rounds):
        for i, reader in enumerate(readers):
            started = time.perf_counter()
            for text in texts:
                reader.find_figures(text)
            best[i] = min(best[i], time.perf_counter() - started)
    return [seconds * 1000 / len(texts) * 1000 for seconds in best]


def load(path: Path) -> ModuleType:
    """Another version of rag/figures.py, loaded from a file under its own module name."""
    spec = importlib.util.spec_from_file_location("figures_against", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> None:
    """Print coverage per file, the time per 1,000 sentences, and optionally a sample of misses."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the *.jsonl files")
    parser.add_argument("--files", nargs="+", default=[*FILES, *HELD_OUT], help="file names inside --data")
    parser.add_argument("--against", type=Path, help="another version of rag/figures.py, shown before this one")
    parser.add_argument("--misses", type=int, default=0, help="print this many uncovered answers per file")
    parser.add_argument("--no-timing", action="store_true", help="skip the timing run")
    args = parser.parse_args(argv)
    readers = [("this", rag.figures)]
    if args.against:
        readers.insert(0, ("against", load(args.against)))

    print(f"{'file':32} {'version':8} {'numeric':>8} {'one figure':>11} {'found':>6} {'covered':>8} {'ranges':>7}")
    for name in args.files:
        held = " (held out)" if name in HELD_OUT else ""
        for label, reader in readers:
            missed: list[Miss] = []
            r = coverage(args.data / name, reader, missed)
            print(f"{name:32} {label:8} {r.numeric:8d} {r.parsed:11d} {r.found:6d} {r.share:8.1%} {r.ranges:7d}{held}")
        for miss in random.Random(0).sample(missed, min(args.misses, len(missed))):
            print(f"    {miss.reason:5} {miss.answer[:60]!r:64} | {miss.around[:110]}")
    if args.no_timing:
        return
    for lang in ("zh", "en"):
        texts = [s for n in args.files if f".{lang}." in n for s in sentences(args.data / n, SENTENCES_PER_FILE)]
        if texts:
            times = milliseconds_per_thousand([reader for _, reader in readers], texts)
            shown = ", ".join(f"{label} {ms:.1f}" for (label, _), ms in zip(readers, times, strict=True))
            ratio = f" (ratio {times[-1] / times[0]:.2f})" if len(times) == 2 else ""
            print(f"find_figures, {lang}: ms per 1,000 sentences ({len(texts)} sentences): {shown}{ratio}")


if __name__ == "__main__":
    main()
