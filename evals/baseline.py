"""The committed baseline scores and the CI gate: fail when correct-accuracy drops more than 2 points below it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .metrics import Summary

BASELINE = Path(__file__).resolve().parent / "baseline.json"
TOLERANCE = 0.02  # two percentage points of correct-accuracy
_NOISY = ("p50_seconds", "p95_seconds")  # machine-dependent: kept out of the baseline


@dataclass(frozen=True)
class Check:
    """The gate's decision and the sentence that explains it."""

    passed: bool
    message: str


def scores(summary: Summary) -> dict[str, Any]:
    """A summary as baseline numbers: shares rounded to 6 places, latency left out."""
    return {
        key: round(value, 6) if isinstance(value, float) else value
        for key, value in asdict(summary).items()
        if key not in _NOISY
    }


def write(path: Path, summaries: dict[str, Summary], run: dict[str, Any]) -> None:
    """Write the baseline: what it was measured on, then the overall and per-kind scores."""
    about = {key: run[key] for key in ("backend", "embedder", "questions_file", "questions", "settings") if key in run}
    body = {
        "about": about,
        "tolerance_points": round(TOLERANCE * 100, 2),
        "overall": scores(summaries["overall"]),
        "per_kind": {kind: scores(s) for kind, s in summaries.items() if kind != "overall"},
    }
    Path(path).write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def read(path: Path) -> dict[str, Any]:
    """The baseline file as written by `write`; raises ValueError when it is missing or not one."""
    try:
        body = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"no baseline at {path}; create it with --update-baseline") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON ({error.msg}, line {error.lineno})") from None
    if not isinstance(body, dict) or not isinstance(body.get("overall"), dict):
        raise ValueError(f"{path} has no 'overall' scores")
    return body


def check(current: Summary, baseline: dict[str, Any], kind: str | None = None, tolerance: float = TOLERANCE) -> Check:
    """Compare correct-accuracy with the baseline's (overall, or the one `kind`'s when a kind filter is on)."""
    scope = f"kind {kind!r}" if kind else "overall"
    reference = baseline.get("per_kind", {}).get(kind) if kind else baseline.get("overall")
    if not isinstance(reference, dict) or reference.get("correct") is None:
        return Check(False, f"the baseline has no correct-accuracy for {scope}")
    if current.correct is None:
        return Check(False, "no questions were evaluated")
    expected, got = float(reference["correct"]), current.correct
    points = (got - expected) * 100
    summary = f"{scope} correct-accuracy {got:.1%} vs baseline {expected:.1%} ({points:+.1f} points"
    if got < expected - tolerance - 1e-9:
        return Check(False, f"FAIL: {summary}; more than {tolerance * 100:g} points below)")
    return Check(True, f"OK: {summary}; allowed drop {tolerance * 100:g} points)")
