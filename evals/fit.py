"""Fit the offline answerer on the public suite's train split and choose its threshold on dev.

    python -m evals.fit                   # writes rag/answerers/figure_model.json (needs: pip install -e '.[train]')

Every (retrieved sentence, figure) candidate of a train question is a row of `rag.answerers.figure.FEATURES`, labelled
right when its figure is the answer and its paragraph holds the answer's sentence. A logistic regression
(scikit-learn, on standardized features, weights then folded back to raw features so the package needs only
numpy-free arithmetic) gives each candidate a probability. On dev, each question is answered by its likeliest
candidate, and the threshold below which it says "not found" is the one that gets the most dev questions right
(answerable questions answered right, unanswerable ones refused). The test split is never read here.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import rag
from rag.answerers.figure import CONFIDENCE, FEATURES, MODEL_PATH, AnswerModel, FigureAnswerer, Tree
from rag.figures import states_figure

from .dataset import Case, load
from .metrics import _flat
from .public import CACHE, DATA, build, engine_for, read, write
from .vectors import VectorCache


@dataclass(frozen=True)
class Asked:
    """One question's candidates: feature rows, which are right, and what kind of question it was."""

    case: Case
    rows: np.ndarray  # candidates × FEATURES
    right: np.ndarray  # bool per candidate
    refused_anyway: bool  # no figure asked, or a place no article mentions: the answerer refuses before scoring


def saved(split: str, data: Path, cache: Path, corpora: int | None = None, reuse: bool = False) -> list[Asked]:
    """`candidates`, kept in the cache (`reuse` reads them back when they were made by the same code: the same
    `rag` sources and data files, so the same features)."""
    path = cache / f"candidates-{split}-{corpora or 'all'}.pkl"
    made_by = code_version()
    if reuse and path.exists():
        version, asked = pickle.loads(path.read_bytes())
        if version == made_by:
            return asked  # type: ignore[no-any-return]
        print(f"{path.name} was made by other code: making the candidates again", file=sys.stderr)
    asked = candidates(split, data, cache, corpora)
    path.write_bytes(pickle.dumps((made_by, asked)))
    return asked


def code_version() -> str:
    """A digest of the package's sources and data files (rag/*.py, the glossary, the model's feature list): what
    makes the candidates' features."""
    digest = hashlib.sha256(" ".join(FEATURES).encode())
    package = Path(rag.__file__).parent
    for path in sorted([*package.rglob("*.py"), *package.glob("*.u8")]):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def candidates(split: str, data: Path, cache: Path, corpora: int | None = None) -> list[Asked]:
    """The candidates of every question of `split`'s corpora, or of its first `corpora` (written and ingested as
    needed)."""
    records = read(data)
    vectors = VectorCache(cache, f"e5-{split}")
    zero = AnswerModel(
        {name: 0.0 for name in FEATURES}, dict.fromkeys(("score", "share", *CONFIDENCE, "bias"), 0.0), 0.5
    )
    asked: list[Asked] = []
    for corpus in build(records, split)[:corpora]:
        folder, questions = write(corpus, cache)
        engine = engine_for(corpus.name, folder, cache, vectors)
        engine.ingest()
        vectors.save()
        answerer = FigureAnswerer(engine.index, model=zero)
        for case in load(questions).cases:
            if case.asks != "figure":  # fact questions have no figure: every figure of their paragraph would pass
                continue
            question, hits = engine.search(case.question)
            evidence = answerer.evidence(question, hits) if question.wants not in ("none", "comparison") else []
            rows = np.array([[e.features[name] for name in FEATURES] for e in evidence], dtype=float)
            right = np.array([_right(case, e.figure.text, e.hit.record.paragraph_id, engine) for e in evidence])
            asked.append(
                Asked(
                    case, rows.reshape(-1, len(FEATURES)), right, question.wants == "none" or bool(question.strangers)
                )
            )
        engine.close()
        print(f"{corpus.name}: {len(corpus.questions)} questions", file=sys.stderr)
    return asked


