"""What a question asks for (rag/question.py): its language and words, the kind of figure, the thing counted, the
names it quotes or capitalizes, its words in the other language, and what a user typed checked and cleaned."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.question import analyse, clean, cross_lingual, problem, summary_subject, translated_query
from rag.text import tokenize
from rag.translate import Translator

VOCABULARIES = {"en": {"talent": 3, "city": 2, "hospital": 1}, "zh": {"人才": 4, "城市": 2, "医院": 1}}


@pytest.fixture(scope="module")
def translator(tmp_path_factory: pytest.TempPathFactory) -> Translator:
    """The real CC-CEDICT translator, its index cached in a temporary folder."""
    return Translator(cache_dir=Path(tmp_path_factory.mktemp("cedict")))


def test_a_question_has_its_language_and_its_own_search_terms() -> None:
    english = analyse("How many hospitals does the city have?")
    assert english.lang == "en" and english.terms == {"hospital": 1.0, "city": 1.0}
    chinese = analyse("全市有多少家医院？")
    assert chinese.lang == "zh" and chinese.terms == {"全市": 1.0, "家": 1.0, "医院": 1.0}
    assert english.expansions == {} and english.strangers == ()  # translations come from cross_lingual


def test_a_chinese_how_tall_keeps_the_dimension_not_the_question_word() -> None:
    assert analyse("观光塔有多高？").terms == {"观光": 1.0, "塔": 1.0, "高": 1.0}  # not 塔有, 多
    assert analyse("湖有多深？").terms == {"湖": 1.0, "深": 1.0}  # not 有多深
    assert "多长时间" in analyse("用了多长时间？").terms  # "how long a time": no size asked


@pytest.mark.parametrize(
    ("question", "wants"),
    [
        ("What is the total investment of the projects that took root?", "amount"),
        ("What was Suzhou High-tech Zone's GDP in 2020?", "amount"),
        ("纽迈公司去年的营业收入是多少？", "amount"),
        ("How many projects have taken root?", "count"),
        ("What is the population of the port city?", "count"),
        ("What happened to the Greek population?", "any"),  # a fact question: no figure named
        ("What share of the province's applicants came from Suzhou?", "percent"),
        ("纳微科技是什么时候上市的？", "date"),
        ("Who founded Nawei Technology?", "none"),
        ("苏州为什么吸引人才？", "none"),
        ("How many more talents does Suzhou have than the High-tech Zone?", "comparison"),
        ("苏州比高新区多多少人才？", "comparison"),
    ],
)
def test_the_kind_of_figure_a_question_asks_for(question: str, wants: str) -> None:
    assert analyse(question).wants == wants


def test_an_area_or_a_height_asks_for_a_figure() -> None:
    for question in ("What is the land area of the province?", "What was the height of the old tower?"):
        assert analyse(question).asks == "figure", question


def test_who_inside_a_figure_question_is_no_who_question() -> None:
    assert analyse("What fraction of everyone who applied comes from Suzhou?").wants == "percent"
    assert analyse("How many people who applied came from Suzhou?").wants == "count"
    assert analyse("Is Suzhou attractive to foreign talents?").wants == "any"


def test_the_thing_counted_is_read_from_the_words_by_how_many_or_duoshao() -> None:
    question = analyse("How many quality projects has the park landed?")
    assert question.measure == ("quality", "project") and question.counted == "quality projects"
    assert analyse("全市有多少家医院？").measure == ("医院", "家")  # 家: a telling classifier (firms, hospitals)
    assert analyse("城市常住人口有多少？").measure == ("人口", "常住人口")
    assert analyse("How many people live in the city?").measure == ()  # "people": too general to check
    # Only plain words the question gives for the thing counted are used.
    assert analyse("Among the talents gathered, how many are high-level?").counted == ""
    assert analyse('How many "doing practical things" projects were collected?').counted == ""


def test_figures_the_question_states_are_conditions() -> None:
    (year,) = analyse("How many firms were founded in 2019?").figures
    assert (year.kind, year.value, year.text) == ("year", 2019.0, "2019")


def test_quoted_and_capitalized_names() -> None:
    assert analyse("“融医贷”累计发放贷款金额是多少？").quoted == ("融医贷",)
    assert analyse('How big is the "Gusu Talent Fund"?').quoted == ("Gusu Talent Fund",)
    assert analyse("What is the capital of France?").proper == {"france"}
    assert "counted" not in analyse("Counted in person-times, how many talents has Suzhou gathered?").proper


def test_cross_lingual_adds_the_other_languages_words_weighted_below_its_own(translator: Translator) -> None:
    question = cross_lingual(analyse("How many hospitals does the city have?"), translator, VOCABULARIES)
    assert question.terms["hospital"] == question.terms["city"] == 1.0
    assert 0 < question.terms["医院"] < 1.0 and 0 < question.terms["城市"] < 1.0
    assert question.expansions == {"hospital": ("医院",), "city": ("城市",)}
    assert question.strangers == ()
    chinese = cross_lingual(analyse("城市有多少医院？"), translator, VOCABULARIES)
    assert 0 < chinese.terms["hospital"] < 1.0 and chinese.expansions["医院"] == ("hospital",)


def test_a_name_no_article_uses_in_any_language_is_a_stranger(translator: Translator) -> None:
    english = cross_lingual(analyse("How many talents does Hangzhou have?"), translator, VOCABULARIES)
    assert english.strangers == ("hangzhou",) and english.expansions == {"talent": ("人才",)}
    chinese = cross_lingual(analyse("法国有多少人才？"), translator, VOCABULARIES)
    assert chinese.proper == {"法国"} and chinese.strangers == ("法国",)  # CC-CEDICT glosses 法国 as France
    alone = cross_lingual(analyse("How many talents does Hangzhou have?"), translator, {"en": VOCABULARIES["en"]})
    assert alone.strangers == ("hangzhou",) and set(alone.terms) == {"talent", "hangzhou"}  # nothing to translate into


def test_translated_query_joins_the_translations_the_other_languages_way(translator: Translator) -> None:
    chinese_words = cross_lingual(analyse("How many hospitals does the city have?"), translator, VOCABULARIES)
    assert translated_query(chinese_words) == {"zh": "医院城市"}  # best first, no spaces in Chinese
    english_words = cross_lingual(analyse("城市有多少医院？"), translator, VOCABULARIES)
    assert set(translated_query(english_words)["en"].split()) == {"hospital", "city"}
    assert translated_query(analyse("How many hospitals does the city have?")) == {}
    assert translated_query(chinese_words, most=1) == {"zh": "医院"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Please type a question."),
        ("  \n", "Please type a question."),
        ("x" * 11, "That question is 11 characters long; please keep it under 10."),
        ("？？？", "Please ask a question in words."),
        ("苏苏苏苏苏？", "Please ask a question in words."),  # one character over and over: no word to look up
        ("aaaa", "Please ask a question in words."),
        ("多多少？", None),
        ("How many?", None),
        ("多少？", None),
    ],
)
def test_problem_says_why_a_question_cannot_be_asked(text: str, message: str | None) -> None:
    assert problem(text, max_chars=10) == message


def test_clean_drops_control_characters_and_lone_surrogates_and_collapses_spaces() -> None:
    assert clean("a\x00b\x01  c\n\n d\t") == "a b c d"
    assert clean("\ud800 lone") == "lone"
    assert clean("  苏州 有 多少\u3000人才？ ") == "苏州 有 多少 人才？"


def test_clean_drops_padding_of_combining_marks_and_keeps_accents() -> None:
    plain = "How many talents does Suzhou have?"
    assert clean(plain + "\u0301" * 1900) == plain
    assert clean(plain.replace("a", "a" + "\u0301" * 40)) == plain
    assert clean("Café São Paulo") == "Café São Paulo"
    assert clean("Cafe\u0301 Sa\u0303o Paulo") == "Café São Paulo"  # composed (NFC), as articles write them
    assert clean("Vie\u0323\u0302t Nam, हिंदी") == "Việt Nam, हिंदी"  # two marks on one letter; Indic vowel signs
    assert clean("苏州高新区已累计集聚各类人才多少人？") == "苏州高新区已累计集聚各类人才多少人？"
    assert problem(clean("\u0301" * 1900), max_chars=2000) == "Please type a question."  # nothing but padding


@pytest.mark.parametrize(
    "question",
    [
        "What is the article about?",
        "What is this article about?",
        "What's it about?",
        "Summarize the report on talent policy",
        "Can you sum up the story?",
        "What are the key points of the report?",
        "What does the article talk about?",
        "What does the story about the flood in Texas say?",
        "Tell me about the article",
        "What is the topic of the article?",
        "这篇文章讲了什么",
        "概括一下",
        "这篇文章是关于什么的？",
        "这篇报道讲的是什么？",
        "请简要介绍一下这篇文章",
        "这篇文章的主题是什么？",
    ],
)
def test_questions_about_a_whole_article_ask_for_a_summary(question: str) -> None:
    assert analyse(question).asks == "summary"


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("Who founded Nawei?", "fact"),
        ("Who summed up the meeting?", "fact"),
        ("活动的主题是什么？", "fact"),
        ("How many talents does the city have?", "figure"),
    ],
)
def test_questions_on_one_thing_ask_for_no_summary(question: str, asks: str) -> None:
    assert analyse(question).asks == asks


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("What is the English article about?", ""),
        ("这篇文章讲了什么？", ""),
        ("Summarize the report on talent policy", "talent policy"),
        ("Give me a summary of the Chinese report on the High-tech Zone", "High-tech Zone"),
        ("What does the story about the flood in Texas say?", "flood Texas"),
        ("这篇关于莱茵河大桥的文章讲了什么？", "莱茵河大桥"),
        ("概括一下有关港口扩建的报道", "港口扩建"),
    ],
)
def test_the_subject_of_a_summary_question_is_what_it_names_besides_the_article(question: str, subject: str) -> None:
    assert " ".join(tokenize(summary_subject(question))) == " ".join(tokenize(subject))


@pytest.mark.parametrize(
    "text", ["How large is the city's pool of skilled people?", "How long is the bridge?", "这座桥有多长？"]
)
def test_a_size_or_length_asked_is_a_figure_question(text: str) -> None:
    assert analyse(text).asks == "figure"
