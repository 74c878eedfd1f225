"""The query stage: a question made ready for retrieval — a follow-up made standalone, its words translated."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from rag.followup import Translate, Turn, keeps_stated, read_follow_up
from rag.question import Question, clean, cross_lingual
from rag.question import analyse as analyse_question
from rag.text import tokenize
from rag.translate import Translator

__all__ = ["Query", "Rewriter", "Turn", "analyse", "understand"]

LANGUAGES = {"en": "English", "zh": "Chinese"}  # the article languages a chat model is asked to translate into


class Rewriter(Protocol):
    """What the query stage asks of a chat model (rag.llm.Chat): a follow-up made standalone, a translation."""

    def condense(self, text: str, history: Sequence[Turn], draft: str = "") -> str: ...

    def translate(self, text: str, language: str) -> str: ...


@dataclass(frozen=True)
class Query:
    """What retrieval searches for: the standalone question, analysed, and the model's translations of it."""

    question: Question
    translations: tuple[Question, ...] = ()  # the question in the other article languages, by the chat model
    read_as: str = ""  # a follow-up read offline: the question as searched ("" when it was read as it stands)
    note: str = ""  # a follow-up that points back at nothing: said in the answer's warnings
    document: str = ""  # the article a summary question is of, when the reader chose it (the page's Summarize)


def analyse(
    text: str,
    history: Sequence[Turn],
    translator: Translator,
    vocabularies: Mapping[str, Mapping[str, int]],
    chat: Rewriter | None = None,
) -> Query:
    """The question `text`, a follow-up to the earlier turns of `history`, as retrieval needs it.

    Offline, a follow-up carries the earlier question's subject in (`rag.followup`) and the question's words are
    translated with the dictionary. With a `chat` model, the model rewrites a follow-up as a standalone question
    and translates it into each other article language (raises LLMError when the model fails).
    """
    text = clean(text)
    follow = read_follow_up(text, history, _translating(translator, vocabularies))
    if chat is None:
        read_as = follow.text if follow.text != text else ""
        return Query(understand(follow.text, translator, vocabularies), read_as=read_as, note=follow.note or "")
    if history:
        condensed = chat.condense(text, history, follow.text)
        # A reply that drops what the follow-up itself states (a place, a year, a measure) has lost the question.
        text = condensed if keeps_stated(text, condensed) or not follow.refers_back else follow.text
    question = understand(text, translator, vocabularies)
    translations = []
    for lang in sorted(vocabularies):
        if lang != question.lang and lang in LANGUAGES:
            translated = chat.translate(question.text, LANGUAGES[lang])
            if translated and translated != question.text:
                translations.append(understand(translated, translator, vocabularies))
    return Query(question, tuple(translations))


def _translating(translator: Translator, vocabularies: Mapping[str, Mapping[str, int]]) -> Translate:
    """Words of a follow-up put in the other language with the dictionary, each word by its best translation in
    the articles' vocabulary ("high level" → 高层, 高层人才 → "high level talent"); "" when a word has none."""

    def translate(phrase: str, lang: str) -> str:
        source = "zh" if lang == "en" else "en"
        words = [w for w in tokenize(phrase.replace("-", " ")) if w]
        terms = translator.translate(words, source, vocabularies.get(lang) or {}) if words else []
        chosen: list[tuple[int, str]] = []
        covered: set[str] = set()
        for term in terms:  # best first: a term covers the words it translates
            sources = [w for w in tokenize(term.source.replace("-", " ")) if w in words]
            if sources and not covered & set(sources):
                covered |= set(sources)
                chosen.append((min(words.index(w) for w in sources), term.text))
        if not words or covered != set(words):
            return ""
        return ("" if lang == "zh" else " ").join(text for _, text in sorted(chosen))

    return translate


def understand(text: str, translator: Translator, vocabularies: Mapping[str, Mapping[str, int]]) -> Question:
    """One question's text analysed (language, figure wanted, terms) with its words translated by the dictionary."""
    return cross_lingual(analyse_question(clean(text)), translator, vocabularies)
