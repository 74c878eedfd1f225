"""What a run leaves behind: the JSON of every answer and verdict, report.md, a bar chart, and a terminal table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .dataset import LoadError
from .metrics import Summary, Verdict

# (Summary field, label, format): the rows of every table, in reading order.
ROWS: list[tuple[str, str, str]] = [
    ("questions", "questions", "int"),
    ("correct", "correct (found + figure + citation)", "pct"),
    ("figure_accuracy", "figure accuracy", "pct"),
    ("citation_hit", "citation hit", "pct"),
    ("quote_hit", "quote hit", "pct"),
    ("citation_precision", "citation precision", "pct"),
    ("refused", "refused (found=False)", "pct"),
    ("refusal_precision", "refusal precision", "pct"),
    ("refusal_recall", "refusal recall", "pct"),
    ("hallucination", "hallucination rate", "pct"),
    ("nearest_hit", "refused, evidence among nearest", "pct"),
    ("recall_at_1", "retrieval recall@1", "pct"),
    ("recall_at_3", "retrieval recall@3", "pct"),
    ("recall_at_5", "retrieval recall@5", "pct"),
    ("recall_at_10", "retrieval recall@10", "pct"),
    ("mrr", "retrieval MRR", "ratio"),
    ("p50_seconds", "latency p50 (s)", "sec"),
    ("p95_seconds", "latency p95 (s)", "sec"),
    ("errors", "ask() errors", "int"),
]
ANSWER_BARS = [
    ("correct", "correct"),
    ("figure_accuracy", "figure"),
    ("citation_hit", "citation hit"),
    ("quote_hit", "quote hit"),
    ("citation_precision", "citation precision"),
    ("refusal_recall", "refusal recall"),
    ("hallucination", "hallucination\n(lower is better)"),
]
RETRIEVAL_BARS = [
    ("recall_at_1", "recall@1"),
    ("recall_at_3", "recall@3"),
    ("recall_at_5", "recall@5"),
    ("recall_at_10", "recall@10"),
    ("mrr", "MRR"),
]
MAX_SHOWN_ANSWER = 400


def cell(value: float | int | None, style: str) -> str:
    """One table cell: shares as percentages, MRR to 3 places, seconds to 3 places, '–' when not measured."""
    if value is None:
        return "–"
    if style == "pct":
        return f"{100 * value:.1f}%"
    if style == "ratio":
        return f"{value:.3f}"
    if style == "sec":
        return f"{value:.3f}"
    return str(value)


def table(summaries: dict[str, Summary]) -> list[list[str]]:
    """The metrics table as rows of cells: a header, then one row per metric, one column per kind and overall."""
    rows = [["metric", *summaries]]
    for key, label, style in ROWS:
        rows.append([label, *(cell(getattr(s, key), style) for s in summaries.values())])
    return rows


def terminal(summaries: dict[str, Summary]) -> str:
    """The metrics table aligned in plain text for the terminal."""
    rows = table(summaries)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(summaries: dict[str, Summary]) -> str:
    """The metrics table in Markdown."""
    rows = table(summaries)
    head, body = rows[0], rows[1:]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def verdict_record(verdict: Verdict) -> dict[str, Any]:
    """One question's line in the results JSON: the question, what was expected, the whole answer, the checks."""
    case = verdict.case
    return {
        "id": case.id,
        "kind": case.kind,
        "lang": case.lang,
        "question": case.question,
        "expected": {"figures": list(case.figures), "evidence": case.evidence, "document": case.document},
        "answer": verdict.answer.to_dict() if verdict.answer is not None else None,
        "verdict": {
            "correct": verdict.correct,
            "found": verdict.found,
            "refused": verdict.refused,
            "figure_ok": verdict.figure_ok,
            "citation_hit": verdict.citation_hit,
            "quote_hit": verdict.quote_hit,
            "supporting_citations": verdict.supporting,
            "citations": verdict.cited,
            "hallucinated": list(verdict.hallucinated),
            "retrieval_rank": verdict.rank,
            "nearest_hit": verdict.nearest_hit,
            "seconds": round(verdict.seconds, 4),
            "error": verdict.error,
            "reasons": verdict.reasons(),
        },
    }


