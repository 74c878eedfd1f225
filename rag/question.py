"""What a question asks for: its language, its key terms, and the kind of figure that would answer it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.corpus import detect_lang
from rag.keyword import tokenize

WANTS = ("count", "amount", "date", "percent", "any")

_PATTERNS = [
    (
        "percent",
        re.compile(
            r"\b(what|which) (share|proportion|percentage|fraction)\b|\bpercent|比例|比重|百分之|占比|占.*多少", re.I
        ),
    ),
    (
        "date",
        re.compile(
            r"\bwhen\b|\bwhat (year|month|date|day)\b|\bwhich (year|month|date|day)\b|\bin what year\b|"
            r"何时|什么时候|哪一年|哪年|哪个月|几月|几号|哪一天|日期",
            re.I,
        ),
    ),
    (
        "amount",
        re.compile(
            r"\bhow much\b|\bvalue\b|\bworth\b|\bamount\b|\bscale\b|\bsize of\b|\bcapital\b|\bfund|\byuan\b|"
            r"多少钱|金额|规模|资金|资本|产值|多少亿|多少万元|投资",
            re.I,
        ),
    ),
    ("count", re.compile(r"\bhow many\b|\bnumber of\b|\bcount\b|多少|几个|几家|几项|几名|几次|几条|几场|几", re.I)),
]


@dataclass(frozen=True)
class Question:
    """A question, cleaned, with what the answerer needs to judge evidence."""

    text: str
    lang: str
    wants: str
    terms: dict[str, float] = field(default_factory=dict)  # search terms → weight (1.0 = the question's own words)


def analyse(text: str) -> Question:
    """Language, the kind of figure wanted, and the question's own search terms."""
    wants = next((name for name, pattern in _PATTERNS if pattern.search(text)), "any")
    terms = {term: 1.0 for term in tokenize(text)}
    return Question(text=text, lang=detect_lang(text), wants=wants, terms=terms)


def problem(text: str, max_chars: int) -> str | None:
    """Why a question cannot be asked as it is, in plain words; None when it is fine."""
    if not text.strip():
        return "Please type a question."
    if len(text) > max_chars:
        return f"That question is {len(text):,} characters long; please keep it under {max_chars:,}."
    if not re.search(r"\w", text):
        return "Please ask a question in words."
    return None


def clean(text: str) -> str:
    """Drop control characters, NULs and lone surrogates, and collapse whitespace."""
    text = text.encode("utf-8", "ignore").decode("utf-8", "ignore") if _has_surrogates(text) else text
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def _has_surrogates(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)
