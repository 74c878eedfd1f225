"""The offline answerer (rag/answerers/figure.py): its fitted model, which language it answers from, and what it answers on
articles written for these tests (not the seeds)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.answerers.figure import (
    CONFIDENCE,
    CROSS_MARGIN,
    FEATURES,
    AnswerModel,
    Evidence,
    FigureAnswerer,
    default_model,
)
from rag.engine import Engine
from rag.figures import find_figures
from rag.retrieve import Hit, Index
from rag.settings import Settings
from rag.store import Record
from tests.conftest import CountingE5

HARBOUR = """---
title: Port city reports record year
lang: en
---
The port of Westhaven handled 4.2 million containers in 2023, its busiest year since it opened in 1961.

Passenger traffic fell to 820,000 travellers, because two ferry routes were closed for repairs.

The city council plans to spend 350 million dollars on a new terminal by 2027.
"""

LIBRARY = """---
title: 图书馆新馆开放
lang: zh
---
河西市图书馆新馆于2022年9月正式开放，建筑面积达4.5万平方米。

开馆一年来，新馆共接待读者120万人次，举办讲座和展览300余场。

新馆藏书总量超过200万册，其中古籍1.8万册。
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    articles = tmp_path_factory.mktemp("articles")
    (articles / "harbour.md").write_text(HARBOUR, encoding="utf-8")
    (articles / "library.md").write_text(LIBRARY, encoding="utf-8")
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), seeds_dir=articles, _env_file=None)  # type: ignore[call-arg]
    engine = Engine(settings, embedder=CountingE5())
    engine.ingest()
    return engine


def test_the_shipped_model_is_fitted_on_the_features_and_says_how() -> None:
    model = default_model()
    assert list(model.weights) == list(FEATURES)
    assert 0.0 < model.threshold < 1.0
    assert "train" in model.fitted_on and "evals.fit" in model.fitted_on
    assert set(model.confidence) == {"score", "share", *CONFIDENCE, "bias"}


def test_a_model_fitted_on_other_features_fails_loudly(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"weights": {"coverage": 1.0}, "bias": 0.0, "threshold": 0.5}), encoding="utf-8")
    with pytest.raises(ValueError, match="evals.fit"):
        default_model.__wrapped__(path)


def test_the_other_language_answers_only_when_it_is_clearly_likelier() -> None:
    text = "截至目前，苏州高新区已累计集聚各类人才26万人。"
    record = Record("zh:1:1", text, "zh", "", "zh", 1, "zh:1", "paragraph", 1, 0, len(text))
    hit, figure = Hit(record, 0.0, 0.0, 0.0), find_figures(text)[0]
    answerer = FigureAnswerer(Index([record]), model=AnswerModel({}, {}, threshold=0.5))

    def choose(*candidates: tuple[float, bool]) -> int | None:
        """The candidate quoted among (probability, from the other language), likeliest first."""
        return answerer._choose([Evidence(hit, figure, {"cross": float(cross)}, p) for p, cross in candidates])

    assert choose((0.6 + CROSS_MARGIN, True), (0.6, False)) == 0  # the other language, well ahead
    assert choose((0.6 + CROSS_MARGIN / 2, True), (0.6, False)) == 1  # about as likely: the reader's own
    assert choose((0.6, True), (0.4, False)) == 0  # nothing in the reader's language reaches the threshold
    assert choose((0.45, True), (0.4, False)) is None


@pytest.mark.parametrize(
    ("question", "figure"),
    [
        ("How many containers did the port of Westhaven handle in 2023?", "4.2 million"),
        ("How many travellers used the port's passenger services?", "820,000"),
        ("新馆开馆一年来接待读者多少人次？", "120万"),
    ],
)
def test_it_answers_with_the_figure_and_quotes_the_whole_sentence(engine: Engine, question: str, figure: str) -> None:
    answer = engine.ask(question)
    assert answer.found, answer.text
    assert figure in answer.text.split(" — ")[0]  # the answer leads with the figure
    quote = answer.citations[0].quote
    assert figure in quote and quote in answer.citations[0].text
    assert quote.endswith((".", "。"))  # a whole sentence, not a clause


