"""A synthetic corpus of any size, made deterministically from the seed articles, and an embedder that caches.

Paragraphs recombine seed sentences, each in one of `variants` versions with its city and figures changed
("Suzhou … 3.43 million" → "Wuxi … 1.87 million"), in English and Chinese articles of 20 paragraphs.
Every vector is e5's vector of that exact text; `CachedE5` keeps them by text hash between runs, so only
the first run pays for embedding. Distinct sentences are bounded by the seed sentences × `variants`.
"""

from __future__ import annotations

import random
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from evals.vectors import CachedE5, VectorCache  # noqa: F401  (re-exported for the benchmarks)
from rag.corpus import read_folder
from rag.settings import PROJECT_ROOT

GENERATOR = 2  # bump when the corpus changes, so cached corpora are written again
PARAGRAPHS_PER_ARTICLE = 20
CITIES = {
    "en": "Suzhou Wuxi Changzhou Nantong Yangzhou Zhenjiang Taizhou Yancheng Xuzhou Suqian Hangzhou Ningbo Hefei".split(),
    "zh": "苏州 无锡 常州 南通 扬州 镇江 泰州 盐城 徐州 宿迁 杭州 宁波 合肥".split(),
}
DISTRICTS = {
    "en": "Gusu Wuzhong Xiangcheng Kunshan Changshu Taicang Binhu Liangxi Jiangyin Yixing Xinbei Tinghu".split(),
    "zh": "姑苏区 吴中区 相城区 昆山市 常熟市 太仓市 滨湖区 梁溪区 江阴市 宜兴市 新北区 亭湖区".split(),
}
FIGURE = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class Seeds:
    """The seed articles' sentences per language: running text, and headings."""

    sentences: dict[str, list[str]]
    headings: dict[str, list[str]]


def seeds(folder: Path = PROJECT_ROOT / "seeds") -> Seeds:
    """The sentences the synthetic corpus is made of."""
    articles, _ = read_folder(folder)
    sentences: dict[str, list[str]] = {"en": [], "zh": []}
    headings: dict[str, list[str]] = {"en": [], "zh": []}
    for article in articles:
        for paragraph in article.paragraphs:
            if paragraph.kind == "paragraph":
                sentences[article.lang].extend(s.text for s in paragraph.sentences)
            elif paragraph.kind == "heading" and len(paragraph.text) > 12:
                headings[article.lang].append(paragraph.text)
    return Seeds(sentences, headings)


def variant(text: str, lang: str, key: str, number: int) -> str:
    """Version `number` of a seed sentence: 0 is the sentence itself, others change its city and figures."""
    if number == 0:
        return text
    rng = random.Random(f"{key}:{number}")
    city = rng.choice(CITIES[lang][1:])
    if CITIES[lang][0] not in text and not FIGURE.search(text):
        # Nothing to vary: say where it happened instead.
        district = rng.choice(DISTRICTS[lang])
        return f"In {district}, {city}: {text}" if lang == "en" else f"{city}{district}：{text}"
    text = text.replace(CITIES[lang][0], city)
    factor = rng.uniform(0.3, 3.0)
    shift = rng.randint(-6, 3)

    def figure(match: re.Match[str]) -> str:
        digits = match.group()
        if re.fullmatch(r"(19|20)\d\d", digits):
            return str(int(digits) + shift)
        value = float(digits.replace(",", "")) * factor
        decimals = len(digits.rsplit(".", 1)[1]) if "." in digits else 0
        written = f"{value:,.{decimals}f}" if "," in digits else f"{value:.{decimals}f}"
        return written if decimals or value >= 1 else "1"

    return FIGURE.sub(figure, text)


def articles(paragraphs: int, variants: int, source: Seeds) -> Iterator[tuple[str, str]]:
    """(file name, file text) of the articles holding the first `paragraphs` synthetic paragraphs."""
    count = -(-paragraphs // PARAGRAPHS_PER_ARTICLE)
    for number in range(count):
        lang = "en" if number % 2 == 0 else "zh"
        rng = random.Random(f"article:{number}")
        pool = source.sentences[lang]
        size = min(PARAGRAPHS_PER_ARTICLE, paragraphs - number * PARAGRAPHS_PER_ARTICLE)
        glue = " " if lang == "en" else ""
        heading = rng.randrange(len(source.headings[lang]))
        body = [variant(source.headings[lang][heading], lang, f"h{lang}{heading}", rng.randrange(variants))]
        for _ in range(size):
            picks = [rng.randrange(len(pool)) for _ in range(rng.choice((1, 2, 2, 3, 3, 4)))]
            body.append(glue.join(variant(pool[i], lang, f"{lang}{i}", rng.randrange(variants)) for i in picks))
        title = f"Synthetic digest {number}" if lang == "en" else f"综合摘编第{number}期"
        text = f"---\ntitle: {title}\nlang: {lang}\nsource: synthetic\n---\n" + "\n\n".join(body) + "\n"
        yield f"a{number:05d}-{lang}.txt", text


def write_corpus(folder: Path, paragraphs: int, variants: int) -> Path:
    """The folder of articles for `paragraphs` paragraphs, written unless already there."""
    stamp = folder / ".generated"
    wanted = f"{GENERATOR} {paragraphs} {variants}"
    if stamp.exists() and stamp.read_text() == wanted:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    source = seeds()
    for name, text in articles(paragraphs, variants, source):
        (folder / name).write_text(text, encoding="utf-8")
    stamp.write_text(wanted)
    return folder
