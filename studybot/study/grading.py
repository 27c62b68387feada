"""Grade a free-text answer by the key points it covers; choices and clozes are exact.

A key point counts as covered when one of its synonyms is (mostly) present in the answer's
tokens, jieba words for Chinese and word stems for English, after the answer is expanded with
the glossary aliases of the concepts it names (so `批归一化` meets `BatchNorm`), or, optionally,
when an answer sentence is close to the point in embedding space. Coverage becomes a score of
0-5 and the score a scheduler rating. The thresholds were chosen on
tests/data/grading_calibration.yaml (benchmarks/quiz.py prints the sweep).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Callable

import numpy as np

from studybot.study.cards import Card, reference_sentences
from studybot.content.schema import KeyPoint
from studybot.content.glossary import Glossary
from studybot.text.tokens import add_words, tokenize, word_key

# Share of a synonym's tokens the answer must contain: 0.5 let wrong answers that share words
# through (40% of them scored above 1); 0.6 is the loosest with none, and keeps most bank references >= 4.
LEXICAL_THRESHOLD = 0.6
# Cosine between a key point's English synonyms and an answer sentence. Off by default: with
# the English MiniLM no threshold from 0.5 to 0.8 changed calibration agreement (right answers
# in other words scored cosines of 0.1-0.35, a wrong one 0.42) and it costs ~80x the latency.
EMBED_THRESHOLD = 0.75
RATINGS = ("again", "hard", "good", "easy")
# 0-1: not recalled; 2: fragments; 3-4: the substance; 5: everything. An exact question only
# proves recognition, so a right pick is Good, not Easy.
RATING_BY_SCORE = {0: "again", 1: "again", 2: "hard", 3: "good", 4: "good", 5: "easy"}
EXACT_SCORE = {True: 5, False: 0}
EXACT_RATING = {True: "good", False: "again"}


@dataclass
class Grade:
    score: int  # 0-5
    rating: str  # again | hard | good | easy
    covered: list[str]
    missed: list[str]
    method: str  # "key points", "key points + embeddings", "exact"

    def to_dict(self) -> dict:
        return asdict(self)


GRADERS: dict[str, Callable[["Grader", Card, str], Grade]] = {}


def grades(kind: str) -> Callable:
    """Register the grading rule for a card kind (short, choice, cloze)."""

    def register(fn: Callable[["Grader", Card, str], Grade]) -> Callable[["Grader", Card, str], Grade]:
        GRADERS[kind] = fn
        return fn

    return register


def point_label(point: KeyPoint) -> str:
    """How feedback names a key point: its first Chinese and English synonyms."""
    zh, en = point.zh[0], point.en[0]
    return zh if zh == en else f"{zh} / {en}"


def _normal(text: str) -> str:
    """Case, width and punctuation folded: how cloze fills and option texts are compared."""
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\s\W_]+", "", text)


def score_from_coverage(covered: int, total: int) -> int:
    """0-5, rounding half up: 4 of 5 points is 4, 2 of 4 is 3."""
    return int(5 * covered / total + 0.5) if total else 0


class Grader:
    """Grades answers for one session; the glossary and (optionally) the embedder are loaded once."""

    def __init__(
        self, glossary: Glossary, use_embeddings: bool = False,
        lexical_threshold: float = LEXICAL_THRESHOLD, embed_threshold: float = EMBED_THRESHOLD,
    ) -> None:
        self.glossary = glossary
        add_words(a for e in glossary.entries for a in e.zh)
        self.use_embeddings = use_embeddings
        self.lexical_threshold = lexical_threshold
        self.embed_threshold = embed_threshold
        self._vectors: dict[str, np.ndarray] = {}

    @cached_property
    def embedder(self):
        from studybot.index.embedders import load_query_embedder

        return load_query_embedder(None)

    def grade(self, card: Card, answer: str) -> Grade:
        return GRADERS[card.kind](self, card, answer)

    # --- key points --------------------------------------------------------------------------

    def answer_tokens(self, answer: str, question: str = "") -> set[str]:
        """The answer's stems plus the aliases of the concepts it names, except those the question names:
        restating the question's subject ("activation functions ...") must not earn its key points."""
        asked = {entry.id for entry in self.glossary.find(question)}
        aliases = [a for entry in self.glossary.find(answer) if entry.id not in asked for a in entry.aliases]
        return {word_key(t) for t in tokenize(f"{answer}\n{' '.join(aliases)}")}

    def lexical_match(self, synonym: str, tokens: set[str]) -> bool:
        wanted = {word_key(t) for t in tokenize(synonym)}
        return bool(wanted) and len(wanted & tokens) / len(wanted) >= self.lexical_threshold

    def _embed(self, texts: list[str]) -> np.ndarray:
        from studybot.index.expansion import embed_query

        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            vectors = self.embedder.encode([embed_query(t, self.glossary) for t in missing])
            self._vectors.update(zip(missing, vectors))
        return np.stack([self._vectors[t] for t in texts])

    def semantic_matches(self, points: list[KeyPoint], answer: str) -> list[bool]:
        """Whether some answer sentence is within the embedding threshold of each point (English synonyms)."""
        parts = reference_sentences(answer) or [answer]
        answer_vectors = self._embed(parts)
        point_vectors = self._embed(["; ".join(p.en) for p in points])
        return list((point_vectors @ answer_vectors.T).max(axis=1) >= self.embed_threshold)

    def coverage(self, points: list[KeyPoint], answer: str, question: str = "") -> list[bool]:
        tokens = self.answer_tokens(answer, question)
        hits = [any(self.lexical_match(s, tokens) for s in [*p.zh, *p.en]) for p in points]
        if self.use_embeddings and answer.strip() and not all(hits):
            hits = [h or s for h, s in zip(hits, self.semantic_matches(points, answer))]
        return hits


