"""Fit the offline fact answerer on the public suite's train split and choose its threshold on dev.

    python -m evals.fit_fact            # writes rag/answerers/fact_model.json (needs: pip install -e '.[train]')

Every retrieved sentence of a train fact question (asks: fact) is a candidate, a row of
`rag.answerers.fact.FEATURES`, labelled right when its paragraph holds the question's evidence and its quote (with
the sentence it carries) holds the gold answer span. The ranker and confidence are fitted as the figure
answerer's are (`evals.fit.fit`: a softmax over each question's candidates, then a logistic confidence of the best
one); on dev, the threshold is the one with the best mean over kinds (same, cross, unanswerable) of the share
handled right. The test split is never read here.
"""

from __future__ import annotations

import argparse
import pickle
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np

from rag.answerers.fact import CONFIDENCE, FEATURES, MODEL_PATH, Candidate, FactAnswerer, FactModel
from rag.citations import cite

from .dataset import Case, load
from .fit import Asked, chosen, code_version, describe, oracle, outcomes, score
from .metrics import _flat
from .public import CACHE, DATA, build, ci_subset, engine_for, read, write
from .vectors import VectorCache

COLUMNS = [FEATURES.index(name) for name in CONFIDENCE]
# Fact questions asked per train article when fitting (the suite's own sample is smaller): every one there is.
TRAIN_FACTS = {"zh": 1000, "wiki": 1000, "tatqa": 1000}


def saved(
    split: str, data: Path, cache: Path, corpora: int | None = None, reuse: bool = False, most: int | None = None
) -> list[Asked]:
    """`candidates`, kept in the cache and read back (`reuse`) when made by the same code."""
    path = cache / f"fact-candidates-{split}-{corpora or 'all'}-{most or 'all'}.pkl"
    made_by = code_version() + " ".join(FEATURES)
    if reuse and path.exists():
        version, asked = pickle.loads(path.read_bytes())
        if version == made_by:
            return asked  # type: ignore[no-any-return]
        print(f"{path.name} was made by other code: making the candidates again", file=sys.stderr)
    asked = candidates(split, data, cache, corpora, most)
    path.write_bytes(pickle.dumps((made_by, asked)))
    return asked


def candidates(split: str, data: Path, cache: Path, corpora: int | None = None, most: int | None = None) -> list[Asked]:
    """The candidates of the fact questions of `split`'s corpora (train: every fact question of its articles, or a
    sample of `most` per corpus; "ci": the dev split's CI subset)."""
    records = read(data)
    vectors = VectorCache(cache, f"e5-{split}")
    zero = FactModel(dict.fromkeys(FEATURES, 0.0), dict.fromkeys(("score", "share", *CONFIDENCE, "bias"), 0.0), 0.5)
    asked: list[Asked] = []
    corpora_made = (
        [ci_subset(records)]
        if split == "ci"
        else build(records, split, facts_asked=TRAIN_FACTS if split == "train" else None)
    )
    for corpus in corpora_made[:corpora]:
        folder, questions = write(corpus, cache)
        engine = engine_for(corpus.name, folder, cache, vectors)
        engine.ingest()
        vectors.save()
        answerer = FactAnswerer(engine.index, model=zero)
        cases = [case for case in load(questions).cases if case.asks == "fact"]
        if most is not None and len(cases) > most:  # a sample, the same every run
            cases = random.Random(f"fit_fact:{corpus.name}").sample(cases, most)
        # What retrieval returns depends on the corpus and the question only: kept, so a change of features refits
        # in minutes, not the time of embedding every question again.
        kept = cache / f"fact-searches-{corpus.name}.pkl"
        searches: dict[str, Any] = pickle.loads(kept.read_bytes()) if kept.exists() else {}
        for number, case in enumerate(cases):
            if case.question not in searches:
                searches[case.question] = engine.search(case.question)
            question, hits = searches[case.question]
            found = answerer.candidates(question, hits)
            rows = np.array([[c.features[name] for name in FEATURES] for c in found], dtype=float)
            right = np.array([right_candidate(case, c, engine.index.paragraphs) for c in found], dtype=bool)
            asked.append(Asked(case, rows.reshape(-1, len(FEATURES)), right, bool(question.strangers)))
            if number % 100 == 0:
                print(f"{corpus.name}: {number} of {len(cases)} fact questions", file=sys.stderr)
                kept.write_bytes(pickle.dumps(searches))
        kept.write_bytes(pickle.dumps(searches))
        engine.close()
    return asked


