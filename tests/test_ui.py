"""The chat page: answers rendered with linked, highlighted sources, safe article HTML, and end to end in Chromium."""

from __future__ import annotations

import html
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Dialog, Locator, Page, Request, expect, sync_playwright

from benchmarks.documents import two_column_pdf
from rag.answer import NOT_FOUND, Answer, Citation
from rag.engine import Engine
from rag.settings import PROJECT_ROOT
from tests.test_links import Handler
from tests.test_readers import LIBRARY_PARAGRAPHS
from ui.app import (
    add_article,
    add_link,
    article_choices,
    conversation_markdown,
    export_conversation,
    render_answer,
    render_article,
    render_library,
    summary_question,
    upload_name,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
QUESTION = "#rag-question textarea"
TURNS = "#rag-chat .rag-turn"
MAX_UPLOAD = 20_000
PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "![t](http://example.invalid/p.png)",
]
UNTRUSTED_ARTICLE = f"""---
title: "Harbor festival {PAYLOADS[1]} {PAYLOADS[0]}"
lang: en
---

# Harbor festival

The Harbor Bridge festival drew 12,000 visitors in 2023 {PAYLOADS[0]} {PAYLOADS[1]} {PAYLOADS[2]} {PAYLOADS[3]} according to the organisers.

The festival also raised 5 million yuan for the lighthouse museum.
"""

TALENT_TEXT = (
    "At present, the city has a total of about 3.43 million talents, with more than 340,000 high-level talents. "
    "361 people have independently applied for the A-class national major talent projects."
)


def talent_answer(**changes: object) -> Answer:
    """An answer citing one seed-like paragraph, for the rendering tests."""
    citation = Citation(
        number=1,
        document="suzhou-organizational-work-en",
        title="Cultivate organizational advantages",
        paragraph=8,
        text=TALENT_TEXT,
        quote=TALENT_TEXT.split(" 361")[0],
    )
    fields: dict[str, object] = {
        "question": "How many talents does Suzhou have?",
        "text": f"{citation.quote} [1]",
        "found": True,
        "citations": [citation],
    }
    fields.update(changes)
    return Answer(**fields)  # type: ignore[arg-type]


# Rendering (no browser)


def test_markers_link_to_their_source_and_the_quote_is_marked() -> None:
    page = render_answer(talent_answer(), turn=2)
    assert '<a class="rag-cite" href="#rag-t2-s1">[1]</a>' in page
    assert 'id="rag-t2-s1"' in page
    assert "<mark>At present, the city has a total of about 3.43 million talents" in page
    assert "paragraph 8 · 第8段" in page
    assert "Cultivate organizational advantages" in page


def test_a_marker_without_a_source_is_not_linked() -> None:
    page = render_answer(talent_answer(text="About 3.43 million [1], see also [7]."), turn=1)
    assert "[7]" in page and 'href="#rag-t1-s7"' not in page


def test_not_found_is_labelled_and_shows_backend_and_warnings() -> None:
    page = render_answer(
        Answer(question="q", text=NOT_FOUND["en"], found=False, warnings=["LLM timed out <b>"], backend="offline"),
        turn=1,
    )
    assert 'class="rag-answer rag-not-found"' in page
    assert "Not found in the articles" in page
    assert f"<em>{NOT_FOUND['en']}</em>" in page
    assert "LLM timed out &lt;b&gt;" in page
    assert '<span class="rag-backend">offline</span>' in page
    assert "rag-sources" not in page


def test_not_found_shows_the_nearest_passages_unnumbered() -> None:
    passage = Citation(
        1, "doc", "Title <i>", 4, "Before. About 3.43 million talents. After.", "About 3.43 million talents."
    )
    page = render_answer(Answer(question="q", text=NOT_FOUND["en"], found=False, nearest=[passage]), turn=2)
    assert "Closest passages — they may not answer the question" in page
    assert 'id="rag-t2-n1"' in page and "rag-t2-s1" not in page  # not a source: no marker points at it
    assert "<mark>About 3.43 million talents.</mark>" in page and "Title &lt;i&gt;" in page
    assert "[1]" not in page


