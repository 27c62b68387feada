"""Lexical tokens for BM25: jieba words for Chinese runs, lowercased words for Latin text."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from studybot.text.dictionary import WordCounts, dictionary_tags, open_word_counts, save_word_counts
from studybot.text.language import CJK, has_cjk
from studybot.text.variants import simplified

_RUNS = re.compile(rf"([{CJK}]+)|([A-Za-z0-9]+(?:[-_'’][A-Za-z0-9]+)*)")
ENGLISH_STOP = frozenset(
    "a an the of to in on for and or is are was were be been being it its this that these those with as by "
    "at from what why how which who whom when where does do did can could should would will shall may might "
    "we you your i me my our they them their he she his her not no than then so such into about over under "
    "between vs via".split()
)
CHINESE_STOP = frozenset(
    "的 了 是 在 和 与 及 或 有 就 都 而 也 还 又 把 被 让 给 对 从 向 为 以 之 其 这 那 这个 那个 一个 什么 为什么 怎么 "
    "怎样 如何 哪些 哪个 吗 呢 吧 啊 呀 么 能 会 可以 我们 你 我 他 它 们 中 上 下 里 时 时候 可 说 讲 为何 怎么样 什么样 "
    "干什么 多少 多大 嘛".split()
)
# Colloquial question words are their standard forms (啥 is 什么, 咋 is 怎么, 干嘛 is 干什么), and "what to do about
# it" asks how to solve it (咋整, 咋办, 怎么办 are 怎么解决): as words of their own they matched the notes that say them
# ("GAN 的 mode collapse 是啥" quoted BERT's "没啥用"), the segmenter glues 咋 to the verb after it (咋算), and
# "过拟合咋整" read as 怎么整 named no fix: its pair 怎么 ranked "过拟合 > 怎么判断" above "解决过拟合的方法".
_COLLOQUIAL = {"咋整": "怎么解决", "咋办": "怎么解决", "怎么办": "怎么解决", "干嘛": "干什么", "啥": "什么", "咋": "怎么"}
_COLLOQUIAL_WORD = re.compile("|".join(_COLLOQUIAL))


def standard_wording(text: str) -> str:
    """The text with its colloquial question words in their standard forms: "为啥要 warmup" is "为什么要 warmup"."""
    return _COLLOQUIAL_WORD.sub(lambda found: _COLLOQUIAL[found.group(0)], text)


_CJK_RUN = re.compile(f"[{CJK}]+")
TEX_COMMAND = re.compile(r"\\([A-Za-z]+)")  # \frac, \text: how a formula is typeset
MATH_SPAN = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$", re.DOTALL)  # $…$ and $$…$$: a formula in a note


def cjk_bigrams(text: str) -> list[str]:
    """The overlapping character pairs of every Chinese run (a one-character run as itself).

    Keywords that need no segmenter: where jieba cuts a question and a note differently (a term it
    does not know, a phrase split one way here and another there) they still share character pairs.
    """
    pairs: list[str] = []
    for run in _CJK_RUN.findall(_as_words(text)):  # as tokenize reads it: ⽅法 (Kangxi radicals, from PDFs) is 方法
        pairs.extend([run[i:i + 2] for i in range(len(run) - 1)] or [run])
    return pairs


def word_key(token: str) -> str:
    """Long English words meet their other forms on a six-letter prefix (saturate, saturation)."""
    return token[:6] if token.isascii() and len(token) > 6 else token


@lru_cache(maxsize=4096)
def word_keys(text: str) -> frozenset[str]:
    """The matchable words of a text, for comparing answers, questions and sources.

    Cached: chat and evaluation meet the same chunks again and again.
    """
    return frozenset(word_key(t) for t in tokenize(text))


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    counts = open_word_counts(jieba)
    if counts is None:
        jieba.initialize()
        save_word_counts(jieba, jieba.dt.FREQ, jieba.dt.total)  # before add_words changes them
    else:  # the counts jieba.initialize() would load, read from disk as segmentation asks for them
        jieba.dt.FREQ, jieba.dt.total, jieba.dt.initialized = counts, counts.total, True
    return jieba


# how jieba.posseg reads a text: runs of these characters are segmented (a Chinese one as its tagging HMM reads it)
_TAGGED_RUN = re.compile(r"[\u4E00-\u9FD5a-zA-Z0-9+#&._]+")
_HAN_RUN = re.compile(r"[\u4E00-\u9FD5]+")


def first_word_tag(text: str) -> str:
    """jieba's part-of-speech tag of a Chinese text's first word ("v" for 保留 of "保留了 LN 的关键性质"), "" for none,
    x for a text that opens with no Chinese character.

    What `jieba.posseg.cut(text[:16])` gives first, without importing jieba.posseg: its import reads the tags of
    all 350,000 dictionary words (0.2 s of a cold `ask`), which the counts file keeps (`text/dictionary.py`). The
    first word is cut as posseg cuts it: the dictionary's route, and for a run of single characters that is no word,
    posseg's own tagging HMM ("举个例子" is 举/v, where plain segmentation keeps 举个 whole)."""
    if not _HAN_RUN.match(text):
        return "x" if text else ""
    jieba = _jieba()
    sentence = _TAGGED_RUN.match(text[:16]).group(0)
    route: dict[int, tuple[float, int]] = {}
    jieba.dt.calc(sentence, jieba.dt.get_DAG(sentence), route)
    if route[0][1] > 0:  # a dictionary word first
        return _word_tag(sentence[:route[0][1] + 1])
    end = 1  # single characters up to the next word: one, a known word that lost the route, or no word at all
    while end < len(sentence) and route[end][1] == end:
        end += 1
    singles = sentence[:end]
    if end == 1 or jieba.dt.FREQ.get(singles):
        return _word_tag(singles[0])
    return _hmm_first_tag(_HAN_RUN.match(singles).group(0))


