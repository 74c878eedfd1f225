"""Figures: the same value written in English or Chinese is one figure; seed sentences yield the right ones."""

from __future__ import annotations

import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from rag.figures import KINDS, Figure, find_figures, parse_figure, same_figure, states_figure

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
EN_SEED = SEEDS / "suzhou-organizational-work-en.txt"
ZH_SEED = SEEDS / "suzhou-high-tech-zone-zh.txt"


def article_lines(path: Path) -> list[str]:
    """The non-blank lines of a seed article, front matter dropped."""
    text = path.read_text(encoding="utf-8")
    if text.startswith("---"):
        text = text.split("\n---", 1)[1].split("\n", 1)[1]
    return [line for line in text.splitlines() if line.strip()]


def keys(text: str) -> list[str]:
    return [figure.key() for figure in find_figures(text)]


def parsed(s: str) -> Figure:
    figure = parse_figure(s)
    assert figure is not None, f"no figure in {s!r}"
    return figure


SAME = [
    ("3.43 million", "343万"),
    ("about 3.43 million", "343万"),
    ("175亿元", "17.5 billion yuan"),
    ("175亿元", "17.5 billion"),
    ("17.5 billion yuan", "17.5 billion"),
    ("超175亿元", "more than 17.5 billion yuan"),
    ("26万", "260,000"),
    ("26万", "260 thousand"),
    ("260,000", "260 thousand"),
    ("3.6万", "36,000"),
    ("240,000", "24万"),
    ("more than 340,000", "34万"),
    ("more than 340,000", "340000"),
    ("超300亿元", "30 billion yuan"),
    ("nearly 60 billion", "近600亿元"),
    ("10余项", "10"),
    ("十余项", "10"),
    ("近100家", "100"),
    ("1700多人次", "1,700"),
    ("10万余人", "100,000"),
    ("11万余册", "110 thousand"),
    ("5000万元", "50 million yuan"),
    ("4700万元", "47 million"),
    ("三十多万", "300,000"),
    ("一千二百万元", "12 million"),
    ("1.2万亿", "1.2 trillion"),
    ("3.43 million", "3,430,000"),
    ("17.5bn", "17.5 billion"),
    ("15%", "15 percent"),
    ("15%", "百分之十五"),
    ("15 per cent", "15％"),
    ("about 15%", "fifteen percent"),
    ("百分之十五点五", "15.5%"),
    ("0.5%", "百分之零点五"),
    ("June 2021", "2021年6月"),
    ("2016年3月", "March 2016"),
    ("Mar. 2016", "2016年三月"),
    ("2021年6月", "二〇二一年六月"),
    ("2020年8月", "August 2020"),
    ("June 13, 2021", "2021年6月13日"),
    ("13 June 2021", "2021-06-13"),
    ("4月13日", "April 13"),
    ("2013", "2013年"),
    ("2013年", "二〇一三年"),
    ("In 2007, he founded", "2007年"),
    ("nine", "9"),
    ("Nine", "九"),
    ("three", "3"),
    ("三条", "3"),
    ("十四", "14"),
    ("fourteen", "14"),
    ("22场", "twenty-two"),
    ("二十二", "22"),
    ("twenty-five", "25"),
    ("two hundred and fifty", "250"),
    ("ten thousand", "1万"),
    ("one million", "100万"),
    ("一百", "100"),
    ("百余家", "100"),
    ("两", "2"),
    ("１２万", "120,000"),
    ("$5 billion", "5 billion"),
]

