"""The chat page: questions go to `Engine.ask`, uploads to the engine's ingest; answers are rendered as escaped HTML."""

from __future__ import annotations

import html
import importlib.util
import inspect
import json
import re
import tempfile
import time
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from rag.answer import Answer, Citation
from rag.citations import MARKER
from rag.corpus import SUFFIXES
from rag.engine import Engine, IngestReport, UploadRefused
from rag.feedback import Allowance
from rag.links import is_link
from rag.settings import Settings
from rag.store import StoreError

from . import feedback as verdicts
from . import history as conversations
from .limits import BodyLimit
from .throttle import LoginThrottle

CSS_PATH = Path(__file__).with_name("app.css")
JS_PATH = Path(__file__).with_name("app.js")

EXAMPLES = [
    "How many talents does the city have?",
    "苏州高新区已累计集聚各类人才多少人？",
    "Who founded Nawei Technology?",
    "What is this article about?",
    "When was Nawei Technology listed?",
    "医疗器械产业园落地了多少个优质项目？",
]
# What an answer is, as the page says it (`Answer.kind`).
KIND_LABELS = {
    "figure": "figure · 数字",
    "fact": "fact · 事实",
    "summary": "summary · 摘要",
    "none": "not found · 未找到",
}

BACKENDS = {"offline": "Offline (extractive) · 离线摘录", "openai": "OpenAI-compatible LLM · 大模型"}

# Gradio ships Source Sans Pro semi-bold as a tiny subset (no "k"), so bold text would mix fonts; 700 is complete.
FONTS = (
    gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)),
    "ui-sans-serif",
    "system-ui",
    "PingFang SC",
    "Noto Sans CJK SC",
    "Microsoft YaHei",
    "sans-serif",
)

KINDS = ".txt .md .html .pdf .docx"  # what the upload takes, in its label and messages
EXCERPT_CHARS = 420  # longer paragraphs show the quote in context and fold the rest away
QUEUE_SIZE = 64  # requests waiting beyond this are told at once that the page is busy, not kept waiting
LISTED = 20  # article names an upload's report lists on one line before "and N more"
CONTEXT_CHARS = 160  # characters of context kept on each side of the quote in an excerpt


def escape(text: str) -> str:
    """Article or answer text made inert for HTML: no tag, script, image or link from it can run or load."""
    return html.escape(text, quote=True)


def render_answer(answer: Answer, turn: int) -> str:
    """The chat bubble of one answer: text with linked [n] markers, warnings, sources, and which backend answered."""
    numbers = {c.number for c in answer.citations}
    body = link_markers(escape(answer.text), numbers, turn)
    if answer.found:
        head = f'<div class="rag-answer">{body}</div>'
    else:
        head = (
            '<div class="rag-answer rag-not-found"><span class="rag-label">Not found in the articles · 文章中未找到</span>'
            f"<em>{body}</em></div>"
        )
    warnings = "".join(f'<div class="rag-warning">⚠ {escape(w)}</div>' for w in answer.warnings)
    sources = ""
    if answer.citations:
        items = "".join(render_source(c, turn) for c in answer.citations)
        sources = f'<div class="rag-sources"><div class="rag-sources-title">Sources · 来源</div><ol>{items}</ol></div>'
    if answer.nearest:
        items = "".join(render_source(c, turn, nearest=True) for c in answer.nearest)
        sources += (
            '<div class="rag-sources rag-nearest"><div class="rag-sources-title">Closest passages — they may not '
            f"answer the question · 最接近的段落（未必回答了问题）</div><ol>{items}</ol></div>"
        )
    kind = KIND_LABELS.get(answer.kind, answer.kind)
    meta = (
        f'<div class="rag-meta">Answered by · 回答方式: <span class="rag-backend">{escape(answer.backend)}</span>'
        f' · <span class="rag-kind" data-kind="{escape(answer.kind)}">{escape(kind)}</span>'
        f" · {answer.seconds:.2f} s{render_read_as(answer)}</div>"
    )
    return f'<div class="rag-turn">{head}{warnings}{sources}{meta}</div>'


