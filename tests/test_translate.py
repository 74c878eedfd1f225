"""Translation of question words with CC-CEDICT, against vocabularies built from the real seed articles."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import jieba
import pytest

from rag.text import CJK
from rag.translate import Term, Translator, clean_senses, installed_cedict

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The repository's seeds/ once merged; the shared originals until then.
SEED_DIRS = [PROJECT_ROOT / "seeds", Path("/work/shared/seeds")]
EN_WORD = re.compile(r"[a-z]+")
FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
Vocabularies = dict[str, Counter[str]]  # language -> term -> document frequency


def _seed_texts() -> list[str]:
    for folder in SEED_DIRS:
        files = sorted(folder.glob("*.txt"))
        if files:
            # Front matter (--- title/lang/... ---) is metadata, not article text.
            return [FRONT_MATTER.sub("", f.read_text(encoding="utf-8")) for f in files]
    raise FileNotFoundError(f"no seed articles in {SEED_DIRS}")


def _words(text: str, lang: str) -> list[str]:
    if lang == "en":
        return EN_WORD.findall(text.lower())
    return [w for w in jieba.lcut(text) if CJK.search(w)]


@pytest.fixture(scope="session")
def vocabularies() -> Vocabularies:
    """Term -> document frequency per language, from the seed articles."""
    jieba.setLogLevel(logging.WARNING)
    found: Vocabularies = {"en": Counter(), "zh": Counter()}
    for text in _seed_texts():
        lang = "zh" if len(CJK.findall(text)) > len(text) / 4 else "en"
        found[lang].update(set(_words(text, lang)))
    return found


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def translator(cache_dir: Path) -> Translator:
    return Translator(cache_dir=cache_dir)


@pytest.fixture(scope="session")
def cedict_only(cache_dir: Path) -> Translator:
    """CC-CEDICT without the project's glossary: for what the dictionary alone does."""
    return Translator(cache_dir=cache_dir / "cedict-only", glossary=None)


def _texts(terms: list[Term]) -> list[str]:
    return [t.text for t in terms]


def _weight(terms: list[Term], text: str) -> float:
    return next(t.weight for t in terms if t.text == text)


def test_english_question_finds_the_chinese_answer_words(translator: Translator, vocabularies: Vocabularies) -> None:
    question = ["medical", "device", "industrial", "park", "quality", "projects"]
    terms = translator.translate(question, "en", vocabularies["zh"])
    texts = _texts(terms)
    assert {"医疗器械", "项目"} <= set(texts)
    assert set(texts) <= set(vocabularies["zh"])
    assert len(texts) == len(set(texts))
    weights = [t.weight for t in terms]
    assert weights == sorted(weights, reverse=True)
    assert all(0 < w <= 1 for w in weights)


def test_plural_finds_the_singular_sense(translator: Translator, vocabularies: Vocabularies) -> None:
    terms = translator.translate(["talents"], "en", vocabularies["zh"])
    assert terms[0] == Term("人才", terms[0].weight, "talents")


def test_translation_absent_from_the_corpus_gives_nothing(translator: Translator, vocabularies: Vocabularies) -> None:
    assert "医院" not in vocabularies["zh"]
    assert translator.translate(["hospitals"], "en", vocabularies["zh"]) == []


def test_stop_words_give_nothing(translator: Translator, vocabularies: Vocabularies) -> None:
    assert translator.translate(["how", "many", "did", "the", "what", "does"], "en", vocabularies["zh"]) == []
    assert translator.translate(["多少", "什么", "的", "？"], "zh", vocabularies["en"]) == []


def test_phrase_outweighs_its_words(translator: Translator, vocabularies: Vocabularies) -> None:
    question = ["which", "research", "institutes", "were", "introduced"]
    terms = translator.translate(question, "en", vocabularies["zh"])
    phrase = next(t for t in terms if t.text == "研究院")
    assert phrase.source == "research institutes"
    assert phrase.weight > _weight(terms, "研究")
    assert terms[0].text == "研究院"


def test_main_sense_outweighs_a_side_sense(translator: Translator, vocabularies: Vocabularies) -> None:
    projects = translator.translate(["projects"], "en", vocabularies["zh"])
    # 项目 is item/project/event; 计划 is plan/project/program/to plan/to map out.
    assert _weight(projects, "项目") > _weight(projects, "计划")
    talent = translator.translate(["人才"], "zh", vocabularies["en"])
    # 人才 is talent/talented person/looks/attractive looks.
    assert _weight(talent, "talent") > _weight(talent, "attractive")


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("人才", {"talent", "talents"}),
        ("党建", {"party", "building"}),
        ("干部", {"cadre", "cadres"}),
        ("培训", {"training", "trained"}),
    ],
)
def test_chinese_word_finds_english_corpus_words(
    translator: Translator, vocabularies: Vocabularies, word: str, expected: set[str]
) -> None:
    terms = translator.translate([word], "zh", vocabularies["en"])
    assert expected <= set(_texts(terms))
    assert set(_texts(terms)) <= set(vocabularies["en"])
    assert {t.source for t in terms} == {word}