def test_article_text_is_escaped_everywhere() -> None:
    hostile = " ".join(PAYLOADS)
    citation = Citation(1, "x", f"Title {hostile}", 1, f"Before. 5 people {hostile}. After.", f"5 people {hostile}.")
    page = render_answer(
        Answer(question="q", text=f"5 people {hostile} [1]", found=True, citations=[citation], warnings=[hostile]),
        turn=1,
    )
    for tag in ("<script", "<img", "<a href", 'href="javascript', 'href="http'):
        assert tag not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_long_paragraphs_show_the_quote_in_context_and_fold_the_rest() -> None:
    text = "Opening words. " * 40 + "In June 2021, Nawei Technology was listed. " + "Closing words. " * 40
    citation = Citation(1, "d", "T", 13, text, "In June 2021, Nawei Technology was listed.")
    page = render_answer(talent_answer(text="In June 2021 [1]", citations=[citation]), turn=1)
    excerpt = page.split('<div class="rag-excerpt">')[1].split("</div>")[0]
    assert excerpt.startswith("…") and excerpt.endswith("…")
    assert "<mark>In June 2021, Nawei Technology was listed.</mark>" in excerpt
    assert len(excerpt) < len(text)
    assert '<span class="rag-more">Whole paragraph · 全段</span>' in page
    assert page.count("In June 2021, Nawei Technology was listed.") == 2  # the excerpt, and the paragraph it unfolds to


def test_an_answer_says_what_kind_it_is() -> None:
    assert 'data-kind="summary">summary · 摘要</span>' in render_answer(talent_answer(kind="summary"), turn=1)
    refused = Answer(question="?", text=NOT_FOUND["en"], found=False)
    assert 'data-kind="none">not found · 未找到</span>' in render_answer(refused, turn=1)


def test_the_summarize_button_asks_for_a_summary_of_the_article_in_its_language(engine: Engine) -> None:
    assert summary_question(engine, "suzhou-organizational-work-en") == (
        "Summarize “Cultivate organizational advantages and gather strength to forge ahead”"
    )
    assert summary_question(engine, "suzhou-high-tech-zone-zh") == "概括《苏州高新区：以高质量党建引领区域高质量发展》"


def test_a_follow_up_says_how_it_was_read() -> None:
    page = render_answer(talent_answer(read_as="How many high-level talents does the <b>zone</b> have?"), turn=2)
    assert (
        'Read as a follow-up · 按追问理解: <q title="Click to edit · 点击编辑" tabindex="0">How many high-level talents '
        "does the &lt;b&gt;zone&lt;/b&gt; have?</q>" in page
    )
    assert "rag-read-as" not in render_answer(talent_answer(), turn=1)


def test_the_conversation_exports_as_markdown_with_citations_and_quotes() -> None:
    first = talent_answer(seconds=0.25, kind="figure").to_dict()
    refused = Answer(question="Capital of\nFrance?", text=NOT_FOUND["en"], found=False, warnings=["w"]).to_dict()
    markdown = conversation_markdown([first, refused])
    assert markdown.startswith("# Conversation · 对话\n")
    assert "## 1. How many talents does Suzhou have?" in markdown
    assert f"{TALENT_TEXT.split(' 361')[0]} [1]" in markdown
    assert "[1] Cultivate organizational advantages — paragraph 8 (suzhou-organizational-work-en)" in markdown
    assert f"   > {TALENT_TEXT.split(' 361')[0]}" in markdown
    assert "## 2. Capital of France?" in markdown and "**Not found in the articles · 文章中未找到.**" in markdown
    assert "> ⚠ w" in markdown and "*Answered by offline (figure) in 0.25 s*" in markdown
    assert "*Answered by offline (none) in 0.00 s*" in markdown  # what kind of answer each is


def test_an_empty_conversation_exports_nothing(tmp_path: Path) -> None:
    assert export_conversation([], tmp_path) is None
    path = Path(export_conversation([talent_answer().to_dict()], tmp_path) or "")
    assert path.parent == tmp_path and path.suffix == ".md" and "## 1." in path.read_text(encoding="utf-8")


def test_an_article_is_shown_with_its_paragraphs_numbered_as_cited(engine: Engine) -> None:
    page = render_article(engine, "suzhou-organizational-work-en")
    assert "Cultivate organizational advantages and gather strength to forge ahead" in page
    eighth = page.split('id="rag-a-8"')[1].split("</li>")[0]
    assert "paragraph 8 · 第8段" in eighth and "3.43 million" in eighth  # the paragraph the talents answer cites
    assert "No article nothing-here" in render_article(engine, "nothing-here")
    assert (
        "Cultivate organizational advantages and gather strength to forge ahead (suzhou-organizational-work-en)",
        "suzhou-organizational-work-en",
    ) in article_choices(engine)


