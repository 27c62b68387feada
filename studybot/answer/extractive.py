"""The extractive answer: sentences lifted from the sources themselves, each cited.

It is what the user sees whenever a generation cannot be trusted, so it must stand on its own:
the notes' own interview answers first (in the question's language when the note gives both),
then the sentences that cover most of the question, weighted by how rare each question word is
among the candidates, skipping anything that repeats what is already said, within a budget
well under the 800 characters an interview answer may take.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from studybot.content.glossary import Glossary
from studybot.index.expansion import lexical_tokens
from studybot.ingest.notes import closes_fence, fence_opening
from studybot.answer.sources import Source
from studybot.text.language import language
from studybot.text.sentences import split_quotable
from studybot.text.tokens import word_key, word_keys

BUDGET_CHARS = 600
DUPLICATE_SHARE = 0.7  # a unit whose tokens are mostly said already adds nothing
ANSWER_RELEVANCE = 0.5  # an answer block joins when it covers at least half as much as the best one
OTHER_LANGUAGE_WEIGHT = 0.5
SENTENCE_RELEVANCE = 0.15  # filler below this share of the best sentence's score is left out
RANK_DECAY = 0.1  # a lower-ranked source's sentence needs to cover a little more of the question
MIN_CHARS = 8

_LABEL = re.compile(r"^\s*(中文|汉语|Chinese|English|英文)\s*[:：]\s*", re.IGNORECASE)
_LABEL_LANGUAGE = {"中文": "zh", "汉语": "zh", "chinese": "zh", "english": "en", "英文": "en"}
_BULLET = re.compile(r"^\s*(?:[-+*•→]|\d+[.)、]|[（(]?\d+[)）])\s+")
_SYMBOLS = re.compile(r"[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50\uFE0F]")
_MARKUP = re.compile(r"\*\*|__|`|\$")
_FOLLOW_UP = re.compile(r"^\s*Q\s*[:：].*?\bA\s*[:：]\s*(.*)$")
_PLACEHOLDER = re.compile(r"\bimage\b")  # an image the export lost: the sentence lacks its formula
_SKIP = re.compile(r"^\s*(?:\||#|```|~~~|\$\$|!\[|References?:|参考)|studybot demo", re.IGNORECASE)


@dataclass
class _Unit:
    source: Source
    position: int
    text: str
    tokens: frozenset[str]
    language: str
    context: frozenset[str] = frozenset()  # an answer block's heading path: the question it answers


def _clean(line: str) -> str:
    line = _SYMBOLS.sub("", line)
    line = _BULLET.sub("", line)
    line = _MARKUP.sub("", line)
    return re.sub(r"\s+", " ", line).strip()


def _halves(line: str) -> list[str]:
    """A bilingual line `中文。/ English.` as its two halves; a follow-up `Q: ... A: ...` as its answer."""
    qa = _FOLLOW_UP.match(line)
    if qa:
        line = qa.group(1)
    parts = [p.strip() for p in re.split(r"\s*/\s+", line) if p.strip()]
    if len(parts) > 1 and len({language(p) for p in parts}) > 1:
        return parts
    return [line]


def _useful(text: str) -> bool:
    return (len(text) >= MIN_CHARS and not text.endswith((":", "：")) and not _SKIP.search(text)
            and not (_PLACEHOLDER.search(text) and language(text) == "zh"))


def _answer_parts(text: str) -> list[tuple[str, str]]:
    """(language, paragraph) pairs of an interview-answer block; labelled parts keep their label's language."""
    lines = [re.sub(r"^\s*>\s?", "", line) for line in text.splitlines()]
    parts: list[tuple[str, str]] = []
    for paragraph in re.split(r"\n\s*\n", "\n".join(lines)):
        label = _LABEL.match(paragraph)
        body = _clean(" ".join(_LABEL.sub("", paragraph).split("\n")))
        if _useful(body):
            lang = _LABEL_LANGUAGE[label.group(1).lower()] if label else language(body)
            parts.append((lang, body))
    return parts


