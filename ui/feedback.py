"""Verdicts on the page's answers: 👍 / 👎 on each answer (Gradio's `Chatbot.like`), after 👎 an optional
correction and right source, and the `/feedback` API; all kept by `rag.feedback` in DATA_DIR/feedback.jsonl."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any

import gradio as gr

from rag.engine import Engine
from rag.feedback import Allowance, Cited, Refused, append, feedback_path, verdict_of
from rag.settings import Settings


@dataclass
class Panel:
    """The "after 👎" box: the right answer, the right source, send; and a line saying what was kept."""

    box: gr.Column
    correction: gr.Textbox
    source: gr.Dropdown
    send: gr.Button
    status: gr.HTML
    pending: gr.State  # (verdict id, turn) of the 👎 a correction belongs to


def panel() -> Panel:
    """The components, placed where this is called (under the chat)."""
    status = gr.HTML(elem_id="rag-feedback-status")
    with gr.Column(visible=False, elem_id="rag-feedback") as box:
        correction = gr.Textbox(
            label="The right answer is … · 正确答案是",
            placeholder="a figure or a short text · 数字或简短文字",
            max_lines=2,
            elem_id="rag-correction",
        )
        source = gr.Dropdown(
            choices=[], value=None, label="The right source · 正确出处", elem_id="rag-right-source", interactive=True
        )
        send = gr.Button("Send · 提交", size="sm", elem_id="rag-feedback-send")
    return Panel(box, correction, source, send, status, gr.State(None))


def sources_of(answer: dict[str, Any]) -> list[tuple[str, str]]:
    """The passages a reader may name as the right source: the answer's citations, then its nearest passages."""
    choices = []
    for c in [*answer.get("citations", []), *answer.get("nearest", [])]:
        label = f"{c['title']} — paragraph {c['paragraph']} · 第{c['paragraph']}段: {' '.join(c['quote'].split())[:80]}"
        choices.append((label, f"{c['document']}#{c['paragraph']}"))
    return list(dict.fromkeys(choices))


def source_of(value: str | None, answer: dict[str, Any]) -> Cited | None:
    """The passage `document#paragraph` among the answer's sources, with its quote; None when it is not one."""
    for c in [*answer.get("citations", []), *answer.get("nearest", [])]:
        if value == f"{c['document']}#{c['paragraph']}":
            return Cited(c["document"], c["paragraph"], c["quote"])
    return None


def _who(request: gr.Request | None) -> tuple[str, str]:
    """(user, client): the login when there is one, and who the allowance counts against."""
    user = str(getattr(request, "username", None) or "") if request is not None else ""
    host = getattr(getattr(request, "client", None), "host", None) or "unknown"
    return user, user or str(host)


def wire(
    chat: gr.Chatbot, record: gr.State, parts: Panel, engine: Engine, settings: Settings, allowance: Allowance
) -> None:
    """Hook the chat's 👍 / 👎 and the correction box to the feedback file."""
    path = feedback_path(settings.data_dir)

    def keep(answer: dict[str, Any], verdict: str, request: gr.Request | None, **extra: Any) -> str:
        user, client = _who(request)
        if not allowance.take(client):
            raise Refused("too many verdicts from here for now; try again later · 提交过多，请稍后再试")
        made = verdict_of(
            answer,
            verdict,
            answerer=answer.get("backend", settings.llm),
            model=_model(settings, answer),
            user=user,
            **extra,
        )
        append(path, made)
        return made.id

    def liked(answers: list[dict[str, Any]], data: gr.LikeData, request: gr.Request) -> tuple[Any, ...]:
        index = data.index if isinstance(data.index, int) else data.index[0]
        turn = index // 2  # the chat alternates question, answer
        hidden = gr.update(visible=False)
        if not isinstance(data.liked, bool) or not 0 <= turn < len(answers):
            return hidden, gr.update(), "", gr.update(), None
        answer = answers[turn]
        try:
            kept = keep(answer, "up" if data.liked else "down", request)
        except Refused as refusal:
            return hidden, gr.update(), _said(str(refusal), error=True), gr.update(), None
        if data.liked:
            return hidden, gr.update(), _said("Thanks: kept as a good answer · 已记录为好答案"), gr.update(), None
        return (
            gr.update(visible=True),
            gr.update(value=""),
            _said("Kept as a wrong answer; say what is right, if you know · 已记录为错误答案，可补充正确答案"),
            gr.update(choices=sources_of(answer), value=None),
            (kept, turn),
        )

    def send(
        answers: list[dict[str, Any]], pending: Any, correction: str, source: str | None, request: gr.Request
    ) -> tuple[Any, ...]:
        if not pending or not 0 <= pending[1] < len(answers):
            return gr.update(visible=False), _said("Give 👎 on an answer first · 请先点 👎", error=True), None
        answer = answers[pending[1]]
        try:
            keep(answer, "down", request, correction=correction or "", source=source_of(source, answer), id=pending[0])
        except Refused as refusal:
            return gr.update(), _said(str(refusal), error=True), pending
        return gr.update(visible=False), _said("Correction kept · 已记录更正"), None

    chat.like(
        liked,
        record,
        [parts.box, parts.correction, parts.status, parts.source, parts.pending],
        api_visibility="private",
    )
    parts.send.click(
        send,
        [record, parts.pending, parts.correction, parts.source],
        [parts.box, parts.status, parts.pending],
        api_visibility="private",
    )

    def feedback(
        question: str,
        verdict: str,
        correction: str = "",
        source: str = "",
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> str:
        """Say whether the answer to a question is right: verdict "up" (right) or "down" (wrong), and after "down"
        optionally the right answer (a figure or a short text) and the right source ("document#paragraph", one of
        the answer's citations or nearest passages). The question is answered again and that answer is kept with
        the verdict, on this machine only.

        Args:
            question: The question asked, e.g. "How many talents does the city have?"
            verdict: "up" or "down"
            correction: After "down": the right answer, e.g. "3.5 million"
            source: After "down": the right source as document#paragraph, e.g. "suzhou-organizational-work-en#8"

        Returns:
            JSON text with stored (true or false), id, the answer judged, and reason when not stored.
        """
        return json.dumps(judged(question, verdict, correction, source, request), ensure_ascii=False)

    def judged(question: str, verdict: str, correction: str, source: str, request: gr.Request) -> dict[str, Any]:
        """What the `feedback` endpoint says of one verdict: kept (with its id) or why not."""
        if verdict not in ("up", "down"):
            return {"stored": False, "reason": "verdict is 'up' or 'down'"}
        answer = engine.ask(question).to_dict()
        try:
            extra = {"correction": correction, "source": source_of(source, answer)} if verdict == "down" else {}
            kept = keep(answer, verdict, request, **extra)
        except Refused as refusal:
            return {"stored": False, "reason": str(refusal), "answer": answer["text"]}
        return {"stored": True, "id": kept, "answer": answer["text"]}

    gr.api(feedback, api_name="feedback")


def _model(settings: Settings, answer: dict[str, Any]) -> str:
    return settings.llm_model if answer.get("backend") == "openai" else ""


def _said(message: str, error: bool = False) -> str:
    return f'<span class="{"rag-error" if error else "rag-subtle"}">{html.escape(message)}</span>'
