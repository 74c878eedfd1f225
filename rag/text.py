"""Text as words: Chinese characters, the language of a text, stop words, stemmers, jieba and search terms."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from array import array
from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

# Chinese characters: CJK Unified Ideographs, Extension A and the Compatibility Ideographs. Raw, so patterns can
# also put it inside a larger character class ([HAN A-Za-z]); TOKENIZER below fingerprints the pattern text.
HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK = re.compile(f"[{HAN}]")
CJK_RUN = re.compile(f"[{HAN}]+")
LATIN_WORD = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]|\d+(?:[.,]\d+)*")


def detect_lang(text: str) -> str:
    """'zh' when Chinese characters make up a good share of the letters, else 'en'."""
    cjk = len(CJK.findall(text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return "zh" if cjk and cjk >= 0.3 * (cjk + latin) else "en"


# Stop words. Two uses want different lists, each word written once below:
# - search terms (`tokenize`) drop the function words and the words every count question repeats ("number",
#   "total", 累计, 截至): they are stored with every sentence, so a change here cuts every store again;
# - the translator (rag.translate) drops the function words, pronouns and the filler of CC-CEDICT's senses
#   ("to tell sb sth"), which carry no content to translate; its cached dictionary index is built with them.
# One list for both would change the stored terms or the translations, and so the evaluation figures (the translator
# with the search lists: cross-language 48.0 -> 52.0%, paraphrase 20.8 -> 16.7% on the seed evaluation).
_EN_FUNCTION = frozenset(
    """a about above after again all also am an and any are as at be been being both but by can could did do
    does doing during each few for from further had has have having he her here hers him his how i if in into is
    it its itself just many me more most much my no nor not now of off on once only or other our out over own
    same she should so some such than that the their them then there these they this those through to too under
    until up very was we were what when where which while who whom whose why will with would you your yours""".split()
)
_ZH_FUNCTION = frozenset(
    """的 了 是 在 和 与 及 等 有 为 对 以 将 把 被 也 都 而 并 或 其 之 于 中 上 下 个 这 那 什么 多少 几 哪 哪些 何时 如何
    怎样 怎么 吗 呢 啊 吧 共 已 各 还 又 从 到 向 给 让""".split()
)
EN_STOP = _EN_FUNCTION | frozenset("number total s".split())  # s: the "s" of "London’s" cut apart
ZH_STOP = _ZH_FUNCTION | frozenset("人 年 哪一年 一共 总共 累计 截至 目前 据 由".split())
EN_UNTRANSLATED = _EN_FUNCTION | frozenset(
    """against because before below between done down else etc ever get gets got herself himself kind let might
    must myself one oneself ours ourselves per please said say sb somebody someone something sort sth tell
    theirs themselves thing things thus upon us via way within without yet yourself yourselves""".split()
)
ZH_UNTRANSLATED = _ZH_FUNCTION | frozenset(
    """一下 一个 一些 不 为什么 些 他 他们 会 何 你 你们 关于 内 几个 呀 哪个 哪位 哪儿 哪家 哪里 地 多 多么 她 她们 它
    它们 少 就 已经 很 得 怎么样 我 我们 所 是不是 是否 更 曾 最 有没有 每 比 没 没有 着 等等 能 要 该 请 请问 谁 跟 过
    这个 这些 通过 那个 那些 里""".split()
)

# Three English stemmers, each for its own use (one for all would change what is stored, translated or compared;
# the translator with `stem`: cross-language 48.0 -> 52.0%, retrieval MRR 0.710 -> 0.698 on the seed evaluation):
# `stem` makes the stored search terms; `dictionary_stem` also folds a final -e and a doubled consonant, so a
# question's words meet CC-CEDICT's senses (the translator's cached index is built with it); `root` (Snowball)
# joins derivations too ("industrial", "industry"), for the answerer comparing words, too loose for search.
STEM_RULES = (
    ("ies", "y"),
    ("sses", "ss"),
    ("ches", "ch"),
    ("shes", "sh"),
    ("xes", "x"),
    ("ings", ""),
    ("ing", ""),
    ("ed", ""),
    ("s", ""),
)


def stem(word: str) -> str:
    """A light English stemmer for search terms: enough to meet 'talents' with 'talent' and 'trained' with 'train'."""
    for suffix, repl in STEM_RULES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith(("ss", "us", "is")):
            return word[: -len(suffix)] + repl
    return word


@lru_cache(maxsize=1 << 16)
def dictionary_stem(word: str) -> str:
    """Fold plural, -ed, -ing and final -e of an English word so inflections share a key (trained: train)."""
    w = word.lower()
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    stripped = False
    if len(w) > 5 and w.endswith("ing"):
        w, stripped = w[:-3], True
    elif len(w) > 4 and w.endswith("ed"):
        w, stripped = w[:-2], True
    if stripped and len(w) > 2 and w[-1] == w[-2] and w[-1] not in "aeioulsz":
        w = w[:-1]  # planned -> plan, running -> run
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]  # make/making -> mak, cadre/cadres -> cadr
    return w


@lru_cache(maxsize=1 << 16)
def root(word: str) -> str:
    """The Snowball (Porter 2) root of an English search term, shared by its derivations as well as its
    inflections ("industrial" and "industry": industri; "independently": independ). Other words are their own."""
    return _snowball().stemWord(word) if word.isascii() else word


@lru_cache(maxsize=1)
def _snowball():  # type: ignore[no-untyped-def]
    import snowballstemmer

    return snowballstemmer.stemmer("english")


# News and public-administration terms CC-CEDICT lacks (高新区, 党建, 科创板 …), in CC-CEDICT's own line format.
# The translator reads their senses; jieba learns their headwords, so "新三板挂牌" is cut 新三板 / 挂牌, not 新 / 三板.
GLOSSARY = Path(__file__).with_name("glossary.u8")


def glossary_words(path: Path = GLOSSARY) -> tuple[str, ...]:
    """The simplified headwords of the glossary, in file order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line.split()[1] for line in lines if line.strip() and not line.startswith("#"))


