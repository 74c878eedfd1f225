"""Fit the offline answerer's answerability model on the calibration questions (never on the evaluation set).

    python -m evals.calibrate                      # fit on evals/calibration.jsonl, write rag/answer_model.json
    python -m evals.calibrate --dry-run            # print the fit without writing it

Every candidate sentence the answerer considers becomes one training row: its features, and whether it really
answers (it is in the evidence paragraph and states every expected figure). A logistic regression with an L2
penalty is fitted by gradient descent; the threshold is then chosen by replaying the answer policy (quote the
most probable sentence if it clears the threshold, else say "not found") and scoring a wrong figure as worse
than a refusal.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from evals.dataset import Case, load
from rag.extractive import FEATURES, MODEL_PATH, AnswerModel, ExtractiveAnswerer
from rag.figures import states_figure

if TYPE_CHECKING:
    from rag.engine import Engine

CALIBRATION = Path(__file__).resolve().parent / "calibration.jsonl"
WRONG_COST = 2.0  # a wrong figure costs as much as two missed answers: "not found" is preferred over a wrong figure


def rows(engine: Engine, cases: list[Case]) -> list[list[tuple[list[float], bool]]]:
    """Per question, each candidate's feature vector and whether it truly answers."""
    answerer = ExtractiveAnswerer(engine.index)
    table = []
    for case in cases:
        question, hits = engine.search(case.question)
        candidates = []
        for evidence in answerer.evidence(question, hits):
            record = evidence.hit.record
            right = (
                case.answerable
                and record.document == case.document
                and case.evidence is not None
                and case.evidence in engine.index.paragraphs[record.paragraph_id]
                and all(states_figure(record.text, figure) for figure in case.figures)
            )
            candidates.append(([evidence.features[name] for name in FEATURES], bool(right)))
        table.append(candidates)
    return table


def fit(table: list[list[tuple[list[float], bool]]], l2: float = 0.01, steps: int = 4000) -> tuple[np.ndarray, float]:
    """Logistic regression weights and bias over all candidates."""
    x = np.array([features for question in table for features, _ in question], dtype=float)
    y = np.array([right for question in table for _, right in question], dtype=float)
    w = np.zeros(x.shape[1])
    b = 0.0
    rate = 0.5
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        w -= rate * (x.T @ (p - y) / len(y) + l2 * w)
        b -= rate * float(np.mean(p - y))
    return w, b


def replay(table: list[list[tuple[list[float], bool]]], w: np.ndarray, b: float, threshold: float) -> dict[str, int]:
    """Outcomes of the answer policy at `threshold`: right answers, wrong answers, refusals (right or not)."""
    outcome = {"right": 0, "wrong": 0, "refused_right": 0, "refused_wrong": 0}
    for question in table:
        answerable = any(right for _, right in question)
        scored = sorted(((1 / (1 + np.exp(-(np.dot(f, w) + b))), right) for f, right in question), reverse=True)
        if scored and scored[0][0] >= threshold:
            outcome["right" if scored[0][1] else "wrong"] += 1
        else:
            outcome["refused_wrong" if answerable else "refused_right"] += 1
    return outcome


def main(argv: list[str] | None = None) -> int:
    """Fit, choose the threshold, print the replayed outcomes, and write the model."""
    parser = argparse.ArgumentParser(prog="python -m evals.calibrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, default=CALIBRATION, help="calibration question file")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="where to write the model")
    parser.add_argument("--dry-run", action="store_true", help="print the fit, write nothing")
    args = parser.parse_args(argv)

    from rag.engine import Engine
    from rag.settings import Settings

    dataset = load(args.questions)
    for error in dataset.errors:
        print(error, file=sys.stderr)
    engine = Engine(Settings())
    table = rows(engine, list(dataset.cases))
    w, b = fit(table)
    best = max(
        (float(t) for t in np.arange(0.05, 0.96, 0.01)),
        key=lambda t: (lambda o: o["right"] + o["refused_right"] - WRONG_COST * o["wrong"])(replay(table, w, b, t)),
    )
    outcome = replay(table, w, b, best)
    for name, weight in zip(FEATURES, w, strict=True):
        print(f"  {name:16s} {weight:+.3f}")
    print(f"  {'bias':16s} {b:+.3f}\nthreshold {best:.2f}: {outcome} over {len(table)} questions")
    model = AnswerModel(
        weights={name: round(float(weight), 4) for name, weight in zip(FEATURES, w, strict=True)},
        bias=round(b, 4),
        threshold=round(best, 2),
        fitted_on=f"{args.questions.name}: {len(table)} questions, {sum(len(q) for q in table)} candidates",
    )
    if not args.dry_run:
        args.out.write_text(model.to_json(), encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
