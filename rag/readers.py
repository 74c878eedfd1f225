"""Articles as people have them: web pages, PDFs and Word files, each read into the corpus's `Article`.

Each reader needs a package of the `formats` extra, imported when the reader is first used; without it the file
is skipped with a one-line hint. Web pages go through trafilatura, made for news pages: the article's text,
title, author, date and canonical address, without menus, adverts, related links and comments. PDFs go through
pdfminer.six's layout analysis, whose text boxes are put in reading order here column by column, then through the
same paragraph repair as text files (lines broken mid-sentence, hyphenation, paragraphs resumed across columns
and pages). Word files go through python-docx: paragraphs, with headings and captions told by their styles.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.corpus import (
    BYLINE,
    FINISHED,
    Article,
    ArticleError,
    assemble,
    normalize,
    rebuild_paragraphs,
)
from rag.text import detect_lang

EXTRA_HINT = "reading {kind} needs the 'formats' extra: pip install 'rag[formats]'"
UNPACKED_LIMIT = 100_000_000  # bytes a Word file may unpack to; a zip bomb unpacks to far more
UNPACKED_RATIO = 100  # a Word file's XML compresses about 5-10 times; a bomb, thousands of times
MAX_PAGES = 2_000  # PDF pages read at most
TEXT_CHARS = 2_000_000  # characters of text an article may have, whatever its format (a text file's byte limit)
KINDS = {".html": "web page", ".htm": "web page", ".pdf": "PDF", ".docx": "Word document"}


def read_document(path: Path, doc_id: str, max_chars: int = TEXT_CHARS) -> Article:
    """Read a web page, PDF or Word file by its suffix, stopping once its text passes `max_chars`; raises
    ArticleError naming what is wrong with it."""
    readers: dict[str, Callable[[Path, str, int], Article]] = {
        ".html": read_html,
        ".htm": read_html,
        ".pdf": read_pdf,
        ".docx": read_docx,
    }
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise ArticleError(f"{path.suffix or 'a file without a suffix'} is not a format rag.readers knows")
    try:
        return reader(path, doc_id, max_chars)
    except (ArticleError, OSError):
        raise
    except Exception as error:  # noqa: BLE001 (a parser failing any other way on one file must not stop an ingest)
        # e.g. pdfminer's RecursionError on a PDF whose object refers to itself
        kind = KINDS.get(path.suffix.lower(), "file")
        raise ArticleError(f"it is not a readable {kind} ({error.__class__.__name__})") from error


# Web pages


class _Budget:
    """The text an article may still have; spending past it stops the reading with the reason."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent = 0

    def spend(self, chars: int) -> None:
        self.spent += chars
        if self.spent > self.limit:
            raise ArticleError(
                f"its text is over the {self.limit:,}-character limit (RAG_MAX_FILE_BYTES); split it into smaller files"
            )


def read_html(path: Path, doc_id: str, max_chars: int = TEXT_CHARS) -> Article:
    """A saved web page: its article text, title, author, date and address (the one it was fetched from, when
    `rag.links` kept it, else its canonical one)."""
    from rag.links import saved_address

    return parse_html(path.read_bytes(), doc_id, path=path, url=saved_address(path), max_chars=max_chars)


