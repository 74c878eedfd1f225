"""Follow-up questions read offline: a question that refers back ("how many of them …", 其中…, "What about X?")
is searched with the subject of the earlier turns carried into it, by grammar alone (no model, no word list of
any article)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.question import analyse
from rag.text import CJK, CJK_RUN, EN_STOP, ZH_STOP, detect_lang, tagged, tokenize

Turn = tuple[str, str]  # (question, answer text), as `Engine.ask` takes its history
Translate = Callable[[str, str], str]  # (phrase, language) → the phrase in that language, "" when unknown

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

# A follow-up that narrows the earlier measure: "how many of them are high-level?", "how many of which are women?"
_SUBSET_EN = re.compile(
    r"\bhow (?:many|much) of (them|these|those|which|it|this|that)\s+(?:are|were|is|was)\s+([A-Za-z][\w -]*?)\s*[?.]*$",
    re.I,
)
_THERE = re.compile(
    r"(\s)(?:in |at )?(?:there|that place)\b(?=\W*$)|(\s)(?:in|at) (?:that|this) (?:place|city|town)\b", re.I
)
_PREPOSITION = re.compile(r"(?:in|on|at|from|of|with|under|over|among|for|by)\b", re.I)
_OBJECT_PRONOUN = re.compile(r"\b(?:of|from|to|for|in|on|with|by|about)\s+(?:them|it|these|those)\b", re.I)
_POSSESSIVE_EN = re.compile(r"\b(?:its|their)\b", re.I)
_PRONOUN_EN = re.compile(r"\b(?:it|them|they|these|those|this|that)\b(?!\s+(?:is|was|are|were)\b\s*[?]?$)", re.I)
_CONTINUES_OPENING = re.compile(r"^\W*(?:and|but|also|so|then)\b\W*", re.I)
_FRAGMENT_OPENING = r"^\W*(?:and|but|also|so|then|what about|how about)\b|^\W*(?:那么|那|还有|另外|而)|呢(?=\W*$)"
# Times counted from the one the earlier turn stated: grammar of both languages, not words of an article.
_RELATIVE = [
    (
        re.compile(
            r"\b(?:a|one) year (?:later|after(?:wards)?)\b|\bthe (?:next|following) year\b|\bthe year after\b|次年|第二年|后一年|翌年|下一年|明年",
            re.I,
        ),
        1,
    ),
    (
        re.compile(
            r"\b(?:a|one) year (?:earlier|before)\b|\bthe (?:previous|preceding|prior) year\b|\bthe year before\b|\blast year\b|去年|上一年|前一年|上年",
            re.I,
        ),
        -1,
    ),
    (re.compile(r"前年|\btwo years (?:earlier|before)\b", re.I), -2),
    (re.compile(r"\btwo years later\b", re.I), 2),
]
_RELATIVE_WORDS = frozenset("去年 今年 明年 前年 次年 上年 翌年".split())
_TIME_WORDS = _RELATIVE_WORDS
_YEAR_ZH = re.compile(r"(?:19|20)\d\d年")
_ZH_TIME = re.compile(r"(?:19|20)\d\d年|去年|今年|前年|上年")

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


@dataclass(frozen=True)
class Slots:
    """What a question is about, as it writes it: who or what (entity: a place, a company, a group), when (time), the
    thing measured with its qualifiers (measure), and the kind of figure it wants."""

    lang: str
    entity: str = ""  # "the Westhaven port", "the city", 星河电子
    time: str = ""  # "2021", 2023年, 去年
    measure: str = ""  # "talents", "high-level talents", 营业收入
    wants: str = "any"  # rag.question's kind of figure: count, amount, date, percent …


def read_follow_up(question: str, history: Sequence[Turn], translate: Translate | None = None) -> FollowUp:
    """`question` read against the earlier turns as the standalone question the reader means: what the follow-up
    states (a place, a time, a measure, a qualifier) replaces what the latest earlier question stated, the rest
    carries over; a question that does not refer back is left as it is."""
    if not history or not refers_back(question):
        return FollowUp(question, question)
    lang = detect_lang(question)
    # The latest earlier turn that asked something ("Hello" asks nothing); a follow-up of a follow-up reads the chain.
    asked = [i for i, (earlier, _) in enumerate(history) if _asks(earlier)]
    if not asked:
        return FollowUp(question, question, refers_back=True, note=UNRESOLVED[lang])
    # The chain is read in the reader's own words; only the last reading is put in one language.
    previous = read_follow_up(history[asked[-1]][0], history[: asked[-1]]).text
    earlier = slots(previous)
    if not (earlier.entity or earlier.measure):
        return FollowUp(question, question, refers_back=True, note=UNRESOLVED[lang])
    text = standalone(question, previous, earlier, translate)
    carried = tuple(
        value
        for value in (earlier.entity, earlier.time, earlier.measure)
        if value and _bare(value) not in question.lower() and _bare(value) in text.lower()
    )
    if text == question:
        return FollowUp(question, question, refers_back=True, note=UNRESOLVED[lang])
    return FollowUp(question, text, carried=carried, refers_back=True)


def slots(question: str) -> Slots:
    """The entity, time and measure a (standalone) question states, each as the question writes it."""
    parsed = analyse(question)
    zh = bool(CJK.search(question)) and parsed.lang == "zh"
    times = _ZH_TIME.findall(question) if zh else _YEAR.findall(question)
    time = times[0] if times else ""
    pieces = [p for p in subject(question) if not re.fullmatch(r"[\d.]+年?", p) and p not in _RELATIVE_WORDS]
    names = [re.sub(r"['’]s$", "", n) for n in _names(question)]
    if zh:
        measure_words = set(parsed.measure)
        entity = next((p for p in pieces if any(n in p for n in names)), "")
        rest = [p for p in pieces if p != entity]
        if not entity and len(rest) > 1:
            entity, rest = rest[0], rest[1:]
        measure = next((p for p in rest if measure_words & set(tokenize(p))), rest[-1] if rest else "")
        words = tagged(entity) if entity else []
        while len(words) > 1 and words[-1][1].startswith("v"):  # 突尼斯航空成立: the verb is the predicate's
            words = words[:-1]
        entity = "".join(w for w, _ in words) if words else entity
        return Slots("zh", entity, time, measure, parsed.wants)
    counted = parsed.counted
    named = [n for n in names if not _YEAR.fullmatch(n)]
    others = [p for p in pieces if p not in named and (not counted or p.lower() not in counted.lower())]
    entity = named[0] if named else (others[-1] if counted and others else (others[-1] if len(others) > 1 else ""))
    if entity:
        written = re.search(rf"\bthe\s+{re.escape(entity)}\b", question)
        entity = written.group(0) if written and not named else entity
    measure = counted or next((p for p in others if _bare(p) not in _bare(entity)), "")
    return Slots("en", entity, time, measure, parsed.wants)


def standalone(question: str, previous: str, earlier: Slots, translate: Translate | None = None) -> str:
    """The follow-up `question` rewritten to stand alone, given the earlier standalone question and its slots.

    A follow-up in the other language than the earlier question's is written in the language of the words it
    carries when it only narrows them ("And how many of them are high-level?" after a Chinese question: 苏州高新区有
    多少高层人才？, the article's words), and in its own language, the carried measure translated, when it names a
    subject of its own ("What about the city?"); `translate` (phrase, language → phrase or "") does the words."""
    lang = detect_lang(question)
    time = _new_time(question, earlier)
    if translate is not None and lang != earlier.lang:
        crossed = _across(question, earlier, time, translate)
        if crossed:
            return crossed
    if _is_fragment(question):  # "What about Oakdale?", "And in 2022?", "那去年呢？": the earlier question, re-aimed
        text = _re_aim(previous, question, earlier, time)
    elif lang == "zh":
        text = _standalone_zh(question, earlier, time)
    else:
        text = _standalone_en(question, previous, earlier, time)
    return _in_one_language(text, translate) if translate is not None else text


def _in_one_language(text: str, translate: Translate) -> str:
    """An English reading's Chinese words that are not names (人才 in "How many high-level 人才 does the city
    have?") put in English, when the dictionary knows them all."""
    if detect_lang(text) != "en" or not CJK.search(text):
        return text
    for run in CJK_RUN.findall(text):
        if any(tag in ("ns", "nr", "nt", "nz") for _, tag in tagged(run)):
            continue  # a name (河西新区) is searched as written
        english = translate(run, "en")
        if english:
            text = text.replace(run, english, 1)
    return text


def keeps_stated(follow_up: str, rewritten: str) -> bool:
    """Whether a rewriting of a follow-up keeps the slots the follow-up states: its years (or the year one counted
    from the earlier turn cannot be checked, so any year), its names, and a fragment's entity or measure."""
    years = _YEAR.findall(follow_up)
    if any(year not in rewritten for year in years):
        return False
    if not years and any(p.search(follow_up) for p, _ in _RELATIVE) and not _YEAR.search(rewritten):
        return False
    said = rewritten.lower()
    names = [n for n in _names(follow_up) if not _YEAR.fullmatch(n)]
    if _is_fragment(follow_up):
        entity, measure = _fragment_parts(_strip_time(re.sub(_FRAGMENT_OPENING, "", follow_up, flags=re.I)))
        names += [_bare(p) for p in (entity, measure) if p]
    # A name said in the other language cannot be checked word for word: only same-language names are.
    same = [n for n in names if bool(CJK.search(n)) == bool(CJK.search(rewritten))]
    return all(_bare(n).lower() in said for n in same)


def _across(question: str, earlier: Slots, time: str, translate: Translate) -> str:
    """A follow-up asked in the other language than the earlier question, written as a whole question, or ""."""
    subset = _SUBSET_EN.search(question)
    if earlier.lang == "zh" and subset and earlier.measure:
        qualifier = translate(subset.group(2).strip(), "zh")
        if qualifier:
            return f"{earlier.entity}{_zh_time(time)}有多少{qualifier}{earlier.measure}？"
    return ""


def _standalone_en(question: str, previous: str, earlier: Slots, time: str) -> str:
    """An English follow-up with a question of its own: its pronoun replaced by what it points at, and the earlier
    time added unless it states one."""
    entity, measure = earlier.entity, earlier.measure
    subset = _SUBSET_EN.search(question)
    if subset and measure:  # "How many of them are high-level?": the earlier measure, narrowed
        qualifier = subset.group(2).strip()
        # "high-level" goes before the thing counted, "in the entrepreneurship category" after it
        narrowed = f"{measure} {qualifier}" if _PREPOSITION.match(qualifier) else f"{qualifier} {measure}"
        if earlier.lang == "en" and measure in previous and not time:
            return previous.replace(measure, narrowed, 1)
        owner = entity or "the articles"
        return f"How many {narrowed} does {owner} have{_in(time, 'en')}?"
    own = analyse(question).counted
    thing = f"the {measure} of {entity}" if measure and entity and not own else entity or measure
    if own and measure and entity and _OBJECT_PRONOUN.search(question):
        thing = f"the {measure} of {entity}"  # "How many people have benefited from them?": them, the earlier thing
    possessive = f"{entity}'s" if entity else thing
    text = _THERE.sub(lambda m: f"{m.group(1) or ''}in {entity or thing}", question, count=1)
    text = _POSSESSIVE_EN.sub(possessive, text, count=1)
    # A pronoun after a preposition ("of it", "from them") is the earlier thing; one before a verb, its owner.
    text = _PRONOUN_EN.sub(lambda m: thing if _after_preposition(text, m.start()) else entity or thing, text, count=1)
    text = _CONTINUES_OPENING.sub("", text).strip()
    text = text[:1].upper() + text[1:]
    if text == question or not _mentions(text, entity or measure):
        text = _append(text, f"of {thing}" if thing else "")
    if time and time not in text:
        text = _append(text, _in(time, "en").strip())
    return text


def _standalone_zh(question: str, earlier: Slots, time: str) -> str:
    """A Chinese follow-up with a question of its own: its pronoun replaced by what it points at (其中: the earlier
    entity, time and measure), or the earlier entity, time and measure put before it."""
    entity = earlier.entity
    when = _zh_time(time)
    own = [p for p in subject(question) if p not in _RELATIVE_WORDS and not re.fullmatch(r"[\d.]+年?", p)]
    counts = [w for w in analyse(question).measure if w not in _REFERS_ZH]
    # A measure of its own that shares a word with the earlier one (其中海外收入 after 营业收入, 高层次人才 after 人才)
    # is the earlier one narrowed already; one that counts something else (那里有多少医护人员？) replaces it.
    narrowed = any(set(tokenize(p)) & set(tokenize(earlier.measure)) for p in own)
    subset = question.lstrip().startswith("其中")
    measure = "" if narrowed or (counts and not subset) else earlier.measure
    words = tagged(question)
    pointing = [w for w, tag in words if (w in _REFERS_ZH or _is_demonstrative(w, tag)) and w != "其中"]
    if pointing and entity and not subset:  # 它/该公司/那里 … names what it points at: the earlier entity, in its place
        text = "".join(entity if w == pointing[0] else w for w, _ in words)
        text = re.sub(r"^\W*(?:那么|那|还有|另外|而)(?=\W*" + re.escape(entity) + ")", "", text)
        for w, tag in words:  # 该 公司 (split by jieba): the noun after the demonstrative is the entity's own
            if tag.startswith("n") and entity.endswith(w):
                text = text.replace(entity + w, entity, 1)
        return text
    body = "".join(w for w, tag in words if not (w in _REFERS_ZH or _is_demonstrative(w, tag)) and w not in _TIME_WORDS)
    body = re.sub(r"^\W*(?:那么|那|还有|另外|而)", "", body)
    if subset and measure and own:
        return f"{entity}{when}{measure}中{body}"
    return f"{entity}{when}{measure}{body}"


def _re_aim(previous: str, fragment: str, earlier: Slots, time: str) -> str:
    """The earlier question aimed at what a fragment names: a place or name replaces the earlier entity, a time
    the earlier time, other words the thing measured ("What about Oakdale?", "And in 2022?", 海外收入呢？)."""
    text = previous
    lang = "zh" if CJK.search(previous) and detect_lang(previous) == "zh" else "en"
    if time and earlier.time:
        text = text.replace(earlier.time, _zh_time(time) if lang == "zh" and earlier.time.endswith("年") else time, 1)
    elif time:
        text = _insert_time(text, time, earlier, lang)
    bare = _strip_time(re.sub(_FRAGMENT_OPENING, "", fragment, flags=re.I))
    entity, measure = _fragment_parts(bare)
    if entity:
        if earlier.entity and earlier.entity in text:
            text = text.replace(earlier.entity, entity, 1)
        else:
            text = f"{entity}{text}" if lang == "zh" else _append(text, f"in {entity}")
    if measure:
        if earlier.measure and earlier.measure in text:
            text = text.replace(earlier.measure, measure, 1)
        elif lang == "zh" and earlier.entity:
            when = _zh_time(time or earlier.time)
            text = f"{entity or earlier.entity}{when}有多少{measure}？"
        else:
            text = f"{text}（{measure}）" if lang == "zh" else _append(text, f"({measure})")
    return text


def _fragment_parts(bare: str) -> tuple[str, str]:
    """A fragment's words, less its opening and its time, as (entity, measure): a name, or a phrase after a
    preposition of place, or a definite noun phrase, is an entity; other words are the thing measured."""
    bare = re.sub(r"[?？。.!！,，\s]+$", "", bare).strip()
    if not bare:
        return "", ""
    if CJK.search(bare):
        words = tagged(bare)
        if any(tag in ("ns", "nr", "nt", "nz", "s") for _, tag in words if len(_) > 1) and not any(
            tag.startswith("v") for _, tag in words
        ):
            return bare, ""
        return "", bare
    place = re.match(r"^(?:in|at|for|among|across|from|of)\s+(.+)$", bare, re.I)
    if place:
        return place.group(1), ""
    if _names(f"X {bare}") or re.match(r"^the\s", bare, re.I):
        return bare, ""
    return "", bare


def _new_time(question: str, earlier: Slots) -> str:
    """The time a follow-up states: a year, or a year counted from the earlier one ("a year later", 去年); ""."""
    year = _YEAR.search(question)
    if year:
        return year.group(0)
    for pattern, step in _RELATIVE:
        if pattern.search(question):
            before = re.search(r"\d{4}", earlier.time)
            return str(int(before.group(0)) + step) if before else pattern.search(question).group(0)  # type: ignore[union-attr]
    return earlier.time if earlier.time and not _is_fragment(question) else ""


def _insert_time(text: str, time: str, earlier: Slots, lang: str) -> str:
    if lang == "zh":
        when = _zh_time(time)
        if earlier.entity and earlier.entity in text:
            return text.replace(earlier.entity, earlier.entity + when, 1)
        return when + text
    return _append(text, _in(time, "en").strip())


def _strip_time(text: str) -> str:
    text = _YEAR_ZH.sub("", _YEAR.sub("", text))
    for pattern, _ in _RELATIVE:
        text = pattern.sub("", text)
    return re.sub(r"^\s*(?:in|of|for)\s*(?=[?？]|$)", "", text.strip(), flags=re.I).strip()


def _zh_time(time: str) -> str:
    return f"{time}年" if re.fullmatch(r"\d{4}", time) else time


def _in(time: str, lang: str) -> str:
    if not time:
        return ""
    return f" in {time}" if re.fullmatch(r"\d{4}", time) else f" {time}"


def _append(text: str, words: str) -> str:
    """`words` added before the question's closing mark."""
    if not words:
        return text
    core = re.sub(r"[?？.。!！\s]+$", "", text)
    return f"{core} {words}?"


def _after_preposition(text: str, at: int) -> bool:
    before = text[:at].split()
    return bool(before) and bool(_PREPOSITION.fullmatch(before[-1]))


def _mentions(text: str, phrase: str) -> bool:
    return bool(phrase) and _bare(phrase) in _bare(text)


def _bare(phrase: str) -> str:
    return re.sub(r"^the\s+", "", phrase.strip(), flags=re.I).lower()


def refers_back(question: str) -> bool:
    """Whether a question points at something said before: a pronoun or demonstrative (them, there, 其中, 该…),
    an opening that continues ("And …", "What about …", "那么…", "…呢？"), or no subject besides what it counts."""
    if _REFERS_EN.search(question) or _is_fragment(question):
        return True
    if not slots(question).entity and not analyse(question).figures:
        return True  # "同比增长多少？", "What was the growth rate?": a measure with nobody it belongs to
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
    return not re.search(
        r"\b(?:how|what|when|which|who|where|why)\b|多少|几|什么|何|哪|怎|多[大高长久远重宽深]", bare, re.I
    )


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