def test_word_missing_from_the_dictionary_is_read_by_its_parts(
    translator: Translator, vocabularies: Vocabularies
) -> None:
    # CC-CEDICT has no 党建 ("party building"), but has 党 and 建.
    terms = translator.translate(["党建"], "zh", vocabularies["en"])
    direct = translator.translate(["干部"], "zh", vocabularies["en"])
    assert max(t.weight for t in terms) < max(t.weight for t in direct)


def test_names_meet_across_languages_in_pinyin(translator: Translator, vocabularies: Vocabularies) -> None:
    # No dictionary lists people or firms; English news spells them in pinyin.
    english = translator.translate(["姜必旺", "纳微"], "zh", vocabularies["en"])
    assert {("jiang", "姜必旺"), ("biwang", "姜必旺"), ("nawei", "纳微")} <= {(t.text, t.source) for t in english}
    chinese = translator.translate(["led", "by", "yang", "peiqiang"], "en", vocabularies["zh"])
    assert ("杨培强", "yang peiqiang") in {(t.text, t.source) for t in chinese}
    # A word the dictionary knows is translated by its senses, not spelled out: "suzhou" is 苏州's sense.
    assert _weight(translator.translate(["suzhou"], "en", vocabularies["zh"]), "苏州") < 1.0


def test_latin_word_in_a_chinese_question_is_kept(translator: Translator, vocabularies: Vocabularies) -> None:
    terms = translator.translate(["Suzhou", "人才"], "zh", vocabularies["en"])
    assert terms[0] == Term("suzhou", 1.0, "Suzhou")


def test_corpus_word_containing_the_translation_counts(cedict_only: Translator, vocabularies: Vocabularies) -> None:
    # jieba keeps 注册资本 whole; CC-CEDICT translates "registered" as 注册.
    assert "注册" not in vocabularies["zh"]
    tokens = ["registered", "capital"]
    assert "注册资本" in _texts(cedict_only.translate(tokens, "en", vocabularies["zh"]))
    strict = Translator(cache_dir=cedict_only.cache_dir, glossary=None, match_substrings=False)
    assert "注册资本" not in _texts(strict.translate(tokens, "en", vocabularies["zh"]))


def test_corpus_word_inside_the_translation_counts(cedict_only: Translator, vocabularies: Vocabularies) -> None:
    # "high tech" is 高科技, which the Chinese article only has as 科技.
    assert "高科技" not in vocabularies["zh"]
    terms = cedict_only.translate(["high", "tech", "zone"], "en", vocabularies["zh"])
    assert Term("科技", _weight(terms, "科技"), "high tech") in terms


def test_substring_with_another_meaning_does_not_count(translator: Translator) -> None:
    # 社会等级 means "class", but its piece 社会 means "society".
    assert translator.translate(["class"], "en", {"社会": 1}) == []
    assert _texts(translator.translate(["class"], "en", {"社会等级": 1})) == ["社会等级"]


def test_changed_vocabulary_is_seen(translator: Translator, vocabularies: Vocabularies) -> None:
    vocabulary = {term: df for term, df in vocabularies["zh"].items() if term != "人才"}
    assert "人才" not in _texts(translator.translate(["talents"], "en", vocabulary))
    vocabulary["人才"] = 1
    assert "人才" in _texts(translator.translate(["talents"], "en", vocabulary))


class ReadCounting(Counter[str]):
    """A vocabulary that counts how often it is read through (as indexing it does; a lookup reads one word)."""

    reads = 0

    def __iter__(self) -> Iterator[str]:
        self.reads += 1
        return super().__iter__()


def test_a_vocabulary_is_indexed_once(translator: Translator, vocabularies: Vocabularies) -> None:
    vocabulary = ReadCounting(vocabularies["zh"])  # a new object, never seen by the translator
    vocabulary.reads = 0
    question = ["how", "many", "quality", "projects", "has", "the", "medical", "device", "industrial", "park"]
    first = translator.translate(question, "en", vocabulary)
    indexed = vocabulary.reads
    assert translator.translate(question, "en", vocabulary) == first and "医疗器械" in _texts(first)
    # Read through once: translate() then costs a few lookups per word, whatever the corpus size.
    assert indexed > 0 and vocabulary.reads == indexed