def write_json(
    path: Path,
    run: dict[str, Any],
    summaries: dict[str, Summary],
    verdicts: Sequence[Verdict],
    errors: Sequence[LoadError],
) -> None:
    """Write the full results: run settings, summaries, loader errors and every question's answer and verdict."""
    body = {
        "run": run,
        "summaries": {kind: asdict(s) for kind, s in summaries.items()},
        "load_errors": [{"line": e.line, "message": e.message} for e in errors],
        "questions": [verdict_record(v) for v in verdicts],
    }
    path.write_text(json.dumps(body, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")


def _short(text: str, limit: int = MAX_SHOWN_ANSWER) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _failure(verdict: Verdict) -> list[str]:
    case, answer = verdict.case, verdict.answer
    lines = [f"### {case.id} ({case.kind}, {case.lang}): {'; '.join(verdict.reasons())}", ""]
    lines.append(f"- **Question:** {case.question}")
    if answer is None:
        lines.append(f"- **Error:** `{verdict.error}`")
    else:
        lines.append(f"- **Answer** (found={answer.found}, {answer.backend}): {_short(answer.text)}")
        for c in answer.citations:
            lines.append(f"  - [{c.number}] {c.document} ¶{c.paragraph}: “{_short(c.quote, 200)}”")
    if case.answerable:
        rank = f"rank {verdict.rank}" if verdict.rank else "not retrieved"
        lines.append(f"- **Expected:** {', '.join(case.figures)} in {case.document}: “{case.evidence}” ({rank})")
    else:
        lines.append("- **Expected:** a refusal (the articles do not say)")
    return [*lines, ""]


def write_markdown(
    path: Path,
    run: dict[str, Any],
    summaries: dict[str, Summary],
    verdicts: Sequence[Verdict],
    errors: Sequence[LoadError],
    chart: Path | None = None,
) -> None:
    """Write report.md: what was run, the metrics per kind, loader errors, and every failure in full."""
    settings = run.get("settings", {})
    backends = ", ".join(f"{name} ×{n}" for name, n in run.get("answer_backends", {}).items()) or "none"
    index = ", ".join(f"{n} {what}" for what, n in run.get("index", {}).items())
    lines = [
        "# Evaluation report",
        "",
        f"- **When:** {run.get('timestamp')}",
        f"- **Backend:** {run.get('backend')} (answers written by: {backends})",
        f"- **Embedder:** {run.get('embedder')}",
        "- **Settings:** " + ", ".join(f"{k}={v}" for k, v in settings.items()),
        f"- **Questions:** {run.get('questions')} from `{run.get('questions_file')}`"
        + (f" (filters: {run['filters']})" if run.get("filters") else ""),
        f"- **Index:** {index} (store: {run.get('store')})",
        f"- **Run time:** {run.get('seconds', 0):.1f} s",
        "",
        "## Metrics per kind",
        "",
        markdown_table(summaries),
        "",
        "Definitions: see `docs/evaluation.md`. Shares of answerable questions, except correct, refused, hallucination "
        "and latency (all questions) and refusal recall (unanswerable questions). '–' = nothing to measure.",
        "",
    ]
    if chart is not None:
        lines += [f"![metrics per kind]({chart.name})", ""]
    if errors:
        lines += ["## Question file errors (lines skipped)", ""]
        lines += [f"- {e}" for e in errors] + [""]
    raised = [v for v in verdicts if v.error is not None]
    if raised:
        lines += ["## ask() errors", ""]
        lines += [f"- {v.case.id}: `{v.error}`" for v in raised] + [""]
    failures = [v for v in verdicts if v.reasons()]
    lines += [f"## Failures ({len(failures)} of {len(verdicts)})", ""]
    for verdict in failures:
        lines += _failure(verdict)
    path.write_text("\n".join(lines), encoding="utf-8")


CHART_HINT = "skipped: matplotlib is not installed (pip install -e '.[eval]')"


def write_chart(path: Path, summaries: dict[str, Summary], title: str = "") -> bool:
    """A PNG of grouped bars: answer metrics above, retrieval metrics below, one bar per kind, values on bars;
    False (nothing written) when matplotlib, an optional extra, is not installed."""
    try:
        import matplotlib
    except ModuleNotFoundError:
        return False

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = list(summaries)
    colors = matplotlib.colormaps["tab10"]
    figure, axes = plt.subplots(2, 1, figsize=(14, 9), constrained_layout=True)
    for axis, bars, heading in (
        (axes[0], ANSWER_BARS, "Answers"),
        (axes[1], RETRIEVAL_BARS, "Retrieval of the evidence paragraph (answerable questions)"),
    ):
        width = 0.8 / len(kinds)
        for n, kind in enumerate(kinds):
            values = [getattr(summaries[kind], key) for key, _ in bars]
            xs = [i + (n - (len(kinds) - 1) / 2) * width for i in range(len(bars))]
            shown = [(x, 100 * v) for x, v in zip(xs, values, strict=True) if v is not None]
            if not shown:
                continue
            label = f"{kind} (n={summaries[kind].questions})"
            drawn = axis.bar([x for x, _ in shown], [v for _, v in shown], width, label=label, color=colors(n % 10))
            axis.bar_label(drawn, labels=[f"{v:.0f}" for _, v in shown], fontsize=7, padding=1)
        axis.set_xticks(range(len(bars)), [label for _, label in bars])
        axis.set_ylim(0, 110)
        axis.set_ylabel("% of questions (MRR × 100)")
        axis.set_title(heading, loc="left")
        axis.grid(axis="y", alpha=0.3)
        axis.set_axisbelow(True)
    axes[1].set_xlabel("metric (no bar and no value: nothing to measure for that kind)")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, title="question kind", ncols=len(kinds), loc="outside lower center", fontsize=9)
    if title:
        figure.suptitle(title)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True
