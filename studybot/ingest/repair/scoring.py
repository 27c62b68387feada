"""Language models that choose among the characters a damaged spot could have been.

A scorer takes one line as a list of candidate tuples (one per character; undamaged characters
have a single candidate) and returns, for each damaged position, the posterior probability of
each candidate given the whole line. Scorers register by name with `@scorer`; stronger models
(a character n-gram of the document, an LLM) rescore the spots the dictionary is unsure about,
through the shared `unsure_clusters` / `joint_candidates` / `settle` steps. A scorer that learns
from the whole document has a `for_document(lines)` method giving the scorer for that document's lines.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

from studybot.errors import StudybotError

Options = Sequence[tuple[str, ...]]
Posteriors = dict[int, dict[str, float]]
Scorer = Callable[[Options], Posteriors]
Cluster = list[int]

SCORERS: dict[str, Callable[[], Scorer]] = {}
DEFAULT_SCORER = "gemma"  # jieba, with Gemma 3 270M where jieba is unsure (registered in gemma.py)
FALLBACK_SCORER = "jieba"  # needs nothing beyond the package's own dependencies
# A choice the scorer gives less posterior than this is a guess: the report asks the user to check
# it, and each stronger tier rescores it. At or above it the choice is the scorer's confident one,
# still unverified (benchmarks/repair.py's held-out text: jieba is wrong at 1 of its 684 confident
# choices and 46 of its 166 guesses; the trigram tier at 4 of 808 and 14 of 42; gemma at 6 of 838 and 1 of 12).
CONFIDENT = 0.9


class ScorerUnavailable(Exception):
    """A scorer's model cannot be loaded on this machine (package missing, file unreadable)."""


def scorer(name: str) -> Callable[[Callable[[], Scorer]], Callable[[], Scorer]]:
    """Register a factory that builds a scorer (loading its model once) under `name`."""

    def register(factory: Callable[[], Scorer]) -> Callable[[], Scorer]:
        SCORERS[name] = factory
        return factory

    return register


@lru_cache(maxsize=None)
def get_scorer(name: str) -> Scorer:
    """The scorer registered as `name`, built on first use and kept."""
    if name not in SCORERS:
        raise StudybotError(f"unknown repair scorer {name!r}: use one of {', '.join(sorted(SCORERS))}")
    return SCORERS[name]()


@dataclass(frozen=True)
class ScorerChoice:
    """The scorer that will run for a request: its name, the callable, and its cache identity."""

    name: str
    score: Scorer
    identity: str  # name and version: cached repairs are valid only for the scorer that made them
    fallback: str = ""  # why the requested scorer is not the one that runs


@lru_cache(maxsize=None)
def resolve_scorer(name: str) -> ScorerChoice:
    """`name`'s scorer, or jieba with the reason when its model cannot be loaded; remembered."""
    try:
        score = get_scorer(name)
    except ScorerUnavailable as exc:
        fallback = resolve_scorer(FALLBACK_SCORER)
        return ScorerChoice(fallback.name, fallback.score, fallback.identity, f"{name} unavailable: {exc}")
    return ScorerChoice(name, score, f"{name}/{getattr(score, 'version', '')}")


# Punctuation and symbols are not in jieba's dictionary; rough frequencies in Chinese notes,
# on the dictionary's scale (occurrences per ~60M words), so they compete with words fairly.
_SYMBOL_FREQ = {
    **dict.fromkeys("，。", 400_000),
    **dict.fromkeys("、：（）“”", 80_000),
    **dict.fromkeys("；！？《》‘’—…·", 20_000),
    **dict.fromkeys("【】「」『』→←↑↓⇒≈≤≥≠×∞∑√∈±°", 3_000),
    **dict.fromkeys("✅❌⭐📝📌💡🔍🚀🎯📚🔥👉⚠✨❗❓🤔👍", 1_000),
}
_PAIRS = dict(zip("“‘（《【「『〈", "”’）》】」』〉"))
_CLOSERS = {close: open_ for open_, close in _PAIRS.items()}
_PAIR_BONUS = math.log(20.0)  # a bracket whose partner is in the line is that much likelier
_NEG = -math.inf
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
DOMAIN_FREQ = 2000  # a glossary term counts as a common word: top 1% of jieba's (median count 3)