def _right(case: Case, figure: str, paragraph_id: str, engine: object) -> bool:
    if not case.answerable or case.evidence is None:
        return False
    paragraph = engine.index.paragraphs[paragraph_id]  # type: ignore[attr-defined]
    return _flat(case.evidence) in _flat(paragraph) and all(states_figure(figure, f) for f in case.figures)


@dataclass(frozen=True)
class Ranker:
    """A linear score over raw features, plus boosted trees fitted to what it gets wrong (none: linear only)."""

    weights: np.ndarray
    booster: Any = None  # a lightgbm.Booster

    def scores(self, rows: np.ndarray) -> np.ndarray:
        linear = rows @ self.weights
        return linear if self.booster is None or not len(rows) else linear + self.booster.predict(rows)

    def trees(self) -> list[Tree]:
        """The booster's trees in the model file's form (see rag.answerers.figure.Tree)."""
        if self.booster is None:
            return []
        return [_tree(info["tree_structure"]) for info in self.booster.dump_model()["tree_info"]]


def _tree(node: dict[str, Any]) -> Tree:
    if "leaf_value" in node:
        return round(float(node["leaf_value"]), 6)
    if node["decision_type"] != "<=":
        raise ValueError(f"unexpected split {node['decision_type']}")
    threshold = float(node["threshold"])
    return [int(node["split_feature"]), threshold, _tree(node["left_child"]), _tree(node["right_child"])]


def fit(
    train: list[Asked],
    l2: float = 1.0,
    trees: int = 0,
    leaves: int = 8,
    columns: Sequence[int] | None = None,
    balance: float = 0.0,
) -> tuple[Ranker, np.ndarray]:
    """The ranker, and the confidence's weights (score, share, CONFIDENCE features…, bias).

    The ranker's linear part maximizes, over the train questions that have a right candidate, the softmax
    probability of their right candidates among all of theirs (a conditional logit, L2-penalized, on standardized
    features, folded back to raw ones). With `trees`, LightGBM's lambdarank then boosts that many small trees
    (`leaves` leaves each) from the linear score, over the same groups. The confidence is a logistic regression,
    over every train question with candidates, of whether its best-ranked candidate is right, from that
    candidate's score, softmax share and CONFIDENCE features (`columns`: their places among the rows' features;
    default the figure answerer's). With `balance` b, a question of a kind with n questions weighs (most / n) ** b,
    most being the largest kind's count: 0 weighs every question the same, 1 every kind (the cross-lingual
    questions, a few dozen, against thousands asked in the article's language).
    """
    columns = _CONFIDENCE if columns is None else list(columns)
    counts = Counter(a.case.kind for a in train)
    weight = {kind: (max(counts.values()) / n) ** balance for kind, n in counts.items()}
    from scipy.optimize import minimize
    from sklearn.linear_model import LogisticRegression

    groups = [(a.rows, a.right, weight[a.case.kind]) for a in train if len(a.rows) and a.right.any()]
    x = np.vstack([rows for rows, _, _ in groups])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    standard = [((rows - mean) / scale, right, q) for rows, right, q in groups]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.5 * l2 * float(w @ w), l2 * w
        for rows, right, q in standard:
            s = rows @ w
            e = np.exp(s - s.max())
            z, r = e.sum(), e[right].sum()
            total -= q * float(np.log(r / z))
            grad = grad - q * ((rows[right].T @ e[right]) / r - (rows.T @ e) / z)
        return total, grad

    w = minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B").x / scale
    ranker = Ranker(w)
    if trees:
        import lightgbm

        rows = np.vstack([a.rows for a in train if len(a.rows) and a.right.any()])
        dataset = lightgbm.Dataset(
            rows,
            label=np.concatenate([a.right for a in train if len(a.rows) and a.right.any()]).astype(int),
            group=[len(a.rows) for a in train if len(a.rows) and a.right.any()],
            init_score=rows @ w,
            free_raw_data=False,
        )
        params = {
            "objective": "lambdarank",
            "num_leaves": leaves,
            "learning_rate": 0.05,
            "min_data_in_leaf": 20,
            "lambdarank_truncation_level": 10,
            "eval_at": [1],
            "verbose": -1,
            "num_threads": 1,
            "deterministic": True,
            "seed": 1,
        }
        ranker = Ranker(w, lightgbm.train(params, dataset, num_boost_round=trees))
    tops, labels, weights = [], [], []
    for a in train:
        if len(a.rows):
            s = ranker.scores(a.rows)
            best = int(np.argmax(s))
            tops.append([*_top(s), *a.rows[best, columns]])
            labels.append(bool(a.right[best]))
            weights.append(weight[a.case.kind])
    confidence = LogisticRegression(max_iter=1000).fit(np.array(tops), np.array(labels), sample_weight=weights)
    return ranker, np.array([*confidence.coef_[0], confidence.intercept_[0]])


