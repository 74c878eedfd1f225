"""The project's keyword index (rag/keyword.py) next to bm25s at 10k and 100k sentences, in one process.

    python -m benchmarks.keyword                              # 10,000 and 100,000 sentences
    python -m benchmarks.keyword --sizes 2000 --queries 20    # a quick look

Both index the same terms (`rag.keyword.cut` of the synthetic corpus's sentences, benchmarks/synthetic.py) with the
same BM25 (Lucene variant, k1 = 1.5, b = 0.75), and answer the evaluation questions' own words (`tokenize`, every
weight 1.0: bm25s has no per-term weights). Measured, interleaved where it can be: build (to the first query),
the update of one article (its 20 paragraphs' sentences out, another's in; bm25s has no update: it indexes again),
save and load, and a query's top 20 (p50, p95). The top 20 of both are compared: same sentences, same scores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from benchmarks.synthetic import PARAGRAPHS_PER_ARTICLE, articles, seeds
from rag.corpus import parse_article
from rag.keyword import KeywordIndex
from rag.settings import PROJECT_ROOT
from rag.text import cut, tokenize

QUESTIONS = PROJECT_ROOT / "evals" / "questions.jsonl"
K = 20


def sentences(size: int) -> list[tuple[str, list[str]]]:
    """(article id, terms) of the first `size` sentences of the synthetic corpus, article by article."""
    found: list[tuple[str, list[str]]] = []
    source = seeds()
    for name, text in articles(size, 4, source):  # at least one sentence per paragraph: `size` paragraphs suffice
        article = parse_article(text, name)
        for paragraph in article.paragraphs:
            found.extend((article.id, cut(s.text)) for s in paragraph.sentences)
        if len(found) >= size:
            return found[:size]
    return found


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def ours_top(index: KeywordIndex, terms: list[str]) -> list[tuple[int, float]]:
    return index.search(dict.fromkeys(terms, 1.0), K)


def bm25s_top(index: bm25s.BM25, terms: list[str]) -> list[tuple[int, float]]:
    known = [t for t in dict.fromkeys(terms) if t in index.vocab_dict]  # bm25s refuses words it has not indexed
    if not known:
        return []
    scores = index.get_scores(known)
    best = np.argpartition(-scores, K - 1)[:K]
    return [(int(i), float(scores[i])) for i in sorted(best, key=lambda i: -scores[i]) if scores[i] > 0]


def bm25s_index(documents: list[list[str]]) -> bm25s.BM25:
    index = bm25s.BM25(k1=KeywordIndex.k1, b=KeywordIndex.b, method="lucene")
    index.index(documents, show_progress=False)
    return index


def ours_index(documents: list[list[str]]) -> KeywordIndex:
    index = KeywordIndex.build(documents)
    _ = index.postings  # derived on first query: part of what a build costs
    return index


def measure(size: int, queries: list[list[str]], folder: Path) -> dict[str, Any]:
    """Every figure for one corpus size."""
    rows = sentences(size)
    documents = [terms for _, terms in rows]
    result: dict[str, Any] = {"sentences": len(rows), "terms": sum(map(len, documents))}

    builds: dict[str, list[float]] = {"ours": [], "bm25s": []}
    for _ in range(2):
        seconds, ours = timed(lambda: ours_index(documents))
        builds["ours"].append(seconds)
        seconds, theirs = timed(lambda: bm25s_index(documents))
        builds["bm25s"].append(seconds)
    result["build_s"] = {name: min(values) for name, values in builds.items()}

    # One article replaced: its sentences out, new ones (another article's terms) in, as an ingest does.
    article = rows[len(rows) // 2][0]
    keep = np.array([i for i, (doc, _) in enumerate(rows) if doc != article])
    added = [terms for doc, terms in rows if doc == rows[0][0]]
    updated_documents = [documents[i] for i in keep.tolist()] + added

    def ours_update() -> KeywordIndex:
        index = ours.subset(keep).joined(KeywordIndex.build(added))
        _ = index.postings
        return index

    updates: dict[str, list[float]] = {"ours": [], "bm25s": []}
    for _ in range(3):
        seconds, updated = timed(ours_update)
        updates["ours"].append(seconds)
        seconds, _ = timed(lambda: bm25s_index(updated_documents))
        updates["bm25s"].append(seconds)
    result["update_s"] = {name: statistics.median(values) for name, values in updates.items()}
    result["update_sentences"] = {"removed": len(rows) - len(keep), "added": len(added)}
    assert np.allclose(updated.scores({"talent": 1.0}), ours_index(updated_documents).scores({"talent": 1.0}))

    ours_file, theirs_dir = folder / f"ours-{size}.npz", folder / f"bm25s-{size}"
    postings = ours.postings
    np.savez(ours_file, tokens=ours.tokens, offsets=ours.offsets, terms=np.array(ours.terms), **postings)
    theirs.save(theirs_dir, show_progress=False)

    def ours_load() -> KeywordIndex:
        with np.load(ours_file) as data:
            saved = {name: data[name] for name in ("start", "rows", "weight", "frequency")}
            return KeywordIndex(data["terms"].tolist(), data["tokens"], data["offsets"], postings=saved)

    loads: dict[str, list[float]] = {"ours": [], "bm25s": []}
    for _ in range(3):
        loads["ours"].append(timed(ours_load)[0])
        loads["bm25s"].append(timed(lambda: bm25s.BM25.load(theirs_dir))[0])
    result["load_s"] = {name: statistics.median(values) for name, values in loads.items()}
    result["disk_mb"] = {
        "ours": ours_file.stat().st_size / 1e6,
        "bm25s": sum(p.stat().st_size for p in theirs_dir.iterdir()) / 1e6,
    }

    times: dict[str, list[float]] = {"ours": [], "bm25s": []}
    same_rows = 0
    worst = 0.0
    for terms in queries * 3:
        seconds, mine = timed(lambda: ours_top(ours, terms))  # noqa: B023  (called at once)
        times["ours"].append(seconds)
        seconds, other = timed(lambda: bm25s_top(theirs, terms))  # noqa: B023
        times["bm25s"].append(seconds)
        same_rows += {i for i, _ in mine} == {i for i, _ in other}
        scores = dict(other)
        worst = max([worst, *(abs(s - scores.get(i, 0.0)) for i, s in mine)])
    result["query_ms"] = {
        name: {"p50": 1000 * statistics.median(v), "p95": 1000 * float(np.percentile(v, 95))}
        for name, v in times.items()
    }
    result["same_top"] = f"{same_rows}/{len(queries) * 3}"
    result["max_score_difference"] = worst
    return result


def table(results: list[dict[str, Any]]) -> str:
    """The figures as a Markdown table, ours · bm25s, and bm25s / ours."""
    lines = [
        "| sentences | build s | update one article, s | load s | query p50 ms | disk MB | same top 20 · max Δscore |"
    ]
    lines.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        lines.append(
            f"| {r['sentences']:,} | {_pair(r['build_s'])} | {_pair(r['update_s'])} | {_pair(r['load_s'])} | "
            f"{_pair({n: q['p50'] for n, q in r['query_ms'].items()}, '{:.2f}')} | {_pair(r['disk_mb'], '{:.1f}')} | "
            f"{r['same_top']} · {r['max_score_difference']:.1g} |"
        )
    return "\n".join(lines)


def _pair(figures: dict[str, float], shown: str = "{:.3f}") -> str:
    ours, theirs = figures["ours"], figures["bm25s"]
    return f"{shown.format(ours)} · {shown.format(theirs)} ({theirs / ours:.1f}×)"


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; print a table and (with --json) write every figure."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.keyword", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="corpus sizes in sentences, comma-separated")
    parser.add_argument("--queries", type=int, default=111, help="evaluation questions asked (each 3 times)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    queries = [tokenize(json.loads(line)["question"]) for line in lines if line.strip()][: args.queries]
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            results.append(measure(size, queries, Path(folder)))
            print(f"{size:,} sentences done", flush=True)
    print(table(results))
    print(f"(ours · bm25s (bm25s / ours); one article = {PARAGRAPHS_PER_ARTICLE} paragraphs)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