def _logaddexp(a: float, b: float) -> float:
    if a < b:
        a, b = b, a
    return a if b == _NEG else a + math.log1p(math.exp(b - a))


def _pairing_bonus(options: Options) -> dict[tuple[int, str], float]:
    """Favour an opening (closing) bracket candidate when its undamaged partner follows (precedes)."""
    fixed = [opts[0] if len(opts) == 1 else "" for opts in options]
    bonus = {}
    for pos, opts in enumerate(options):
        if len(opts) == 1:
            continue
        before, after = "".join(fixed[:pos]), "".join(fixed[pos + 1:])
        for char in opts:
            if char in _PAIRS and after.count(_PAIRS[char]) > after.count(char):
                bonus[(pos, char)] = _PAIR_BONUS
            elif char in _CLOSERS and before.count(_CLOSERS[char]) > before.count(char):
                bonus[(pos, char)] = _PAIR_BONUS
    return bonus


class WordLattice:
    """Unigram word model over every segmentation of every candidate string (jieba's DAG, summed).

    Summing over segmentations, rather than taking jieba's single best route, gives each candidate
    a true posterior: the probability mass of all readings of the line that use it.
    """

    def __init__(self, freq: dict[str, int], total: int, version: str = "") -> None:
        self.freq = freq
        self.log_total = math.log(total)
        self.version = version
        self._char_cache: dict[str, float] = {}

    def char_logp(self, char: str) -> float:
        """Log-probability of a character standing alone: dictionary, symbol table, else its class."""
        cached = self._char_cache.get(char)
        if cached is not None:
            return cached
        count = self.freq.get(char) or _SYMBOL_FREQ.get(char)
        if not count:
            category = unicodedata.category(char)
            if "\u4e00" <= char <= "\u9fff" or char.isascii():
                count = 1.0  # jieba's own floor for characters it has not seen
            elif category[0] in "MZC":  # combining marks, odd spaces, invisible format characters
                count = 0.01
            else:
                count = 0.1
        value = self._char_cache[char] = math.log(count) - self.log_total
        return value

    def _edges(self, options: Options) -> list[list[tuple[int, str, float]]]:
        """Every dictionary word (and every single character) that can start at each position."""
        freq, log_total, n = self.freq, self.log_total, len(options)
        bonus = _pairing_bonus(options)
        edges: list[list[tuple[int, str, float]]] = [[] for _ in range(n)]
        for i, opts in enumerate(options):
            for char in opts:
                count = freq.get(char)
                score = math.log(count) - log_total if count else self.char_logp(char)
                edges[i].append((i + 1, char, score + bonus.get((i, char), 0.0)))
            stack = [(i + 1, char) for char in opts if char in freq]
            while stack:
                j, prefix = stack.pop()
                if j >= n:
                    continue
                for char in options[j]:
                    word = prefix + char
                    count = freq.get(word)
                    if count is None:
                        continue
                    if count > 0:
                        edges[i].append((j + 1, word, math.log(count) - log_total))
                    stack.append((j + 1, word))
        return edges

    def __call__(self, options: Options) -> Posteriors:
        n = len(options)
        edges = self._edges(options)
        forward = [_NEG] * (n + 1)
        forward[0] = 0.0
        for i in range(n):
            for j, _, score in edges[i]:
                forward[j] = _logaddexp(forward[j], forward[i] + score)
        backward = [_NEG] * (n + 1)
        backward[n] = 0.0
        for i in range(n - 1, -1, -1):
            for j, _, score in edges[i]:
                backward[i] = _logaddexp(backward[i], score + backward[j])
        damaged_before = [0]
        for opts in options:
            damaged_before.append(damaged_before[-1] + (len(opts) > 1))
        mass: dict[int, dict[str, float]] = {i: {} for i, opts in enumerate(options) if len(opts) > 1}
        for i in range(n):
            for j, word, score in edges[i]:
                if damaged_before[j] == damaged_before[i]:
                    continue
                value = forward[i] + score + backward[j]
                for pos in range(i, j):
                    if pos in mass:
                        char = word[pos - i]
                        mass[pos][char] = _logaddexp(mass[pos].get(char, _NEG), value)
        return {pos: {c: math.exp(v - forward[n]) for c, v in found.items()} for pos, found in mass.items()}


