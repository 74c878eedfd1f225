"""Load: simultaneous readers asking the chat page's API while an article upload is being indexed (loopback only).

    python benchmarks/load.py [--users 20] [--seconds 120] [--upload-sentences 300] [--json out.json]

It starts the chat page (`python -m ui.app`, the real entry point) on 127.0.0.1 over a copy of the seed articles
in a temporary data directory, then runs `--users` gradio_client users, each asking one question after another
for `--seconds`. After a tenth of the time it uploads a generated article the way the page does (upload, then
the upload event) and, once it is indexed, asks about it. Every request ends as answered, busy (the page said
so) or failed; the script prints the counts, latency percentiles for the whole run and for the time the upload
was being indexed, and the server's memory (RSS) before and after. Exit status 1 if any request failed.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gradio_client import Client

from rag.corpus import read_article
from rag.settings import PROJECT_ROOT

QUESTIONS = [
    "How many talents does Suzhou have?",
    "苏州高新区已累计集聚各类人才多少人？",
    "When was Nawei Technology listed?",
    "医疗器械产业园落地了多少个优质项目？",
    "How many high-level talents does Suzhou have?",
    "What is the capital of France?",  # not in the articles
    "",  # refused at once
]
UPLOAD_QUESTION = "How many visitors did the lantern fair draw?"
UPLOAD_FACT = "The lantern fair drew 4,800 visitors."


@dataclass
class Outcome:
    """One request: when it started (seconds into the run), how long it took, and how it ended."""

    started: float
    seconds: float
    result: str  # "answered", "busy" or "failed"
    detail: str = ""


@dataclass
class Run:
    """Everything measured."""

    users: int
    seconds: float
    outcomes: list[Outcome] = field(default_factory=list)
    upload: dict[str, Any] = field(default_factory=dict)
    rss_mb: dict[str, float] = field(default_factory=dict)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (Linux /proc)."""
    match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024 if match else float("nan")