def _word_tag(word: str) -> str:
    """The dictionary's tag of a word; x for one it lacks (a glossary term added with add_words has none)."""
    counts = _jieba().dt.FREQ
    return (counts.tag(word) if isinstance(counts, WordCounts) else _dictionary_tags().get(word)) or "x"


@lru_cache(maxsize=1)
def _dictionary_tags() -> dict[str, str]:
    """Every dictionary word's tag, for a process whose counts are not read from disk (the first; a read-only cache)."""
    return dictionary_tags(_jieba())


def _hmm_first_tag(han: str) -> str:
    """The tag of the first word posseg's HMM finds in a run of Chinese characters: that of the first character
    that ends a word (E) or is one (S)."""
    viterbi, model = _tagging_hmm()
    states = viterbi(han, *model)[1]
    return next((tag for position, tag in states if position in "ES"), states[0][1])


@lru_cache(maxsize=1)
def _tagging_hmm():
    """jieba.posseg's viterbi and model (15 ms), loaded from its files without running jieba.posseg's __init__."""
    import importlib.util

    folder = Path(_jieba().__file__).with_name("posseg")

    def load(name: str):
        spec = importlib.util.spec_from_file_location(f"studybot._jieba_posseg_{name}", folder / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load("viterbi").viterbi, tuple(load(name).P for name in ("char_state_tab", "prob_start", "prob_trans",
                                                                     "prob_emit"))


def dictionary_share(word: str) -> float:
    """How common a word is in everyday Chinese: its share of jieba's dictionary counts (0 for words it lacks,
    which are mostly terms of art: 过拟合, 感受野)."""
    dictionary = _jieba().dt
    return dictionary.FREQ.get(word, 0) / dictionary.total


DOMAIN_FREQ = 20000  # high enough that a glossary term beats its pieces in jieba's route


def add_words(words: Iterable[str]) -> None:
    """Teach the segmenter domain terms (glossary aliases) so they come out as single tokens.

    Idempotent: jieba's add_word grows the dictionary total on every call, which would shift
    every later segmentation, so a word already frequent enough is left alone.
    """
    jieba = _jieba()
    words = [word for word in words if _RUNS.fullmatch(word) and has_cjk(word)]
    if isinstance(jieba.dt.FREQ, WordCounts):  # counts read from disk: the words and their prefixes in a few queries
        jieba.dt.FREQ.read({word[:end] for word in words for end in range(1, len(word) + 1)})
    for word in words:
        if jieba.dt.FREQ.get(word, 0) < DOMAIN_FREQ:
            jieba.add_word(word, freq=DOMAIN_FREQ)


def _stem(word: str) -> str:
    """Fold the commonest English plural so `gradients` meets `gradient`."""
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


_ACRONYM_PLURAL = re.compile(r"^([A-Z]{2,})s$")  # GANs, CNNs, LLMs: the plural too short for _stem
# what an apostrophe adds to an English word ("what's", "Adam's", "don't"): no word of its own. "What's SMOTE?" was
# searched as "what" and "s", and a heading "XGBoost: what's different…" led its answer
_CONTRACTION = re.compile(r"(?:n['’]t|['’](?:s|re|ve|ll|d|m))$")
_NEGATED = {"ca": "can", "wo": "will", "sha": "shall", "ai": "is"}  # what "can't", "won't", "shan't", "ain't" leave


# "1×1", "1 x 1", "3*3" and LaTeX's "$1\times1$" are one size: the token "1x1"
_BY = re.compile(r"(?<=\d)\s*(?:\\times|[×xX*])\s*(?=\d)")


def sizes(text: str) -> str:
    """Sizes like 1×1, 3 x 3 and `$1\\times1$` spelled one way, 1x1."""
    return _BY.sub("x", text)


# A square root is written "√d_k", "根号 d_k", "平方根" or LaTeX's "\\sqrt{d_k}" (whose command is the word sqrt)
_ROOT = re.compile(r"√|根号|平方根")


# A Greek letter is its name: "γ 和 β" and "gamma and beta" are the same two words (a letter alone was no token at all)
_GREEK = re.compile(r"[\u0391-\u03a9\u03b1-\u03c9]")


def _greek_name(match: re.Match) -> str:
    name = unicodedata.name(match.group(0), "").rsplit(" ", 1)[-1].lower()
    return f" {'lambda' if name == 'lamda' else name} "


def _as_words(text: str) -> str:
    """The text as tokens read it: in simplified characters, normalized, colloquial question words in their
    standard forms, a square root's signs and names the one word sqrt, and each Greek letter its name."""
    return _GREEK.sub(_greek_name, _ROOT.sub(" sqrt ", standard_wording(normalize(simplified(text)))))


def squashed(text: str) -> str:
    """The text without spaces, punctuation and case: how two spellings of one title or question compare
    ("NLP任务中，layer-norm比BatchNorm好在哪里" and the file name "NLP任务中-layer-norm比BatchNorm好在哪里")."""
    return re.sub(r"[\W_]+", "", text).casefold()


def term_pattern(term: str) -> re.Pattern:
    """The term as a pattern, ignoring case; an ASCII term only as whole words."""
    edge = r"(?<![A-Za-z0-9])" if term[:1].isascii() and term[:1].isalnum() else ""
    tail = r"(?![A-Za-z0-9])" if term[-1:].isascii() and term[-1:].isalnum() else ""
    return re.compile(edge + re.escape(term) + tail, re.IGNORECASE)


def find_term(text: str, term: str) -> re.Match | None:
    """The term in the text, ignoring case; an ASCII term only as whole words."""
    return term_pattern(term).search(text)


def normalize(text: str) -> str:
    """One spelling for what is written several ways: NFKC (full-width and styled letters such as
    𝐇𝐨𝐰 become plain ASCII), and sizes like 1×1."""
    return sizes(unicodedata.normalize("NFKC", text))


def tokenize(text: str) -> list[str]:
    """Tokens in text order; stop words dropped, hyphenated terms kept whole and in parts."""
    jieba = None
    tokens: list[str] = []
    for cjk, latin in _RUNS.findall(_as_words(text)):
        if cjk:
            jieba = jieba or _jieba()
            tokens.extend(t for t in jieba.cut_for_search(cjk) if t not in CHINESE_STOP)
        else:
            word = _CONTRACTION.sub("", _ACRONYM_PLURAL.sub(r"\1", latin).lower())
            word = _NEGATED.get(word, word) if word != latin.lower() else word  # "can't" is "can", not "ca"
            parts = re.split(r"[-_'’]", word)
            if len(parts) > 1:
                tokens.append(_stem("".join(parts)))
            # a number joined to a name is part of it (GPT-1 is gpt1 and gpt, not also "1", which every
            # numbered heading, "2.1 静态量化", has)
            tokens.extend(_stem(p) for p in parts if p not in ENGLISH_STOP and not (len(parts) > 1 and p.isdigit()))
    return tokens