def render_read_as(answer: Answer) -> str:
    """How a follow-up was read (the standalone question it was answered as), when it was not read as asked; a
    click puts it in the question box (ui/app.js)."""
    if not answer.read_as:
        return ""
    return (
        '<div class="rag-read-as">Read as a follow-up · 按追问理解: '
        f'<q title="Click to edit · 点击编辑" tabindex="0">{escape(answer.read_as)}</q></div>'
    )


def source_id(turn: int, number: int, nearest: bool = False) -> str:
    """The element id of source `number` (or nearest passage `number`) in answer `turn` (ids must be unique
    across the whole page)."""
    return f"rag-t{turn}-{'n' if nearest else 's'}{number}"


def link_markers(escaped: str, numbers: set[int], turn: int) -> str:
    """Turn each [n] of a cited source into a link to it; other brackets stay text."""

    def link(match: re.Match[str]) -> str:
        number = int(match.group(1))
        if number not in numbers:
            return match.group(0)
        return f'<a class="rag-cite" href="#{source_id(turn, number)}">[{number}]</a>'

    return MARKER.sub(link, escaped)


def render_source(citation: Citation, turn: int, nearest: bool = False) -> str:
    """One cited paragraph: title, paragraph number, and the text with the quoted sentence highlighted. A nearest
    passage of a "not found" answer has a bullet, not a number: no marker in the answer points at it."""
    text, quote = citation.text, citation.quote
    start = text.find(quote) if quote else -1
    span = (start, start + len(quote)) if start >= 0 else None
    whole = highlight(text, span)
    if citation.page is not None:
        place = f"page {citation.page}, paragraph {citation.page_paragraph} · 第{citation.page}页第{citation.page_paragraph}段"
    else:
        place = f"paragraph {citation.paragraph} · 第{citation.paragraph}段"
    head = (
        f'<div class="rag-source-head"><span class="rag-num">{"•" if nearest else f"[{citation.number}]"}</span> '
        f'<span class="rag-title" title="{escape(citation.document)}">{escape(citation.title)}</span> '
        f'<span class="rag-para">{place}</span>{render_origin(citation)}</div>'
    )
    if len(text) <= EXCERPT_CHARS or span is None:
        body = f'<div class="rag-excerpt">{whole}</div>'
    else:
        body = (
            f'<div class="rag-excerpt">{excerpt(text, span)}</div>'
            f'<details class="rag-whole"><summary><span class="rag-more">Whole paragraph · 全段</span>'
            f'<span class="rag-less">Excerpt · 收起</span></summary><div>{whole}</div></details>'
        )
    return f'<li id="{source_id(turn, citation.number, nearest)}" class="rag-source">{head}{body}</li>'


def render_origin(citation: Citation) -> str:
    """Where the cited article came from: a link to the original web page, or the file's name; and its date."""
    parts = []
    if re.match(r"^https?://[^\s\"'<>]+$", citation.source, re.IGNORECASE):
        shown = re.sub(r"^https?://(www\.)?", "", citation.source, flags=re.IGNORECASE)
        shown = shown if len(shown) <= 60 else shown[:57] + "…"
        parts.append(
            f'<a class="rag-origin" href="{escape(citation.source)}" target="_blank" '
            f'rel="noopener noreferrer nofollow">{escape(shown)}</a>'
        )
    elif citation.source:
        parts.append(f'<span class="rag-origin">{escape(citation.source)}</span>')
    if citation.published:
        parts.append(f'<span class="rag-date">{escape(citation.published)}</span>')
    return f' <span class="rag-from">{" · ".join(parts)}</span>' if parts else ""


def highlight(text: str, span: tuple[int, int] | None) -> str:
    """`text` escaped, with the characters in `span` wrapped in <mark>."""
    if span is None:
        return escape(text)
    start, end = span
    return f"{escape(text[:start])}<mark>{escape(text[start:end])}</mark>{escape(text[end:])}"


def excerpt(text: str, span: tuple[int, int]) -> str:
    """The quote with some context either side, cut at spaces where the language has them, escaped."""
    start, end = span
    left, right = max(0, start - CONTEXT_CHARS), min(len(text), end + CONTEXT_CHARS)
    if left > 0 and " " in text[left:start]:
        left = text.index(" ", left) + 1
    if right < len(text) and " " in text[end:right]:
        right = text.rindex(" ", end, right)
    before = ("…" if left > 0 else "") + escape(text[left:start])
    after = escape(text[end:right]) + ("…" if right < len(text) else "")
    return f"{before}<mark>{escape(text[start:end])}</mark>{after}"