def right_candidate(case: Case, candidate: Candidate, paragraphs: object) -> bool:
    """Whether quoting the candidate answers the case: its paragraph holds the evidence, its quote the answer."""
    if not case.answerable or case.evidence is None or case.answer is None:
        return False
    c = cite(1, candidate.hits, paragraphs)  # type: ignore[arg-type]
    return (
        c.document == case.document
        and _flat(case.evidence) in _flat(c.text)
        and _flat(case.answer).casefold() in _flat(c.quote).casefold()
    )


def main(argv: list[str] | None = None) -> int:
    """Fit on train, choose the threshold on dev, write the model; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m evals.fit_fact", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the development data (default: %(default)s)")
    parser.add_argument("--cache", type=Path, default=CACHE, help="corpora, stores, vectors (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="the model file (default: %(default)s)")
    parser.add_argument("--train-corpora", type=int, metavar="N", help="fit on the first N train corpora only")
    parser.add_argument(
        "--train-questions", type=int, metavar="N", help="a sample of N fact questions per train corpus"
    )
    parser.add_argument(
        "--choose-on", choices=["dev", "ci"], default="dev", help="dev, or its CI subset (quicker to embed)"
    )
    parser.add_argument("--reuse", action="store_true", help="reuse the candidates kept from the last run")
    parser.add_argument("--c", type=float, default=1.0, help="the ranker's L2 penalty (default: 1.0)")
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
        train = saved("train", args.data, args.cache, args.train_corpora, args.reuse, args.train_questions)
        dev = saved(args.choose_on, args.data, args.cache, reuse=args.reuse)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    ranker, confidence, best, balance = chosen(train, dev, args.balance, args.c, columns=COLUMNS)
    print(oracle(dev))
    for t in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6):
        print(f"  dev at {t:.2f}: {describe(outcomes(dev, ranker, confidence, t, COLUMNS))}")
    for name, weight in zip(FEATURES, ranker.weights, strict=True):
        print(f"  {name:18} {weight:+.3f}")
    names = ("score", "share", *CONFIDENCE, "bias")
    print("  confidence: " + ", ".join(f"{n} {v:+.3f}" for n, v in zip(names, confidence, strict=True)))
    train_tally = outcomes(train, ranker, confidence, best, COLUMNS)
    dev_tally = outcomes(dev, ranker, confidence, best, COLUMNS)
    print(f"threshold {best}: train {describe(train_tally)}\n               dev   {describe(dev_tally)}")
    by_lang = {
        lang: describe(outcomes([a for a in dev if a.case.lang == lang], ranker, confidence, best, COLUMNS))
        for lang in ("en", "zh")
    }
    for lang, described in by_lang.items():
        print(f"               dev, asked in {lang}: {described}")
    import sklearn

    model = FactModel(
        weights={name: round(float(w), 5) for name, w in zip(FEATURES, ranker.weights, strict=True)},
        confidence={k: round(float(v), 5) for k, v in zip(names, confidence, strict=True)},
        threshold=float(best),
        fitted_on=f"public suite train split: {len(train)} fact questions, "
        f"{sum(len(a.rows) for a in train)} candidates (python -m evals.fit_fact"
        + (f" --train-corpora {args.train_corpora}" if args.train_corpora else "")
        + (f" --train-questions {args.train_questions}" if args.train_questions else "")
        + (" --choose-on ci" if args.choose_on == "ci" else "")
        + ")",
        about={
            "library": f"scipy L-BFGS-B (ranker, L2 {args.c}), scikit-learn {sklearn.__version__} LogisticRegression",
            "threshold_chosen_on": f"{'dev split' if args.choose_on == 'dev' else 'the dev split CI subset'}, "
            f"{len(dev)} fact questions: best mean over kinds of the share handled right (kinds weighted with "
            f"balance {balance}, chosen among {args.balance})",
            "dev": {
                "mean_over_kinds": round(score(dev_tally), 4),
                "by_kind": describe(dev_tally),
                "by_language": by_lang,
            },
        },
    )
    args.out.write_text(model.to_json(), encoding="utf-8")
    print(f"model written: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
