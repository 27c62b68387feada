"""Checks a generated answer must pass before it is shown as final.

A small model fails in recognisable ways: it says nothing, loops on a phrase, drifts into the
wrong language, cites nothing, or writes fluent sentences the sources do not contain. Each
check is a function in a registry, run in order; the first failure is the one-line reason the
user sees above the extractive answer that replaces the generation.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable

from studybot.answer.sources import CITATION, Source, resolve_citations
from studybot.text.language import language
from studybot.text.sentences import split_sentences
from studybot.text.tokens import tokenize, word_keys

MIN_CHARS = 12
NGRAM = 4
MAX_NGRAM_REPEATS = 2  # a 4-token phrase said three times is a loop
SUPPORTED_TOKEN_SHARE = 0.6  # a sentence is supported when most of its words are in the sources
MIN_GROUNDED_SHARE = 0.7  # ... and most sentences must be
MIN_SENTENCE_TOKENS = 3

Check = Callable[[str, str, list[Source]], "str | None"]
CHECKS: dict[str, Check] = {}


def check(name: str) -> Callable[[Check], Check]:
    """Register a check: (answer, question, sources) -> None when it passes, else the reason."""

    def register(fn: Check) -> Check:
        CHECKS[name] = fn
        return fn

    return register


def _prose(answer: str) -> str:
    return CITATION.sub("", answer).strip()


@check("empty")
def _empty(answer: str, question: str, sources: list[Source]) -> str | None:
    return "the model gave an empty answer" if len(_prose(answer)) < MIN_CHARS else None


@check("repetition")
def _repetition(answer: str, question: str, sources: list[Source]) -> str | None:
    tokens = tokenize(_prose(answer))
    grams = Counter(tuple(tokens[i:i + NGRAM]) for i in range(len(tokens) - NGRAM + 1))
    if grams:
        gram, count = grams.most_common(1)[0]
        if count > MAX_NGRAM_REPEATS:
            return f"the model repeated itself (\"{' '.join(gram)}\" {count} times)"
    lines = [line.strip() for line in answer.splitlines() if line.strip()]
    if len(lines) > 2 and len(set(lines)) <= len(lines) / 2:
        return "the model repeated the same lines"
    return None


@check("language")
def _language(answer: str, question: str, sources: list[Source]) -> str | None:
    wanted, got = language(question), language(_prose(answer))
    names = {"zh": "Chinese", "en": "English"}
    return None if wanted == got else f"the answer is in {names[got]} but the question is in {names[wanted]}"


@check("citation")
def _citation(answer: str, question: str, sources: list[Source]) -> str | None:
    """A citation is a number of one of the sources outside code: `outputs[1]` in a code block cites nothing."""
    return None if resolve_citations(answer, sources)[1] else "the answer cites no source"


def grounded_share(answer: str, sources: list[Source]) -> float:
    """Share of the answer's sentences (of 3+ words) whose words mostly appear in the sources."""
    known = frozenset().union(*(word_keys(f"{s.path}\n{s.text}") for s in sources))
    counted = supported = 0
    for sentence in split_sentences(_prose(answer)):
        tokens = word_keys(sentence)
        if len(tokens) < MIN_SENTENCE_TOKENS:
            continue
        counted += 1
        supported += len(tokens & known) / len(tokens) >= SUPPORTED_TOKEN_SHARE
    return supported / counted if counted else 0.0


@check("grounding")
def _grounding(answer: str, question: str, sources: list[Source]) -> str | None:
    share = grounded_share(answer, sources)
    if share < MIN_GROUNDED_SHARE:
        return f"only {share:.0%} of the answer's sentences are supported by your notes"
    return None


def verify(answer: str, question: str, sources: list[Source]) -> str | None:
    """None when the answer passes every check, else the first failure's reason."""
    for fn in CHECKS.values():
        reason = fn(answer, question, sources)
        if reason:
            return reason
    return None