def render_report(report: IngestReport, name: str) -> str:
    """What an upload did, in plain words (file names and reasons escaped)."""
    lines = []
    if report.added:
        lines.append(f"Added · 已添加: <b>{listed(report.added)}</b>. Ask about it now · 现在可以提问。")
    if report.updated:
        lines.append(f"Replaced · 已更新: <b>{listed(report.updated)}</b>.")
    if report.unchanged:
        lines.append(f"Already in the library, unchanged · 已存在: <b>{listed(report.unchanged)}</b>.")
    for skipped in report.skipped:
        lines.append(
            f'<span class="rag-error">Skipped · 已跳过 {escape(skipped.name)}: {escape(skipped.reason)}</span>'
        )
    if not lines:
        lines.append(f'<span class="rag-error">Nothing was read from {escape(name)} · 未读取到内容</span>')
    if report.sentences_embedded:
        lines.append(
            f'<span class="rag-subtle">{report.sentences_embedded} sentences indexed in {report.seconds:.1f} s</span>'
        )
    return "<br>".join(lines)


def listed(names: Sequence[str], most: int = LISTED) -> str:
    """Article names, escaped, comma-separated: the first `most` and how many more (an upload may hold hundreds)."""
    shown = escape(", ".join(names[:most]))
    return shown if len(names) <= most else f"{shown} and {len(names) - most:,} more · 等{len(names):,}篇"


def render_error(message: str) -> str:
    """An upload problem, shown where the upload status goes."""
    return f'<span class="rag-error">{escape(message)}</span>'


def render_library(engine: Engine) -> str:
    """The articles answers can cite."""
    articles = sorted(engine.store.manifest().values(), key=lambda a: a.id)
    items = "".join(
        f'<li><span class="rag-title">{escape(a.title)}</span> <span class="rag-subtle">{escape(a.id)} · {escape(a.lang)}</span></li>'
        for a in articles
    )
    return f'<div class="rag-library">Articles · 文章 ({len(articles)})<ul>{items}</ul></div>'


def article_choices(engine: Engine) -> list[tuple[str, str]]:
    """The articles as (label, id) pairs for the "Open an article" menu."""
    articles = sorted(engine.store.manifest().values(), key=lambda a: a.id)
    return [(f"{a.title} ({a.id})", a.id) for a in articles]


def render_article(engine: Engine, document: str | None) -> str:
    """One article as answers cite it: title, then every paragraph with the number citations give it."""
    if not document:
        return ""
    stored = engine.store.manifest().get(document)
    paragraphs = engine.paragraphs(document)
    if stored is None or not paragraphs:
        return render_error(f"No article {document} in the library · 文章不存在")
    items = "".join(
        f'<li id="rag-a-{p.number}" class="rag-paragraph rag-kind-{escape(p.kind)}">'
        f'<span class="rag-para">paragraph {p.number} · 第{p.number}段</span><div>{escape(p.text)}</div></li>'
        for p in paragraphs
    )
    return (
        f'<div class="rag-article"><div class="rag-article-head"><span class="rag-title">{escape(stored.title)}</span> '
        f'<span class="rag-subtle">{escape(stored.id)} · {escape(stored.lang)} · {len(paragraphs)} paragraphs · '
        f"{len(paragraphs)}段</span></div><ol>{items}</ol></div>"
    )


def summary_question(engine: Engine, document: str) -> str:
    """The question the article view's Summarize button asks, in the article's language, naming it by its title."""
    stored = engine.store.manifest().get(document)
    title = stored.title if stored else document
    return f"概括《{title}》" if stored and stored.lang == "zh" else f"Summarize “{title}”"