DIFFERENT = [
    ("3.43 million", "13.43 million"),
    ("3.43 million", "3,430"),
    ("3.43 million", "3.4 million"),
    ("3.43 million", "3.43万"),
    ("26万", "260"),
    ("26万", "2026"),
    ("26万", "2.6万"),
    ("3.6万", "3,600"),
    ("175亿元", "175"),
    ("175亿元", "1.75 billion"),
    ("15%", "15"),
    ("15%", "0.15"),
    ("15%", "51%"),
    ("百分之十五", "15"),
    ("2021", "2,021"),
    ("2021年", "2021人"),
    ("2013", "more than 2013"),
    ("June 2021", "2021"),
    ("June 2021", "July 2021"),
    ("June 2021", "June 2020"),
    ("2021年6月", "2021年7月"),
    ("4月13日", "4月14日"),
    ("4月13日", "April 2013"),
    ("nine", "nineteen"),
    ("十四", "十"),
    ("361", "163"),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_same_value_written_two_ways_is_the_same_figure(a: str, b: str) -> None:
    fa, fb = parsed(a), parsed(b)
    assert same_figure(fa, fb) and same_figure(fb, fa)
    assert fa.key() == fb.key()
    assert states_figure(f"It says {a} here.", b)
    assert states_figure(f"It says {b} here.", a)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_figures_do_not_match(a: str, b: str) -> None:
    fa, fb = parsed(a), parsed(b)
    assert not same_figure(fa, fb)
    assert fa.key() != fb.key()
    assert not states_figure(b, a)


@pytest.mark.parametrize(
    ("written", "key", "kind"),
    [
        ("343万", "num:3430000", "number"),
        ("about 3.43 million", "num:3430000", "number"),
        ("17.5 billion yuan", "num:17500000000", "number"),
        ("15%", "pct:15", "percent"),
        ("百分之十五点五", "pct:15.5", "percent"),
        ("June 2021", "date:2021-06", "date"),
        ("2021年6月13日", "date:2021-06-13", "date"),
        ("4月13日", "date:--04-13", "date"),
        ("2021", "year:2021", "year"),
        ("2021年", "year:2021", "year"),
        ("2,021", "num:2021", "number"),
        ("3.6万", "num:36000", "number"),
        ("0.5 million", "num:500000", "number"),
        ("2.75", "num:2.75", "number"),
    ],
)
def test_key_is_canonical(written: str, key: str, kind: str) -> None:
    figure = parsed(written)
    assert figure.key() == key
    assert figure.kind == kind
    assert figure.kind in KINDS


@pytest.mark.parametrize(
    ("written", "text", "unit"),
    [
        ("about 3.43 million talents", "about 3.43 million", ""),
        ("超175亿元的项目", "超175亿元", "CNY"),
        ("17.5 billion yuan in deals", "17.5 billion yuan", "CNY"),
        ("US$ 3 million", "US$ 3 million", "USD"),
        ("1700多人次", "1700多", ""),
        ("将近300人", "将近300", ""),
        ("At least 12 people", "At least 12", ""),
        ("in June 2021,", "June 2021", ""),
    ],
)
def test_text_is_as_written_with_qualifier_and_currency(written: str, text: str, unit: str) -> None:
    (figure,) = find_figures(written)
    assert figure.text == text == written[figure.start : figure.end]
    assert figure.unit == unit


@pytest.mark.parametrize(
    "text",
    [
        "[1]",
        "[12]",
        "[1][2]",
        "[1, 3]",
        "【2】",
        "first",
        "第一",
        "第十四届",
        "the 100th anniversary",
        "1st",
        "5G",
        "COVID-19",
        "2.5D",
        "one of the most advanced",
        "one-stop service",
        "two-way posting",
        "一直以来",
        "统一",
        "两位数增长",
        "三三两两",
        "数十家",
        "十分重要",
        "百家院所同创新",
        "万人",
        "June",
        "6月",
        "13日上午",
        "",
        "   ",
    ],
)
def test_not_figures(text: str) -> None:
    assert find_figures(text) == []


def test_citation_markers_are_stripped() -> None:
    assert keys("苏州高新区已累计集聚各类人才26万人 [1]。") == ["num:260000"]
    assert keys("about 3.43 million talents [1][2], 340,000 high-level [12]") == ["num:3430000", "num:340000"]


def test_noise_does_not_crash_and_reads_sensibly() -> None:
    assert keys("achieve 8 100% 100% coverage") == ["num:8", "pct:100", "pct:100"]
    for junk in [
        "...",
        "1,2,3",
        "1.2.3",
        "1,,000",
        "￥",
        "$",
        "[",
        "【",
        "第",
        "百分之",
        "年月日",
        "0000年",
        "99月99日",
        "千亿六",
        "五亿一",
        "9" * 400,
    ]:
        find_figures(junk)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Since 2016, the city has", ["year:2016"]),
        ("In 2007, after traveling", ["year:2007"]),
        ("2013年，杨培强", ["year:2013"]),
        ("成立100周年", ["num:100"]),
        ("1103篇", ["num:1103"]),
        ("2000人", ["num:2000"]),
        ("超2000", ["num:2000"]),
        ("more than 2000", ["num:2000"]),
        ("2,021 people", ["num:2021"]),
        ("5000年历史", ["num:5000"]),
        ("20多年", ["num:20"]),
        ("连续三年", ["num:3"]),
    ],
)
def test_years_versus_counts(text: str, expected: list[str]) -> None:
    assert keys(text) == expected


