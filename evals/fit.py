"""Fit the offline answerer on the public suite's train split and choose its threshold on dev.

    python -m evals.fit                   # writes rag/answer_model.json (needs: pip install -e '.[train]')

Every (retrieved sentence, figure) candidate of a train question is a row of `rag.extractive.FEATURES`, labelled
right when its figure is the answer and its paragraph holds the answer's sentence. A logistic regression
(scikit-learn, on standardized features, weights then folded back to raw features so the package needs only
numpy-free arithmetic) gives each candidate a probability. On dev, each question is answered by its likeliest
candidate, and the threshold below which it says "not found" is the one that gets the most dev questions right
(answerable questions answered right, unanswerable ones refused). The test split is never read here.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evals.dataset import Case, load
from evals.metrics import _flat
from evals.public import CACHE, DATA, build, engine_for, read, write
from evals.vectors import VectorCache
from rag.extractive import FEATURES, MODEL_PATH, AnswerModel, ExtractiveAnswerer
from rag.figures import states_figure


@dataclass(frozen=True)
class Asked:
    """One question's candidates: feature rows, which are right, and what kind of question it was."""

    case: Case
    rows: np.ndarray  # candidates × FEATURES
    right: np.ndarray  # bool per candidate
    refused_anyway: bool  # no figure asked, or a place no article mentions: the answerer refuses before scoring


def candidates(split: str, data: Path, cache: Path, corpora: int | None = None) -> list[Asked]:
    """The candidates of every question of `split`'s corpora, or of its first `corpora` (written and ingested as
    needed)."""
    records = read(data)
    vectors = VectorCache(cache, f"e5-{split}")
    zero = AnswerModel({name: 0.0 for name in FEATURES}, 0.0, 0.5)
    asked: list[Asked] = []
    for corpus in build(records, split)[:corpora]:
        folder, questions = write(corpus, cache)
        engine = engine_for(corpus.name, folder, cache, vectors)
        engine.ingest()
        vectors.save()
        answerer = ExtractiveAnswerer(engine.index, model=zero)
        for case in load(questions).cases:
            question, hits = engine.search(case.question)
            evidence = answerer.evidence(question, hits) if question.wants not in ("none", "comparison") else []
            rows = np.array([[e.features[name] for name in FEATURES] for e in evidence], dtype=float)
            right = np.array([_right(case, e.figure.text, e.hit.record.paragraph_id, engine) for e in evidence])
            asked.append(Asked(case, rows.reshape(-1, len(FEATURES)), right, question.wants == "none" or bool(question.strangers)))
        engine.close()
        print(f"{corpus.name}: {len(corpus.questions)} questions", file=sys.stderr)
    return asked


def _right(case: Case, figure: str, paragraph_id: str, engine: object) -> bool:
    if not case.answerable or case.evidence is None:
        return False
    paragraph = engine.index.paragraphs[paragraph_id]  # type: ignore[attr-defined]
    return _flat(case.evidence) in _flat(paragraph) and all(states_figure(figure, f) for f in case.figures)


def fit(train: list[Asked], c: float = 1.0) -> tuple[np.ndarray, float]:
    """Logistic weights over raw features (standardized for the fit, then folded back) and the bias."""
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([a.rows for a in train if len(a.rows)])
    y = np.concatenate([a.right for a in train if len(a.rows)])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=2000).fit((x - mean) / scale, y)
    weights = model.coef_[0] / scale
    return weights, float(model.intercept_[0] - (model.coef_[0] * mean / scale).sum())


def outcomes(asked: list[Asked], weights: np.ndarray, bias: float, threshold: float) -> Counter[str]:
    """What answering by the likeliest candidate at `threshold` gives, per kind: right, wrong, refused."""
    tally: Counter[str] = Counter()
    for a in asked:
        kind = a.case.kind
        tally[f"{kind}:questions"] += 1
        if a.refused_anyway or not len(a.rows):
            tally[f"{kind}:refused"] += 1
            continue
        p = 1.0 / (1.0 + np.exp(-(a.rows @ weights + bias)))
        best = int(np.argmax(p))
        if p[best] < threshold:
            tally[f"{kind}:refused"] += 1
        elif a.right[best]:
            tally[f"{kind}:right"] += 1
        else:
            tally[f"{kind}:wrong"] += 1
    return tally


def score(tally: Counter[str]) -> float:
    """Share of questions handled right: answerable ones answered right, unanswerable ones refused."""
    right = sum(v for k, v in tally.items() if k.endswith(":right")) + tally["unanswerable:refused"]
    return right / max(1, sum(v for k, v in tally.items() if k.endswith(":questions")))


def describe(tally: Counter[str]) -> str:
    """Per kind: right (answerable) or refused (unanswerable) as a share."""
    kinds = sorted({k.split(":")[0] for k in tally})
    parts = []
    for kind in kinds:
        n = tally[f"{kind}:questions"]
        good = tally[f"{kind}:refused"] if kind == "unanswerable" else tally[f"{kind}:right"]
        parts.append(f"{kind} {100 * good / max(1, n):.1f}% of {n}")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Fit on train, choose the threshold on dev, write the model; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m evals.fit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the development data (default: %(default)s)")
    parser.add_argument("--cache", type=Path, default=CACHE, help="corpora, stores, vectors (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="the model file (default: %(default)s)")
    parser.add_argument("--train-corpora", type=int, metavar="N", help="fit on the first N train corpora only")
    parser.add_argument("--c", type=float, default=1.0, help="inverse regularization strength (default: 1.0)")
    args = parser.parse_args(argv)
    try:
        train = candidates("train", args.data, args.cache, args.train_corpora)
        dev = candidates("dev", args.data, args.cache)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    weights, bias = fit(train, args.c)
    thresholds = np.round(np.arange(0.05, 0.96, 0.01), 2)
    scored = [(score(outcomes(dev, weights, bias, t)), -t, t) for t in thresholds]
    best = max(scored)[2]
    for name, weight in zip(FEATURES, weights, strict=True):
        print(f"  {name:18} {weight:+.3f}")
    print(f"  {'bias':18} {bias:+.3f}")
    train_tally, dev_tally = outcomes(train, weights, bias, best), outcomes(dev, weights, bias, best)
    print(f"threshold {best}: train {describe(train_tally)}\n               dev   {describe(dev_tally)}")
    import sklearn

    model = AnswerModel(
        weights={name: round(float(w), 5) for name, w in zip(FEATURES, weights, strict=True)},
        bias=round(bias, 5),
        threshold=float(best),
        fitted_on=f"public suite train split: {len(train)} questions, "
        f"{sum(len(a.rows) for a in train)} candidates (python -m evals.fit)",
        about={
            "library": f"scikit-learn {sklearn.__version__}, LogisticRegression(C={args.c})",
            "threshold_chosen_on": f"dev split, {len(dev)} questions: most handled right",
            "dev": {"handled_right": round(score(dev_tally), 4), "by_kind": describe(dev_tally)},
        },
    )
    args.out.write_text(model.to_json(), encoding="utf-8")
    print(f"model written: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