def test_api_data_has_the_contract_fields() -> None:
    data = talent_answer(warnings=["w"], backend="openai", seconds=0.12345).to_dict()
    assert data["found"] is True and data["backend"] == "openai" and data["warnings"] == ["w"]
    assert data["seconds"] == 0.123 and data["nearest"] == [] and data["read_as"] == ""
    assert data["citations"] == [
        {
            "number": 1,
            "document": "suzhou-organizational-work-en",
            "title": "Cultivate organizational advantages",
            "paragraph": 8,
            "text": TALENT_TEXT,
            "quote": TALENT_TEXT.split(" 361")[0],
            "score": 0.0,
            "lang": "",
            "kind": "paragraph",
            "source": "",
            "page": None,
            "page_paragraph": None,
            "published": "",
        }
    ]
    assert json.loads(json.dumps(data)) == data  # JSON as it is: what `rag ask --json` prints, the API returns


def test_upload_refuses_other_types_and_oversized_files(engine: Engine, tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG")
    big = tmp_path / "big.txt"
    big.write_text("word " * 1000)
    assert "only .txt .md .html .pdf .docx articles can be added" in add_article(engine, str(photo), MAX_UPLOAD)
    assert "over the 100-byte limit" in add_article(engine, str(big), 100)
    assert "Choose a file first" in add_article(engine, None, MAX_UPLOAD)
    assert "suzhou-high-tech-zone-zh" in render_library(engine)


def test_link_box_refuses_what_is_not_a_link(engine: Engine) -> None:
    assert "Paste a link first" in add_link(engine, "  ")
    assert "Only http:// and https:// links" in add_link(engine, "file:///etc/passwd")
    assert "Only http:// and https:// links" in add_link(engine, "https://example.org/a javascript:alert(1)")


def test_a_citation_links_to_its_web_page_and_names_its_file() -> None:
    linked = talent_answer(
        citations=[replace(talent_answer().citations[0], source="https://news.example.org/a?b=1&c=2")]
    )
    page = render_answer(linked, turn=1)
    assert 'href="https://news.example.org/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer nofollow"' in page
    hostile = replace(talent_answer().citations[0], source="javascript:alert(1)", published="<b>2024</b>")
    page = render_answer(talent_answer(citations=[hostile]), turn=1)
    assert 'href="javascript' not in page and '<span class="rag-origin">javascript:alert(1)</span>' in page
    assert "&lt;b&gt;2024&lt;/b&gt;" in page
    pdf = replace(talent_answer().citations[0], source="paper.pdf", page=3, page_paragraph=2, paragraph=14)
    assert "page 3, paragraph 2 · 第3页第2段" in render_answer(talent_answer(citations=[pdf]), turn=1)


def test_upload_reports_a_skipped_file_with_its_reason(engine: Engine, tmp_path: Path) -> None:
    binary = tmp_path / "broken.txt"
    binary.write_bytes(b"\x00\x01 not text")
    status = add_article(engine, str(binary), MAX_UPLOAD)
    assert "Skipped" in status and "broken.txt" in status and "binary" in status


# End to end in Chromium


@dataclass
class Server:
    """A chat page started by `python -m ui.app` (the real entry point) in a process of its own."""

    url: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The chat page over the seed articles, with its store in a temp dir; the URL is read from what it prints."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    workdir = tmp_path_factory.mktemp("ui")
    seeds = workdir / "seeds"
    shutil.copytree(PROJECT_ROOT / "seeds", seeds)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "RAG_DATA_DIR": str(workdir / "data"),
        "RAG_SEEDS_DIR": str(seeds),
        "RAG_PORT": str(port),
        "RAG_MAX_UPLOAD_BYTES": str(MAX_UPLOAD),
        "RAG_ALLOW_LOOPBACK_URLS": "true",  # the link test's web server is on 127.0.0.1
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "ui.app"],
        cwd=workdir,  # away from any .env in the repo
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    url = None
    try:
        while url is None:
            line = lines.get(timeout=180)
            match = re.search(rf"http://127\.0\.0\.1:{port}/", line)
            url = match.group(0) if match else None
    except queue.Empty:
        process.kill()
        pytest.fail("the chat page printed no URL:\n" + "".join(output))
    yield Server(url, process, output)
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """A page open on the chat, with every dialog it tried to open and every request that left for another host."""

    page: Page
    dialogs: list[str]
    foreign: list[str]