def test_a_year_is_stated_by_a_date_in_it_but_not_the_reverse() -> None:
    assert states_figure("In June 2021, Nawei Technology was listed", "2021")
    assert states_figure("In June 2021, Nawei Technology was listed", "2021年")
    assert not states_figure("In 2021, Nawei Technology was listed", "June 2021")


def test_states_figure_takes_a_figure_and_rejects_a_non_figure() -> None:
    assert states_figure("集聚各类人才26万人", parsed("260,000"))
    with pytest.raises(ValueError):
        states_figure("anything", "talents")
    with pytest.raises(ValueError):
        states_figure("anything", "26万 and 3.6万")


def test_states_figure_needs_the_whole_number() -> None:
    assert not states_figure("13.43 million", "3.43 million")
    assert not states_figure("3,430", "3.43 million")
    assert not states_figure("260", "26万")
    assert not states_figure("2026", "26万")
    assert not states_figure("in 2026 there were 260 people", "26万")
    assert states_figure("总人数为26万", "260 thousand")


def test_one_alone_is_read_only_when_written_alone() -> None:
    assert parsed("one").key() == parsed("一").key() == parsed("1").key() == "num:1"
    assert keys("one of the most advanced parks, one axis, 一池春水") == []
    assert keys("one million") == ["num:1000000"]


def test_parse_figure_wants_exactly_one() -> None:
    assert parse_figure("8 100%") is None
    assert parse_figure("talents") is None
    assert parsed("  nine ").text == "nine"


# Sentences copied from the seed articles, with every figure they carry, in order.
SEED_SENTENCES = [
    (
        "■At present, the city has a total of about 3.43 million talents, with more than 340,000 high-level "
        "talents. 361 people have independently applied for the A-class national major talent projects, including "
        "163 people in the entrepreneurship category, accounting for about 15% of the country and 51% of the "
        "province, ranking first in the country for nine consecutive years.",
        ["num:3430000", "num:340000", "num:361", "num:163", "pct:15", "pct:51", "num:9"],
    ),
    (
        "■ Over the past ten years, the city level has held more than 760 cadre education and training classes "
        "of various types, and trained more than 240,000 cadres.",
        ["num:10", "num:760", "num:240000"],
    ),
    (
        "■ Since 2016, the city has implemented more than 30,000 party organizations serving the people, "
        "benefiting more than 11 million people.",
        ["year:2016", "num:30000", "num:11000000"],
    ),
    (
        "In June 2021, Nawei Technology was listed on the Shanghai Stock Exchange Science and Technology "
        "Innovation Board, becoming the first listed company in the field of nano microsphere materials in China.",
        ["date:2021-06"],
    ),
    (
        "More than 30 projects such as compound semiconductor materials and superconducting quantum information "
        "materials have been released, with a total of nearly 60 billion yuan in listings.",
        ["num:30", "num:60000000000"],
    ),
    (
        "截至目前，苏州高新区已累计集聚各类人才26万人。其中，高层次人才3.6万人，拥有各级各类领军人才1700多人次，"
        "各级领军人才指标均位居苏州市前列。",
        ["num:260000", "num:36000", "num:1700"],
    ),
    (
        "4月13日，苏州高新区举办国资国企党建联盟启动仪式，首批联盟企业共有14家，仪式上，共有15个市区合作项目集中签约，"
        "签约金额超175亿元。",
        ["date:--04-13", "num:14", "num:15", "num:17500000000"],
    ),
    (
        "生命健康小镇引进7个优质项目，总投资超3亿元；金融小镇新增落户机构70家，新增基金规模超200亿元；"
        "医疗器械产业园落地44个优质项目，注册资本超7亿元。",
        ["num:7", "num:300000000", "num:70", "num:20000000000", "num:44", "num:700000000"],
    ),
    (
        "主持并带领10家合作单位共同承担了国家科学仪器重大专项项目；2014年，该公司承担了江苏省科技成果转化项目；"
        "2016年3月，实现新三板挂牌。",
        ["num:10", "year:2014", "date:2016-03"],  # 新三板 (the "New Third Board") is a name, not three
    ),
    (
        "组建的党史学习教育宣讲团计划开展区宣讲团宣讲22场，已全部完成，基层宣讲团260场，目前已开展191场，"
        "累计受众群众达10万余人。",
        ["num:22", "num:260", "num:191", "num:100000"],
    ),
    ("据了解，2020年8月，苏州高新区组建成立大院大所党建联盟", ["date:2020-08"]),
    ("按照医疗器械、新一代信息技术、高端制造三大主导产业，设置3条党建赋能红色线路。", ["num:3", "num:3"]),
    ("预计上半年，苏州高新区国有资产、营收和利润类指标均实现两位数增长。", []),
]


