"""Figures: the same value written in English or Chinese is one figure; seed sentences yield the right ones."""

from __future__ import annotations

import math
import random
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
    ("£3.2bn", "3.2 billion"),
    ("2.5m", "2.5 million"),
    ("1bn", "10亿"),
    ("$30,000", "3万美元"),
    ("€40m", "4000万欧元"),
    ("US$1.2 billion", "12亿美元"),
    ("$5k", "5,000"),
    ("HK$100", "100港元"),
    ("3tn", "3万亿"),
    ("1.2 million", "1,200,000"),
    ("3亿5000万", "350 million"),
    ("2356万2318", "23,562,318"),
    ("a third of", "三分之一"),
    ("1/3", "one-third"),
    ("two-thirds", "三分之二"),
    ("一半", "half of"),
    ("三成", "30%"),
    ("逾五成", "more than 50 percent"),
    ("3个百分点", "3 percentage points"),
    ("三个百分点", "3 percentage points"),
    ("2023年3月5日", "5 March 2023"),
    ("March 5th, 2023", "2023-03-05"),
    ("the 1970s", "1970年代"),
    ("20世纪80年代", "1980s"),
    ("-3.2%", "−3.2%"),
    ("一年", "1"),
    ("十分钟", "10"),
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
    ("3个百分点", "3%"),
    ("3 percentage points", "3"),
    ("a third of", "33%"),
    ("a third of", "0.33"),
    ("三成", "3"),
    ("the 1970s", "1970"),
    ("-5", "5"),
    ("-3.2%", "3.2%"),
    ("2.5m", "2.5"),
    ("$5k", "$5"),
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
        "庆祝建党100周年",
        "建校一百周年",
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
        "零售商铺",
        "备用零件",
        "一些",
        "万一",
        "百姓",
        "千万不要",
        "四川",
        "两岸关系",
        "星期三",
        "一成不变",
        "三五成群",
        "一度成为",
        "纽迈公司在哪一年承担了",
        "同一年",
        "a third party",
        "the second half of the year",
        "on behalf of the company",
        "COVID-19",
        "",
        "   ",
    ],
)
def test_not_figures(text: str) -> None:
    assert find_figures(text) == []


@pytest.mark.parametrize(
    ("written", "unit"),
    [
        ("£3.2bn", "GBP"),
        ("€40m", "EUR"),
        ("US$1.2 billion", "USD"),
        ("HK$100", "HKD"),
        ("$5k", "USD"),
        ("$30,000", "USD"),
        ("5亿日元", "JPY"),
        ("100港元", "HKD"),
        ("十万英镑", "GBP"),
        ("RMB77 million", "CNY"),
        ("¥100", "CNY"),
        ("20 euros", "EUR"),
        ("1,000 yen", "JPY"),
        ("2.5m", ""),
    ],
)
def test_currency_is_the_unit(written: str, unit: str) -> None:
    assert parsed(written).unit == unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10-15%", [("pct:10", "low"), ("pct:15", "high")]),
        ("between 3 and 5 million", [("num:3000000", "low"), ("num:5000000", "high")]),
        ("3 and 5 million", [("num:3", ""), ("num:5000000", "")]),
        ("3至5万", [("num:30000", "low"), ("num:50000", "high")]),
        ("三至五万人", [("num:30000", "low"), ("num:50000", "high")]),
        ("$3-5 million", [("num:3000000", "low"), ("num:5000000", "high")]),
        ("2005–06", [("year:2005", "low"), ("year:2006", "high")]),
        ("2017/18", [("year:2017", "low"), ("year:2018", "high")]),
        ("from 150 to 2 million", [("num:150", ""), ("num:2000000", "")]),
        ("won 3-1", [("num:3", ""), ("num:1", "")]),
        ("50%/50%", [("pct:50", ""), ("pct:50", "")]),
    ],
)
def test_a_range_is_its_two_ends(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(f.key(), f.bound) for f in find_figures(text)] == expected


def test_a_range_is_not_one_figure_but_states_both_ends() -> None:
    assert parse_figure("10-15%") is None
    assert states_figure("growth of 10-15% a year", "10%")
    assert states_figure("growth of 10-15% a year", "百分之十五")
    assert not states_figure("growth of 10-15% a year", "10")
    (low, high) = find_figures("10-15%")
    assert low.text == "10" and high.text == "15%"


def test_a_figure_made_by_older_callers_has_no_bound() -> None:
    figure = Figure("26万", 260000.0, "number", 0, 3)
    assert figure.unit == figure.bound == ""
    assert same_figure(figure, parsed("260,000"))


def test_a_chinese_numeral_written_alone_is_read_by_parse_figure() -> None:
    assert parsed("三").key() == parsed("3").key()
    assert parsed("两").key() == "num:2"
    assert keys("星期三") == [] and keys("三人") == ["num:3"] and keys("两次") == ["num:2"]


