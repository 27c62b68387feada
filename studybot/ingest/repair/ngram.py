"""A character trigram model of the document being repaired: the middle tier between jieba and Gemma.

jieba's unigram lattice cannot tell 与, 中 and 不 apart (they lose the same bytes and each makes
a word); the characters around a spot often can, and the file being repaired is the best source
of how its own text goes: 80-90% of it is intact. So the model is counted from the bundled notes
plus the document itself, its intact characters and the repairs jieba is too sure of to be rescored
(a damaged character is never intact text: every candidate loses bytes, so without the repairs the
file would say nothing about them; a repair rescored is no evidence for itself). Where jieba is
unsure, each joint choice of a cluster is scored by the trigram log-probability of the characters
it changes, damped by `NGRAM_WEIGHT` (the model is sure of itself on thin counts), plus jieba's
log-posterior; that settles most such spots at a few microseconds each, and Gemma sees only those
the two still disagree on.
"""

from __future__ import annotations

import math
from collections import Counter
from functools import lru_cache

from studybot.ingest.repair.scoring import (Options, Posteriors, Scorer, best_chars, get_scorer, joint_candidates,
                                            joint_logp, scorer, settle, unsure_clusters)

ORDER = 3  # characters of an n-gram (dev: 2, 3 and 4 within a spot of each other; 3 the best calibrated)
UNKNOWN = "\0"  # a character not known (a guess): no n-gram spans it
LINE = "\n"  # what a line's first character follows
FLOOR = 1 / 30_000  # probability of a character never seen: about one over the common CJK characters
NGRAM_WEIGHT = 0.5  # the trigram's log-probability counts half next to jieba's log-posterior
# jieba posteriors below this are rescored, not only those the report would flag (under 0.9): its unigram words make
# it sure where a common word reads across a rare one ("连乘后指数衰减" as 连乘坐 at 0.955: 乘坐 "to ride" is common,
# 连乘 rare, and the notes write 连乘后). Its choices at 0.9-0.99 were wrong at 17 of 1,349 spots of 13 texts, those
# over 0.99 at 6 of 7,969; rescored, and out of the document's text, the trigram tier's wrong choices there went from
# 315 to 308 (those it was sure of, 63 to 58)
UNSURE = 0.99
TOP_K, MIN_SHARE = 4, 0.001  # candidates per spot: the true one is in jieba's top 4 at 99.6% of unsure spots
GAP, MAX_JOINT, MAX_COMBOS = 2, 3, 27  # unsure spots this close are decided jointly, at most 3 at a time
VERSION = f"ngram-1:{ORDER}:{FLOOR:.3g}:{NGRAM_WEIGHT}:{UNSURE}:{TOP_K}:{MIN_SHARE}:{GAP}:{MAX_JOINT}:{MAX_COMBOS}"


class CharNgram:
    """Interpolated Witten-Bell character n-grams: each order backs off to the one below it in
    proportion to how many different characters its history has been seen before."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}  # n-gram (1 to ORDER characters) -> occurrences
        self.context: dict[str, int] = {}  # history (0 to ORDER-1 characters) -> occurrences of n-grams after it
        self.types: dict[str, int] = {}  # history -> distinct characters seen after it

    def add(self, text: str) -> None:
        """Count the n-grams of `text`; UNKNOWN marks a character no n-gram may span."""
        counts, context, types = self.counts, self.context, self.types
        for k in range(1, ORDER + 1):
            for gram, n in Counter(text[i:i + k] for i in range(len(text) - k + 1)).items():
                if UNKNOWN in gram:
                    continue
                history, old = gram[:-1], counts.get(gram, 0)
                if not old:
                    types[history] = types.get(history, 0) + 1
                counts[gram] = old + n
                context[history] = context.get(history, 0) + n

    def copy(self) -> CharNgram:
        twin = CharNgram()
        twin.counts, twin.context, twin.types = dict(self.counts), dict(self.context), dict(self.types)
        return twin

    def logp(self, history: str, char: str) -> float:
        """log P(char | the last ORDER-1 characters of history)."""
        p = FLOOR
        for k in range(min(len(history), ORDER - 1) + 1):
            seen = history[len(history) - k:]
            total = self.context.get(seen)
            if not total:
                break  # a longer history is unseen too
            types = self.types[seen]
            p = (self.counts.get(seen + char, 0) + types * p) / (total + types)
        return math.log(p)

    def span_logp(self, chars: list[str], first: int, last: int) -> float:
        """log P of chars[first:last + ORDER] given what precedes them: every term a choice in
        first..last changes, and only those."""
        text = LINE + "".join(chars)
        return sum(self.logp(text[max(0, i - ORDER + 1):i], text[i])
                   for i in range(first + 1, min(len(text), last + 1 + ORDER)))


@lru_cache(maxsize=1)
def bundled_model() -> CharNgram:
    """The n-grams of the bundled notes: how Chinese notes on these topics go, counted once."""
    from studybot.home import bundled_dir

    model = CharNgram()
    for note in sorted(bundled_dir("knowledge").glob("*.md")):
        model.add(note.read_text(encoding="utf-8"))
    return model


class NgramRescorer:
    """jieba's lattice, with its unsure spots rescored by a character trigram model."""

    def __init__(self, base: Scorer, model: CharNgram, version: str,
                 known: dict[tuple[tuple[str, ...], ...], Posteriors] | None = None) -> None:
        self.base, self.model, self.version = base, model, version
        self.known = known or {}  # the base's posteriors of lines `for_document` already scored

    def __call__(self, options: Options) -> Posteriors:
        known = self.known.get(tuple(options))
        posteriors = {pos: dict(probs) for pos, probs in known.items()} if known is not None else self.base(options)
        chars = best_chars(options, posteriors)
        for cluster in unsure_clusters(posteriors, UNSURE, GAP, MAX_JOINT):
            shortlists, combos = joint_candidates(cluster, posteriors, TOP_K, MIN_SHARE, MAX_COMBOS)
            if len(combos) < 2:
                continue
            scores = []
            for combo in combos:
                trial = chars[:]
                for pos, char in zip(cluster, combo):
                    trial[pos] = char
                scores.append(NGRAM_WEIGHT * self.model.span_logp(trial, cluster[0], cluster[-1])
                              + joint_logp(cluster, combo, posteriors))
            settle(cluster, shortlists, combos, scores, posteriors, chars)
        return posteriors

    def for_document(self, lines: list[Options]) -> NgramRescorer:
        """This scorer with the document's own text added to the model: its intact characters and
        the repairs jieba is too sure of to be rescored, every line's (so a resumed run learns what a fresh one
        does): counted, the 连乘坐 it was 0.955 sure of outweighed the bundled notes' 连乘后."""
        known, texts = {}, []
        for options in lines:
            posteriors = self.base(options) if any(len(opts) > 1 for opts in options) else {}
            if posteriors:
                known[tuple(options)] = posteriors
            texts.append("".join(
                opts[0] if len(opts) == 1 else _confident(posteriors.get(pos, {})) for pos, opts in enumerate(options)))
        model = self.model.copy()
        model.add(LINE.join(texts))
        return NgramRescorer(self.base, model, self.version, known)


def _confident(probs: dict[str, float]) -> str:
    best = max(probs, key=probs.get, default=UNKNOWN)
    return best if probs.get(best, 0.0) >= UNSURE else UNKNOWN


@scorer("ngram")
def ngram_rescorer() -> NgramRescorer:
    """jieba, with a trigram model of the bundled notes (and of the document, `for_document`) where it is unsure."""
    base = get_scorer("jieba")
    return NgramRescorer(base, bundled_model(), f"{VERSION}+{base.version}")