def parse_html(
    raw: bytes, doc_id: str, path: Path | None = None, url: str = "", max_chars: int = TEXT_CHARS
) -> Article:
    """The article of a web page's bytes; `url` is where it was fetched from (else its canonical address is kept)."""
    trafilatura = _require("trafilatura", "web pages")
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)  # its warnings would reach the user's terminal
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ArticleError("it is a binary file, not a web page")
    try:
        page = trafilatura.bare_extraction(
            raw, url=url or None, include_comments=False, include_tables=True, with_metadata=True
        )
    except (ValueError, TypeError, AttributeError, LookupError) as error:  # lxml and trafilatura on broken input
        raise ArticleError(f"it is not readable HTML ({error.__class__.__name__})") from error
    if page is None or page.body is None:
        raise ArticleError("it is not readable HTML, or has no text")
    blocks: list[tuple[str, str]] = []
    budget = _Budget(max_chars)  # the page's bytes are bounded (RAG_MAX_DOCUMENT_BYTES); its text is too
    for element in page.body.iter("head", "p", "item", "quote", "row"):
        if any(parent.tag in ("item", "quote", "row") for parent in element.iterancestors()):
            continue  # read with the list item, quote or table row it is in
        if element.tag == "row":
            text = " | ".join(_html_text(cell) for cell in element.iter("cell"))
        else:
            text = _html_text(element)
        if text.strip(" |"):
            budget.spend(len(text))
            blocks.append(
                ("heading" if element.tag == "head" else "byline" if BYLINE.search(text) else "paragraph", text)
            )
    if not any(kind == "paragraph" and FINISHED.search(text) for kind, text in blocks):
        raise ArticleError("it is not an article: no paragraph of running text (a menu, a form or a list of links?)")
    body = "\n\n".join(text for _, text in blocks)
    title = normalize(page.title or "").strip()
    canonical = str(page.url or "")
    return assemble(
        doc_id,
        blocks,
        lang=detect_lang(body),
        title=title,
        source=normalize(page.sitename or "").strip(),
        byline=normalize(page.author or "").strip(),
        path=path,
        url=url or (canonical if canonical.startswith(("https://", "http://")) else ""),
        published=str(page.date or ""),
        fingerprint="\n".join([title, str(page.author), str(page.date), url or canonical, body]),
    )


def _html_text(element: Any) -> str:
    """An extracted element's text on one line: a line break (<lb/>) is a space, not nothing."""
    pieces: list[str] = []

    def walk(node: Any) -> None:
        pieces.append(" " if node.tag == "lb" else node.text or "")
        for child in node:
            walk(child)
            pieces.append(child.tail or "")

    walk(element)
    return re.sub(r"\s+", " ", normalize("".join(pieces))).strip()


# PDF


@dataclass(frozen=True)
class _Box:
    """A text box of a PDF page: its lines with where each starts, and where the box lies (PDF units, y upwards)."""

    lines: tuple[tuple[str, float], ...]
    x0: float
    x1: float
    y0: float
    y1: float


PAGE_NUMBER = re.compile(r"^[\W_]*(page|p\.|第)?\s*\d{1,4}\s*(页|版)?[\W_]*$", re.IGNORECASE)