def test_constructor_does_no_io(tmp_path: Path) -> None:
    Translator(cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_cached_index_is_reused(translator: Translator, cache_dir: Path) -> None:
    [cached] = cache_dir.glob("cedict-index-*")
    written = cached.stat().st_mtime_ns
    again = Translator(cache_dir=cache_dir)
    vocabulary = {"干部": 1, "党员": 1}
    assert again.translate(["cadres"], "en", vocabulary) == translator.translate(["cadres"], "en", vocabulary)
    assert cached.stat().st_mtime_ns == written


@pytest.fixture
def small_cedict(tmp_path: Path) -> Path:
    """A few real CC-CEDICT lines, so a rebuild takes milliseconds."""
    wanted = ("幹部 干部 ", "人才 人才 ", "醫院 医院 ")
    with installed_cedict().open(encoding="utf-8") as lines:
        picked = [line for line in lines if line.startswith(wanted)]
    path = tmp_path / "cedict.txt"
    path.write_text("# CC-CEDICT excerpt\n" + "".join(picked), encoding="utf-8")
    return path


def test_damaged_cache_is_rebuilt(small_cedict: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = Translator(cache_dir=cache, cedict_path=small_cedict)
    assert _texts(first.translate(["cadres"], "en", {"干部": 1})) == ["干部"]
    [cached] = cache.glob("cedict-index-*")
    good = cached.read_bytes()
    cached.write_bytes(b"not an index")
    rebuilt = Translator(cache_dir=cache, cedict_path=small_cedict)
    assert _texts(rebuilt.translate(["cadres"], "en", {"干部": 1})) == ["干部"]
    assert cached.read_bytes() == good


def test_cache_follows_a_changed_dictionary(small_cedict: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert Translator(cache_dir=cache, cedict_path=small_cedict).translate(["party"], "en", {"党": 1}) == []
    with small_cedict.open("a", encoding="utf-8") as file:
        file.write("黨 党 [dang3] /party/association/club/society/CL:個|个[ge4]/\n")
    updated = Translator(cache_dir=cache, cedict_path=small_cedict)
    assert _texts(updated.translate(["party"], "en", {"党": 1})) == ["党"]


def test_works_without_a_cache_dir(small_cedict: Path) -> None:
    assert _texts(Translator(cedict_path=small_cedict).translate(["干部"], "zh", {"cadres": 1})) == ["cadres"]


def test_rejects_an_unknown_language(translator: Translator) -> None:
    with pytest.raises(ValueError, match="source_lang"):
        translator.translate(["talents"], "fr", {"人才": 1})


@pytest.mark.parametrize(
    ("sense", "cleaned"),
    [
        ("Suzhou prefecture-level city in Jiangsu", ["Suzhou", "prefecture-level city in Jiangsu"]),
        ("Chinese flowering crab-apple", ["Chinese flowering crab-apple"]),
        ("(of a plane) to land", ["land"]),
        ("to sign a contract or agreement", ["sign a contract or agreement"]),
        ("CL:個|个[ge4]", []),
        ("variant of 園|园[yuan2]", []),
        # A sense that refers to other headwords keeps the name it opens with.
        ("Nanjing subprovincial city on the Yangtze, capital of Jiangsu province 江蘇|江苏[Jiang1 su1]", ["Nanjing"]),
        ("used in 葡萄[pu2 tao5]", []),
    ],
)
def test_clean_senses(sense: str, cleaned: list[str]) -> None:
    assert clean_senses(sense) == cleaned


def test_glossary_supplies_terms_cedict_lacks(translator: Translator, vocabularies: Vocabularies, cache_dir: Path) -> None:
    zone = ["high", "tech", "zone"]
    assert "高新区" in _texts(translator.translate(zone, "en", vocabularies["zh"]))
    assert "party" in _texts(translator.translate(["党建"], "zh", vocabularies["en"]))
    bare = Translator(cache_dir=cache_dir / "cedict-only", glossary=None)
    assert "高新区" not in _texts(bare.translate(zone, "en", vocabularies["zh"]))


def test_cache_follows_a_changed_glossary(small_cedict: Path, tmp_path: Path) -> None:
    glossary = tmp_path / "glossary.u8"
    glossary.write_text("# terms\n", encoding="utf-8")
    cache = tmp_path / "cache"
    assert Translator(cache_dir=cache, cedict_path=small_cedict, glossary=glossary).translate(["zone"], "en", {"园区": 1}) == []
    glossary.write_text("园区 园区 [yuan2 qu1] /park/industrial park/zone/\n", encoding="utf-8")
    updated = Translator(cache_dir=cache, cedict_path=small_cedict, glossary=glossary)
    assert _texts(updated.translate(["zone"], "en", {"园区": 1})) == ["园区"]


def test_a_place_translates_to_its_name_only(translator: Translator) -> None:
    # 北京 is also glossed "capital of People's Republic of China": a description, not a translation.
    assert translator.name_translations("北京", "zh") == ["Beijing", "Peking", "PRC government"]
    assert translator.name_translations("hangzhou", "en")[:1] == ["杭州"]
    # Words CC-CEDICT also writes in lower case are no names: "party", "third", "shanghai" (to kidnap).
    assert translator.name_translations("党政", "zh") == translator.name_translations("third", "en") == []
    assert not translator.is_name("人才") and translator.is_name("法国")