_CONFIDENCE = [FEATURES.index(name) for name in CONFIDENCE]
THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.01), 2)


def chosen(
    train: list[Asked],
    dev: list[Asked],
    balances: Sequence[float],
    l2: float = 1.0,
    trees: int = 0,
    leaves: int = 8,
    columns: Sequence[int] | None = None,
) -> tuple[Ranker, np.ndarray, float, float]:
    """`fit` once per balance of the kinds; the ranker, confidence, threshold and balance whose best threshold gets
    the best dev score (`score`: the mean over kinds of the share handled right)."""
    best: tuple[float, float, float] | None = None
    fitted: dict[float, tuple[Ranker, np.ndarray]] = {}
    for balance in balances:
        fitted[balance] = ranker, confidence = fit(train, l2, trees, leaves, columns, balance)
        dev_score, _, threshold = max(
            (score(outcomes(dev, ranker, confidence, t, columns)), -t, t) for t in THRESHOLDS
        )
        print(f"balance {balance}: dev {dev_score:.4f} at threshold {threshold:.2f}", file=sys.stderr)
        if best is None or dev_score > best[0]:
            best = (dev_score, threshold, balance)
    if best is None:
        raise ValueError("no balance to fit with")
    _, threshold, balance = best
    return *fitted[balance], threshold, balance


def _top(s: np.ndarray) -> tuple[float, float]:
    """The best candidate's rank score and softmax share, from all the question's candidates' scores."""
    e = np.exp(s - s.max())
    return float(s.max()), float(e.max() / e.sum())


def outcomes(
    asked: list[Asked], ranker: Ranker, confidence: np.ndarray, threshold: float, columns: Sequence[int] | None = None
) -> Counter[str]:
    """What answering by the likeliest candidate at `threshold` gives, per kind: right, wrong, refused (`columns`:
    the confidence's features, as in `fit`)."""
    columns = _CONFIDENCE if columns is None else list(columns)
    tally: Counter[str] = Counter()
    for a in asked:
        kind = a.case.kind
        tally[f"{kind}:questions"] += 1
        if a.refused_anyway or not len(a.rows):
            tally[f"{kind}:refused"] += 1
            continue
        s = ranker.scores(a.rows)
        best = int(np.argmax(s))
        z = np.array([*_top(s), *a.rows[best, columns], 1.0]) @ confidence
        p = 1.0 / (1.0 + np.exp(-z))
        if p < threshold:
            tally[f"{kind}:refused"] += 1
        elif a.right[best]:
            tally[f"{kind}:right"] += 1
        else:
            tally[f"{kind}:wrong"] += 1
    return tally