# Terms are stored beside each sentence and in the keyword snapshot; a change to how text is cut changes this
# fingerprint, and terms stored under another one are cut again.
TOKENIZER = hashlib.sha256(
    repr(
        (2, CJK_RUN.pattern, LATIN_WORD.pattern, sorted(EN_STOP), sorted(ZH_STOP), STEM_RULES, glossary_words())
    ).encode()
).hexdigest()[:12]


_dictionary_dir: list[Path] = []  # where jieba's dictionary is kept between processes (see `keep_dictionary_in`)


def keep_dictionary_in(folder: Path) -> None:
    """Keep jieba's prefix dictionary (with the glossary's words) in `folder`: a new process then loads it in
    ~0.35 s, where jieba's own cache takes ~1 s (most of a cold question's time after importing Chroma)."""
    _dictionary_dir[:] = [folder]


@lru_cache(maxsize=1)
def _jieba():  # type: ignore[no-untyped-def]
    """jieba, its dictionary loaded with the glossary's words (from the kept copy when there is one)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    path = _dictionary_dir[0] / f"jieba-{jieba.__version__}-{TOKENIZER}.bin" if _dictionary_dir else None
    loaded = _read_dictionary(path) if path else None
    with jieba.dt.lock:
        if loaded is not None and not jieba.dt.initialized:
            # FREQ and total are what `initialize` loads and `add_word` extends; nothing else changes.
            jieba.dt.FREQ, jieba.dt.total = loaded
            jieba.dt.initialized = True
        else:
            jieba.initialize()
            for word in glossary_words():
                jieba.add_word(word)
            if path:
                _write_dictionary(path, jieba.dt.FREQ, jieba.dt.total)
    return jieba


def _read_dictionary(path: Path) -> tuple[dict[str, int], int] | None:
    """The prefix dictionary saved by `_write_dictionary` (None when missing or not whole)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if len(data) < 16:
        return None
    counts = array("q")
    counts.frombytes(data[:16])
    total, size = counts
    if not 0 <= size <= (len(data) - 16) // 8:
        return None
    freqs = array("q")
    freqs.frombytes(data[16 : 16 + 8 * size])
    try:
        words = data[16 + 8 * size :].decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return None
    return (dict(zip(words, freqs, strict=True)), total) if len(words) == size else None


def _write_dictionary(path: Path, freq: Mapping[str, int], total: int) -> None:
    """Save the prefix dictionary as counts and words (not pickle: loading a file must never run code)."""
    if any("\n" in word for word in freq):
        return
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as out:
            out.write(array("q", [total, len(freq)]).tobytes())
            out.write(array("q", freq.values()).tobytes())
            out.write("\n".join(freq).encode("utf-8"))
        os.replace(partial, path)  # whole or absent, also for a process reading it meanwhile
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)  # a full disk keeps no half file
        # a read-only data folder: jieba loads its own cache next time


@lru_cache(maxsize=1024)
def tagged(text: str) -> tuple[tuple[str, str], ...]:
    """jieba's words of a text with their parts of speech (with the glossary's words)."""
    return tuple((pair.word, pair.flag) for pair in _tagger().cut(text) if pair.word.strip())


@cache
def _tagger() -> Any:
    """One part-of-speech tagger on the shared dictionary: making one reads jieba's tag file (about a second)."""
    from jieba import posseg

    return posseg.POSTokenizer(_jieba().dt)


# A capitalized English word that does not open its text: a proper noun ("the capital of France").
CAPITALIZED = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][A-Za-z-]*")
# jieba's tags for proper nouns: place, person, organisation, other.
_NAME_TAGS = frozenset(("ns", "nr", "nt", "nz"))


def proper_names(text: str) -> set[str]:
    """The names a sentence uses, as search terms: its capitalized English words (not the first) and the words
    jieba tags as a place, person, organisation or other proper noun (two characters or more)."""
    names = {t for word in CAPITALIZED.findall(text) for t in tokenize(word)}
    if CJK.search(text):
        names |= {word for word, flag in tagged(text) if flag in _NAME_TAGS and len(word) > 1 and CJK.match(word)}
    return names


def tokenize(text: str) -> list[str]:
    """Search terms of a text: stemmed English words and jieba's Chinese words, stop words dropped."""
    return list(_remembered(text))


# Answering cuts the same retrieved paragraphs again and again, and jieba is the slow part of a warm question.
@lru_cache(maxsize=16384)
def _remembered(text: str) -> tuple[str, ...]:
    return tuple(cut(text))


def cut(text: str) -> list[str]:
    """`tokenize` without its memory of recent texts: for ingest, whose texts are new."""
    tokens: list[str] = []
    position = 0
    for match in CJK_RUN.finditer(text):
        tokens.extend(_latin(text[position : match.start()]))
        tokens.extend(w for w in _jieba().lcut_for_search(match.group()) if w not in ZH_STOP)
        position = match.end()
    tokens.extend(_latin(text[position:]))
    return tokens


def _latin(text: str) -> list[str]:
    words = LATIN_WORD.findall(text.lower())
    words = [w[:-2] if w.endswith(("'s", "’s")) else w for w in words]  # London's: london
    return [stem(w) for w in words if w not in EN_STOP and not w[0].isdigit()]