def best_chars(options: Options, posteriors: Posteriors) -> list[str]:
    """The line as the scorer reads it now: each damaged position's likeliest candidate."""
    return [opts[0] if len(opts) == 1 else max(posteriors[i], key=posteriors[i].get) for i, opts in enumerate(options)]


def unsure_clusters(posteriors: Posteriors, below: float, gap: int, most: int) -> list[Cluster]:
    """Damaged positions whose best posterior is under `below`, grouped when at most `gap` apart
    (up to `most` together), so that neighbouring guesses are decided jointly."""
    clusters: list[Cluster] = []
    for pos in sorted(posteriors):
        if max(posteriors[pos].values()) >= below:
            continue
        if clusters and pos - clusters[-1][-1] <= gap and len(clusters[-1]) < most:
            clusters[-1].append(pos)
        else:
            clusters.append([pos])
    return clusters


def joint_candidates(cluster: Cluster, posteriors: Posteriors, top_k: int, min_share: float,
                     most: int) -> tuple[list[list[str]], list[tuple[str, ...]]]:
    """Each position's shortlist (its `top_k` likeliest, dropping those under `min_share`) and up to
    `most` joint choices, likeliest first by the current posteriors."""
    shortlists = []
    for pos in cluster:
        probs = posteriors[pos]
        ranked = sorted(probs, key=lambda char: (-probs[char], char))
        shortlists.append([char for k, char in enumerate(ranked[:top_k]) if k == 0 or probs[char] >= min_share])
    combos = sorted(itertools.product(*shortlists), key=lambda combo: -joint_logp(cluster, combo, posteriors))
    return shortlists, combos[:most]


def joint_logp(cluster: Cluster, combo: Sequence[str], posteriors: Posteriors) -> float:
    """Log of the current posterior of one joint choice, positions taken as independent."""
    return sum(math.log(max(posteriors[pos][char], 1e-300)) for pos, char in zip(cluster, combo))


def settle(cluster: Cluster, shortlists: list[list[str]], combos: list[tuple[str, ...]], scores: list[float],
           posteriors: Posteriors, chars: list[str]) -> None:
    """Turn joint log-scores into new posteriors for the cluster's shortlisted candidates.

    The shortlist keeps the share of probability it had, so candidates outside it keep theirs;
    `chars` is updated to the new choices, which later clusters read as context.
    """
    top = max(scores)
    weights = [math.exp(score - top) for score in scores]
    norm = sum(weights)
    for k, pos in enumerate(cluster):
        mass = sum(posteriors[pos][char] for char in shortlists[k])
        share = dict.fromkeys(shortlists[k], 0.0)
        for combo, weight in zip(combos, weights):
            share[combo[k]] += weight / norm
        posteriors[pos].update({char: mass * value for char, value in share.items()})
        chars[pos] = max(share, key=share.get)


@lru_cache(maxsize=1)
def _private_dictionary() -> tuple[dict[str, int], int]:
    """jieba's dictionary in a tokenizer of our own: others may add words to jieba's default one,
    and the repair must not change with what was indexed before it."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer.FREQ, tokenizer.total


def _domain_terms() -> set[str]:
    """Chinese terms of the bundled glossary: the notes' own vocabulary, often rare in jieba's."""
    from studybot.content.glossary import load_glossary

    return {term for entry in load_glossary().entries for alias in entry.zh for term in _HAN_RUN.findall(alias)
            if len(term) > 1}


@scorer("jieba")
def jieba_lattice() -> WordLattice:
    freq, total = _private_dictionary()
    terms = sorted(_domain_terms())
    for term in terms:
        freq[term] = max(freq.get(term) or 0, DOMAIN_FREQ)
        for end in range(1, len(term)):
            freq.setdefault(term[:end], 0)
    # The glossary is part of the model: a changed glossary must not reuse cached repairs.
    glossary = hashlib.sha256("\n".join(terms).encode("utf-8")).hexdigest()[:12]
    return WordLattice(freq, total, version=f"lattice-1+{len(freq)}+{glossary}")
