"""Start-up: a cold `rag ask` against a bare `import chromadb`, and the first question on a ready chat page.

    python -m benchmarks.startup [--repeat 5] [--pages 3] [--json out.json]

Each repetition times, back to back in new processes, `python -c "import chromadb"` and `rag ask` on the
seeds (English and Chinese), so the machine's load at that moment weighs on both sides of the ratio. The store is
ingested and the one-off caches (jieba's dictionary, the CC-CEDICT index) are built before timing. Then the chat
page is started `--pages` times; once it prints that it is ready, the first question in each language is asked
through its `ask` API (gradio_client, over loopback) and timed from the call to the answer.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rag.settings import PROJECT_ROOT

QUESTIONS = {"en": "How many talents does Suzhou have?", "zh": "苏州高新区已累计集聚各类人才多少人？"}
TARGET_COLD_RATIO = 2.0  # cold `rag ask` over `import chromadb`
TARGET_FIRST_QUESTION_S = 0.5


def timed(command: list[str], env: dict[str, str]) -> float:
    """Wall seconds of a command in a new process (which must succeed)."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode != 0 or "Traceback" in done.stderr:
        raise RuntimeError(f"{command} failed: {done.stderr[-2000:]}")
    return seconds


def cold(env: dict[str, str], repeat: int) -> dict[str, Any]:
    """Interleaved timings of `import chromadb` and cold `rag ask` in each language; medians and ratios."""
    rag = [sys.executable, "-m", "rag.cli", "ask"]
    runs: dict[str, list[float]] = {"import chromadb": [], **{f"rag ask ({lang})": [] for lang in QUESTIONS}}
    for _ in range(repeat):
        runs["import chromadb"].append(timed([sys.executable, "-c", "import chromadb"], env))
        for lang, question in QUESTIONS.items():
            runs[f"rag ask ({lang})"].append(timed([*rag, question], env))
    base = statistics.median(runs["import chromadb"])
    return {
        name: {
            "median_s": round(statistics.median(values), 3),
            "min_s": round(min(values), 3),
            "ratio": round(statistics.median(values) / base, 2),
        }
        for name, values in runs.items()
    }


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def first_questions(env: dict[str, str]) -> dict[str, float]:
    """Start the chat page, wait until it says it is ready, and time the first question in each language."""
    from gradio_client import Client

    port = free_port()
    page_env = {**env, "RAG_PORT": str(port)}
    started = time.perf_counter()
    page = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "chat"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=page_env
    )
    try:
        assert page.stdout is not None
        for line in page.stdout:
            if line.startswith("Chat page"):
                break
        else:
            raise RuntimeError("the chat page ended before it was ready")
        ready = time.perf_counter() - started
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        seconds = {"page ready": ready}
        for lang, question in QUESTIONS.items():
            asked = time.perf_counter()
            answer = json.loads(client.predict(question, api_name="/ask"))
            seconds[f"first question ({lang})"] = time.perf_counter() - asked
            seconds[f"first question ({lang}), in the engine"] = float(answer["seconds"])
        return seconds
    finally:
        page.terminate()
        page.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    """Print the cold-start and first-question figures with their targets; optionally write them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="cold runs of each command (default 5)")
    parser.add_argument("--pages", type=int, default=3, help="chat page starts (default 3)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="rag-startup-") as data:
        path = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": path, "RAG_DATA_DIR": data, "RAG_SEEDS_DIR": str(PROJECT_ROOT / "seeds")}
        env.pop("RAG_CHROMA_URL", None)
        for question in QUESTIONS.values():  # ingest the seeds and build the one-off caches
            timed([sys.executable, "-m", "rag.cli", "ask", question], env)
        result: dict[str, Any] = {"cold": cold(env, args.repeat), "page": []}
        for _ in range(args.pages):
            result["page"].append({k: round(v, 3) for k, v in first_questions(env).items()})

    print(f"cold start, {args.repeat} runs each, interleaved (median · min · median / import chromadb):")
    for name, figures in result["cold"].items():
        print(f"  {name:<18} {figures['median_s']:6.2f} s · {figures['min_s']:5.2f} s · {figures['ratio']:4.2f}x")
    worst = max(v["ratio"] for k, v in result["cold"].items() if k.startswith("rag ask"))
    print(f"  target: rag ask <= {TARGET_COLD_RATIO}x import chromadb: {'met' if worst <= TARGET_COLD_RATIO else 'NOT met'}")
    print(f"chat page, {args.pages} starts (first question over its API, seconds):")
    for name in result["page"][0]:
        values = [page[name] for page in result["page"]]
        print(f"  {name:<38} median {statistics.median(values):6.3f} · max {max(values):6.3f}")
    slowest = max(page[f"first question ({lang})"] for page in result["page"] for lang in QUESTIONS)
    print(f"  target: first question <= {TARGET_FIRST_QUESTION_S} s: {'met' if slowest <= TARGET_FIRST_QUESTION_S else 'NOT met'}")
    result["machine"] = {"cpus": os.cpu_count(), "load_average": os.getloadavg()}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