def start_server(workdir: Path, extra: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """The chat page over a copy of the seeds, in a process of its own (`extra`: more environment); returns it and
    its URL."""
    seeds = workdir / "seeds"
    shutil.copytree(PROJECT_ROOT / "seeds", seeds)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "RAG_DATA_DIR": str(workdir / "data"),
        "RAG_SEEDS_DIR": str(seeds),
        "RAG_HOST": "127.0.0.1",
        "RAG_PORT": str(port),
        "RAG_LLM": "offline",
        "GRADIO_ANALYTICS_ENABLED": "False",
        **(extra or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "ui.app"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=5)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        if f"http://127.0.0.1:{port}/" in line:
            return process, f"http://127.0.0.1:{port}/"
    process.kill()
    raise SystemExit("the chat page did not start")


def article(sentences: int) -> str:
    """A long article built from the seeds' sentences, with one fact of its own to ask about."""
    pool = [
        s.text
        for path in sorted((PROJECT_ROOT / "seeds").glob("*.txt"))
        for p in read_article(path).paragraphs
        if p.kind == "paragraph"
        for s in p.sentences
    ]
    picked = [pool[i % len(pool)] for i in range(sentences)]
    paragraphs = [" ".join(picked[i : i + 5]) for i in range(0, len(picked), 5)]
    return "---\ntitle: Lantern fair\nlang: en\n---\n\n" + UPLOAD_FACT + "\n\n" + "\n\n".join(paragraphs) + "\n"


def upload(url: str, name: str, text: str) -> None:
    """Upload a file and run the page's upload event on it, as the browser does; waits until it is indexed."""
    with urllib.request.urlopen(url + "config", timeout=30) as response:
        config = json.load(response)
    component = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "rag-upload")
    event = next(
        d["id"] for d in config["dependencies"] if [component, "upload"] in [list(t) for t in d.get("targets", [])]
    )
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        f"Content-Type: text/plain\r\n\r\n{text}\r\n--{boundary}--\r\n"
    ).encode()
    request = urllib.request.Request(
        url + "gradio_api/upload", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        (path,) = json.load(response)
    session = uuid.uuid4().hex
    payload = {
        "data": [[{"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}]],  # the files dropped
        "fn_index": event,
        "trigger_id": component,
        "session_hash": session,
        "event_data": None,
    }
    join = urllib.request.Request(
        url + "gradio_api/queue/join", json.dumps(payload).encode(), {"Content-Type": "application/json"}
    )
    urllib.request.urlopen(join, timeout=60).close()
    with urllib.request.urlopen(f"{url}gradio_api/queue/data?session_hash={session}", timeout=900) as stream:
        for raw in stream:
            line = raw.decode().strip()
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    if not message.get("success"):
                        raise RuntimeError(f"the upload failed: {message}")
                    status = str(message["output"]["data"][0])
                    if "Added" not in status:
                        raise RuntimeError(f"the upload was not added: {status}")
                    return


def user(url: str, deadline: float, start: float, outcomes: list[Outcome], lock: threading.Lock, seed: int) -> None:
    """One reader: questions one after another until the deadline."""
    rng = random.Random(seed)
    client: Client | None = None
    while time.monotonic() < deadline:
        question = rng.choice(QUESTIONS)
        began = time.monotonic()
        try:
            client = client or Client(url, verbose=False)  # connecting is part of the request it is made for
            answer = json.loads(client.submit(question, api_name="/ask").result(timeout=120))
            result, detail = (
                ("answered", "") if isinstance(answer, dict) and answer.get("text") else ("failed", "empty")
            )
        except Exception as error:  # noqa: BLE001 (every way a request can end is counted)
            message = str(error)
            result = "busy" if re.search(r"(?i)queue is full|busy|too many", message) else "failed"
            detail = f"{type(error).__name__}: {message[:200]}"
        with lock:
            outcomes.append(Outcome(began - start, time.monotonic() - began, result, detail))


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))] if ordered else float("nan")


def summary(run: Run) -> str:
    """The figures, as printed."""
    outcomes = run.outcomes
    counts = {kind: sum(o.result == kind for o in outcomes) for kind in ("answered", "busy", "failed")}
    up = run.upload
    during = [o.seconds for o in outcomes if up and up["started"] <= o.started <= up["ended"]]
    everything = [o.seconds for o in outcomes]
    lines = [
        f"{run.users} users for {run.seconds:.0f} s: {len(outcomes)} requests "
        f"({len(outcomes) / run.seconds:.1f}/s) — {counts['answered']} answered, {counts['busy']} busy, "
        f"{counts['failed']} failed",
        f"latency, all requests:        p50 {statistics.median(everything):6.2f} s  "
        f"p95 {percentile(everything, 0.95):6.2f} s  max {max(everything):6.2f} s",
    ]
    if during:
        lines.append(
            f"latency, while indexing ({len(during)}): p50 {statistics.median(during):6.2f} s  "
            f"p95 {percentile(during, 0.95):6.2f} s  max {max(during):6.2f} s"
        )
    if up:
        lines.append(
            f"upload: {up['sentences']} sentences indexed in {up['ended'] - up['started']:.1f} s under load; "
            f"asked afterwards: {'found' if up.get('found') else 'NOT found'}"
        )
    rss = run.rss_mb
    lines.append(
        f"server RSS: {rss['before']:.0f} MB before, {rss['peak']:.0f} MB peak, {rss['after']:.0f} MB after "
        f"(+{rss['after'] - rss['before']:.0f} MB)"
    )
    for detail in sorted({o.detail for o in outcomes if o.result == "failed"})[:5]:
        lines.append(f"  failed: {detail}")
    return "\n".join(lines)


def dripping_model(interval: float) -> Any:
    """A local OpenAI-protocol model that translates at once and drips a 200-character answer."""
    from tests.openai_server import ChatServer, Reply, Request

    def reply(request: Request) -> Reply:
        if not request.body.get("stream"):
            return Reply("question")
        return Reply("The articles give this figure in the first source [1]. " * 4, chunk_chars=2, interval=interval)

    model = ChatServer().start()
    model.queue(*[reply] * 100_000)
    return model


def main(argv: list[str] | None = None) -> int:
    """Run the load and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20, help="simultaneous readers (default 20)")
    parser.add_argument("--seconds", type=float, default=120, help="how long they keep asking (default 120)")
    parser.add_argument("--upload-sentences", type=int, default=300, help="size of the uploaded article")
    parser.add_argument("--json", type=Path, help="also write every request's outcome to this file")
    parser.add_argument(
        "--model-drip",
        type=float,
        help="answer with the LLM backend, from a local model that sends its reply two characters every this many "
        "seconds (tests/openai_server.py); the page gives it --llm-timeout seconds per question",
    )
    parser.add_argument("--llm-timeout", type=float, default=5.0, help="RAG_LLM_TIMEOUT with --model-drip")
    args = parser.parse_args(argv)
    if not 1 <= args.users <= 200 or not 1 <= args.seconds <= 1800:
        parser.error("keep it bounded: 1-200 users, 1-1800 seconds")

    with tempfile.TemporaryDirectory(prefix="rag-load-") as folder:
        workdir = Path(folder)
        print("starting the chat page over the seed articles …", file=sys.stderr)
        model = dripping_model(args.model_drip) if args.model_drip else None
        extra = (
            {}
            if model is None
            else {
                "RAG_LLM": "openai",
                "RAG_OPENAI_BASE_URL": model.base_url,
                "OPENAI_API_KEY": "sk-local-placeholder",
                "RAG_LLM_TIMEOUT": str(args.llm_timeout),
            }
        )
        server, url = start_server(workdir, extra)
        try:
            Client(url, verbose=False).predict(QUESTIONS[0], api_name="/ask")  # warm: index, jieba, model
            run = Run(args.users, args.seconds)
            samples = [rss_mb(server.pid)]
            run.rss_mb["before"] = samples[0]
            lock = threading.Lock()
            start = time.monotonic()
            deadline = start + args.seconds
            stop = threading.Event()

            def sample() -> None:
                while not stop.wait(0.5):
                    samples.append(rss_mb(server.pid))

            def uploader() -> None:
                time.sleep(args.seconds / 10)
                text = article(args.upload_sentences)
                run.upload = {"sentences": args.upload_sentences, "started": time.monotonic() - start}
                upload(url, "lantern-fair.md", text)
                run.upload["ended"] = time.monotonic() - start
                answer = json.loads(Client(url, verbose=False).predict(UPLOAD_QUESTION, api_name="/ask"))
                run.upload["found"] = "4,800" in str(answer.get("text"))

            threads = [threading.Thread(target=sample, daemon=True), threading.Thread(target=uploader)]
            threads += [
                threading.Thread(target=user, args=(url, deadline, start, run.outcomes, lock, n))
                for n in range(args.users)
            ]
            print(f"{args.users} users asking for {args.seconds:.0f} s …", file=sys.stderr)
            for thread in threads:
                thread.start()
            for thread in threads[1:]:
                thread.join()
            stop.set()
            run.rss_mb.update(peak=max(samples), after=rss_mb(server.pid))
        finally:
            server.terminate()
            server.wait(timeout=30)
            if model is not None:
                model.stop()
    print(summary(run))
    if args.json:
        args.json.write_text(json.dumps(asdict(run), indent=1))
    return 1 if any(o.result == "failed" for o in run.outcomes) or not run.upload.get("found") else 0


if __name__ == "__main__":
    raise SystemExit(main())