@grades("short")
def _grade_short(grader: Grader, card: Card, answer: str) -> Grade:
    hits = grader.coverage(card.key_points, answer, f"{card.question.zh}\n{card.question.en}")
    score = score_from_coverage(sum(hits), len(hits))
    return Grade(
        score=score, rating=RATING_BY_SCORE[score],
        covered=[point_label(p) for p, h in zip(card.key_points, hits) if h],
        missed=[point_label(p) for p, h in zip(card.key_points, hits) if not h],
        method="key points + embeddings" if grader.use_embeddings else "key points",
    )


def _exact(card: Card, right: bool, what: str) -> Grade:
    return Grade(score=EXACT_SCORE[right], rating=EXACT_RATING[right], covered=[what] if right else [],
                 missed=[] if right else [what], method="exact")


def chosen_option(card: Card, answer: str) -> int | None:
    """The option an answer picks: a letter (A-E), a 1-based number, or the option's text."""
    text = answer.strip().rstrip(".)）")
    if len(text) == 1 and text.upper() in "ABCDE"[:len(card.options)]:
        return "ABCDE".index(text.upper())
    if text.isdigit() and 1 <= int(text) <= len(card.options):
        return int(text) - 1
    for i, option in enumerate(card.options):
        if _normal(text) in (_normal(option.zh), _normal(option.en)):
            return i
    return None


@grades("choice")
def _grade_choice(grader: Grader, card: Card, answer: str) -> Grade:
    right = card.options[card.correct]
    label = f"{'ABCDE'[card.correct]}. {right.zh if right.zh == right.en else right.zh + ' / ' + right.en}"
    return _exact(card, chosen_option(card, answer) == card.correct, label)


@grades("cloze")
def _grade_cloze(grader: Grader, card: Card, answer: str) -> Grade:
    right = _normal(answer) in {_normal(a) for a in card.accepted}
    return _exact(card, right, " / ".join(card.accepted[:3]))


def agreement(grader: Grader, cases: list[dict], cards: dict[str, Card]) -> dict:
    """How often scores fall in hand-labelled bands (tests/data/grading_calibration.yaml), overall and per kind.

    A case is {id, kind, band: [lo, hi], answer} or, for kind reference, {id, lang} to grade the card's own answer.
    """
    rows = []
    for case in cases:
        card = cards[case["id"]]
        answer = case.get("answer") or getattr(card.answer, case["lang"])
        score = grader.grade(card, answer).score
        lo, hi = case["band"]
        rows.append({"id": card.id, "kind": case["kind"], "score": score, "band": [lo, hi], "ok": lo <= score <= hi})
    kinds: dict[str, list[bool]] = {}
    for row in rows:
        kinds.setdefault(row["kind"], []).append(row["ok"])
    return {
        "agreement": sum(r["ok"] for r in rows) / len(rows) if rows else 0.0,
        "by_kind": {kind: sum(oks) / len(oks) for kind, oks in kinds.items()},
        "misses": [r for r in rows if not r["ok"]],
    }
