"""Conversations kept in the reader's browser (Gradio's `BrowserState`, encrypted with a key the server keeps in
DATA_DIR): a reload brings the conversation back, earlier ones are listed to reopen, "New chat" starts another.
With a login each user sees only their own."""

from __future__ import annotations

import os
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import gradio as gr

from rag.answer import Answer, Citation

STORAGE_KEY = "rag-conversations"
SECRET_FILE = "ui-secret"
MOST = 20  # conversations kept per user in a browser (localStorage holds a few MB)
MOST_TURNS = 100  # answers kept per conversation

Render = Callable[[Answer, int], str]
Export = Callable[[list[dict[str, Any]]], dict[str, Any]]


def secret(data_dir: Path) -> str:
    """The key the browser's copy is encrypted with: made once and kept in DATA_DIR, so that conversations outlive a
    restart of the page (Gradio's default key is new at every start)."""
    path = Path(data_dir) / SECRET_FILE
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(24)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another instance made it first: use theirs
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


def answer_of(data: dict[str, Any]) -> Answer:
    """An Answer back from its `to_dict()` data (unknown keys ignored)."""
    names = {f.name for f in fields(Citation)}

    def cited(items: list[dict[str, Any]]) -> list[Citation]:
        return [Citation(**{k: v for k, v in c.items() if k in names}) for c in items]

    known = {f.name for f in fields(Answer)} - {"citations", "nearest"}
    return Answer(
        **{k: v for k, v in data.items() if k in known},
        citations=cited(data.get("citations", [])),
        nearest=cited(data.get("nearest", [])),
    )


def conversations(saved: Any, user: str) -> list[dict[str, Any]]:
    """The user's conversations, newest first (nothing when the stored value is not what this page wrote)."""
    mine = saved.get(user) if isinstance(saved, dict) else None
    return [c for c in mine if isinstance(c, dict) and c.get("answers")] if isinstance(mine, list) else []


def kept(saved: Any, user: str, current: str, answers: list[dict[str, Any]]) -> dict[str, Any]:
    """The stored value with conversation `current` (its answers so far) first in the user's list."""
    if not answers:
        return saved if isinstance(saved, dict) else {}
    title = " ".join(str(answers[0].get("question", "")).split())
    entry = {
        "id": current,
        "title": title if len(title) <= 60 else title[:59] + "…",
        "time": time.strftime("%Y-%m-%d %H:%M"),
        "answers": answers[-MOST_TURNS:],
    }
    others = [c for c in conversations(saved, user) if c.get("id") != current]
    return {**(saved if isinstance(saved, dict) else {}), user: [entry, *others][:MOST]}


def choices(saved: Any, user: str) -> list[tuple[str, str]]:
    """The user's conversations as (label, id) for the list."""
    return [(f"{c.get('time', '')} · {c.get('title', '')}", str(c.get("id"))) for c in conversations(saved, user)]


def messages(answers: list[dict[str, Any]], render: Render) -> list[dict[str, str]]:
    """The chat's messages for stored answers, rendered as when they were asked."""
    from html import escape

    shown = []
    for turn, data in enumerate(answers, start=1):
        question = escape(str(data.get("question", "")).strip())
        shown.append({"role": "user", "content": f'<span class="rag-question">{question}</span>'})
        shown.append({"role": "assistant", "content": render(answer_of(data), turn)})
    return shown


def _user(request: gr.Request | None) -> str:
    return str(getattr(request, "username", None) or "") if request is not None else ""


@dataclass
class Panel:
    """The list of conversations, "New chat", and what the browser keeps."""

    new: gr.Button
    listing: gr.Dropdown
    current: gr.State  # the id of the conversation on screen
    saved: gr.BrowserState
    after: Callable[[Any], Any]  # chains saving after an event that answered a question


def panel(data_dir: Path) -> Panel:
    """The components, placed where this is called."""
    with gr.Row(elem_id="rag-conversations"):
        listing = gr.Dropdown(
            choices=[], value=None, label="Conversations · 对话记录", elem_id="rag-conversation-list", scale=4
        )
        new = gr.Button("New chat · 新对话", size="sm", elem_id="rag-new-chat", scale=1, min_width=120)
    saved = gr.BrowserState({}, storage_key=STORAGE_KEY, secret=secret(data_dir))
    return Panel(new, listing, gr.State(""), saved, lambda event: event)


def wire(
    parts: Panel,
    chat: gr.Chatbot,
    history: gr.State,
    turns: gr.State,
    record: gr.State,
    export_button: gr.DownloadButton,
    render: Render,
    export: Export,
    app: gr.Blocks,
) -> None:
    """Keep each answered conversation in the browser, bring the latest back on load, reopen one from the list."""

    def save(saved: Any, current: str, answers: list[dict[str, Any]], request: gr.Request) -> tuple[Any, ...]:
        user = _user(request)
        current = current or uuid.uuid4().hex
        saved = kept(saved, user, current, answers)
        return saved, current, gr.update(choices=choices(saved, user), value=current)

    def shown(saved: Any, chosen: str | None, request: gr.Request) -> tuple[Any, ...]:
        user = _user(request)
        mine = conversations(saved, user)
        found = next((c for c in mine if c.get("id") == chosen), mine[0] if chosen is None and mine else None)
        listing = gr.update(choices=choices(saved, user), value=found["id"] if found else None)
        if found is None:
            return [], [], [], [], "", listing, gr.update(value=None, interactive=False)
        answers = list(found["answers"])
        try:
            chat_messages = messages(answers, render)
        except (TypeError, ValueError, KeyError, AttributeError):  # not what this page wrote: start afresh
            return [], [], [], [], "", listing, gr.update(value=None, interactive=False)
        pairs = [(str(a.get("question", "")), str(a.get("text", ""))) for a in answers]
        return chat_messages, chat_messages, pairs, answers, found["id"], listing, export(answers)

    def restore(saved: Any, request: gr.Request) -> tuple[Any, ...]:
        return shown(saved, None, request)

    def fresh() -> tuple[Any, ...]:
        return [], [], [], [], "", gr.update(value=None), gr.update(value=None, interactive=False)

    screen = [chat, history, turns, record, parts.current, parts.listing, export_button]
    app.load(restore, parts.saved, screen, api_visibility="private")
    parts.listing.input(shown, [parts.saved, parts.listing], screen, api_visibility="private")
    parts.new.click(fresh, None, screen, api_visibility="private")
    chat.clear(lambda: ("", gr.update(value=None)), None, [parts.current, parts.listing], api_visibility="private")

    def after(event: Any) -> Any:
        return event.then(
            save,
            [parts.saved, parts.current, record],
            [parts.saved, parts.current, parts.listing],
            api_visibility="private",
        )

    parts.after = after
