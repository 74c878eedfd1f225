"""How the offline answerer reads a sentence (rag/answerers/reading.py): how close a figure stands to given words, how a
question's words are met (a Chinese compound and its pieces, another word of the same root, the parts of a hyphenated
word: read off the answerer's coverage feature), and how a figure is written for the reader. Sentences are written
for the test and indexed alone (real keyword index, real jieba and Snowball), so each can be read off one sentence."""

from __future__ import annotations

import pytest

from rag.answerers.figure import FigureAnswerer
from rag.answerers.reading import closeness, write_figure
from rag.figures import find_figures
from rag.question import Question
from rag.retrieve import Hit, Index
from rag.store import Record
from rag.text import detect_lang


def coverage(text: str, question: Question) -> float:
    """The share of the question's words (by rarity) that `text`, alone in an article of its own, meets."""
    lang = detect_lang(text)
    record = Record("article:1:1", text, "article", "", lang, 1, "article:1", "paragraph", 1, 0, len(text))
    evidence = FigureAnswerer(Index([record])).evidence(question, [Hit(record, 0.0, 0.0, 0.0)])
    return evidence[0].features["coverage"]


def asking(*terms: str, lang: str = "en", wants: str = "any", **expansions: tuple[str, ...]) -> Question:
    """A question whose own search terms are `terms`."""
    return Question(text="", lang=lang, wants=wants, terms=dict.fromkeys(terms, 1.0), expansions=expansions)


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


def test_a_chinese_compound_and_its_pieces_count_as_one_question_word() -> None:
    compound = asking(*"苏州 工业 园区 苏州工业园区 时候".split(), lang="zh", wants="date")
    # A sentence with 苏州 alone has a third of 苏州工业园区; one with every piece has all of it; 时候 is the question's
    # form, which no sentence need repeat.
    assert coverage("苏州的企业在2007年成立。", compound) == pytest.approx(1 / 3, abs=1e-12)
    assert coverage("苏州的工业园区在2007年成立。", compound) == 1.0
    assert coverage("苏州工业园区在2007年成立。", compound) == 1.0
    # 纳微 is a word of its own, not a piece of the compound.
    with_name = asking(*"苏州 工业 园区 苏州工业园区 纳微 时候".split(), lang="zh", wants="date")
    assert coverage("苏州工业园区在2007年成立。", with_name) < 1.0
    assert coverage("纳微在苏州工业园区于2007年成立。", with_name) == 1.0
    # "In 2007, … he founded Nawei": "year" asks for the form of the answer, not for a word of the sentence.
    english = asking("year", "nawei", "found", wants="date")
    assert coverage("In 2007, he founded Nawei in the park.", english) == 1.0


def test_a_word_of_the_same_root_meets_a_question_word() -> None:
    sentence = "he founded Suzhou Nawei Technology Co., Ltd. in Suzhou Industrial Park in 2007"
    # 工业 translates to "industry"; the sentence says "industrial": almost as good as the word itself.
    industry = asking("工业", lang="zh", wants="date", 工业=("industry",))
    assert coverage(sentence, industry) == 0.9
    assert coverage(sentence, asking("park", wants="date")) == 1.0
    assert coverage(sentence, asking("hospital", wants="date")) == 0.0


def test_the_parts_of_a_hyphenated_word_meet_question_words() -> None:
    sentence = "the number of high-level talents exceeds 340,000"
    for word in ("high-level", "high", "level", "talent"):
        assert coverage(sentence, asking(word)) == 1.0, word


@pytest.mark.parametrize(
    ("text", "en", "zh"),
    [
        ("苏州高新区已累计集聚各类人才26万人。", "260,000", "26万"),
        ("The number of talents has reached 3.43 million.", "3.43 million", "343万"),
        ("In June 2021, Nawei was listed.", "June 2021", "2021年6月"),
        ("基金规模5000万元。", "50 million yuan", "5000万元"),
        ("The share rose to 12.5%.", "12.5%", "12.5%"),
    ],
)
def test_a_figure_is_written_the_way_each_reader_writes_it(text: str, en: str, zh: str) -> None:
    figure = find_figures(text)[0]
    assert (write_figure(figure, "en"), write_figure(figure, "zh")) == (en, zh)
