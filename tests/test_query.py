"""The query stage: a question made ready for retrieval, offline (follow-ups by grammar, words by dictionary)."""

from __future__ import annotations

from rag.engine import Engine
from rag.followup import UNRESOLVED
from rag.query import analyse

TALENTS = "How many talents does Suzhou have?"


def test_a_question_standing_alone_is_searched_as_asked_with_its_words_translated(engine: Engine) -> None:
    query = analyse(f"  {TALENTS} ", [], engine.translator, engine.index.vocabularies)
    assert query.question.text == TALENTS and query.question.lang == "en" and query.question.wants == "count"
    assert query.question.terms["talent"] == 1.0
    assert any(weight < 1.0 and "人才" in term for term, weight in query.question.terms.items())  # the dictionary's
    assert query.translations == () and query.read_as == "" and query.note == ""


def test_a_follow_up_carries_the_earlier_subject_and_says_how_it_was_read(engine: Engine) -> None:
    history = [(TALENTS, "At present, Suzhou has about 3.43 million talents [1].")]
    query = analyse("And how many of them are high-level?", history, engine.translator, engine.index.vocabularies)
    # "them" is the earlier question's counted thing, and the place carries over: one standalone question.
    assert query.read_as == query.question.text == "How many high-level talents does Suzhou have?"
    assert query.note == ""


def test_a_follow_up_pointing_at_nothing_is_noted(engine: Engine) -> None:
    query = analyse("How many of them are there?", [("Hello", "Hi")], engine.translator, engine.index.vocabularies)
    assert query.note == UNRESOLVED["en"] and query.read_as == ""
