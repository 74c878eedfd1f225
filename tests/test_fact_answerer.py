"""The offline fact answerer (rag/answerers/fact.py): its fitted model, the sentences it carries, and what it answers
on articles written for these tests (not the seeds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.answerers.fact import FEATURES, MODEL_PATH, FactAnswerer, asked_span, default_model, read_model
from rag.engine import Engine
from rag.question import analyse
from rag.settings import Settings
from tests.conftest import CountingE5

HARBOUR = """---
title: Port city reports record year
lang: en
---
The port of Westhaven handled 4.2 million containers in 2023, its busiest year since it opened in 1961.

The new container terminal was designed by the engineer Margit Solberg. She also led the dredging of the harbour \
channel, which lets the largest ships berth at low tide.

Passenger traffic fell because two ferry routes were closed for repairs to their piers.
"""

LIBRARY = """---
title: 图书馆新馆开放
lang: zh
---
河西市图书馆新馆于2022年9月正式开放，建筑面积达4.5万平方米。

新馆由本地建筑师林清设计，外墙采用回收的旧城砖。其中阅览大厅的屋顶模仿了河西的梯田。

为了方便老年读者，新馆在一楼设置了大字图书区和免费的老花镜。
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


def test_the_model_file_carries_its_features_command_and_dev_figures() -> None:
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert data["features"] == list(FEATURES) == list(data["weights"])
    assert "python -m evals.fit_fact" in data["fitted_on"]
    assert data["dev"]["by_kind"] and 0 < data["threshold"] < 1
    assert default_model().threshold == data["threshold"]


def test_a_model_fitted_on_other_features_fails_loudly(tmp_path: Path) -> None:
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    data["weights"] = {"coverage": 1.0, **{k: v for k, v in data["weights"].items() if k != "coverage"}, "extra": 0.0}
    wrong = tmp_path / "fact_model.json"
    wrong.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="other features"):
        read_model(wrong)


def test_who_is_answered_with_the_sentence_and_a_citation(engine: Engine) -> None:
    a = engine.ask("Who designed the new container terminal?")
    assert a.found and a.kind == "fact"
    assert a.text.startswith("Margit Solberg — ") and a.text.endswith("[1]")
    assert "designed by the engineer Margit Solberg" in a.citations[0].quote
    assert a.citations[0].paragraph == 2


def test_a_sentence_opening_with_a_pronoun_carries_the_one_before(engine: Engine) -> None:
    a = engine.ask("What did the terminal's designer lead at the harbour channel?")
    assert a.found and a.kind == "fact"
    quote = a.citations[0].quote
    assert quote.startswith("The new container terminal was designed") and "dredging" in quote


def test_a_chinese_why_question_is_answered_from_its_sentence(engine: Engine) -> None:
    a = engine.ask("新馆为什么在一楼设置大字图书区？")
    assert a.found and a.kind == "fact"
    assert "老年读者" in a.citations[0].quote


def test_something_no_article_covers_is_refused_without_a_figure_note(engine: Engine) -> None:
    a = engine.ask("Who won the football match in Lisbon?")
    assert not a.found and a.kind == "none"
    assert "finds figures" not in a.text and "RAG_LLM" not in a.text


@pytest.mark.parametrize(
    ("question", "found"),
    [
        ("Who designed the new container terminal in 2019?", False),  # the articles tell no design of 2019
        ("Which two ferry routes were closed?", True),  # a count describes the answer: no condition
    ],
)
def test_a_year_the_question_states_is_a_condition_a_count_is_not(engine: Engine, question: str, found: bool) -> None:
    a = engine.ask(question)
    assert a.found is found, a.text
    assert not found or "ferry routes were closed" in a.citations[0].quote


def test_figure_questions_still_go_to_the_figure_answerer(engine: Engine) -> None:
    a = engine.ask("How many containers did the port of Westhaven handle in 2023?")
    assert a.found and a.kind == "figure" and a.text.startswith("4.2 million")


def test_the_asked_name_leads_only_when_one_new_name_is_found() -> None:
    who = analyse("Who designed the terminal?")
    assert asked_span(who, "It was designed by the engineer Margit Solberg in 2020.") == "Margit Solberg"
    assert asked_span(who, "Margit Solberg and Ola Nordmann designed it.") == ""
    assert asked_span(analyse("Why did traffic fall?"), "Traffic fell when Ferry Line closed.") == ""


def test_candidates_carry_every_feature_and_a_probability(engine: Engine) -> None:
    question, hits = engine.search("Who designed the new container terminal?")
    candidates = FactAnswerer(engine.index).candidates(question, hits)
    assert candidates and all(set(c.features) == set(FEATURES) for c in candidates)
    assert [c.probability for c in candidates] == sorted((c.probability for c in candidates), reverse=True)