@pytest.mark.parametrize(
    "question",
    [
        "How many containers did the port of Westhaven handle in 2019?",  # a year the article does not give
        "What is the capital of France?",
        "河西市博物馆接待了多少观众？",  # another place
    ],
)
def test_it_refuses_what_the_articles_do_not_say(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert not answer.found, answer.text
    assert not answer.citations


# Two articles, each about one town: the first names its town in most sentences, but not in the one that gives
# the figure, nor in that paragraph or its title ("the town has …"); the second is about another town.
ARDMOOR = """---
title: A river town keeps growing
lang: en
---
Ardmoor sits on a bend of the river, two hours north of the capital. Ardmoor was a market town for centuries.

The mayor of Ardmoor said new homes were being built on the old mill site. The council of Ardmoor approved the plans in May.

At present, the town has about 52,000 residents, with more than 9,000 students at its two colleges.
"""

BRACKWELL = """---
title: Brackwell opens a new bridge
lang: en
---
Brackwell opened its new bridge on Saturday. The people of Brackwell had waited ten years for it.

Brackwell is home to 18,000 residents, most of them working in the harbour.
"""


@pytest.fixture(scope="module")
def towns(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    articles = tmp_path_factory.mktemp("towns")
    (articles / "ardmoor.md").write_text(ARDMOOR, encoding="utf-8")
    (articles / "brackwell.md").write_text(BRACKWELL, encoding="utf-8")
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), seeds_dir=articles, _env_file=None)  # type: ignore[call-arg]
    engine = Engine(settings, embedder=CountingE5())
    engine.ingest()
    return engine


def test_an_article_is_about_the_names_it_uses_most(towns: Engine) -> None:
    index = towns.index
    about = {index.record(i).title: index.names[index.record(i).document] for i in range(len(index))}
    assert about["A river town keeps growing"][0] == "ardmoor"
    assert about["Brackwell opens a new bridge"][0] == "brackwell"


def test_a_name_the_paragraph_lacks_but_its_article_is_about_is_met_partly(towns: Engine) -> None:
    question, hits = towns.search("How many residents does Ardmoor have?")
    unfitted = AnswerModel(
        dict.fromkeys(FEATURES, 0.0), dict.fromkeys(("score", "share", *CONFIDENCE, "bias"), 0.0), 0.5
    )
    evidence = FigureAnswerer(towns.index, model=unfitted).evidence(question, hits)
    by_figure = {e.figure.value: e.features for e in evidence}
    assert by_figure[52_000]["names_missing"] == 1.0  # not in its paragraph or title…
    assert by_figure[52_000]["names_in_article"] == 1.0  # … but the article is about Ardmoor
    assert by_figure[18_000]["names_missing"] == 1.0 and by_figure[18_000]["names_in_article"] == 0.0


def test_a_name_no_article_mentions_is_still_refused(towns: Engine) -> None:
    answer = towns.ask("How many residents does Calderby have?")
    assert not answer.found, answer.text


def test_fit_learns_which_feature_tells_the_right_candidate_and_when_to_refuse() -> None:
    pytest.importorskip("sklearn")
    from evals.dataset import Case
    from evals.fit import Asked, fit, outcomes

    rng = np.random.default_rng(0)
    coverage = FEATURES.index("coverage")
    asked = []
    for n in range(300):
        rows = rng.random((5, len(FEATURES)))
        right = np.zeros(5, dtype=bool)
        answerable = n % 3 != 0
        if answerable:
            right[n % 5] = True
            rows[n % 5, coverage] += 1.0  # the right candidate covers the question
        kind = "same" if answerable else "unanswerable"
        case = Case(f"q{n}", "q", "en", kind, ("1",) if answerable else (), "1" if answerable else None, None)
        asked.append(Asked(case, rows, right, False))
    ranker, confidence = fit(asked)
    weights = ranker.weights
    assert weights[coverage] > 2 * np.abs(np.delete(weights, coverage)).max()
    assert confidence[0] > 0 or confidence[1] > 0  # a higher rank score or share is likelier right
    tally = outcomes(asked, ranker, confidence, 0.5)
    assert tally["same:right"] >= 180 and tally["unanswerable:refused"] >= 80