def remove_article(engine: Engine, document: str | None) -> str:
    """Delete an article the reader confirmed removing, and say so."""
    if not document:
        return render_error("Open an article first · 请先选择文章")
    stored = engine.store.manifest().get(document)
    name = stored.title if stored else document
    if not engine.remove(document):  # another window (or instance) removed it meanwhile, or it never was there
        return render_error(f"{name} ({document}) is not in the library: it was removed already · 文章已被删除")
    return f"Removed · 已删除: <b>{escape(name)}</b> ({escape(document)})."


def conversation_markdown(answers: Sequence[dict[str, Any]]) -> str:
    """The conversation as Markdown: each question, its answer, and the cited paragraphs with their quotes."""
    lines = ["# Conversation · 对话", ""]
    for turn, answer in enumerate(answers, start=1):
        lines += [f"## {turn}. {_one_line(answer['question'])}", ""]
        if answer.get("read_as"):
            lines += [f"*Read as a follow-up · 按追问理解: {_one_line(answer['read_as'])}*", ""]
        label = "" if answer["found"] else "**Not found in the articles · 文章中未找到.** "
        lines += [label + answer["text"], ""]
        lines += [f"> ⚠ {_one_line(w)}" for w in answer["warnings"]] + ([""] if answer["warnings"] else [])
        for title, key in (("Sources · 来源", "citations"), ("Closest passages · 最接近的段落", "nearest")):
            if answer[key]:
                lines += [f"**{title}**", ""]
                for c in answer[key]:
                    number = f"[{c['number']}]" if key == "citations" else "-"
                    lines.append(f"{number} {_one_line(c['title'])} — paragraph {c['paragraph']} ({c['document']})")
                    lines += [f"   > {_one_line(c['quote'] or c['text'])}", ""]
        kind = answer.get("kind", "none")
        lines += [f"*Answered by {answer['backend']} ({kind}) in {answer['seconds']:.2f} s*", ""]
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def export_conversation(answers: Sequence[dict[str, Any]], folder: Path) -> str | None:
    """Write the conversation to a Markdown file in `folder` for the reader to download; None when it is empty."""
    if not answers:
        return None
    path = folder / f"conversation-{time.strftime('%Y%m%d-%H%M%S')}.md"
    path.write_text(conversation_markdown(answers), encoding="utf-8")
    return str(path)


def upload_name(name: str) -> str:
    """The file name an upload is saved under: no folders, not hidden (hidden files are not read), no control or
    direction characters (U+202E would show `txt.exe` as `exe.txt`), and its kind kept (`..md` is `article.md`)."""
    name = "".join(c for c in Path(name).name if unicodedata.category(c) not in ("Cc", "Cf"))
    suffix = Path(name).suffix if Path(name).suffix.lower() in SUFFIXES else ""
    stem = name[: len(name) - len(suffix)].strip(". ")
    return f"{stem or 'article'}{suffix}" if stem or suffix else "article.txt"


def add_article(
    engine: Engine,
    paths: str | Sequence[str] | None,
    max_bytes: int,
    progress: gr.Progress | None = None,
    replace: bool = False,
    max_files: int = 500,
) -> str:
    """Check uploaded files (one, or up to `max_files` at once), keep them in the data directory and ingest them
    together, and say what happened to each. A file may replace an article of the same name with other text only
    with `replace` (the page has a login)."""
    chosen = [paths] if isinstance(paths, str) else list(paths or [])
    if not chosen:
        return render_error(f"Choose a file first ({KINDS}) · 请先选择文件")
    refused: list[str] = []
    files: list[tuple[Path, str]] = []
    for path in chosen[:max_files]:
        source = Path(path)
        if source.suffix.lower() not in SUFFIXES:
            refused.append(f"{source.name}: only {KINDS} articles can be added · 只能添加这些格式的文件")
        elif (size := source.stat().st_size) > max_bytes:
            refused.append(f"{source.name} is {size:,} bytes, over the {max_bytes:,}-byte limit · 文件过大")
        else:
            files.append((source, upload_name(source.name)))
    if len(chosen) > max_files:
        refused.append(
            f"Not added: the last {len(chosen) - max_files:,} of the {len(chosen):,} files, at most {max_files:,} per "
            f"upload; add them in another upload · 每次最多添加{max_files:,}个文件"
        )
    if not files:
        return "<br>".join(render_error(message) for message in refused)

    def report_progress(done: int, total: int, name: str) -> None:
        if progress is not None:
            progress(done / max(total, 1), desc=f"Indexed · 已索引 {name}")

    if progress is not None:
        progress(0, desc="Reading and indexing · 读取并索引")
    try:
        report = engine.upload_files(files, replace=replace, progress=report_progress)
    except UploadRefused as refusal:
        return render_error(f"{refusal} · 同名文章已存在，替换需要登录")
    except StoreError as error:  # a full disk, the Chroma server gone: said plainly
        return render_error(str(error))
    named = files[0][0].name if len(files) == 1 else f"{len(files):,} files"
    return "<br>".join([render_report(report, named), *(render_error(message) for message in refused)])


