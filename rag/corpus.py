"""Files → articles → paragraphs → sentences, with the paragraphs a printed page meant rebuilt."""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rag.text import CJK, detect_lang

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md")
DOCUMENT_SUFFIXES = (".html", ".htm", ".pdf", ".docx")  # read by rag.readers (the `formats` extra)
SUFFIXES = TEXT_SUFFIXES + DOCUMENT_SUFFIXES
KINDS = ("paragraph", "heading", "caption", "byline")
FRONT_MATTER_CHARS = 16_000  # a front matter block longer than this is refused unread
FIELD_CHARS = {"title": 500, "source": 2_000, "byline": 500, "lang": 16, "url": 2_000, "date": 100, "published": 100}
PARAGRAPH_CHARS = 4_000  # longer paragraphs are split on sentence ends into pieces a citation can show whole


class ArticleError(ValueError):
    """An article file that cannot be read; the message says why in plain words."""


@dataclass(frozen=True)
class Sentence:
    """A sentence, verbatim, with its offsets in the paragraph text."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Paragraph:
    """A paragraph as the page meant it (or a heading, caption or byline), numbered in reading order."""

    id: str
    document: str
    number: int
    kind: str
    text: str
    sentences: tuple[Sentence, ...]
    page: int | None = None  # the page of a PDF it starts on


@dataclass(frozen=True)
class Article:
    """One article: metadata from its front matter (or its web page or document), and its paragraphs."""

    id: str
    title: str
    lang: str
    source: str
    byline: str
    path: Path
    digest: str
    paragraphs: tuple[Paragraph, ...]
    notes: tuple[str, ...] = ()  # what was changed while reading it (a paragraph split, a title cut), in plain words
    url: str = ""  # where a web page came from (the link it was fetched from, or its canonical address)
    published: str = ""  # the publication date when known, as written (ISO for web pages)

    @property
    def sentence_count(self) -> int:
        """How many sentences its paragraphs hold."""
        return sum(len(paragraph.sentences) for paragraph in self.paragraphs)


@dataclass(frozen=True)
class Skipped:
    """A file (or link) that was not ingested, and why."""

    path: Path
    reason: str
    url: str = ""  # set for a link

    @property
    def name(self) -> str:
        """What to call it in a message: the link, or the file name."""
        return self.url or self.path.name


def read_folder(
    folder: Path, max_bytes: int = 2_000_000, document_bytes: int = 20_000_000
) -> tuple[list[Article], list[Skipped]]:
    """Read every article under `folder` (or the one file `folder` names); anything unreadable is skipped with a
    reason. Text files may have `max_bytes`, web pages, PDFs and Word files `document_bytes`."""
    folder = Path(folder)
    if folder.is_file():
        paths, folder = [folder], folder.parent
    elif folder.is_dir():
        paths = sorted(folder.rglob("*"))
    else:
        raise FileNotFoundError(f"Articles folder not found: {folder}")
    root = folder.resolve()
    articles: list[Article] = []
    skipped: list[Skipped] = []
    seen: dict[str, Path] = {}
    for path in paths:
        if path.is_dir() or any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        try:
            if not path.resolve().is_relative_to(root):
                raise ArticleError("it is a link to a file outside the articles folder")
            if path.suffix.lower() not in SUFFIXES:
                raise ArticleError(f"only {', '.join(SUFFIXES)} files are read")
            if not path.is_file():
                raise ArticleError("it is not a regular file")  # a named pipe or a device would block the read
            if str(path) != str(path).encode("utf-8", "ignore").decode("utf-8"):
                raise ArticleError("its path is not valid UTF-8; rename it")  # the store keeps the path as text
            article = read_article(path, max_bytes=max_bytes, document_bytes=document_bytes)
            if article.id in seen:
                raise ArticleError(f"another file already has the id {article.id!r} ({seen[article.id].name})")
        except (ArticleError, OSError) as error:
            skipped.append(Skipped(path, str(error)))
            continue
        seen[article.id] = path
        articles.append(article)
        for note in article.notes:
            log.warning("%s: %s", path.name, note)
    return articles, skipped


def read_article(path: Path, max_bytes: int = 2_000_000, document_bytes: int = 20_000_000) -> Article:
    """Read one article file (text, web page, PDF or Word); raises ArticleError naming what is wrong with it."""
    path = Path(path)
    document = path.suffix.lower() in DOCUMENT_SUFFIXES
    limit = document_bytes if document else max_bytes
    size = path.stat().st_size
    if size > limit:
        raise ArticleError(f"it is {size:,} bytes, over the {limit:,}-byte limit")
    if document:
        from rag.readers import read_document

        return read_document(path, article_id(path), max_chars=max_bytes)  # no more text than a text file may hold
    raw = path.read_bytes()
    return parse_article(decode(raw), article_id(path), path=path)


def decode(raw: bytes) -> str:
    """Decode article bytes: UTF-8 (with or without BOM) or UTF-16 with a BOM; anything else is refused."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as error:
            raise ArticleError("it has a UTF-16 mark but is not valid UTF-16") from error
    if b"\x00" in raw:
        raise ArticleError("it is a binary file, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ArticleError(f"it is not UTF-8 text (byte {error.start}); save it as UTF-8 and add it again") from error


def article_id(path: Path) -> str:
    """A stable document id from the file name: lower-case, dashes for anything but letters and digits."""
    stem = unicodedata.normalize("NFKC", path.stem).lower()
    return re.sub(r"[^\w]+", "-", stem).strip("-") or "article"


def parse_article(text: str, doc_id: str, path: Path | None = None) -> Article:
    """Build an Article from its text: front matter (optional) then the body."""
    meta, body = split_front_matter(text)
    body = normalize(body)
    if not body.strip():
        raise ArticleError("it has no text")
    lang = str(meta.get("lang") or detect_lang(body))
    blocks = rebuild_paragraphs(body, lang, markdown=path is not None and path.suffix.lower() == ".md")
    return assemble(
        doc_id,
        blocks,
        lang=lang,
        title=str(meta.get("title") or ""),
        source=str(meta.get("source") or ""),
        byline=str(meta.get("byline") or ""),
        path=path,
        url=str(meta.get("url") or ""),
        published=str(meta.get("date") or meta.get("published") or ""),
        fingerprint=repr(sorted(meta.items())) + body,
    )


def assemble(
    doc_id: str,
    blocks: Sequence[tuple[str, str]],
    *,
    lang: str,
    fingerprint: str,
    title: str = "",
    source: str = "",
    byline: str = "",
    path: Path | None = None,
    url: str = "",
    published: str = "",
    pages: Sequence[int | None] | None = None,
) -> Article:
    """An Article from its (kind, text) blocks in reading order (with the page each starts on, for a PDF);
    `fingerprint` is what its digest is made from, so the digest changes exactly when the article does."""
    if not any(kind == "paragraph" for kind, _ in blocks):
        raise ArticleError("it has no paragraph of running text")
    pages = list(pages) if pages is not None else [None] * len(blocks)
    notes: list[str] = []
    blocks, pages = bounded(blocks, pages, notes)
    paragraphs = tuple(
        Paragraph(
            id=f"{doc_id}:p{number}:{digest(text)[:8]}",
            document=doc_id,
            number=number,
            kind=kind,
            text=text,
            sentences=tuple(split_sentences(text)),
            page=page,
        )
        for number, ((kind, text), page) in enumerate(zip(blocks, pages, strict=True), start=1)
    )
    title = title or next((p.text for p in paragraphs if p.kind == "heading"), doc_id)
    if len(title) > FIELD_CHARS["title"]:  # a heading, or a web page's own title (front matter is checked apart)
        title = title[: FIELD_CHARS["title"] - 1].rstrip() + "…"
        notes.append(f"its first heading was cut to {FIELD_CHARS['title']} characters to serve as its title")
    return Article(
        id=doc_id,
        title=title,
        lang=lang,
        source=source,
        byline=byline,
        path=path or Path(doc_id),
        digest=digest(fingerprint)[:16],
        paragraphs=paragraphs,
        notes=tuple(notes),
        url=url,
        published=published,
    )


def bounded(
    blocks: Sequence[tuple[str, str]], pages: Sequence[int | None], notes: list[str]
) -> tuple[list[tuple[str, str]], list[int | None]]:
    """`blocks` (and the page each starts on) with each block longer than PARAGRAPH_CHARS split into pieces (each
    given its block's page), noting each split in `notes`."""
    out: list[tuple[str, str]] = []
    out_pages: list[int | None] = []
    for number, ((kind, text), page) in enumerate(zip(blocks, pages, strict=True), start=1):
        if len(text) <= PARAGRAPH_CHARS:
            out.append((kind, text))
            out_pages.append(page)
            continue
        pieces = pieces_of(text, PARAGRAPH_CHARS)
        notes.append(
            f"paragraph {number} ({len(text):,} characters) was split into {len(pieces)} paragraphs of at most "
            f"{PARAGRAPH_CHARS:,} characters"
        )
        out.extend((kind, piece) for piece in pieces)
        out_pages.extend([page] * len(pieces))
    return out, out_pages


def pieces_of(text: str, limit: int) -> list[str]:
    """`text` cut into pieces of at most `limit` characters, at sentence ends (a sentence longer than that is cut
    at its last space before the limit, or at the limit when it has none there)."""
    pieces: list[str] = []
    start = end = 0
    for sentence in split_sentences(text):
        if sentence.end - start > limit and end > start:
            pieces.append(text[start:end].strip())
            start = sentence.start
        while sentence.end - start > limit:
            space = text.rfind(" ", start + 1, start + limit + 1)
            cut = space if space > start else start + limit
            pieces.append(text[start:cut].strip())
            start = cut + (1 if space > start else 0)
        end = sentence.end
    if text[start:].strip():
        pieces.append(text[start:].strip())
    return [piece for piece in pieces if piece]


def paragraph_text(sentences: list[tuple[int, str]]) -> str:
    """Rebuild a paragraph from its (start offset, text) sentences: the gaps between them are single spaces."""
    text = ""
    for start, sentence in sorted(sentences):
        text += " " * (start - len(text)) + sentence
    return text


def digest(text: str) -> str:
    """Content hash used in ids, so ids change exactly when the text changes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML's safe loader without aliases: `*name` repeats a value by reference, so a few hundred bytes of nested
    aliases expand to gigabytes (a "billion laughs"); front matter has no use for them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise ArticleError("its front matter uses a YAML alias (*name); write the value out instead")
        return super().compose_node(parent, index)


def split_front_matter(text: str) -> tuple[dict[str, object], str]:
    """Split a leading `---` YAML block from the body; a file without one has empty metadata.

    The block and its fields are bounded (FRONT_MATTER_CHARS, FIELD_CHARS) and YAML aliases are refused, so the
    metadata is never larger than the file."""
    match = re.match(r"\A\ufeff?---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", text, re.DOTALL)
    if not match:
        return {}, text
    if len(match.group(1)) > FRONT_MATTER_CHARS:
        raise ArticleError(
            f"its front matter is {len(match.group(1)):,} characters, over the {FRONT_MATTER_CHARS:,}-character limit"
        )
    try:
        meta = yaml.load(match.group(1), Loader=_FrontMatterLoader) or {}  # noqa: S506 (a SafeLoader, less aliases)
    except yaml.YAMLError as error:
        raise ArticleError(f"its front matter is not valid YAML ({error.__class__.__name__})") from error
    except RecursionError:
        raise ArticleError("its front matter is nested too deeply") from None
    if not isinstance(meta, dict):
        raise ArticleError("its front matter is not a list of 'key: value' lines")
    for field, limit in FIELD_CHARS.items():
        value = meta.get(field)
        if value is None:
            continue
        if isinstance(value, (list, dict, set)):
            raise ArticleError(f"its front matter field {field!r} is a list or a mapping, not text")
        if len(str(value)) > limit:
            raise ArticleError(
                f"its front matter field {field!r} is {len(str(value)):,} characters, over the {limit:,}-character limit"
            )
    # Values are cleaned like the body: a YAML escape such as "\ud800" must not reach the store as a lone surrogate.
    return {str(k): normalize(v).strip() if isinstance(v, str) else v for k, v in meta.items()}, text[match.end() :]


def normalize(text: str) -> str:
    """Unify line ends and odd spaces, and drop control characters that are not line breaks or tabs, and layout
    glyphs (see `strip_glyphs`)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").replace("\u3000", " ")
    return strip_glyphs("".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C"))


def _symbols(*blocks: tuple[int, int]) -> str:
    return "".join(
        chr(c) for first, last in blocks for c in range(first, last + 1) if unicodedata.category(chr(c)) == "So"
    )


# Page layout marks (■ □ ● ▲ ◆ ★ ▶ ✔ ❖ …): the "other symbols" of the blocks of shapes and dingbats. Symbols that
# carry meaning in running text (℃ © ° → ¥ %) are in other blocks or categories and stay.
_GLYPH_BLOCKS = (
    (0x25A0, 0x25FF),  # Geometric Shapes
    (0x2600, 0x26FF),  # Miscellaneous Symbols
    (0x2700, 0x27BF),  # Dingbats
    (0x2B00, 0x2BFF),  # Miscellaneous Symbols and Arrows (⬛ ⭐)
    (0x1F780, 0x1F7FF),  # Geometric Shapes Extended
)
GLYPHS = re.compile(f"[{re.escape(_symbols(*_GLYPH_BLOCKS))}]+[ \t]*")
# A bullet (punctuation, not a symbol) marks a list item only where a line starts: • ‣ ⁃ ∙ · ・
LINE_BULLET = re.compile(r"^([ \t]*)[\u2022\u2023\u2043\u2219\u00b7\u30fb]+[ \t]*", re.MULTILINE)


def strip_glyphs(text: str) -> str:
    """`text` without layout glyphs (and the spaces after them), and without bullets at the start of its lines;
    a glyph right after a word becomes a space (not next to Chinese characters, which are written without)."""

    def gap(match: re.Match[str]) -> str:
        before, after = text[match.start() - 1 : match.start()], text[match.end() : match.end() + 1]
        if not before or before.isspace() or not after or after == "\n":
            return ""
        return "" if CJK.match(before) or CJK.match(after) else " "

    text = GLYPHS.sub(gap, text)
    return LINE_BULLET.sub(r"\1", text)


# A text is finished when it ends in one of these, perhaps followed by closing quotes or brackets.
FINISHED = re.compile(r"[。！？!?.…；;]['\"”’」』）)\]】]*$")
CLOSERS = "\"'”’」』）)]】"
BYLINE = re.compile(
    r"^(本报记者|记者|特约通讯员|通讯员|本版图片来源|图片来源|摄影|By\s+[A-Z])|^[(（].*(reporter|记者|correspondent).*[)）]$",
    re.IGNORECASE,
)
PHOTO_MARK = re.compile(r"[(（](左|中|右|前排|后排|左一|右一)[)）]|图为|^Photo[: ]", re.IGNORECASE)


@dataclass
class _Block:
    text: str
    gap: int  # newlines before the block: a wide gap marks layout furniture (captions, headings)


def _blocks(body: str) -> Iterator[_Block]:
    """Blank-line separated blocks; a body with no blank lines has one block per line."""
    if not re.search(r"\S[^\S\n]*\n[^\S\n]*\n", body.strip()):
        for match in re.finditer(r"(\n*)([^\n]+)", body):
            if match.group(2).strip():
                yield _Block(match.group(2).strip(), len(match.group(1)))
        return
    for match in re.finditer(r"(\n*)((?:[^\n]*\S[^\n]*(?:\n|$))+)", body):
        lines = [line.strip() for line in match.group(2).splitlines() if line.strip()]
        if lines:
            yield _Block(_join(lines), len(match.group(1)) + (1 if match.start() else 0))


def _join(parts: list[str]) -> str:
    """Join wrapped pieces: no space between Chinese characters, one space elsewhere."""
    text = parts[0]
    for part in parts[1:]:
        glue = "" if CJK.match(text[-1:]) or CJK.match(part[:1]) or text.endswith("-") else " "
        text = text.rstrip("-") + glue + part if text.endswith("-") and part[:1].islower() else text + glue + part
    return text


def _finished(text: str) -> bool:
    return bool(FINISHED.search(text))


def _heading_like(text: str, lang: str) -> bool:
    """Short, unfinished, and with no sentence punctuation inside: a heading or a caption line."""
    if _finished(text) or text.endswith((",", "，", "、", ":", "：")) and lang == "zh":
        return False
    if lang == "zh" or CJK.search(text):
        return len(text) <= 100 and not re.search(r"[。！？；，,]", text)
    return len(text) <= 220


def rebuild_paragraphs(body: str, lang: str, markdown: bool = False) -> list[tuple[str, str]]:
    """Rebuild the paragraphs of a printed page as (kind, text), in reading order.

    Lines broken mid-sentence are joined; headings, captions and bylines that interrupt a paragraph are
    kept as their own blocks and the paragraph resumes after them.
    """
    blocks = list(_blocks(body))
    out: list[list[str]] = []  # [kind, text]
    open_at: int | None = None  # index in `out` of a paragraph still waiting for its end
    texts = [block.text for block in blocks]
    counts = Counter(texts)
    repeated = {text for text in texts if len(text) <= 100 and counts[text] > 1}
    for i, block in enumerate(blocks):
        text = block.text
        following = blocks[i + 1].text if i + 1 < len(blocks) else ""
        kind = _kind(text, block.gap, following, lang, markdown, repeated)
        if markdown and kind == "heading":
            text = text.lstrip("#").strip()
        if kind == "paragraph" and open_at is not None and _continues(out[open_at][1], text, lang):
            out[open_at][1] = _join([out[open_at][1], text])
        else:
            out.append([kind, text])
            if kind == "paragraph":
                open_at = len(out) - 1
        if open_at is not None and (_finished(out[open_at][1]) or len(out) - 1 - open_at > 3):
            open_at = None
    # One space between words everywhere, so a paragraph can be rebuilt exactly from its sentences.
    return [(kind, re.sub(r"\s+", " ", text).strip()) for kind, text in out]


def _kind(text: str, gap: int, following: str, lang: str, markdown: bool, repeated: set[str]) -> str:
    if BYLINE.search(text):
        return "byline"
    if markdown and text.startswith("#"):
        return "heading"
    if re.fullmatch(r"[\[【].*[\]】]", text):
        return "heading"
    if text in repeated:
        return "caption"  # a short block printed twice is page furniture, not a paragraph
    # An unfinished English line followed by a lower-case line is a sentence broken across lines, not a heading.
    broken = following[:1].islower() and not CJK.search(text)
    if _heading_like(text, lang) and not broken:
        return "heading"
    short = _finished(text) and len(text) <= 60 and len(split_sentences(text)) == 1
    if short and (PHOTO_MARK.search(text) or (gap >= 3 and CJK.search(text))):
        return "caption"
    return "paragraph"


def _continues(previous: str, text: str, lang: str) -> bool:
    """Does `text` carry on the unfinished paragraph `previous`?"""
    if CJK.search(previous[-1:]) or CJK.search(text[:1]) or re.match(r"\d", text):
        return True
    return text[:1].islower()


# Sentence ends: Chinese 。！？； (and ! ?), English . ! ? followed by space or a capital, never inside 3.43.
_ZH_END = re.compile(r"[。！？；!?]+[" + re.escape(CLOSERS) + r"]*")
_EN_END = re.compile(r"(?<!\d)[.!?]+[" + re.escape(CLOSERS) + r"]*(?=\s+|[A-Z■]|$)|(?<=\d)[.!?]+(?=\s|$)")
ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st co ltd inc corp no nos vs etc e.g i.e u.s u.k jan feb mar apr jun jul aug
    sep sept oct nov dec fig approx dept gov rep sen gen col lt sgt""".split()
)


def split_sentences(text: str) -> list[Sentence]:
    """Split a paragraph into verbatim sentences, Chinese and English alike."""
    cuts: list[int] = []
    for match in re.finditer(_ZH_END.pattern + "|" + _EN_END.pattern, text):
        end = match.end()
        mark = match.group()
        if mark[0] == "." and _abbreviation(text, match.start()):
            continue
        cuts.append(end)
    sentences: list[Sentence] = []
    start = 0
    for end in [*cuts, len(text)]:
        piece = text[start:end]
        stripped = piece.strip()
        if stripped:
            offset = start + piece.index(stripped)
            previous = sentences[-1] if sentences else None
            if previous and previous.text.endswith(("”", '"', "」")) and len(stripped) <= 15:
                # A short attribution after a closing quote ("…。”张瑛表示。") belongs to the quote.
                sentences[-1] = Sentence(
                    text[previous.start : offset + len(stripped)], previous.start, offset + len(stripped)
                )
            else:
                sentences.append(Sentence(stripped, offset, offset + len(stripped)))
        start = end
    return sentences


def _abbreviation(text: str, dot: int) -> bool:
    """Is the period at `dot` the end of an abbreviation or an initial rather than of a sentence?"""
    # Only the characters just before the dot: searching the whole prefix made a long paragraph quadratic.
    word = re.search(r"([A-Za-z][A-Za-z.]*)$", text[max(0, dot - 40) : dot])
    if not word:
        return False
    token = word.group(1).lower()
    after = text[dot + 1 : dot + 3]
    if token in ABBREVIATIONS or token.rstrip(".") in ABBREVIATIONS:
        return True
    if len(token) == 1 and token.isalpha():
        return True  # an initial such as "J." or the "S" in "U.S."
    # "word.Next" with no space is a typo'd sentence end only after a real lower-case word.
    return not after[:1].isspace() and after[:1] != "" and not word.group(1)[-1:].islower()