def test_balancing_the_kinds_lets_a_few_cross_lingual_questions_count() -> None:
    pytest.importorskip("sklearn")
    from evals.dataset import Case
    from evals.fit import Asked, fit, outcomes

    rng = np.random.default_rng(2)
    coverage, cross = FEATURES.index("coverage"), FEATURES.index("cross")
    asked = []
    for n in range(420):
        kind = "same" if n < 400 else "cross"
        rows = rng.random((5, len(FEATURES)))
        rows[:, cross] = 0.0
        right = np.zeros(5, dtype=bool)
        right[n % 5] = True
        if kind == "same":
            rows[n % 5, coverage] += 1.0
            rows[(n + 1) % 5, cross] = 1.0  # the other language's sentence is wrong for a same-language question
        else:
            rows[n % 5, cross] = 1.0  # … and the only right one for a cross-lingual question
        asked.append(Asked(Case(f"q{n}", "q", "en", kind, ("1",), "1", None), rows, right, False))
    right_cross = []
    for balance in (0.0, 1.0):
        ranker, confidence = fit(asked, balance=balance)
        right_cross.append(outcomes(asked, ranker, confidence, 0.0)["cross:right"])
    assert right_cross[1] > right_cross[0] + 5


def test_boosted_trees_score_in_the_package_as_lightgbm_scores_them() -> None:
    pytest.importorskip("lightgbm")
    from evals.dataset import Case
    from evals.fit import Asked, fit

    rng = np.random.default_rng(1)
    rows_of = FEATURES.index("proximity"), FEATURES.index("dense")
    asked = []
    for n in range(200):
        rows = rng.random((6, len(FEATURES)))
        right = np.zeros(6, dtype=bool)
        right[n % 6] = True
        rows[n % 6, rows_of[0]] += 0.5 * (rows[n % 6, rows_of[1]] > 0.5)  # an interaction no linear score holds
        asked.append(Asked(Case(f"q{n}", "q", "en", "same", ("1",), "1", None), rows, right, False))
    ranker, confidence = fit(asked, trees=20, leaves=4)
    trees = ranker.trees()
    assert len(trees) == 20
    weights = dict(zip(FEATURES, map(float, ranker.weights), strict=True))
    model = AnswerModel(weights, {}, 0.5, trees=trees)
    for a in asked[:20]:
        shipped = [model.score(dict(zip(FEATURES, map(float, row), strict=True))) for row in a.rows]
        assert np.allclose(shipped, ranker.scores(a.rows), atol=1e-4)


# A size or a weight is asked: only a figure with a unit of length or weight answers, and the answer gives the unit.
TOWER = """---
title: A tower by the lake
lang: en
---
The new observation tower by the lake is 120 metres tall and cost 30 million euros to build.

About 5,000 visitors climbed the tower in its first week, and its steel frame weighs 2,400 tonnes.
"""

BRIDGE = """---
title: 新桥通车
lang: zh
---
河西大桥昨日通车，总投资45亿元，双向六车道，每天约有8万辆车通过。

大桥主塔高180米，桥面宽32米。

大桥建设历时4年，高峰时有1200名工人同时施工。
"""

MARKET = """---
title: Eastbury opens its market hall
lang: en
---
The new market hall in Eastbury cost 12 million pounds and has 140 stalls.

It drew 9,000 "early bird" shoppers on its opening day, the council said.
"""


@pytest.fixture(scope="module")
def sizes(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    articles = tmp_path_factory.mktemp("sizes")
    (articles / "tower.md").write_text(TOWER, encoding="utf-8")
    (articles / "bridge.md").write_text(BRIDGE, encoding="utf-8")
    (articles / "market.md").write_text(MARKET, encoding="utf-8")
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), seeds_dir=articles, _env_file=None)  # type: ignore[call-arg]
    engine = Engine(settings, embedder=CountingE5())
    engine.ingest()
    return engine


@pytest.mark.parametrize(
    ("question", "headline"),
    [
        ("How tall is the observation tower?", "120 metres"),
        ("How heavy is the tower's steel frame?", "2,400 tonnes"),
        ("河西大桥的桥面有多宽？", "32米"),
        ("河西大桥建设历时多久？", "4年"),  # a length of time, with its unit too
    ],
)
def test_a_size_is_answered_with_its_unit(sizes: Engine, question: str, headline: str) -> None:
    answer = sizes.ask(question)
    assert answer.found, answer.text
    assert answer.text.split(" — ")[0] == headline


def test_money_or_a_count_does_not_answer_a_size(sizes: Engine) -> None:
    # 12 million pounds, 140 stalls, 9,000 "early bird" shoppers (a quotation mark, not inches): no height
    answer = sizes.ask("How tall is the market hall in Eastbury?")
    assert not answer.found, answer.text