@pytest.mark.parametrize(("sentence", "expected"), SEED_SENTENCES)
def test_seed_sentences(sentence: str, expected: list[str]) -> None:
    lines = article_lines(EN_SEED) + article_lines(ZH_SEED)
    assert any(sentence in line for line in lines), "sentence is no longer in the seed articles"
    assert keys(sentence) == expected


def test_every_seed_line_scans_and_offsets_index_the_line() -> None:
    lines = article_lines(EN_SEED) + article_lines(ZH_SEED)
    assert len(lines) > 50
    for line in lines:
        figures = find_figures(line)
        for figure in figures:
            assert line[figure.start : figure.end] == figure.text
            assert figure.kind in KINDS
        assert [f.start for f in figures] == sorted(f.start for f in figures)
        assert all(a.end <= b.start for a, b in zip(figures, figures[1:], strict=False))


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        (
            EN_SEED,
            {
                "num:3430000",
                "num:340000",
                "num:361",
                "num:163",
                "pct:15",
                "pct:51",
                "num:9",
                "num:760",
                "num:240000",
                "num:5000",
                "year:2016",
                "num:11000000",
                "year:2007",
                "date:2021-06",
                "num:202",
                "num:60000",
                "num:1200",
                "num:2270",
                "pct:100",
                "num:60000000000",
                "num:2000000000",
                "num:50000000",
                "num:6000000000",
                "pct:50",
            },
        ),
        (
            ZH_SEED,
            {
                "num:260000",
                "num:36000",
                "num:17500000000",
                "num:30000000000",
                "num:44",
                "num:700000000",
                "num:1103",
                "num:100000",
                "date:2016-03",
                "year:2013",
                "year:2014",
                "date:2020-08",
                "date:--04-13",
                "num:1700",
                "num:360",
                "num:177",
                "num:50000000",
                "num:47000000",
                "num:110000",
                "num:463",
                "num:520",
                "num:120",
            },
        ),
    ],
)
def test_seed_article_figures_are_found(path: Path, wanted: set[str]) -> None:
    found = {key for line in article_lines(path) for key in keys(line)}
    assert wanted <= found, wanted - found


def test_an_english_question_meets_the_chinese_sentence() -> None:
    question = {
        f.key() for f in find_figures("Is it true the zone has 260 thousand talents and 36,000 high-level ones?")
    }
    sentence = {f.key() for f in find_figures("苏州高新区已累计集聚各类人才26万人。其中，高层次人才3.6万人")}
    assert question == sentence == {"num:260000", "num:36000"}


def test_no_warnings_or_output_from_chinese_numerals(capsys: pytest.CaptureFixture[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for text in ["万", "万人", "亿万", "千万", "万一", "十万", "一万二", "三十多万", "十四五", "百分之"]:
            find_figures(text)
    captured = capsys.readouterr()
    assert captured.out == captured.err == ""


def test_import_does_not_load_cn2an() -> None:
    code = "import sys, rag.figures; print('cn2an' in sys.modules)"
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_fast_enough_for_the_query_path() -> None:
    lines = article_lines(EN_SEED) + article_lines(ZH_SEED)
    find_figures("一百")  # first Chinese numeral loads cn2an
    rounds = 5
    started = time.perf_counter()
    for _ in range(rounds):
        for line in lines:
            find_figures(line)
    per_line = (time.perf_counter() - started) / (rounds * len(lines))
    assert per_line < 1e-3, f"{per_line * 1e6:.0f} µs per line"