def add_link(engine: Engine, text: str | None) -> str:
    """Fetch the web pages a reader pasted (one link, or several separated by spaces or lines), ingest their
    articles next to the existing ones, and say what happened."""
    words = (text or "").split()
    if not words:
        return render_error("Paste a link first (https://…) · 请先粘贴链接")
    links = [word for word in words if is_link(word)]
    if len(links) < len(words):
        return render_error("Only http:// and https:// links can be added · 只能添加 http:// 或 https:// 链接")
    try:
        report = engine.ingest_links(links)
    except StoreError as error:
        return render_error(str(error))
    return render_report(report, ", ".join(links))


def per_call_options(engine: Engine) -> frozenset[str]:
    """Which per-call overrides `engine.stream` accepts; the page only enables the settings that take effect."""
    return frozenset(inspect.signature(engine.stream).parameters) & {"top_k", "llm"}


def available_backends(settings: Settings) -> list[str]:
    """Answer backends the reader may pick: offline always, the LLM only when the settings configure it."""
    # Hook: when Settings gains an explicit "LLM is configured" check (API key or base URL), use it here.
    return ["offline", "openai"] if settings.llm == "openai" else ["offline"]


def build_app(engine: Engine, settings: Settings) -> gr.Blocks:
    """The chat page; every handler maps one event to one engine call and renders the result."""
    options = per_call_options(engine)
    backends = available_backends(settings)

    def overrides(top_k: int, backend: str) -> dict[str, Any]:
        chosen: dict[str, Any] = {}
        if "top_k" in options:
            chosen["top_k"] = int(top_k)
        if "llm" in options and backend in backends:
            chosen["llm"] = backend
        return chosen

    def respond(
        question: str,
        history: list[dict[str, str]],
        turns: list[tuple[str, str]],
        top_k: int,
        backend: str,
        record: list[dict[str, Any]],
        document: str | None = None,
    ) -> Iterator[tuple[str, list[dict[str, str]], list[dict[str, str]], list[tuple[str, str]], list[dict[str, Any]]]]:
        if not question or not question.strip():
            yield question, history, history, turns, record
            return
        turn = len(history) // 2 + 1
        asked = {"role": "user", "content": f'<span class="rag-question">{escape(question.strip())}</span>'}
        written = ""
        # The engine streams the LLM's words as they come (the offline answer arrives whole), then the verified
        # Answer, whose rendering replaces the draft.
        try:
            for item in engine.stream(question, turns, document=document, **overrides(top_k, backend)):
                if isinstance(item, Answer):
                    answer = item
                    break
                written += item
                draft = {"role": "assistant", "content": f'<div class="rag-draft">{escape(written)}</div>'}
                yield "", [*history, asked, draft], history, turns, record
        except StoreError as error:  # the store cannot answer now (its server gone, say): why, and the question kept
            failed = {"role": "assistant", "content": render_error(str(error))}
            yield question, [*history, asked, failed], history, turns, record
            return
        history = [*history, asked, {"role": "assistant", "content": render_answer(answer, turn)}]
        # `record` keeps every answer whole (citations, quotes) for the export; `turns` is what follow-ups read.
        yield "", history, history, [*turns, (question.strip(), answer.text)], [*record, answer.to_dict()]

    def summarize(
        document: str | None,
        history: list[dict[str, str]],
        turns: list[tuple[str, str]],
        top_k: int,
        backend: str,
        record: list[dict[str, Any]],
    ) -> Iterator[tuple[str, list[dict[str, str]], list[dict[str, str]], list[tuple[str, str]], list[dict[str, Any]]]]:
        """The opened article summarised, as a turn of the conversation: a summary question pinned to it."""
        if not document:
            yield "", history, history, turns, record
            return
        yield from respond(summary_question(engine, document), history, turns, top_k, backend, record, document)

    def upload(paths: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[str, str]:  # noqa: B008
        # With a login every visitor is a known reader, who may replace an article; without one, nobody may.
        replace = bool(settings.ui_auth)
        added = add_article(engine, paths, settings.max_upload_bytes, progress, replace, settings.max_upload_files)
        return added, render_library(engine)

    def fetch_link(text: str) -> tuple[str, str, str]:
        return add_link(engine, text), render_library(engine), ""

    def after_upload() -> tuple[None, dict[str, Any]]:
        """Empty the drop zone for the next file, and offer the articles as they now are."""
        return None, gr.update(choices=article_choices(engine))

    def open_article(document: str | None) -> tuple[str, dict[str, Any], dict[str, Any]]:
        return render_article(engine, document), gr.update(visible=bool(document)), gr.update(visible=False)

    def confirm_removal(document: str | None) -> tuple[dict[str, Any], str]:
        stored = engine.store.manifest().get(document or "")
        if stored is None:
            return gr.update(visible=False), ""
        return gr.update(
            visible=True
        ), f"Remove <b>{escape(stored.title)}</b> ({escape(stored.id)}) from the library? · 确定删除？"

    def remove(document: str | None) -> tuple[str, str, dict[str, Any], str, dict[str, Any], dict[str, Any]]:
        status = remove_article(engine, document)
        hidden = gr.update(visible=False)
        return (
            status,
            render_library(engine),
            gr.update(choices=article_choices(engine), value=None),
            "",
            hidden,
            hidden,
        )

    def export(record: list[dict[str, Any]]) -> dict[str, Any]:
        path = export_conversation(record, Path(tempfile.mkdtemp(prefix="rag-export-")))
        return gr.update(value=path, interactive=path is not None)

    def ask(question: str) -> str:
        """Answer a question from the news articles (English or Chinese) with numbered citations to the source
        paragraphs; the answer says when the articles do not say.

        Args:
            question: The question, e.g. "How many talents does the city have?" or "苏州高新区已累计集聚各类人才多少人？"

        Returns:
            JSON text with text (the answer with [n] markers), found, kind (figure, fact, summary, or none when not
            found), backend, warnings, and citations (number, document, title, paragraph, quote, text, and where
            the article came from: source, page, page_paragraph, published) — or, when not found, nearest: the
            passages that come closest.
        """
        try:
            # JSON text, not a dict: the MCP tool's result is this text (Gradio writes a dict in Python's notation).
            return json.dumps(engine.ask(question).to_dict(), ensure_ascii=False)
        except StoreError as error:  # the message, without a traceback in the page's log
            raise gr.Error(str(error), print_exception=False) from None

    # Uploads are indexed at once; the copies Gradio keeps of them would otherwise stay in its temp dir for good.
    with gr.Blocks(title="Ask the articles · 文章问答", analytics_enabled=False, delete_cache=(3600, 3600)) as app:
        history = gr.State([])
        turns = gr.State([])  # (question, answer text) pairs: what a follow-up is read against
        record = gr.State([])  # every answer as the API returns it: what the export writes
        gr.HTML(
            '<div class="rag-header"><h1>Ask the articles · 文章问答</h1>'
            "<p>Answers come only from the articles, with numbered sources you can check. "
            "· 答案只来自文章，并附可核对的编号出处。</p></div>"
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chat = gr.Chatbot(
                    elem_id="rag-chat",
                    show_label=False,
                    # No inner scroll box: the conversation grows with the page, so it can be read and printed whole.
                    height=None,
                    min_height=320,
                    autoscroll=False,
                    # Messages are HTML built here with every article string escaped: no markdown, no LaTeX,
                    # so article text cannot become a link, an image or a formula.
                    render_markdown=False,
                    sanitize_html=True,
                    latex_delimiters=[],
                    allow_tags=False,
                    buttons=["copy"],
                    feedback_options=("Like", "Dislike"),  # 👍 / 👎: kept as verdicts (ui/feedback.py)
                    placeholder="Ask in English or Chinese · 用英文或中文提问",
                )
                with gr.Row():
                    question = gr.Textbox(
                        elem_id="rag-question",
                        show_label=False,
                        placeholder="Ask a question · 输入问题，按回车",
                        scale=5,
                        max_lines=4,
                        autofocus=True,
                    )
                    ask_button = gr.Button("Ask · 提问", variant="primary", scale=1, min_width=110, elem_id="rag-ask")
                gr.Examples(EXAMPLES, inputs=question, label="Examples · 示例")
                with gr.Row():
                    export_button = gr.DownloadButton(
                        "Export · 导出", size="sm", variant="secondary", interactive=False, elem_id="rag-export"
                    )
                judging = verdicts.panel()  # after 👎: the right answer and source
                kept = conversations.panel(settings.data_dir)  # earlier conversations, New chat
                with gr.Column(visible=False, elem_id="rag-article-panel") as article_panel:
                    with gr.Row():
                        summarize_button = gr.Button(
                            "Summarize · 摘要", size="sm", variant="primary", elem_id="rag-summarize"
                        )
                        remove_button = gr.Button("Remove this article · 删除文章", size="sm", elem_id="rag-remove")
                        close_button = gr.Button("Close · 关闭", size="sm", elem_id="rag-close")
                    with gr.Row(visible=False, elem_id="rag-confirm") as confirm_row:
                        confirm_text = gr.HTML()
                        confirm_button = gr.Button(
                            "Remove · 确认删除", size="sm", variant="stop", elem_id="rag-confirm-remove"
                        )
                        cancel_button = gr.Button("Cancel · 取消", size="sm", elem_id="rag-cancel")
                    article_view = gr.HTML(elem_id="rag-article")
            with gr.Column(scale=1, min_width=260):
                with gr.Accordion("Settings · 设置", open=True):
                    backend = gr.Radio(
                        [(BACKENDS[b], b) for b in backends],
                        value=settings.llm if settings.llm in backends else "offline",
                        label="Answer backend · 回答方式",
                        info=None if "openai" in backends else "Set RAG_LLM=openai to enable an LLM · 设置后可用大模型",
                        interactive=len(backends) > 1 and "llm" in options,
                    )
                    top_k = gr.Slider(
                        1,
                        10,
                        value=settings.top_k,
                        step=1,
                        label="Sources per answer (top-k) · 出处数量",
                        info=None if "top_k" in options else f"Fixed at {settings.top_k} by RAG_TOP_K",
                        interactive="top_k" in options,
                    )
                with gr.Accordion("Add an article · 添加文章", open=True):
                    article = gr.File(
                        label=KINDS,
                        file_count="multiple",
                        file_types=list(SUFFIXES),
                        type="filepath",
                        elem_id="rag-upload",
                        height=120,
                    )
                    link = gr.Textbox(
                        elem_id="rag-link", label="Add from a link · 添加链接", placeholder="https://…", max_lines=3
                    )
                    link_button = gr.Button("Add the page · 添加网页", size="sm", elem_id="rag-link-add")
                    status = gr.HTML(elem_id="rag-status")
                    library = gr.HTML(elem_id="rag-library")
                    opened = gr.Dropdown(
                        choices=article_choices(engine),
                        value=None,
                        label="Open an article · 查看文章",
                        elem_id="rag-open",
                        interactive=True,
                    )

        inputs = [question, history, turns, top_k, backend, record]
        outputs = [question, chat, history, turns, record]
        verdicts.wire(chat, record, judging, engine, settings, Allowance())
        conversations.wire(kept, chat, history, turns, record, export_button, render_answer, export, app)
        for asking in (question.submit, ask_button.click):
            kept.after(
                asking(respond, inputs, outputs, api_visibility="private").then(
                    export, record, export_button, api_visibility="private"
                )
            )
        kept.after(
            summarize_button.click(
                summarize, [opened, history, turns, top_k, backend, record], outputs, api_visibility="private"
            ).then(export, record, export_button, api_visibility="private")
        )
        # The chat's own bin icon starts over.
        chat.clear(
            lambda: ([], [], [], gr.update(value=None, interactive=False)),
            None,
            [history, turns, record, export_button],
            api_visibility="private",
        )
        article.upload(upload, article, [status, library], api_visibility="private").then(
            after_upload, None, [article, opened], api_visibility="private"
        )
        for adding in (link.submit, link_button.click):
            adding(fetch_link, link, [status, library, link], api_visibility="private").then(
                lambda: gr.update(choices=article_choices(engine)), None, opened, api_visibility="private"
            )
        app.load(lambda: render_library(engine), None, library, api_visibility="private")
        app.load(lambda: gr.update(choices=article_choices(engine)), None, opened, api_visibility="private")
        opened.change(open_article, opened, [article_view, article_panel, confirm_row], api_visibility="private")
        close_button.click(
            lambda: (None, gr.update(visible=False)), None, [opened, article_panel], api_visibility="private"
        )
        remove_button.click(confirm_removal, opened, [confirm_row, confirm_text], api_visibility="private")
        cancel_button.click(lambda: gr.update(visible=False), None, confirm_row, api_visibility="private")
        confirm_button.click(
            remove,
            opened,
            [status, library, opened, article_view, article_panel, confirm_row],
            api_visibility="private",
        )
        gr.api(ask, api_name="ask")  # also the MCP tool "ask" when the MCP server is on (see launch_options)
    # Questions are answered in parallel (the engine is thread-safe); uploads take the engine's lock in turn.
    app.queue(default_concurrency_limit=4, max_size=QUEUE_SIZE)
    return app


def launch_options(settings: Settings) -> dict[str, Any]:
    """Arguments of `Blocks.launch` that follow from the settings (Gradio 6 takes css and theme here)."""
    auth = None
    if settings.ui_auth:
        user, colon, password = settings.ui_auth.partition(":")
        if not (user and colon and password):
            raise ValueError("RAG_UI_AUTH must look like user:password (both non-empty)")
        auth = (user, password)
    return {
        "server_name": settings.host,
        "server_port": settings.port,
        "auth": auth,
        "max_file_size": settings.max_upload_bytes,
        "css_paths": [CSS_PATH],
        "theme": gr.themes.Default(primary_hue="blue", neutral_hue="slate", font=FONTS),
        "js": JS_PATH.read_text(encoding="utf-8"),
        # Gradio's MCP endpoint does not check the page's login, so it is served only when there is none.
        "mcp_server": settings.ui_mcp and auth is None,
        "ssr_mode": False,
        "show_error": True,
        "quiet": True,
        # The /ask API (and every other request but an upload) is refused past this size before it is read whole;
        # failed logins slow down per client (Gradio's own login route accepts guesses as fast as they come).
        "app_kwargs": {
            "middleware": [Middleware(BodyLimit, limit=settings.max_request_bytes)]
            + ([Middleware(LoginThrottle)] if auth else [])
        },
    }


def main(settings: Settings | None = None) -> None:
    """Build the engine, ingest the seeds if the store is empty, and serve the chat page."""
    from rag.cli import progress_bar

    settings = settings or Settings()
    engine = Engine(settings, notice=lambda message: print(message, flush=True), progress=progress_bar())
    engine.first_start()
    print("Loading the index, the model and the dictionaries…", flush=True)
    engine.warm_up()  # the slow loading happens now, before the page says it is ready, not on the first question
    if importlib.util.find_spec("matplotlib"):
        # Around each event Gradio asks matplotlib (when installed) for its backend, which imports pyplot: 2-4 s on
        # the first question. Asked now, it is already loaded then.
        import matplotlib

        matplotlib.get_backend()
    sentences = len(engine.index)
    articles = len(engine.store.manifest())
    app = build_app(engine, settings)
    app.launch(prevent_thread_lock=True, **launch_options(settings))
    print(f"Chat page ({articles} articles, {sentences} sentences): {app.local_url}", flush=True)
    if settings.host not in ("127.0.0.1", "localhost", "::1") and not settings.ui_auth:
        print(f"Note: listening on {settings.host} without a login; set RAG_UI_AUTH=user:password", flush=True)
    app.block_thread()


if __name__ == "__main__":
    main()