def _units(source: Source) -> tuple[list[_Unit], list[_Unit]]:
    """(answer paragraphs, sentences) of one source."""
    def unit(position: int, text: str, lang: str | None = None) -> _Unit:
        return _Unit(source, position, text, word_keys(text), lang or language(text))

    if source.kind == "answer":
        parts = _answer_parts(source.text)
        heading = word_keys(source.path)
        answers = [replace(unit(i, text, lang), context=heading) for i, (lang, text) in enumerate(parts)]
        sentences = [unit(i * 100 + j, s, lang) for i, (lang, text) in enumerate(parts)
                     for j, s in enumerate(split_quotable(text)) if _useful(s)]
        return answers, sentences
    sentences: list[_Unit] = []
    fence: str | None = None
    for line in source.text.splitlines():
        if fence is not None:
            if closes_fence(line, fence):
                fence = None
            continue
        fence = fence_opening(line)
        if fence or _SKIP.search(line):
            continue
        for half in _halves(_clean(re.sub(r"^\s*>\s?", "", line))):
            for sentence in split_quotable(half):
                if _useful(sentence):
                    sentences.append(unit(len(sentences), sentence))
    return [], sentences


def _weights(question: frozenset[str], units: list[_Unit]) -> dict[str, float]:
    """Inverse document frequency of each question token among the candidate units."""
    n = len(units) or 1
    return {t: math.log(1 + n / (1 + sum(t in u.tokens for u in units))) for t in question}


def _coverage(unit: _Unit, weights: dict[str, float]) -> float:
    total = sum(weights.values()) or 1.0
    return sum(w for t, w in weights.items() if t in unit.tokens or t in unit.context) / total


def _duplicate(unit: _Unit, said: set[str]) -> bool:
    return bool(unit.tokens) and len(unit.tokens & said) / len(unit.tokens) >= DUPLICATE_SHARE


def _fits(text: str, used: int, budget: int) -> bool:
    return used + len(text) + 2 <= budget


def extractive_answer(question: str, sources: list[Source], glossary: Glossary, budget: int = BUDGET_CHARS) -> str:
    """An answer made of cited passages from the sources, at most `budget` characters long."""
    lang = language(question)
    question_tokens = frozenset(word_key(t) for t in lexical_tokens(question, glossary))
    answers: list[_Unit] = []
    sentences: list[_Unit] = []
    for source in sources:
        a, s = _units(source)
        answers += a
        sentences += s
    weights = _weights(question_tokens, answers + sentences)
    chosen: list[_Unit] = []
    said: set[str] = set()
    used = 0

    def take(unit: _Unit) -> bool:
        nonlocal used
        text = f"{unit.text} [{unit.source.n}]"
        if _duplicate(unit, said) or not _fits(text, used, budget):
            return False
        chosen.append(unit)
        said.update(unit.tokens)
        used += len(text) + 2
        return True

    def score(unit: _Unit) -> float:
        weight = 1.0 if unit.language == lang else OTHER_LANGUAGE_WEIGHT
        return weight * _coverage(unit, weights) / (1 + RANK_DECAY * (unit.source.n - 1))

    in_language = [u for u in answers if u.language == lang] or answers
    best = max((score(u) for u in in_language), default=0.0)
    for unit in sorted(in_language, key=lambda u: -score(u)):
        if score(unit) <= 0 or score(unit) < ANSWER_RELEVANCE * best:
            continue
        if not take(unit):  # too long: keep its leading sentences that fit
            for sentence in (s for s in sentences if s.source is unit.source and s.position // 100 == unit.position):
                if not take(sentence):
                    break

    answered = {id(u.source) for u in chosen}
    candidates = [u for u in sentences if id(u.source) not in answered]
    start = len(chosen)
    ranked = sorted(candidates, key=lambda u: (-score(u), len(u.text)))
    floor = SENTENCE_RELEVANCE * score(ranked[0]) if ranked else 0.0
    for unit in ranked:
        if score(unit) > 0 and score(unit) >= floor:
            take(unit)
    chosen[start:] = sorted(chosen[start:], key=lambda u: (u.source.n, u.position))
    return "\n\n".join(f"{u.text} [{u.source.n}]" for u in chosen)
