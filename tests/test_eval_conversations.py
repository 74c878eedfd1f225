"""The conversation evaluation's data: seed and public conversations, read and checked."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from evals.conversations import PUBLIC, STYLES, Scores, load, public, table


def test_the_seed_conversations_are_at_least_ten_in_both_languages() -> None:
    conversations = load()
    assert len(conversations) >= 10
    assert {c.lang for c in conversations} == {"en", "zh"}
    assert all(2 <= len(c.turns) <= 4 and c.turns[0].case.figures for c in conversations)


def test_the_public_conversations_cover_every_style_in_both_languages_and_both_splits() -> None:
    rows = [json.loads(line) for line in PUBLIC.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 60 and len({r["id"] for r in rows}) == len(rows)
    assert Counter(r["split"] for r in rows).keys() == {"dev", "test"}
    assert {(r["split"], r["lang"]) for r in rows} == {(s, lang) for s in ("dev", "test") for lang in ("en", "zh")}
    assert {r["style"] for r in rows} >= set(STYLES) - {"entity"}
    assert all(2 <= len(r["turns"]) <= 4 for r in rows)


def test_a_public_turn_takes_its_case_from_the_built_suite(tmp_path: Path) -> None:
    (tmp_path / "questions").mkdir()
    question = {
        "id": "q1",
        "question": "How many nurses work in Oakdale?",
        "lang": "en",
        "kind": "same",
        "figures": ["1,500"],
        "evidence": "1,500 nurses",
        "document": "hospitals-en",
    }
    (tmp_path / "questions" / "dev-1.jsonl").write_text(json.dumps(question) + "\n", encoding="utf-8")
    first = {
        "question": "How many hospitals does Oakdale have?",
        "standalone": "How many hospitals does Oakdale have?",
        "figures": ["9"],
        "evidence": "9 hospitals",
        "document": "hospitals-en",
    }
    row = {
        "id": "c1",
        "split": "dev",
        "lang": "en",
        "style": "pronoun",
        "turns": [first, {"question": "How many nurses work there?", "from": "q1"}],
    }
    path = tmp_path / "conversations.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    (conversation,) = public("dev", tmp_path, path)
    assert conversation.turns[1].question == "How many nurses work there?"
    assert conversation.turns[1].case.question == question["question"] and conversation.turns[1].case.figures == (
        "1,500",
    )
    assert "follow-ups, ideal" in table(Scores())