def read_pdf(path: Path, doc_id: str, max_chars: int = TEXT_CHARS) -> Article:
    """A PDF's text layer in reading order, columns apart, with the page each paragraph starts on."""
    _require("pdfminer", "PDF files")
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams, LTTextBoxHorizontal
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfexceptions import PDFException
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser
    from pdfminer.psexceptions import PSException

    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    pages: list[list[_Box]] = []
    info: dict[str, Any] = {}
    budget = _Budget(max_chars)  # checked page by page: a PDF of endless text stops at the limit
    try:
        with path.open("rb") as file:
            document = PDFDocument(PDFParser(file))
            info = document.info[0] if document.info else {}
            manager = PDFResourceManager()
            device = PDFPageAggregator(manager, laparams=LAParams())
            interpreter = PDFPageInterpreter(manager, device)
            for number, page in enumerate(PDFPage.create_pages(document), start=1):
                if number > MAX_PAGES:
                    raise ArticleError(f"it has more than {MAX_PAGES:,} pages")
                interpreter.process_page(page)
                layout = device.get_result()
                boxes = [
                    _Box(tuple((line.get_text().strip(), line.x0) for line in item), item.x0, item.x1, item.y0, item.y1)
                    for item in layout
                    if isinstance(item, LTTextBoxHorizontal) and item.get_text().strip()
                ]
                budget.spend(sum(len(line) for box in boxes for line, _ in box.lines))
                pages.append(_merged(_reading_order(boxes)))
    except ArticleError:
        raise
    except (PDFPasswordIncorrect, PDFEncryptionError) as error:
        raise ArticleError("it is encrypted with a password; save an unprotected copy and add that") from error
    except (PDFException, PSException, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ArticleError(f"it is not a readable PDF ({error.__class__.__name__})") from error
    if not pages:
        raise ArticleError("it is not a readable PDF (no pages)")
    blocks: list[tuple[int, str]] = []  # (page, box text with its lines)
    for number, boxes in enumerate(pages, start=1):
        for box in boxes:
            text = "\n".join(line for line, _ in box.lines if line)
            if text and not PAGE_NUMBER.match(text):
                blocks.extend((number, paragraph) for paragraph in _paragraphs(box))
    if not blocks:
        raise ArticleError("no text layer: OCR is not supported (is it a scan?)")
    body = normalize("\n\n".join(text for _, text in blocks))
    lang = detect_lang(body)
    rebuilt = rebuild_paragraphs(body, lang)
    meta = {key: _pdf_text(info.get(key)) for key in ("Title", "Author")}
    title = meta["Title"] if meta["Title"] and not re.search(r"\.\w{2,4}$|^untitled", meta["Title"], re.I) else ""
    return assemble(
        doc_id,
        rebuilt,
        lang=lang,
        title=title,
        byline=meta["Author"],
        path=path,
        pages=_pages_of(rebuilt, blocks),
        fingerprint=repr(sorted(meta.items())) + repr(blocks),
    )


def _reading_order(boxes: list[_Box]) -> list[_Box]:
    """A page's boxes in reading order: boxes as wide as several columns (headlines) cut the page into bands,
    and within a band each column is read top to bottom, left to right."""
    if len(boxes) < 2:
        return boxes
    left, right = min(b.x0 for b in boxes), max(b.x1 for b in boxes)
    narrow = sorted((b.x0, b.x1) for b in boxes if b.x1 - b.x0 < 0.6 * (right - left))
    columns: list[list[float]] = []
    for x0, x1 in narrow:
        if columns and x0 < columns[-1][1]:
            columns[-1][1] = max(columns[-1][1], x1)
        else:
            columns.append([x0, x1])

    def column(box: _Box) -> int | None:
        """The column the box lies in, or None for a box across columns (or a page of one column)."""
        inside = [i for i, (x0, x1) in enumerate(columns) if min(box.x1, x1) - max(box.x0, x0) > 0]
        return inside[0] if len(inside) == 1 and len(columns) > 1 else None

    ordered: list[_Box] = []
    band: list[_Box] = []
    for box in sorted(boxes, key=lambda b: -b.y1):
        if column(box) is None:
            ordered += sorted(band, key=lambda b: (column(b), -b.y1))
            ordered.append(box)
            band = []
        else:
            band.append(box)
    return ordered + sorted(band, key=lambda b: (column(b), -b.y1))


def _merged(boxes: list[_Box]) -> list[_Box]:
    """Boxes in reading order with a box joined to the one before when it is right below it in the same column
    with lines of the same height: layout analysis puts a paragraph's indented first line in a box of its own."""
    out: list[_Box] = []
    for box in boxes:
        last = out[-1] if out else None
        if last is not None:
            height, last_height = _line_height(box), _line_height(last)
            below = -0.2 * height <= last.y0 - box.y1 <= 0.8 * height
            same_column = min(last.x1, box.x1) - max(last.x0, box.x0) > 0.5 * min(last.x1 - last.x0, box.x1 - box.x0)
            if below and same_column and abs(height - last_height) <= 0.2 * last_height:
                out[-1] = _Box(last.lines + box.lines, min(last.x0, box.x0), max(last.x1, box.x1), box.y0, last.y1)
                continue
        out.append(box)
    return out


def _line_height(box: _Box) -> float:
    return (box.y1 - box.y0) / max(1, len(box.lines))


def _paragraphs(box: _Box) -> list[str]:
    """A box's lines cut into paragraphs where a line is indented, or where a finished line stops well short of
    the others (the last line of a paragraph); each paragraph keeps its lines, for the paragraph repair to join."""
    lines = [(text, x0) for text, x0 in box.lines if text]
    width = max((len(text) for text, _ in lines), default=0)
    out: list[list[str]] = [[]]
    for i, (text, x0) in enumerate(lines):
        indented = out[-1] and x0 - box.x0 > 6 and FINISHED.search(out[-1][-1])  # 6 pt: about one en space
        if indented:
            out.append([])
        out[-1].append(text)
        short = len(text) < 0.75 * width
        if i + 1 < len(lines) and short and FINISHED.search(text):
            out.append([])
    return ["\n".join(paragraph) for paragraph in out if paragraph]


def _pages_of(rebuilt: Sequence[tuple[str, str]], blocks: Sequence[tuple[int, str]]) -> list[int | None]:
    """The page each rebuilt paragraph starts on: the page of the first block its text starts with, blocks being
    taken in order (the repair only joins blocks that follow one another, never reorders them)."""
    starts = [(page, re.sub(r"\s+", " ", text.split("\n", 1)[0]).strip()[:24].rstrip("-")) for page, text in blocks]
    pages: list[int | None] = []
    at = 0
    for _, text in rebuilt:
        found = next((j for j in range(at, len(starts)) if text.startswith(starts[j][1])), None)
        if found is None:
            pages.append(pages[-1] if pages else starts[0][0])
        else:
            pages.append(starts[found][0])
            at = found + 1
    return pages


def _pdf_text(value: Any) -> str:
    """A PDF metadata string (UTF-16 with a BOM, or PDFDocEncoding) as text."""
    from pdfminer.pdftypes import resolve1
    from pdfminer.utils import decode_text

    value = resolve1(value)
    if isinstance(value, bytes):
        value = decode_text(value)
    return normalize(value).strip() if isinstance(value, str) else ""


# Word


def read_docx(path: Path, doc_id: str, max_chars: int = TEXT_CHARS) -> Article:
    """A Word file's paragraphs in order, headings and captions told by their styles; its size unpacked is
    checked before anything is read, so a zip bomb costs nothing."""
    docx = _require("docx", "Word files")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            unpacked = sum(entry.file_size for entry in entries)
            packed = sum(entry.compress_size for entry in entries) or 1
            if "word/document.xml" not in {entry.filename for entry in entries}:
                raise ArticleError("it is not a Word document (no word/document.xml)")
            if unpacked > UNPACKED_LIMIT or unpacked > UNPACKED_RATIO * packed and unpacked > 10_000_000:
                raise ArticleError(f"it unpacks to {unpacked:,} bytes from {packed:,} (a zip bomb?); not read")
            # Its text counted as the XML streams by, before python-docx builds the whole tree (95 MB of text
            # took 228 s and 1 GB that way).
            _count_text(archive, "word/document.xml", _Budget(max_chars))
    except zipfile.BadZipFile as error:
        raise ArticleError("it is not a Word .docx file (not a zip archive; an old .doc? save it as .docx)") from error
    from docx.opc.exceptions import OpcError

    try:
        document = docx.Document(str(path))
    except (OpcError, KeyError, ValueError, SyntaxError, zipfile.BadZipFile) as error:  # lxml's errors are SyntaxErrors
        raise ArticleError(f"it is not a readable Word document ({error.__class__.__name__})") from error
    blocks: list[tuple[str, str]] = []
    for paragraph in document.paragraphs:
        text = re.sub(r"\s+", " ", normalize(paragraph.text)).strip()
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if style == "Title" or style.startswith("Heading"):
            kind = "heading"
        elif style == "Caption":
            kind = "caption"
        elif BYLINE.search(text):
            kind = "byline"
        else:
            kind = "paragraph"
        blocks.append((kind, text))
    if not blocks:
        raise ArticleError("it has no text")
    body = "\n\n".join(text for _, text in blocks)
    properties = document.core_properties
    title, author = normalize(properties.title or "").strip(), normalize(properties.author or "").strip()
    return assemble(
        doc_id,
        blocks,
        lang=detect_lang(body),
        title=title,
        byline=author,
        path=path,
        fingerprint=repr((title, author, blocks)),
    )


def _count_text(archive: zipfile.ZipFile, name: str, budget: _Budget) -> None:
    """Spend the text of a Word XML part's runs (`w:t`) from `budget`, streaming, in bounded memory."""
    from lxml import etree

    with archive.open(name) as part:
        for _, element in etree.iterparse(part, events=("end",), tag=f"{{{WORD_NS}}}t", resolve_entities=False):
            budget.spend(len(element.text or ""))
            element.clear()


WORD_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _require(module: str, kind: str) -> Any:
    """The module, imported; its absence is an ArticleError with the one-line install hint."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ArticleError(EXTRA_HINT.format(kind=kind)) from error
