"""The offline answerer (rag/extractive.py) through its public features: how well a sentence covers the question's
words, how close a figure stands to them, and which language answers. Sentences are written for the test and indexed
alone (real keyword index, real jieba and Snowball), so each feature can be read off one sentence."""

from __future__ import annotations

import pytest

from rag.extractive import CROSS_MARGIN, ExtractiveAnswerer, choose
from rag.figures import Figure, find_figures
from rag.question import Question
from rag.retrieve import Hit, Index
from rag.store import Record
from rag.text import detect_lang


def features(text: str, question: Question, figure: Figure | None = None) -> dict[str, float]:
    """The answerer's features of `text`, alone in an article of its own, as evidence for `question`."""
    lang = detect_lang(text)
    record = Record("article:1:1", text, "article", "", lang, 1, "article:1", "paragraph", 1, 0, len(text))
    figure = figure or find_figures(text)[0]
    answerer = ExtractiveAnswerer(Index([record]))
    found, _ = answerer.features(question, Hit(record, 0.0, 0.0, 0.0), 0, [figure], {})
    return found


def asking(*terms: str, lang: str = "en", wants: str = "any", **expansions: tuple[str, ...]) -> Question:
    """A question whose own search terms are `terms`."""
    return Question(text="", lang=lang, wants=wants, terms=dict.fromkeys(terms, 1.0), expansions=expansions)


def closeness(text: str, figure: Figure, words: set[str]) -> float:
    """How near `figure` stands to one of `words` in `text`, as the answerer scores it (1.0: right by it)."""
    return features(text, asking(*words, lang=detect_lang(text)), figure)["closeness"]


def test_an_english_figure_is_read_with_its_own_clause() -> None:
    # "…has reached 3.43 million, and the total number of high-level talents exceeds 340,000.": the words after
    # the comma belong to 340,000, whose noun stands before its verb.
    text = "The number of talents has reached 3.43 million, and the number of high-level talents exceeds 340,000."
    million, thousands = find_figures(text)
    assert closeness(text, million, {"high-level"}) == 0.0
    assert closeness(text, thousands, {"high-level"}) > 0.0
    assert closeness(text, million, {"talent"}) > 0.0 and closeness(text, thousands, {"talent"}) > 0.0
    # Without a verb between them, a word before an English figure does not describe it.
    text = "The most attractive city in the eyes of foreign talents for 10 consecutive years."
    assert closeness(text, find_figures(text)[0], {"talent"}) == 0.0
    # A hyphenated word stands for its parts: 国家级 (national, level) is by "202 national-level talents".
    text = "gathering 202 national-level talents and more than 60,000 industrial innovation talents"
    few, many = find_figures(text)
    assert closeness(text, few, {"national", "industrial"}) == 1.0 and closeness(text, many, {"national"}) == 0.0
    # Distance is counted in words, not in the pieces jieba gives of a compound (高层, 层次, 高层次, 人才, 高层次人才).
    text = "累计引进高层次人才超150名。"
    assert closeness(text, find_figures(text)[0], {"人才"}) == 1.0
    # A date opening the sentence dates its main clause, past the comma.
    text = "In June 2021, Nawei Technology was listed on the Shanghai Stock Exchange."
    assert closeness(text, find_figures(text)[0], {"nawei"}) == 1.0


def test_the_other_language_answers_when_it_is_clearly_likelier() -> None:
    assert choose([(0.7, True), (0.6, False)], 0.5) == 0  # the other language, well ahead
    assert choose([(0.6 + CROSS_MARGIN / 2, True), (0.6, False)], 0.5) == 1  # about as likely: the reader's own
    assert choose([(0.6, True), (0.4, False)], 0.5) == 0  # nothing in the reader's language clears the bar
    assert choose([(0.45, True), (0.4, False)], 0.5) is None


def test_a_chinese_compound_and_its_pieces_count_as_one_question_word() -> None:
    compound = asking(*"苏州 工业 园区 苏州工业园区 时候".split(), lang="zh", wants="date")
    # A sentence with 苏州 alone has a third of 苏州工业园区; one with every piece has all of it; 时候 is the question's
    # form, which no sentence need repeat.
    assert features("苏州的企业在2007年成立。", compound)["coverage"] == pytest.approx(1 / 3, abs=1e-12)
    assert features("苏州的工业园区在2007年成立。", compound)["coverage"] == 1.0
    assert features("苏州工业园区在2007年成立。", compound)["coverage"] == 1.0
    # 纳微 is a word of its own, not a piece of the compound.
    with_name = asking(*"苏州 工业 园区 苏州工业园区 纳微 时候".split(), lang="zh", wants="date")
    assert features("苏州工业园区在2007年成立。", with_name)["coverage"] < 1.0
    assert features("纳微在苏州工业园区于2007年成立。", with_name)["coverage"] == 1.0
    # "In 2007, … he founded Nawei": "year" asks for the form of the answer, not for a word of the sentence.
    english = asking("year", "nawei", "found", wants="date")
    assert features("In 2007, he founded Nawei in the park.", english)["coverage"] == 1.0


def test_a_word_of_the_same_root_meets_a_question_word() -> None:
    sentence = "he founded Suzhou Nawei Technology Co., Ltd. in Suzhou Industrial Park in 2007"
    # 工业 translates to "industry"; the sentence says "industrial": almost as good as the word itself.
    industry = asking("工业", lang="zh", wants="date", 工业=("industry",))
    assert features(sentence, industry)["coverage"] == pytest.approx(0.9 * 0.8, abs=1e-12)
    assert features(sentence, asking("park", wants="date"))["coverage"] == 1.0
    assert features(sentence, asking("hospital", wants="date"))["coverage"] == 0.0


def test_the_parts_of_a_hyphenated_word_meet_question_words() -> None:
    sentence = "the number of high-level talents exceeds 340,000"
    for word in ("high-level", "high", "level", "talent"):
        assert features(sentence, asking(word))["coverage"] == 1.0, word