@pytest.fixture
def visit(browser: Browser, server: Server) -> Iterator[Visit]:
    """A fresh browser tab on the chat page."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    home = urlsplit(server.url).netloc
    found = Visit(page, [], [])

    def on_dialog(dialog: Dialog) -> None:
        found.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_request(request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != home:
            found.foreign.append(request.url)

    page.on("dialog", on_dialog)
    page.on("request", on_request)
    page.goto(server.url)
    page.wait_for_selector(QUESTION)
    yield found
    page.close()


def ask(page: Page, question: str, turn: int) -> Locator:
    """Type a question, press Enter, and wait for answer number `turn`."""
    page.fill(QUESTION, question)
    page.press(QUESTION, "Enter")
    answer = page.locator(TURNS).nth(turn - 1)
    answer.wait_for(timeout=60_000)
    return answer


def screenshot(page: Page, tmp_path: Path, name: str, full_page: bool = True) -> Path:
    """Save a screenshot to tmp_path, and to $RAG_SCREENSHOTS when it is set."""
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=full_page)
    if os.environ.get("RAG_SCREENSHOTS"):
        folder = Path(os.environ["RAG_SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, folder / name)
    return path


@pytest.mark.browser
def test_english_answer_cites_its_paragraph_and_the_marker_leads_there(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    answer = ask(page, "How many talents does the city have?", turn=1)
    expect(answer.locator(".rag-answer")).to_contain_text("3.43 million")
    source = page.locator("#rag-t1-s1")
    expect(source.locator(".rag-title")).to_have_text(
        "Cultivate organizational advantages and gather strength to forge ahead"
    )
    expect(source.locator(".rag-para")).to_have_text(re.compile(r"^paragraph \d+ · 第\d+段$"))
    expect(source.locator("mark").first).to_contain_text("3.43 million")
    expect(answer.locator(".rag-backend")).to_have_text("offline")

    page.locator("a.rag-cite[href='#rag-t1-s1']").click()
    expect(page).to_have_url(re.compile(r"#rag-t1-s1$"))
    expect(source).to_be_in_viewport()
    assert source.evaluate("element => element.matches(':target')")
    screenshot(page, tmp_path, "ui-en.png")
    assert visit.dialogs == [] and visit.foreign == []


@pytest.mark.browser
def test_chinese_example_answers_with_the_chinese_paragraph(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    question = "苏州高新区已累计集聚各类人才多少人？"
    page.get_by_text(question, exact=True).click()
    expect(page.locator(QUESTION)).to_have_value(question)
    page.locator("#rag-ask").click()
    answer = page.locator(TURNS).first
    answer.wait_for(timeout=60_000)
    expect(answer.locator(".rag-answer")).to_contain_text("26万")
    source = page.locator("#rag-t1-s1")
    expect(source.locator(".rag-title")).to_have_text("苏州高新区：以高质量党建引领区域高质量发展")
    expect(source.locator(".rag-para")).to_have_text(re.compile(r"第\d+段"))
    expect(source.locator("mark").first).to_contain_text("26万")
    page.locator("a.rag-cite[href='#rag-t1-s1']").click()
    expect(source).to_be_in_viewport()
    screenshot(page, tmp_path, "ui-zh.png")
    assert visit.dialogs == [] and visit.foreign == []


@pytest.mark.browser
def test_history_stays_a_long_paragraph_opens_whole_and_the_bin_starts_over(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    ask(page, "医疗器械产业园落地了多少个优质项目？", turn=1)
    second = ask(page, "When was Nawei Technology listed?", turn=2)
    expect(page.locator(TURNS)).to_have_count(2)
    expect(page.locator("#rag-t1-s1 mark").first).to_contain_text("44")
    expect(second.locator(".rag-answer")).to_contain_text("2021")
    whole = page.locator("#rag-t2-s1 details.rag-whole")
    excerpt = page.locator("#rag-t2-s1 .rag-excerpt")
    expect(excerpt).to_be_visible()
    whole.locator("summary").click()
    expect(whole.locator("div mark")).to_contain_text("In June 2021, Nawei Technology was listed")
    expect(whole.locator("div")).to_contain_text("Jiang Biwang")
    expect(excerpt).to_be_hidden()  # unfolded in place: the quote is on screen once, not twice
    expect(page.locator("#rag-t2-s1 mark:visible")).to_have_count(1)
    expect(whole.locator("summary .rag-less")).to_be_visible()  # "Excerpt · 收起" folds it back
    expect(whole.locator("summary .rag-more")).to_be_hidden()
    screenshot(page, tmp_path, "ui-history.png")

    page.locator("#rag-chat").get_by_role("button", name=re.compile("clear", re.I)).click()
    expect(page.locator(TURNS)).to_have_count(0)
    ask(page, "When was Nawei Technology listed?", turn=1)
    expect(page.locator(TURNS)).to_have_count(1)


@pytest.mark.browser
def test_not_found_answer_is_labelled_and_muted(visit: Visit) -> None:
    answer = ask(visit.page, "What is the capital of France?", turn=1)
    expect(answer.locator(".rag-not-found .rag-label")).to_contain_text("Not found in the articles")
    expect(answer.locator(".rag-not-found em")).to_have_text(NOT_FOUND["en"])
    assert answer.locator(".rag-source").count() == 0


@pytest.mark.browser
def test_a_refusal_lists_the_closest_passages(visit: Visit) -> None:
    answer = ask(visit.page, "How large is Suzhou's pool of skilled people?", turn=1)
    expect(answer.locator(".rag-not-found em")).to_have_text(NOT_FOUND["en"])
    expect(answer.locator(".rag-nearest .rag-sources-title")).to_contain_text("Closest passages")
    expect(answer.locator(".rag-nearest .rag-source")).to_have_count(3)
    expect(answer.locator(".rag-nearest")).to_contain_text("3.43 million")


@pytest.mark.browser
def test_uploaded_article_is_cited_and_its_html_stays_text(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    article = tmp_path / "harbor-festival.md"
    article.write_text(UNTRUSTED_ARTICLE, encoding="utf-8")
    page.set_input_files("#rag-upload input[type=file]", str(article))
    expect(page.locator("#rag-status")).to_contain_text("Added", timeout=60_000)
    expect(page.locator("#rag-library")).to_contain_text(f"Harbor festival {PAYLOADS[1]}")
    expect(page.locator("#rag-upload")).not_to_contain_text("harbor-festival.md")  # ready for the next file

    answer = ask(page, "How many visitors did the Harbor Bridge festival draw?", turn=1)
    expect(answer.locator(".rag-answer")).to_contain_text("12,000")
    source = page.locator("#rag-t1-s1")
    expect(source.locator(".rag-title")).to_contain_text(PAYLOADS[0])
    for payload in PAYLOADS[:3]:
        expect(source.locator(".rag-excerpt")).to_contain_text(payload)
    chat = page.locator("#rag-chat")
    assert chat.locator("script, img[src='x'], img[src*='example.invalid']").count() == 0
    assert chat.locator("a[href^='javascript'], a[href*='example.invalid']").count() == 0
    page.wait_for_timeout(500)
    screenshot(page, tmp_path, "ui-untrusted.png")
    assert visit.dialogs == []
    assert visit.foreign == []


@pytest.mark.browser
def test_upload_of_another_type_is_refused_in_the_page(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG")
    page.set_input_files("#rag-upload input[type=file]", str(photo))
    expect(page.get_by_text(re.compile(r"Invalid file type: photo\.png")).first).to_be_visible()
    status = page.locator("#rag-status")
    expect(status).to_contain_text(re.compile(r"Refused · 未接受: Invalid file type: photo\.png"))  # and it stays
    expect(status).not_to_contain_text("Added")

    big = tmp_path / "big.txt"
    big.write_text("word " * MAX_UPLOAD, encoding="utf-8")
    page.set_input_files("#rag-upload input[type=file]", str(big))
    expect(status).to_contain_text(re.compile(r"Refused · 未接受: .*big\.txt"))

    binary = tmp_path / "broken.txt"
    binary.write_bytes(b"\x00\x01 not text")
    page.set_input_files("#rag-upload input[type=file]", str(binary))
    expect(status).to_contain_text(re.compile(r"Skipped · 已跳过 broken\.txt: .*binary"), timeout=60_000)
    expect(page.locator("#rag-upload")).not_to_contain_text("broken.txt")  # the drop zone is empty again


@pytest.mark.browser
@pytest.mark.xfail(
    strict=True,
    reason="read as 'How many high-level talents has the Suzhou High-tech Zone gathered?', which the offline answerer "
    "answers 26万 asked alone too (#28)",
)
def test_a_follow_up_is_read_with_the_earlier_question(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    first = ask(page, "How many talents has the Suzhou High-tech Zone gathered?", turn=1)
    expect(first.locator(".rag-answer")).to_contain_text("260,000")
    second = ask(page, "And how many of them are high-level?", turn=2)
    expect(second.locator(".rag-answer")).to_contain_text("3.6万")  # the zone's, not the city's 340,000
    expect(second.locator(".rag-read-as")).to_contain_text("Suzhou High-tech Zone")


@pytest.mark.browser
def test_a_follow_up_on_the_city_is_read_with_the_earlier_question(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    first = ask(page, "How many talents does the city have?", turn=1)
    expect(first.locator(".rag-answer")).to_contain_text("3.43 million")
    second = ask(page, "And how many of them are high-level?", turn=2)
    expect(second.locator(".rag-answer")).to_contain_text("340,000")
    expect(second.locator(".rag-read-as")).to_contain_text("high-level")
    screenshot(page, tmp_path, "ui-conversation.png")


@pytest.mark.browser
def test_the_conversation_grows_with_the_page_and_exports_as_markdown(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    expect(page.locator("#rag-export")).to_be_disabled()
    for turn, question in enumerate(
        [
            "How many talents does the city have?",
            "When was Nawei Technology listed?",
            "医疗器械产业园落地了多少个优质项目？",
        ],
        start=1,
    ):
        ask(page, question, turn)
    # No box inside the chat scrolls: every answer is on the page itself, to read or print whole.
    scrolled = page.locator("#rag-chat").evaluate(
        """chat => [chat, ...chat.querySelectorAll('*')].filter(e => {
               const style = getComputedStyle(e);
               return /(auto|scroll)/.test(style.overflowY) && e.scrollHeight > e.clientHeight + 2;
           }).length"""
    )
    assert scrolled == 0
    expect(page.locator(TURNS)).to_have_count(3)
    for answer in page.locator(TURNS).all():
        expect(answer).to_be_visible()

    export = page.locator("#rag-export")
    expect(export).to_be_enabled()
    with page.expect_download() as download:
        export.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    markdown = saved.read_text(encoding="utf-8")
    assert saved.suffix == ".md"
    assert (
        "## 1. How many talents does the city have?" in markdown
        and "## 3. 医疗器械产业园落地了多少个优质项目？" in markdown
    )
    assert re.search(
        r"\[1\] Cultivate organizational advantages .* — paragraph \d+ \(suzhou-organizational-work-en\)", markdown
    )
    assert re.search(r"   > .*3\.43 million", markdown)
    page.set_content(f"<pre style='white-space:pre-wrap;font:14px monospace'>{html.escape(markdown)}</pre>")
    screenshot(page, tmp_path, "ui-export.png")


@pytest.mark.browser
def test_an_article_opens_numbered_as_cited_and_is_removed_after_confirmation(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    article = tmp_path / "tide-mill.md"
    article.write_text(
        '---\ntitle: "Tide mill reopens"\nlang: en\n---\n\nThe tide mill reopened with 40 volunteers.\n\n'
        "It ground 3 tonnes of flour in its first month.\n",
        encoding="utf-8",
    )
    page.set_input_files("#rag-upload input[type=file]", str(article))
    expect(page.locator("#rag-library")).to_contain_text("Tide mill reopens", timeout=60_000)

    choose(page, "Cultivate organizational advantages")
    view = page.locator("#rag-article")
    expect(view.locator(".rag-article-head")).to_contain_text("suzhou-organizational-work-en")
    expect(view.locator("#rag-a-8")).to_contain_text("paragraph 8 · 第8段")
    answer = ask(page, "How many talents does the city have?", turn=1)
    cited = answer.locator("#rag-t1-s1 .rag-para").inner_text()  # "paragraph N · 第N段", the same N in the view
    number = re.search(r"\d+", cited).group(0)  # type: ignore[union-attr]
    expect(view.locator(f"#rag-a-{number}")).to_contain_text("3.43 million")
    page.locator("#rag-article-panel").scroll_into_view_if_needed()
    screenshot(page, tmp_path, "ui-article.png", full_page=False)

    choose(page, "Tide mill reopens")
    expect(view).to_contain_text("3 tonnes of flour")
    page.locator("#rag-remove").click()
    confirm = page.locator("#rag-confirm")
    expect(confirm).to_contain_text("Remove Tide mill reopens")
    page.locator("#rag-cancel").click()
    expect(confirm).to_be_hidden()
    expect(page.locator("#rag-library")).to_contain_text("Tide mill reopens")  # nothing removed without a yes
    page.locator("#rag-remove").click()
    page.locator("#rag-confirm-remove").click()
    expect(page.locator("#rag-status")).to_contain_text("Removed · 已删除: Tide mill reopens")
    expect(page.locator("#rag-library")).not_to_contain_text("Tide mill reopens")
    expect(page.locator("#rag-article-panel")).to_be_hidden()
    gone = ask(page, "How many tonnes of flour did the tide mill grind?", turn=2)
    expect(gone.locator(".rag-not-found")).to_be_visible()
    assert visit.dialogs == []


@pytest.mark.browser
def test_the_article_view_summarizes_the_opened_article(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    choose(page, "苏州高新区")
    expect(page.locator("#rag-article .rag-article-head")).to_contain_text("suzhou-high-tech-zone-zh")
    page.locator("#rag-summarize").click()
    answer = page.locator(TURNS).nth(0)
    answer.wait_for(timeout=60_000)
    expect(answer.locator(".rag-kind")).to_have_text("summary · 摘要")
    sources = answer.locator(".rag-source")
    assert sources.count() >= 3
    titles = {sources.nth(i).locator(".rag-title").get_attribute("title") for i in range(sources.count())}
    assert titles == {"suzhou-high-tech-zone-zh"}  # the opened article's paragraphs, and none of another
    expect(page.locator(".rag-question").first).to_contain_text("概括《苏州高新区")
    screenshot(page, tmp_path, "ui-summary.png", full_page=False)


def choose(page: Page, title: str) -> None:
    """Open the article whose title starts with `title` from the "Open an article" menu."""
    page.locator("#rag-open input").click()
    page.get_by_role("option", name=re.compile("^" + re.escape(title))).click()


@pytest.mark.browser
def test_an_uploaded_pdf_and_a_link_are_cited_with_their_source(visit: Visit, tmp_path: Path) -> None:
    # Last in the file: the articles it adds would otherwise change the other tests' closest passages.
    page = visit.page
    pdf = two_column_pdf(tmp_path / "libraries.pdf", "Harbor city opens 14 new libraries", LIBRARY_PARAGRAPHS, 20)
    page.set_input_files("#rag-upload input[type=file]", str(pdf))
    expect(page.locator("#rag-status")).to_contain_text("Added · 已添加: libraries", timeout=60_000)
    answer = ask(page, "When will the second phase add 5 more libraries?", turn=1)
    expect(answer.locator(".rag-answer")).to_contain_text("2026")
    source = page.locator("#rag-t1-s1")
    expect(source.locator(".rag-para")).to_contain_text("page 2, paragraph 2")
    expect(source.locator(".rag-origin")).to_have_text("libraries.pdf")

    with ThreadingHTTPServer(("127.0.0.1", 0), Handler) as site:
        threading.Thread(target=site.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{site.server_address[1]}/news/tram.html"
        page.locator("#rag-link textarea, #rag-link input").first.fill(url)
        page.click("#rag-link-add")
        expect(page.locator("#rag-status")).to_contain_text("-news-tram", timeout=60_000)
        site.shutdown()
    answer = ask(page, "How many passengers did the tram line carry on its first day?", turn=2)
    expect(answer.locator(".rag-answer")).to_contain_text("58,000")
    origin = page.locator("#rag-t2-s1 a.rag-origin")
    expect(origin).to_have_attribute("href", url)
    expect(origin).to_have_attribute("target", "_blank")
    screenshot(page, tmp_path, "ui-formats.png")
    assert visit.foreign == []


@pytest.mark.parametrize(
    ("name", "saved"),
    [
        ("..md", "article.md"),  # passed the suffix check, then was saved as "md" and skipped
        ("report\u202etxt.pdf", "reporttxt.pdf"),  # a right-to-left override kept in the stored name
        (".hidden.docx", "hidden.docx"),
        ("../../etc/notes.txt", "notes.txt"),
        ("...", "article.txt"),
        ("Libraries 2024.PDF", "Libraries 2024.PDF"),
    ],
)
def test_an_upload_is_saved_under_a_plain_name_of_its_kind(name: str, saved: str) -> None:
    assert upload_name(name) == saved