# Excerpts of real sentences from the QA development data (/work/shared/datasets), every figure they carry,
# in order, as (value, kind, unit). Sources: CMRC 2018 (Cui et al., https://github.com/ymcui/cmrc2018,
# CC BY-SA 4.0); SQuADShifts new_wiki, reddit, amazon (Miller et al., https://modestyachts.github.io/squadshifts-website/,
# CC BY 4.0; the new_wiki text is Wikipedia's, CC BY-SA); TAT-QA (Zhu et al., https://github.com/NExTplusplus/TAT-QA,
# CC BY 4.0). Excerpts are verbatim; some are cut short.
DATASET_SENTENCES = [
    # cmrc2018-train.zh (CC BY-SA 4.0)
    ("2011年12月，畅游以1.625亿美元收购", [(20111200, "date", ""), (162500000, "number", "USD")]),
    (
        "新特兰需支付牛津联15万英镑赔偿金，牛津联亦会在将来韦赫特转会收到25%的转会费分红",
        [(150000, "number", "GBP"), (25, "percent", "")],
    ),
    ("2007年10月这里也遭遇过类似的抢劫案，损失了2000万欧元。", [(20071000, "date", ""), (20000000, "number", "EUR")]),
    ("售价只有70万美元", [(700000, "number", "USD")]),
    (
        "香港政府于1979年4月批出9700万港元的建造合约动工兴建11层高的医院大楼",
        [(19790400, "date", ""), (97000000, "number", "HKD"), (11, "number", "")],
    ),
    ("该银行在2005年至2007年间全年增长超过三成", [(2005, "year", ""), (2007, "year", ""), (30, "percent", "")]),
    (
        "蒋乃辛在两项支持率都逾五成而出线，蒋乃辛最终获得46,065票，以48%的得票率当选",
        [(2, "number", ""), (50, "percent", ""), (46065, "number", ""), (48, "percent", "")],
    ),
    ("春节结束后，价格跌五成。", [(50, "percent", "")]),
    ("南挪威内八成人口分布在气候温和的沿岸地区", [(80, "percent", "")]),
    ("分母一个百分点的变化，可能导致结果的剧烈变化", [(1, "points", "")]),
    ("其体重的三分之二都是胃内的叶子", [(2 / 3, "fraction", "")]),
    ("观众人数仅约97万人，相当第一集《哥吉拉》的十分之一", [(970000, "number", ""), (0.1, "fraction", "")]),
    ("金融海啸前，三分之一的经济靠房地产支撑", [(1 / 3, "fraction", "")]),
    (
        "大厦楼高34层，包括30层甲级写字楼，著名租户为英国航空公司，基座4层为零售商铺",
        [(34, "number", ""), (30, "number", ""), (4, "number", "")],
    ),
    (
        "首个用家是于1983年订了18架的美国空军，主要用于在欧洲的美军基地间运输备用零件。",
        [(1983, "year", ""), (18, "number", "")],
    ),
    ("广西的靖西也有零星栽培。", []),
    ("熊山却以122万4560日圆的价额买下那巨蛋", [(1224560, "number", "JPY")]),
    ("2001年的人口统计有5万3667名居民", [(2001, "year", ""), (53667, "number", "")]),
    ("1956年9月16日，台湾人口达到922万5426人。", [(19560916, "date", ""), (9225426, "number", "")]),
    ("加藤嘉明从二十万石加封到四十万石", [(200000, "number", ""), (400000, "number", "")]),
    (
        "英国符合选举条件的选民人数从七百七十万左右一跃变成两千一百万左右",
        [(7700000, "number", ""), (21000000, "number", "")],
    ),
    ("罚款五百三十万元", [(5300000, "number", "CNY")]),
    ("捐资四十多万港元，对陵墓进行修葺扩建，由原来的五十多平方米", [(400000, "number", "HKD"), (50, "number", "")]),
    ("比例有六成之多，使用原版XP的网民不足一成", [(60, "percent", ""), (10, "percent", "")]),
    ("因袭警罪被判入狱九个月", [(9, "number", "")]),
    ("在长达三个月的战事中，盟军占领了中所罗门地区，损失了6艘舰艇", [(3, "number", ""), (6, "number", "")]),
    ("西萨塞克斯超过一半的土地都是受保护的郊野", [(0.5, "fraction", "")]),
    ("与自己前世的另一半的天神融合后", []),
    ("叶定仕于19世纪90年代初加入同盟会", [(1890, "decade", "")]),
    ("每公斤新台币2300元", [(2300, "number", "TWD")]),
    ("水深0至30公尺。", [(0, "number", ""), (30, "number", "")]),
    ("体长约20至24.5厘米", [(20, "number", ""), (24.5, "number", "")]),
    # squadshifts-new_wiki.en (CC BY 4.0; Wikipedia text, CC BY-SA)
    ("banking fees in 2012 totaled approximately US$40 billion", [(2012, "year", ""), (40e9, "number", "USD")]),
    ("and $1.4 billion was used for Homeless Assistance", [(1.4e9, "number", "USD")]),
    ("was earning an estimated £250,000 per year by selling captive", [(250000, "number", "GBP")]),
    ("found that 75 percent of the homeless were over 45", [(75, "percent", ""), (45, "number", "")]),
    ("The population of the city has increased tenfold since the 1950s", [(1950, "decade", "")]),
    ("Prior to the 2005–06 NHL season", [(2005, "year", ""), (2006, "year", "")]),
    ("History of the Dividing Line (1728–29) by William Byrd", [(1728, "year", ""), (1729, "year", "")]),
    ("death toll estimates ranging between 300 and 700 Pequots", [(300, "number", ""), (700, "number", "")]),
    (
        "Modern sources estimate that between 2.4 and 7.5 million Ukrainians died",
        [(2.4e6, "number", ""), (7.5e6, "number", "")],
    ),
    ("if the input is −3, then the output is 9", [(-3, "number", ""), (9, "number", "")]),
    ("About one-third of users of mass transit", [(1 / 3, "fraction", "")]),
    ("no more than a third of the renter's wages", [(1 / 3, "fraction", "")]),
    ("The Turkish film industry ramped up in the second half of the century", []),
    ("fell from 44 to 24 percent", [(44, "percent", ""), (24, "percent", "")]),
    ("on 23 November 1930, it became the first", [(19301123, "date", "")]),
    ("It was released on July 29, 2015, and addresses shortcomings", [(20150729, "date", "")]),
    # tatqa-text-span.en (CC BY 4.0)
    (
        "risk at 31 March 2019 was £59.1m (2018: £56.5m).",
        [(20190331, "date", ""), (59.1e6, "number", "GBP"), (2018, "year", ""), (56.5e6, "number", "GBP")],
    ),
    ("losses on financial assets amounting to €2 million", [(2e6, "number", "EUR")]),
    ("resulted in an unrealised gain of NZD $1.2m (AUD $1.1m)", [(1.2e6, "number", "NZD"), (1.1e6, "number", "AUD")]),
    ("Revenues increased by 21% to RMB377.3 billion", [(21, "percent", ""), (377.3e9, "number", "CNY")]),
    (
        "approximately RMB77 million (2018: RMB229 million)",
        [(77e6, "number", "CNY"), (2018, "year", ""), (229e6, "number", "CNY")],
    ),
    ("Gross margin included a 5 percentage point improvement", [(5, "points", "")]),
    ("registered an increase of 1 percentage point.", [(1, "points", "")]),
    ("dividend policy of one-third of the Company’s net income", [(1 / 3, "fraction", "")]),
    ("reduced the United States corporate tax rate from 35% to 21%", [(35, "percent", ""), (21, "percent", "")]),
    ("a payout opportunity ranging from 0% to 120% of the target", [(0, "percent", ""), (120, "percent", "")]),
    ("(2017/18: €0 million)", [(2017, "year", ""), (2018, "year", ""), (0, "number", "EUR")]),
    # squadshifts-reddit.en and squadshifts-amazon.en (CC BY 4.0)
    ("We currently owe $255k on the loan.", [(255000, "number", "USD")]),
    ("I need to raise £6200 by July!!", [(6200, "number", "GBP")]),
    ("I plan on putting about 50-70% of each paycheck", [(50, "percent", ""), (70, "percent", "")]),
    ("my GPU usage stays around on 30-40%.", [(30, "percent", ""), (40, "percent", "")]),
    ("I also didn't want to spend $80 or more", [(80, "number", "USD")]),
    ("I run it almost 24/7 because", [(24, "number", ""), (7, "number", "")]),
]


