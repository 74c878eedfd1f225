"""Fit the offline answerer's answerability model on the calibration questions (never on the evaluation set).

    python -m evals.calibrate                      # fit on evals/calibration.jsonl, write rag/answer_model.json
    python -m evals.calibrate --dry-run            # print the fit without writing it

For each question, the candidate sentences the answerer considers are labelled (right when in the evidence
paragraph and stating every expected figure). A conditional-logit ranker with a "no answer" option is fitted
by gradient descent: the candidates and a null choice compete in one softmax, so the weights learn to put the
answering sentence first and the null score learns when nothing answers. The threshold is then chosen by
replaying the answer policy (quote the top sentence if it clears the threshold, else say "not found") with a
wrong figure scored as worse than a refusal.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag.extractive import FEATURES, MODEL_PATH, AnswerModel, ExtractiveAnswerer, choose, default_model
from rag.figures import states_figure

from .dataset import Case, load

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


def fit(table: list[list[tuple[list[float], bool]]], l2: float = 1e-2, steps: int = 3000) -> tuple[np.ndarray, float]:
    """A conditional-logit ranker with a "no answer" option: per question, the candidates and a null choice whose
    score is a learned constant compete in one softmax; the null choice is right when no candidate answers.

    Returns weights for the raw features and a bias such that a candidate beats "no answer" when
    bias + w·x > 0 (fitted on standardized features).
    """
    x_all = np.array([f for question in table for f, _ in question], dtype=float)
    mean, spread = x_all.mean(axis=0), x_all.std(axis=0)
    spread[spread == 0] = 1.0
    width = len(mean)
    groups = [
        ((np.array([f for f, _ in q], dtype=float).reshape(len(q), width) - mean) / spread, np.array([r for _, r in q]))
        for q in table
    ]
    w = np.zeros(len(mean))
    null = 0.0
    for _ in range(steps):
        grad_w = l2 * w
        grad_null = 0.0
        for z, right in groups:
            scores = z @ w
            top = max(float(scores.max(initial=null)), null)
            e, e_null = np.exp(scores - top), float(np.exp(null - top))
            total = e.sum() + e_null
            grad_w += (e / total) @ z
            grad_null += e_null / total
            if right.any():
                grad_w -= (e[right] / e[right].sum()) @ z[right]
            else:
                grad_null -= 1.0
        w -= 0.5 * grad_w / len(groups)
        null -= 0.5 * grad_null / len(groups)
    return w / spread, -null - float(np.sum(w * mean / spread))


def objective(outcome: dict[str, int]) -> float:
    """What the policy is tuned for: right answers and right refusals, a wrong figure counting against twice."""
    return outcome["right"] + outcome["refused_right"] - WRONG_COST * outcome["wrong"]


def best_threshold(table: list[list[tuple[list[float], bool]]], w: np.ndarray, b: float) -> float:
    """The threshold that maximizes the objective when replaying the policy."""
    return max((float(t) for t in np.arange(0.02, 0.99, 0.01)), key=lambda t: objective(replay(table, w, b, t)))


def replay(table: list[list[tuple[list[float], bool]]], w: np.ndarray, b: float, threshold: float) -> dict[str, int]:
    """Outcomes of the answer policy (`rag.extractive.choose`) at `threshold`: right and wrong answers, refusals."""
    cross = FEATURES.index("cross")
    outcome = {"right": 0, "wrong": 0, "refused_right": 0, "refused_wrong": 0}
    for question in table:
        answerable = any(right for _, right in question)
        scored = sorted(
            ((1 / (1 + np.exp(-(np.dot(f, w) + b))), bool(f[cross]), right) for f, right in question),
            key=lambda item: -item[0],
        )
        chosen = choose([(probability, other) for probability, other, _ in scored], threshold)
        if chosen is not None:
            outcome["right" if scored[chosen][2] else "wrong"] += 1
        else:
            outcome["refused_wrong" if answerable else "refused_right"] += 1
    return outcome


def main(argv: list[str] | None = None) -> int:
    """Fit, choose the threshold, print the replayed outcomes, and write the model."""
    parser = argparse.ArgumentParser(prog="python -m evals.calibrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, default=CALIBRATION, help="calibration question file")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="where to write the model")
    parser.add_argument("--dry-run", action="store_true", help="print the fit, write nothing")
    parser.add_argument("--l2", type=float, default=1e-2, help="L2 penalty of the ranker (default 0.01)")
    parser.add_argument(
        "--keep-weights", action="store_true", help="keep the shipped model's weights; choose only the threshold"
    )
    args = parser.parse_args(argv)

    from rag.engine import Engine
    from rag.settings import Settings

    dataset = load(args.questions)
    for error in dataset.errors:
        print(error, file=sys.stderr)
    engine = Engine(Settings())
    engine.first_start()
    table = rows(engine, list(dataset.cases))
    if args.keep_weights:
        shipped = default_model(args.out)
        w, b = np.array([shipped.weights.get(name, 0.0) for name in FEATURES]), shipped.bias
    else:
        w, b = fit(table, l2=args.l2)
    best = best_threshold(table, w, b)
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
