"""Follow-up questions read offline: a question that refers back ("how many of them …", 其中…, "What about X?")
is searched with the subject of the earlier turns carried into it, by grammar alone (no model, no word list of
any article)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.question import analyse
from rag.text import CJK, EN_STOP, ZH_STOP, detect_lang, tagged, tokenize

Turn = tuple[str, str]  # (question, answer text), as `Engine.ask` takes its history

# Pronouns and demonstratives that point back at something named earlier; "there" at the end of a question
# ("how many nurses work there?") and "that"/"this" after a preposition ("how much of that …").
_REFERS_EN = re.compile(
    r"\b(?:it|its|itself|they|them|their|theirs|themselves|these|those|he|him|his|she|her|hers)\b|"
    r"\b(?:of|in|for|from|about|with|by|at|to|than|on)\s+(?:that|this|there)\b|\bthere\W*$",
    re.I,
)
# A question that opens on "and", "what about", "how about" continues the one before.
_CONTINUES_EN = re.compile(r"^\W*(?:and|but|also|so|then|what about|how about)\b", re.I)
_REFERS_ZH = frozenset(
    "其中 其 它 它们 它的 该 这 那 此 这些 那些 这里 那里 这儿 那儿 他 她 他们 她们 上述 当地 前者 后者".split()
)
_CONTINUES_ZH = re.compile(r"^\W*(?:那么|那|还有|另外|而|并且)|呢\W*$")
# Demonstratives that open a word of their own (该市, 这家, 此次): jieba keeps them whole, so they are read by their
# first character.
_DEMONSTRATIVE_HEADS = "该这那此其"
# Words that frame a question rather than name its subject.
_FRAME_EN = frozenset("how many much what when which who whom whose where why year years share percent".split())
_FRAME_ZH = frozenset("多少 几 什么 何时 哪 哪些 哪一年 如何 怎样 怎么 是否 吗 呢".split())
# Words too general to be a subject ("how many people …").
_GENERIC = frozenset("people person persons time times thing things one ones 人 人数 数量 总数 总量 情况 东西".split())
# An English question with its auxiliary before the subject ("How many nurses has the Oakdale clinic hired?") puts
# its main verb after the subject, before any preposition: that verb is the predicate, not the subject.
_INVERTED = re.compile(
    r"\b(?:do|does|did|has|have|had|will|would|can|could|should)\s+(.+?)(?=\s+(?:in|on|at|for|from|by|to|during|since|of|with|over|under|between|after|before)\b|[?？.,]|$)",
    re.I,
)
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d+(?:[.,]\d+)*")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
# Parts of speech jieba gives words that name a subject: nouns, names, times, abbreviations, idioms, and words
# outside its dictionary (x: 营收, glossary words); verbs, adverbs, pronouns, particles and measure words don't.
_ZH_SUBJECT_TAGS = ("n", "t", "s", "j", "l", "i", "x", "eng", "vn", "an")
_NOUN_TAGS = ("n", "s", "j", "x", "vn", "l", "i")

UNRESOLVED = {
    "en": "This looks like a follow-up, but the earlier questions name nothing it could refer to; it was answered "
    "as it stands.",
    "zh": "这像是追问，但前面的问题里没有可指代的对象，已按原句回答。",
}


@dataclass(frozen=True)
class FollowUp:
    """A question read against the conversation: the text to search, and what was carried into it."""

    question: str
    text: str  # what is searched: the question itself, or the question with the earlier subject carried in
    carried: tuple[str, ...] = ()  # words taken from earlier questions ("nurses", "Oakdale")
    refers_back: bool = False  # the question points back (pronoun, ellipsis, no subject of its own)
    note: str | None = None  # said in the answer when it points back but nothing could be carried


def read_follow_up(question: str, history: Sequence[Turn]) -> FollowUp:
    """`question` read against the earlier turns: a question that refers back carries the previous question's
    subject (the thing counted and its qualifiers, without its verb); others are left as they are."""
    if not history or not refers_back(question):
        return FollowUp(question, question)
    lang = detect_lang(question)
    # The latest earlier turn that asked something ("Hello" asks nothing); a follow-up of a follow-up reads the chain.
    asked = [i for i, (earlier, _) in enumerate(history) if _asks(earlier)]
    if not asked:
        return FollowUp(question, question, refers_back=True, note=UNRESOLVED[lang])
    previous = read_follow_up(history[asked[-1]][0], history[: asked[-1]]).text
    if _is_fragment(question):  # "What about Oakdale?", "And in 2022?", "海外收入呢？": the earlier question, re-aimed
        text = _re_aim(previous, question)
        if text != previous:
            return FollowUp(question, text, carried=(previous,), refers_back=True)
    own = set(tokenize(question))
    names = _names(question)
    # A follow-up that counts a thing of its own ("how many nurses work there?") takes the earlier question's
    # place and qualifiers, not what it counted; one that counts "them" takes that too.
    counted = set(analyse(previous).measure) if analyse(question).measure else set()
    carried = []
    for word in subject(previous):
        tokens = set(tokenize(word))
        if re.search(r"\d", word):
            continue  # a year the earlier question states would pull the answer back to the earlier sentence
        if tokens and (tokens <= own or tokens <= counted):
            continue  # the follow-up says it already, or counts something else
        if names and word in _names(previous):
            continue  # the follow-up names a subject of its own ("and Oakdale?"): the earlier one is replaced
        carried.append(word)
    if not carried:
        return FollowUp(question, question, refers_back=True, note=UNRESOLVED[lang])
    text = f"{question}（{'，'.join(carried)}）" if lang == "zh" else f"{question} ({', '.join(carried)})"
    return FollowUp(question, text, carried=tuple(carried), refers_back=True)


def refers_back(question: str) -> bool:
    """Whether a question points at something said before: a pronoun or demonstrative (them, there, 其中, 该…),
    an opening that continues ("And …", "What about …", "那么…", "…呢？"), or no subject besides what it counts."""
    if _REFERS_EN.search(question) or _is_fragment(question):
        return True
    if (_CONTINUES_EN.search(question) or _CONTINUES_ZH.search(question)) and not _names(question):
        return True  # "And how many does Oakdale have?" continues, but names its own subject
    if CJK.search(question) and any(w in _REFERS_ZH or _is_demonstrative(w, tag) for w, tag in tagged(question)):
        return True
    return not _own_subject(question)


def subject(question: str) -> list[str]:
    """What a question is about, in its own words and order: the thing counted and its qualifiers, without the
    words that frame the question or its verb ("How many nurses has the Oakdale Children's Clinic hired?" →
    nurses, Oakdale Children Clinic)."""
    if CJK.search(question):
        pieces: list[str] = []
        joined = False  # whether the previous word was kept: neighbours make one phrase (星河 电子: 星河电子)
        previous_tag = ""
        for word, tag in tagged(question):
            # jieba tags the second half of a compound noun as a verb at times (营业 收入, 研发 投入): a verb right
            # after a noun is part of it; a verb after an adverb or a time word (已 累计 集聚) is the predicate.
            nounish = previous_tag.startswith(_NOUN_TAGS)
            keep = _names_subject(word, tag) or (
                joined and tag == "v" and nounish and len(word) > 1 and word not in ZH_STOP
            )
            if keep and joined and nounish and tag.startswith((*_NOUN_TAGS, "v")):
                pieces[-1] += word
            elif keep:
                pieces.append(word)
            joined, previous_tag = keep, tag
        return list(dict.fromkeys(pieces))
    verbs = {m.group(1).split()[-1].lower() for m in _INVERTED.finditer(question) if m.group(1).split()}
    counted = analyse(question).counted
    after = re.search(rf"\b{re.escape(counted)}\s+([a-z]+)\b", question) if counted else None
    if after:  # "How many nurses work there?": the word after the thing counted is its verb
        verbs.add(after.group(1))
    phrases: list[str] = []
    run: list[str] = []
    for word in _EN_WORD.findall(question):
        word = re.sub(r"['’]s$", "", word)  # Riverton's: Riverton
        lower = word.lower()
        keep = (
            lower not in EN_STOP
            and lower not in _FRAME_EN
            and lower not in _GENERIC
            and not (word.islower() and (lower in verbs or re.fullmatch(r"[a-z]{3,}(?:ed|ing)", lower)))
        )
        if keep and run and word[0].isupper() == run[-1][0].isupper() and word[0].isupper():
            run.append(word)  # a name of several words stays one phrase: "Oakdale Children Clinic"
            continue
        if run:
            phrases.append(" ".join(run))
        run = [word] if keep else []
    if run:
        phrases.append(" ".join(run))
    return list(dict.fromkeys(phrases))


def _asks(question: str) -> bool:
    """Whether a turn asks something: a question word, a kind of figure wanted, or a question mark."""
    return analyse(question).wants != "any" or bool(
        re.search(r"[?？]\W*$|\b(?:how|what|when|which|who|where|why)\b|多少|几|什么|何时|哪|吗", question, re.I)
    )


def _own_subject(question: str) -> bool:
    """Whether a question names something besides the thing it counts and its question words."""
    parsed = analyse(question)
    counted = set(parsed.measure)
    frame = _FRAME_ZH if parsed.lang == "zh" else _FRAME_EN
    content = [t for t in tokenize(question) if t not in counted and t not in frame and t not in _GENERIC]
    return bool(content) or bool(parsed.figures) or bool(_names(question))


def _is_fragment(question: str) -> bool:
    """A follow-up that asks nothing of its own ("What about Oakdale?", "And in 2022?", "海外收入呢？")."""
    bare = re.sub(
        r"^\W*(?:and|but|also|so|then|what about|how about)\b|^\W*(?:那么|那|还有|另外|而)|呢\W*$",
        "",
        question,
        flags=re.I,
    )
    return not re.search(r"\b(?:how|what|when|which|who|where|why)\b|多少|几|什么|何时|哪|如何|怎", bare, re.I)


def _re_aim(previous: str, fragment: str) -> str:
    """The earlier question aimed at what a fragment names: its names and years replace the earlier ones
    ("How many hospitals does Greenfield have?" + "What about Oakdale?" → "… does Oakdale have?"); other
    words of the fragment are added."""
    text = previous
    for old, new in ((_names(previous), _names(fragment)), (_YEAR.findall(previous), _YEAR.findall(fragment))):
        if old and new:
            text = text.replace(old[0], new[0], 1)
    added = [w for w in subject(fragment) if w not in text and w not in _names(fragment) and not _YEAR.fullmatch(w)]
    counted = set(analyse(previous).measure)
    asked_about = [p for p in subject(previous) if counted & set(tokenize(p)) and not re.search(r"\d", p)]
    if added and asked_about:  # "What about nurses?", "研发投入呢？": a thing of its own replaces the thing asked about
        return text.replace(asked_about[0], " ".join(added) if not CJK.search(fragment) else "".join(added), 1)
    if added:
        text = f"{text}（{'，'.join(added)}）" if CJK.search(fragment) else f"{text} ({', '.join(added)})"
    return text


def _names(question: str) -> list[str]:
    """The proper names a question uses: runs of capitalized English words past its first word, and the words
    jieba tags as names of places, people and organisations."""
    if CJK.search(question):
        found = [w for w, tag in tagged(question) if tag in ("ns", "nr", "nt", "nz")]
    else:
        words = _EN_WORD.findall(question)
        found, run = [], []
        for position, word in enumerate(words):
            if position and word[0].isupper():
                run.append(word)
                continue
            if run:
                found.append(" ".join(run))
            run = []
        if run:
            found.append(" ".join(run))
    return found


def _names_subject(word: str, tag: str) -> bool:
    if word in ZH_STOP or word in _FRAME_ZH or word in _GENERIC or word in _REFERS_ZH:
        return False
    if tag == "m":  # a year or a figure the question states is a qualifier; 多少, 几 are not
        return bool(re.search(r"\d", word))
    return (
        tag.startswith(_ZH_SUBJECT_TAGS) and bool(CJK.search(word) or tag == "eng") and not _is_demonstrative(word, tag)
    )


def _is_demonstrative(word: str, tag: str) -> bool:
    return tag == "r" and word[0] in _DEMONSTRATIVE_HEADS
