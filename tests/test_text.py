"""Text as words: Chinese characters, language, stop words, the three stemmers, jieba and search terms."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.settings import PROJECT_ROOT
from rag.text import (
    CJK,
    EN_STOP,
    EN_UNTRANSLATED,
    TOKENIZER,
    ZH_STOP,
    ZH_UNTRANSLATED,
    cut,
    detect_lang,
    dictionary_stem,
    glossary_words,
    root,
    stem,
    tagged,
    tokenize,
)


def test_chinese_characters_are_the_unified_extension_a_and_compatibility_ideographs() -> None:
    assert all(CJK.match(ch) for ch in "苏州人才㐀䶵豈")  # 㐀 䶵: Extension A; 豈: a compatibility ideograph
    assert not any(CJK.match(ch) for ch in "a1，。䷟ー")  # punctuation, a Yijing hexagram, katakana's long vowel


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("苏州高新区已累计集聚各类人才26万人", "zh"),
        ("Suzhou has 2.6 million talents", "en"),
        ("苏州 GDP 增长", "zh"),
        ("The Suzhou 高新区 zone, its GDP and its talent programmes", "en"),
        ("2021", "en"),
    ],
)
def test_detect_lang_goes_by_the_share_of_chinese_characters(text: str, lang: str) -> None:
    assert detect_lang(text) == lang


def test_tokenize_stems_english_and_cuts_chinese() -> None:
    assert tokenize("The talents were trained in 2021") == ["talent", "train"]
    assert "人才" in tokenize("苏州高新区已累计集聚各类人才26万人")
    assert "的" not in tokenize("苏州的人才")
    assert tokenize("Suzhou High-tech Zone's GDP") == ["suzhou", "high-tech", "zone", "gdp"]  # not "zone'"


def test_tokenize_returns_a_fresh_list_each_time() -> None:
    first = tokenize("Suzhou talents")
    first.append("changed")
    assert tokenize("Suzhou talents") == ["suzhou", "talent"]


def test_cut_gives_the_same_terms_as_tokenize() -> None:
    text = "In 2021 the park's 1,200 firms hired 340,000 people; 苏州高新区集聚人才。"
    assert cut(text) == tokenize(text)
    assert not any(term[0].isdigit() for term in cut(text))  # figures are not search terms


def test_stop_words_are_dropped_from_search_terms() -> None:
    assert tokenize("What is the total number of the firms?") == ["firm"]
    assert tokenize("截至目前，苏州累计有多少人才？") == ["苏州", "人才"]
    assert {"total", "number"} <= EN_STOP and {"累计", "截至"} <= ZH_STOP


def test_the_translator_skips_pronouns_and_dictionary_filler_that_search_keeps() -> None:
    assert {"sb", "sth", "something", "per"} <= EN_UNTRANSLATED and not {"sb", "per"} & EN_STOP
    assert {"我们", "请问", "没有"} <= ZH_UNTRANSLATED and not {"请问"} & ZH_STOP
    assert tokenize("somebody per capita") == ["somebody", "per", "capita"]
    assert {"the", "of", "which"} <= EN_STOP & EN_UNTRANSLATED and {"的", "多少"} <= ZH_STOP & ZH_UNTRANSLATED


def test_glossary_terms_are_cut_whole() -> None:
    words = glossary_words()
    assert "注册资本" in words and "中小企业" in words
    assert "注册资本" in tokenize("医疗器械产业园落地44个优质项目，注册资本超7亿元。")  # not 注册 / 资本 alone
    assert [w for w in words if w not in tokenize(w)] == []


def test_the_glossary_holds_only_general_vocabulary() -> None:
    """Every glossary word occurs in at least two of the public development data's Chinese contexts: words met in
    one article only (a seed's phrases) are not general news vocabulary."""
    data = PROJECT_ROOT.parent / "shared" / "datasets"
    files = sorted(data.glob("cmrc2018-*.zh.jsonl"))
    if not files:
        pytest.skip(f"the development data is not at {data} (see evals/README.md)")
    contexts = {json.loads(line)["context"] for path in files for line in path.read_text(encoding="utf-8").splitlines()}
    rare = [word for word in glossary_words() if sum(word in context for context in contexts) < 2]
    assert rare == []


def test_jiebas_dictionary_is_kept_between_processes_and_cuts_alike(tmp_path: Path) -> None:
    text = "2016年3月，公司实现新三板挂牌，研发投入增长了三成。"
    code = (
        "import json, sys\nfrom pathlib import Path\nfrom rag.text import keep_dictionary_in, tokenize\n"
        "keep_dictionary_in(Path(sys.argv[1]))\nprint(json.dumps(tokenize(sys.argv[2])))"
    )
    kept = tmp_path / "kept"

    def cut_elsewhere(temp: str) -> list[str]:
        # jieba keeps its own cache in the temp folder: an empty one shows whether jieba loaded its dictionary.
        (tmp_path / temp).mkdir()
        env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TMPDIR": str(tmp_path / temp)}
        done = subprocess.run(
            [sys.executable, "-c", code, str(kept), text], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    assert cut_elsewhere("first") == tokenize(text)  # jieba's own loading, then the dictionary is kept
    assert (tmp_path / "first" / "jieba.cache").is_file()
    (saved,) = kept.glob(f"jieba-*-{TOKENIZER}.bin")
    size = saved.stat().st_size
    assert cut_elsewhere("second") == tokenize(text)  # from the kept dictionary, jieba's own left alone
    assert not (tmp_path / "second" / "jieba.cache").exists()
    saved.write_bytes(saved.read_bytes()[: size // 2])  # a file cut short is not used, and is written anew
    assert cut_elsewhere("third") == tokenize(text)
    assert (tmp_path / "third" / "jieba.cache").is_file() and saved.stat().st_size == size


@pytest.mark.parametrize(
    ("word", "searched", "dictionary", "rooted"),
    [
        ("talents", "talent", "talent", "talent"),
        ("trained", "train", "train", "train"),
        ("cities", "city", "city", "citi"),
        ("making", "mak", "mak", "make"),
        ("planned", "plann", "plan", "plan"),
        ("cadres", "cadre", "cadr", "cadr"),
        ("industrial", "industrial", "industrial", "industri"),
        ("industry", "industry", "industry", "industri"),
    ],
)
def test_the_three_stemmers_each_fold_what_their_use_needs(
    word: str, searched: str, dictionary: str, rooted: str
) -> None:
    assert (stem(word), dictionary_stem(word), root(word)) == (searched, dictionary, rooted)


def test_root_leaves_chinese_words_alone() -> None:
    assert root("人才") == "人才"


def test_tagged_gives_jiebas_parts_of_speech_with_the_glossarys_words() -> None:
    words = dict(tagged("公司在北京的注册资本挂牌"))
    assert "注册资本" in words and words["北京"] == "ns" and words["挂牌"] == "v"
    assert all(word.strip() for word in words)


def test_the_tokenizer_fingerprint_names_how_stored_terms_were_cut() -> None:
    # Stored terms are kept while this is unchanged: a change to cutting must change it (and re-cut every store).
    assert len(TOKENIZER) == 12 and int(TOKENIZER, 16) >= 0


@pytest.mark.parametrize(
    ("forms", "key"),
    [
        (["project", "projects"], "project"),
        (["talent", "talents", "talented"], "talent"),
        (["train", "trained", "training", "trains"], "train"),
        (["city", "cities"], "city"),
        (["plan", "planned", "planning"], "plan"),
    ],
)
def test_dictionary_stem_folds_inflections(forms: list[str], key: str) -> None:
    assert {dictionary_stem(f) for f in forms} == {key}


def test_dictionary_stem_keeps_cadre_and_cadres_together() -> None:
    assert dictionary_stem("cadre") == dictionary_stem("cadres") == dictionary_stem("Cadres")