@pytest.mark.parametrize(("sentence", "expected"), DATASET_SENTENCES)
def test_dataset_sentences(sentence: str, expected: list[tuple[float, str, str]]) -> None:
    figures = find_figures(sentence)
    assert [(f.kind, f.unit) for f in figures] == [(kind, unit) for _, kind, unit in expected]
    for figure, (value, _, _) in zip(figures, expected, strict=True):
        assert math.isclose(figure.value, value, rel_tol=1e-9, abs_tol=1e-9), (figure, value)
        assert sentence[figure.start : figure.end] == figure.text


def test_random_text_never_breaks_the_reader() -> None:
    pieces = list("0123456789０１.,-−–/%％$£€¥ 万亿千百十零一二两三四五六七八九年月日号至到成个百分点之半")
    pieces += ["million", "bn", "m", "k", "to", "and", "between", "a third of", "half of", "US$", "RMB", "HK$", "s"]
    generator = random.Random(16)
    for _ in range(3000):
        text = "".join(generator.choice(pieces) for _ in range(generator.randint(1, 14)))
        figures = find_figures(text)
        for figure in figures:
            assert text[figure.start : figure.end] == figure.text, text
            assert figure.kind in KINDS and figure.bound in ("", "low", "high")
            assert not math.isnan(figure.value)
            figure.key()
        assert all(a.end <= b.start for a, b in zip(figures, figures[1:], strict=False)), text


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
        ("成立100周年", []),  # an anniversary is an ordinal, as "the 100th anniversary" is
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