def score(tally: Counter[str]) -> float:
    """The mean over kinds of the share handled right (answerable questions answered right, unanswerable ones
    refused): each kind weighs the same, however many questions it has (dev has ten answerable questions for one
    unanswerable; a plain total would choose never to refuse)."""
    kinds = sorted({k.split(":")[0] for k in tally})
    shares = [
        tally[f"{kind}:{'refused' if kind == 'unanswerable' else 'right'}"] / max(1, tally[f"{kind}:questions"])
        for kind in kinds
    ]
    return sum(shares) / max(1, len(shares))


def oracle(asked: list[Asked]) -> str:
    """How often a right candidate exists at all, and how often the likeliest one is right (any threshold)."""
    answerable = [a for a in asked if a.case.answerable]
    reachable = sum(bool(a.right.any()) for a in answerable)
    return f"a right candidate exists for {reachable} of {len(answerable)} answerable questions"


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
    parser.add_argument("--reuse", action="store_true", help="reuse the candidates kept from the last run")
    parser.add_argument("--c", type=float, default=1.0, help="the ranker's L2 penalty (default: 1.0)")
    parser.add_argument("--trees", type=int, default=0, help="boosted trees on top of the linear score (default: 0)")
    parser.add_argument("--leaves", type=int, default=8, help="leaves per tree (default: 8)")
    parser.add_argument(
        "--balance",
        type=float,
        nargs="+",
        default=[0.0, 0.5, 1.0],
        help="weights of the kinds of question to try, chosen on dev (0: each question the same, 1: each kind; "
        "default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        train = saved("train", args.data, args.cache, args.train_corpora, args.reuse)
        dev = saved("dev", args.data, args.cache, reuse=args.reuse)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    ranker, confidence, best, balance = chosen(train, dev, args.balance, args.c, args.trees, args.leaves)
    weights = ranker.weights
    print(oracle(dev))
    for t in (0.05, 0.1, 0.2, 0.3, 0.4, 0.5):
        print(f"  dev at {t:.2f}: {describe(outcomes(dev, ranker, confidence, t))}")
    for name, weight in zip(FEATURES, weights, strict=True):
        print(f"  {name:18} {weight:+.3f}")
    names = ("score", "share", *CONFIDENCE, "bias")
    print("  confidence: " + ", ".join(f"{n} {v:+.3f}" for n, v in zip(names, confidence, strict=True)))
    train_tally, dev_tally = outcomes(train, ranker, confidence, best), outcomes(dev, ranker, confidence, best)
    print(f"threshold {best}: train {describe(train_tally)}\n               dev   {describe(dev_tally)}")
    import sklearn

    model = AnswerModel(
        weights={name: round(float(w), 5) for name, w in zip(FEATURES, weights, strict=True)},
        confidence={
            k: round(float(v), 5) for k, v in zip(("score", "share", *CONFIDENCE, "bias"), confidence, strict=True)
        },
        threshold=float(best),
        trees=ranker.trees(),
        fitted_on=f"public suite train split: {len(train)} questions, "
        f"{sum(len(a.rows) for a in train)} candidates (python -m evals.fit)",
        about={
            "library": f"scipy L-BFGS-B (ranker, L2 {args.c}), scikit-learn {sklearn.__version__} LogisticRegression"
            + (f", LightGBM lambdarank ({args.trees} trees of {args.leaves} leaves)" if args.trees else ""),
            "threshold_chosen_on": f"dev split, {len(dev)} questions: best mean over kinds of the share handled right"
            f" (kinds weighted with balance {balance}, chosen among {args.balance})",
            "dev": {"mean_over_kinds": round(score(dev_tally), 4), "by_kind": describe(dev_tally)},
        },
    )
    for a in dev[:200]:  # the shipped form of the trees scores as LightGBM does
        shipped = [model.score(dict(zip(FEATURES, row, strict=True))) for row in a.rows]
        if not np.allclose(shipped, ranker.scores(a.rows), atol=1e-3):
            raise AssertionError("the exported trees do not reproduce LightGBM's scores")
    args.out.write_text(model.to_json(), encoding="utf-8")
    print(f"model written: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
