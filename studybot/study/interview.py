"""Mock interviews: opening questions, follow-ups chosen by measuring each answer, and a report.

An interviewer asks, listens and digs in where the answer is thin. Here every answer is graded
by the key-point grader, and what it covered and missed decides the follow-up (at most a few per
opening question): a missed point becomes a probe, a question phrased from the note sentence that
holds the point with the point blanked out; a good answer earns a deeper question: the note's own
follow-up list, then a ladder of why / derive / trade-off / when it fails, keyed to the section's
own sentences, and, where a demo backs the topic, one "predict, then measure" question. The kinds
of follow-up are a registry (`FOLLOW_UPS`), filled by `@follows_up`.

The session never reads a terminal: the CLI passes `ask(question) -> answer | None` and a clock,
so a scripted session is repeatable. Each answer is committed to the review store at once (turn,
review and any card made from a failed follow-up in one transaction), so Ctrl-C keeps every answer
given; the report is then built from what was answered.
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
import unicodedata
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Callable

from studybot.clock import iso
from studybot.content.glossary import Glossary, load_glossary
from studybot.content.schema import BLANK, Bilingual, KeyPoint
from studybot.errors import StudybotError
from studybot.files import write_atomic
from studybot.home import is_bundled_note, resolve_home
from studybot.ingest.chunking import ANSWER_HEADING
from studybot.ingest.decoding import UnreadableFile
from studybot.ingest.notes import closes_fence, fence_opening, heading_title, parse_note, without_bold
from studybot.ingest.reading import read_text
from studybot.study.cards import (Card, asks_same, load_deck, note_print, rivals, select, sentence_points,
                                  split_bilingual)
from studybot.study.grading import RATING_BY_SCORE, Grade, Grader, point_label
from studybot.study.keypoints import only_ruled_out, ruling_out
from studybot.study.reviews import ReviewStore, session_lock
from studybot.text.aspects import aspects
from studybot.text.language import has_cjk, language
from studybot.text.sentences import split_quotable
from studybot.text.tables import read_tables, row_cells
from studybot.text.tokens import TEX_COMMAND, find_term, term_pattern, tokenize, word_key, word_keys

GOOD_SCORE = 4  # an answer this good earns a deeper question
PASS_SCORE = 3  # a follow-up scored below this becomes a review card
FOLLOW_UPS_DEFAULT = 2
FOLLOW_UPS_MAX = 3
MINUTES_PER_OPENING = 4  # an opening question and its follow-ups take about this long
LEVELS = (1, 2, 3)
UNRATED_LEVEL = 2  # a note's card has no difficulty: it counts as a middle one
SHORT_TERM = 24  # characters: a key-point synonym at most this long is a term to blank; longer ones are sentences
MAX_CONCEPT_POINTS = 4
MIN_CONTEXT = 8  # letters and characters a blanked sentence must keep to be a question
WEAKEST = 3
EXPECT_NEXT = 5
REPORT_DIR = "interviews"
KINDS = ("opening", "probe", "deeper", "predict")
_FOLLOW_UP_HEADING = re.compile(r"追问|follow-?ups?", re.IGNORECASE)
_FOLLOW_UP_ITEM = re.compile(r"^\s*[-*+]\s*(?:\*\*)?\s*Q\s*[:：]\s*(.*?)\s*(?:\*\*)?\s*A\s*[:：]\s*(.*)$")
_LINE_MARKS = re.compile(r"^\s*(?:>\s?)*(?:[-*+]\s+|\d+[.)、]\s+)?(?:(?:中文|English)\s*[:：]\s*)?", re.IGNORECASE)
_SKIP_LINE = re.compile(r"^\s*(?:\||```|~~~|\$\$|!\[|References?:|参考)", re.IGNORECASE)  # and a figure's name
_RUN_OF_BLANKS = re.compile(rf"{re.escape(BLANK)}(?:[\s,，、/]*{re.escape(BLANK)})+")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_TIMES_BASE = re.compile(r"\s*[×xX*·]\s*(\d+)(?=\s*(?:\^|\*\*))")  # "× 10" of "3 × 10^-14", only before its power
_POWER = re.compile(r"\s*(?:\^|\*\*)\s*[{(]?\s*([-+]?\d+)\s*[})]?")  # ^-14, **-14, ^{-14}, ^(-14)
_SUPERSCRIPT = re.compile(r"[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+")  # 10⁻¹⁴: read as 10^-14
_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_CHINESE_POWER = re.compile(r"\s*的\s*(负|-)?\s*(\d+)\s*次方")  # 10 的负 14 次方: 10^-14
_JOINED = re.compile(r"\s*(?:和|与|及|、|,|，|\band\b)\s*")
MAX_SYMBOL = 2  # characters: a part of a joined term this short (γ of "γ 和 β") is a symbol
_TEX_SYMBOLS = {"times": "×", "cdot": "·", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "neq": "≠", "approx": "≈",
                "infty": "∞", "to": "→", "sim": "~", "partial": "∂", "nabla": "∇"}

Clock = Callable[[], datetime]


# --- where a card's points live in its note ------------------------------------------------------


@dataclass
class Section:
    """The note section a card asks about: its lines as cleaned text, by 1-based line number."""

    file: str
    start: int  # the heading's line
    end: int  # the section's last line
    lines: dict[int, str]
    answer_lines: set[int] = field(default_factory=set)  # the interview-answer block
    follow_ups: list[tuple[int, Bilingual, Bilingual]] = field(default_factory=list)  # (line, question, answer)
    rows: set[int] = field(default_factory=set)  # a table's rows, each read as one sentence with its columns' names

    def prose(self) -> list[tuple[int, str]]:
        """Lines a point may be quoted from, the answer block first; the follow-up list answers other questions."""
        asked = {line for line, _, _ in self.follow_ups}
        ordered = sorted(self.lines, key=lambda n: (n not in self.answer_lines, n))
        return [(n, self.lines[n]) for n in ordered if n not in asked and n != self.start and self.lines[n]]

    def sentences(self) -> list[tuple[int, str]]:
        """The prose's sentences by line, a table's row whole: cut at its "；" it lost its row's name."""
        return [(n, s) for n, text in self.prose() for s in ([text] if n in self.rows else split_quotable(text))]


def _tex_symbol(match: re.Match) -> str:
    """A simple LaTeX command as its character (\\beta: β, \\times: ×); any other is left as written."""
    name = match.group(1)
    if name in _TEX_SYMBOLS:
        return _TEX_SYMBOLS[name]
    try:
        return unicodedata.lookup(f"GREEK {'CAPITAL' if name[0].isupper() else 'SMALL'} LETTER {name.upper()}")
    except KeyError:
        return match.group(0)


def _plain(line: str) -> str:
    """A note line as sentence text: quote marks, bullets, language labels and emphasis dropped, and simple
    inline LaTeX read as text ($\\gamma$: γ), so a sentence quoted from it shows no markup."""
    if _SKIP_LINE.match(line) or line.lstrip().startswith("#"):
        return ""
    return TEX_COMMAND.sub(_tex_symbol, _unmarked(_LINE_MARKS.sub("", line))).strip()


def _unmarked(text: str) -> str:
    """Text without its bold (`without_bold`: "`**kwargs`" is code), code and math marks."""
    return re.sub(r"[`$]", "", without_bold(text))


def _has_markup(sentence: str) -> bool:
    """Whether LaTeX the reading could not turn into text (\\frac, \\mathbb) is left: no question is made of it."""
    return TEX_COMMAND.search(sentence) is not None


def _pair(text: str) -> Bilingual:
    """`中文。/ English.` (a follow-up's question or answer) as its two halves; other text serves both."""
    parts = [p.strip() for p in re.split(r"\s*/\s+", text.strip(), maxsplit=1)]
    if len(parts) == 2 and has_cjk(parts[0]) and not has_cjk(parts[1]):
        return Bilingual(zh=parts[0], en=parts[1])
    return split_bilingual(text)


@lru_cache(maxsize=256)
def _read_section(path: str, title: str, near: int) -> Section | None:
    """The section under the heading `title` nearest before line `near`, read as the index reads the note
    (decoded, export damage repaired by jieba: instant, and it keeps every line where it was)."""
    try:
        text = read_text(Path(path), "jieba").text
    except UnreadableFile:
        return None
    note = parse_note(text, path)
    found = [h for h in note.headings if h.title == title]
    if not found:
        return None
    heading = max((h for h in found if h.line <= max(near, found[0].line)), key=lambda h: h.line)
    later = [h for h in note.headings if h.line > heading.line]
    end = next((h.line - 1 for h in later if h.level <= heading.level), len(note.lines))
    section = Section(file=path, start=heading.line, end=end, lines={})
    fence = None
    said = read_tables(note.lines[heading.line - 1:end])  # a table's row with its columns' names, at its own line
    for n in range(heading.line, end + 1):  # code is not prose: no point is quoted from it
        line = note.lines[n - 1]
        if fence is not None:
            section.lines[n] = ""
            fence = None if closes_fence(line, fence) else fence
        elif (fence := fence_opening(line)) is not None:
            section.lines[n] = ""
        else:
            section.lines[n] = _plain(said[n - heading.line])
            if row_cells(line) is not None:
                section.rows.add(n)
    block, subheadings = None, {h.line: h for h in later}
    for n in range(heading.line + 1, end + 1):
        if (sub := subheadings.get(n)) is not None:
            block = ("answer" if ANSWER_HEADING.search(sub.title) else
                     "follow-ups" if _FOLLOW_UP_HEADING.search(sub.title) else None)
            continue
        if block == "answer":
            section.answer_lines.add(n)
        elif block == "follow-ups" and (item := _FOLLOW_UP_ITEM.match(note.lines[n - 1])):
            question, answer = (_unmarked(part) for part in item.groups())
            section.follow_ups.append((n, _pair(question), _pair(answer)))
    return section


@lru_cache(maxsize=256)
def _siblings(path: str, start: int) -> tuple[tuple[str, Section], ...]:
    """The sections beside the one headed at line `start`: of its level, under the same heading, with their titles."""
    try:
        headings = parse_note(read_text(Path(path), "jieba").text, path).headings
    except UnreadableFile:
        return ()
    own = next((h for h in headings if h.line == start), None)
    if own is None:
        return ()
    parent = max((h for h in headings if h.line < start and h.level < own.level), key=lambda h: h.line, default=None)
    after = parent.line if parent else 0
    until = next((h.line for h in headings if parent and h.line > after and h.level <= parent.level), None)
    return tuple((h.title, other) for h in headings if h.level == own.level and h.line != start and after < h.line
                 and (until is None or h.line < until) and (other := _read_section(path, h.title, h.line)) is not None)


def card_section(card: Card) -> Section | None:
    """The section of the note a card was made from (bank cards: the knowledge note they cite)."""
    path, _, line = card.source.rpartition(":")
    if not card.heading or not line.isdigit():
        return None
    return _read_section(path, heading_title(card.heading), int(line))


def _source(card: Card) -> tuple[str, int]:
    path, _, line = card.source.rpartition(":")
    return (path, int(line)) if line.isdigit() else (card.source, 1)


def _span(sentence: str, synonym: str, threshold: float) -> tuple[int, int] | None:
    """Where a sentence says a synonym in other words ("from the peak to a minimum" for "from peak to
    minimum"): the stretch from the first to the last of its words, when enough of them are there."""
    # a letter is a symbol any formula writes, no word: "K、V" of "多头注意力把 Q、K、V 投影…" said "共享 K/V" without 共享
    words = [t for t in dict.fromkeys(tokenize(synonym)) if len(t) > 1]
    wanted = {word_key(t) for t in words}
    spans, got = [], set()
    for token in words:
        if has_cjk(token):
            found = sentence.find(token)
            if found >= 0:
                spans.append((found, found + len(token)))
                got.add(word_key(token))
            continue
        for word in re.finditer(r"[A-Za-z0-9]+", sentence):
            if word_key(word.group(0).lower()) == word_key(token):
                spans.append(word.span())
                got.add(word_key(token))
                break
    if not wanted or len(got) / len(wanted) < threshold:
        return None
    start, end = min(a for a, _ in spans), max(b for _, b in spans)
    return (start, end) if end - start <= 2 * len(synonym) else None


def _gives_context(blanked: str) -> bool:
    """Whether a sentence with its point blanked still says enough to ask about (not just "____：")."""
    return len(re.sub(r"[\W_]+", "", blanked.replace(BLANK, ""))) >= MIN_CONTEXT


def _symbols(term: str) -> list[str]:
    """The symbols a term joins ("γ 和 β": γ, β), each of which alone would give the term away; none for words."""
    parts = [p.strip() for p in _JOINED.split(term)]
    return parts if len(parts) > 1 and all(0 < len(p) <= MAX_SYMBOL for p in parts) else []


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(start < span[1] and span[0] < end for start, end in spans)


def _one_blank(cuts: list[tuple[int, int]], sentence: str, parts: dict[str, str], row: bool) -> bool:
    """Whether the cuts are one blank: one term said once (in each cell of a table's `row`, which says it per column),
    or the symbols of one joined term ("γ 和 β": 缩放 ____ 和平移 ____). A sentence naming the point twice lost a clause
    and a word to it, "上一步的____算出新的____就是对历史的____" of "…算出新的隐藏状态，隐藏状态就是对历史的记忆"; one naming
    two points asked for both."""
    texts = [sentence[start:end].lower() for start, end in cuts]
    if len(cuts) == 1 or (row and len(set(texts)) == 1):
        return True
    joined = {parts.get(text) for text in texts}
    return len(set(texts)) == len(texts) and len(joined) == 1 and None not in joined


def blanked_sentences(sources: list[tuple[int | None, str]], terms: dict[str, list[str]], threshold: float,
                      block: set[int] | frozenset[int] = frozenset(), said: tuple[str, ...] = (),
                      question: str = "", prefer: str | None = None,
                      rows: set[int] | frozenset[int] = frozenset()) -> dict[str, tuple[int | None, str]]:
    """Per language, the first (line, sentence) that names one of the terms once, with it blanked out, or
    says one in other words, with that stretch blanked; the sources come best first (the answer block).
    A sentence that would need more than one blank is skipped (`_one_blank`), never cut into a garbled one.

    No word the question writes is blanked (`question`): "RoPE 旋转位置编码的原理是什么？" was probed "把 q、k 按位置____"
    (旋转), "残差连接能完全防止梯度爆炸吗？" "Residuals alone do not ____ explosions" (prevent).

    A name the question said (`said`) is never blanked, nor a term inside it: after "余弦退火学习率调度是怎么工作的？" the
    point 余弦曲线 / 余弦 was asked as "____退火按____从最大值平滑降到最小值", "____ annealing follows a half ____", its
    second blank a word the question had just given away.

    Both come from one passage, so that they are one sentence in two languages: a line (a bilingual line), the lines
    `block` (the interview answer's 中文 and English paragraphs) or the card's own answer (line None); the first passage
    that holds both, else the first that holds one in the language `prefer` (the interview's, or the question's), else
    the first that holds one, and then one language only. Each language searched on its own, the Chinese half quoted
    the interview answer and the English half another paragraph, "In LLM training people count tokens and steps
    instead, because the ____ is often seen about once."; a Chinese card whose English answer block came first was
    probed in English alone, under --lang zh too, its Chinese table row holding the point.
    """
    passages: dict[object, dict[str, tuple[int | None, str]]] = {}
    named = [t for t in [*terms["zh"], *terms["en"]] if t.strip()]
    parts = {part.lower(): t for t in named for part in _symbols(t)}
    every = sorted({*named, *parts}, key=len, reverse=True)
    asked = word_keys(question)
    # a longer term that holds a name said is still blanked whole ("cosine annealing schedule" over "cosine annealing")
    kept = [name for name in said if name.strip() and not any(len(t) > len(name) and find_term(t, name) for t in every)]
    for n, sentence in sources:
        lang = "zh" if has_cjk(sentence) else "en"
        found = passages.setdefault("block" if n in block else n, {})
        if lang in found or _has_markup(sentence):
            continue
        held = [m.span() for name in kept for m in term_pattern(name).finditer(sentence)]

        def free(span: tuple[int, int]) -> bool:
            keys = word_keys(sentence[span[0]:span[1]])
            return not _overlaps(span, held) and not (keys and keys <= asked)

        cuts: list[tuple[int, int]] = []
        for term in every:  # every synonym: the sentence must not give it away
            cuts += [m.span() for m in term_pattern(term).finditer(sentence) if not _overlaps(m.span(), held + cuts)]
        if cuts and not all(map(free, cuts)):
            continue  # it names the point where the question said it
        if not cuts:
            span = next((s for t in terms[lang] if (s := _span(sentence, t, threshold)) and free(s)), None)
            cuts = [span] if span else []
        blanked = sentence
        for start, end in sorted(cuts, reverse=True):
            blanked = blanked[:start] + BLANK + blanked[end:]
        if cuts and _one_blank(cuts, sentence, parts, n in rows) and _gives_context(blanked):
            found[lang] = (n, _RUN_OF_BLANKS.sub(BLANK, blanked))
            if len(found) == 2:  # a passage's sentences come together: no passage before it holds both
                return found
    return next((found for found in passages.values() if prefer in found), None) or \
        next((found for found in passages.values() if found), {})


def _holding(point: KeyPoint, lines: list[tuple[int, str]], grader: Grader) -> int | None:
    """The first line naming one of the point's synonyms, else the first the grader finds covering it."""
    synonyms = [plain for s in [*point.zh, *point.en] if (plain := _plain(s))]  # as the lines are cleaned
    return next((n for n, text in lines if any(find_term(text, s) for s in synonyms)), None) or \
        next((n for n, text in lines if grader.coverage([point], text)[0]), None)


def locate(point: KeyPoint, section: Section | None, card: Card, grader: Grader, first: tuple[int, ...] = (),
           own: tuple[Section, ...] = ()) -> dict:
    """The note lines that hold a key point: the first line naming one of its synonyms, else the first the
    grader finds covering it, else the whole section (the card's source when its note cannot be read).
    Lines `first` (a follow-up's own) are searched before the rest of the section. A point of a bundled note is
    cited in the learner's own notes (`own`) where they hold it: "主要是让优化地形更平滑" was sent to the bundled
    normalization.md, the learner's normalization.md:9 saying "后来的研究认为主要是让 loss landscape 更平滑"."""
    if section is None or is_bundled_note(section.file):
        for note in own:
            if hit := _holding(point, note.prose(), grader):
                return {"point": point_label(point), "file": note.file, "line_start": hit, "line_end": hit}
    if section is None:
        path, line = _source(card)
        return {"point": point_label(point), "file": path, "line_start": line, "line_end": line}
    hit = None
    for lines in ([(n, section.lines[n]) for n in first if section.lines.get(n)], section.prose()):
        hit = _holding(point, lines, grader)
        if hit:
            break
    start, end = (hit, hit) if hit else (section.start, section.end)
    return {"point": point_label(point), "file": section.file, "line_start": start, "line_end": end}


# --- questions and follow-ups ---------------------------------------------------------------------


@dataclass(frozen=True)
class Prediction:
    """A number a demo measures that a learner can predict: `value` picks it from the demo's metrics."""

    demo: str
    question: Bilingual
    value: Callable[[dict], float]


PREDICTIONS: dict[str, Prediction] = {p.demo: p for p in (
    Prediction("sigmoid-saturation", Bilingual(
        zh="先估一个数：sigmoid 在 x = 10 处的导数是多少？然后我们用 demo 实测。",
        en="Predict a number: what is the sigmoid's derivative at x = 10? Then the demo measures it."),
        lambda m: m["grad_at_10"]),
    Prediction("lora", Bilingual(
        zh="先估一个数：秩为 4 的 LoRA 只训练这一层参数的几分之几（比例）？然后我们用 demo 实测。",
        en="Predict a number: with rank 4, what fraction of the layer's parameters does LoRA train? "
           "Then the demo measures it."),
        lambda m: m["param_fraction"]),
    Prediction("rnn-vanishing", Bilingual(
        zh="先估一个数：普通 RNN 的梯度从最后一步反传到第一步，还保留原来大小的多少（比例）？然后我们用 demo 实测。",
        en="Predict a number: back from the last step to the first, what fraction of its size does a plain "
           "RNN's hidden-state gradient keep? Then the demo measures it."),
        lambda m: m["rnn_kept"]),
    Prediction("residual-gradients", Bilingual(
        zh="先估一个数：在这个深层网络里，加残差连接后第一层的梯度是不加时的多少倍？然后我们用 demo 实测。",
        en="Predict a number: in this deep network, how many times larger is the first layer's gradient with "
           "residual connections than without? Then the demo measures it."),
        lambda m: m["first_layer_grad_residual"] / m["first_layer_grad_plain"]),
)}


@dataclass(frozen=True)
class Rung:
    """A step of the deeper-question ladder, keyed to the section sentences that answer it; `asked_as`: the aspects
    (`studybot.text.aspects`) of an opening question that asks this step already, so the step would only reword it;
    `answered_by`: the aspects of a heading whose section answers this step for the whole subject, when the card's
    own section has no sentence for it ("Dropout 的缺点" says what dropout costs, whichever of its sections was asked)."""

    name: str
    question: Bilingual
    cue: re.Pattern
    asked_as: tuple[str, ...] = ()
    answered_by: tuple[str, ...] = ()


# No rung asks "how does it work?" of the whole section: that is the opening question again ("How does NMS work?" was
# followed by "One level deeper: how exactly does it work?", graded on the steps the answer had just given).
LADDER = (
    Rung("why", Bilingual(zh="为什么会这样？请说清楚背后的机制。", en="Why is that so? Explain the mechanism behind it."),
         re.compile(r"因为|所以|原因|导致|使得|因此|\bbecause\b|\bsince\b|\btherefore\b|\bso that\b|\bcauses?\b|"
                    r"\bleads? to\b", re.IGNORECASE), ("reason",)),
    Rung("derive", Bilingual(zh="能从定义出发推导一下吗？写出关键的公式或步骤。",
                             en="Can you derive it from the definition? Give the key formula or steps."),
         re.compile(r"=|推导|公式|导数|\bderivative\b|\bformula\b|\bequals?\b", re.IGNORECASE)),
    # an alternative the note names ("Soft-NMS decays the scores … instead of removing them") is what it trades against
    Rung("trade-off", Bilingual(zh="这样做的代价是什么？和替代方案相比怎么权衡？",
                                en="What does it cost, and how does it trade off against the alternatives?"),
         re.compile(r"代价|权衡|缺点|开销|但是|然而|而不是|\bcosts?\b|\btrade-?offs?\b|\bdrawbacks?\b|\bhowever\b|\bbut\b|"
                    r"\binstead of\b|\brather than\b", re.IGNORECASE), ("advantage", "drawback"), ("drawback",)),
    Rung("fails", Bilingual(zh="它在什么情况下会失效，或者不再成立？", en="When does it fail, or stop holding?"),
         re.compile(r"失效|不适用|无法|不能|问题|\bfails?\b|\bbreaks?\b|\bproblems?\b|\bcannot\b|\bunless\b|"
                    r"\bonly when\b", re.IGNORECASE), ("drawback",), ("drawback",)),
)


@dataclass
class Asked:
    """One question put to the learner: the card its answer is graded against, and why it was chosen."""

    kind: str  # opening | probe | deeper | predict
    card: Card
    target: KeyPoint | None = None  # probe: the missed point it asks about
    rung: str = ""  # deeper: follow-up or a ladder rung
    prediction: Prediction | None = None
    search_lines: tuple[int, ...] = ()  # where in the section its points are quoted from
    section: Section | None = None  # that section, when not the opening's
    phrased_by: str = "template"  # or "model"
    phrase_note: str | None = None  # why a model's wording was not used


@dataclass
class Thread:
    """One opening question's thread: what was asked and answered, and what may still be asked."""

    n: int
    card: Card
    section: Section | None
    missed: list[KeyPoint] = field(default_factory=list)  # the opening answer's missed points, in card order
    probed: set[str] = field(default_factory=set)
    turns: list[tuple[Asked, Grade]] = field(default_factory=list)
    deeper_done: int = 0  # deeper questions asked
    items_done: int = 0  # the note's follow-up list, read up to here
    rungs_used: set[str] = field(default_factory=set)
    cues_used: set[int] = field(default_factory=set)
    answers: list[str] = field(default_factory=list)  # what each turn answered, in turn order


def _card_id(*parts: str) -> str:
    return "iv-" + hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:12]


def _follow_up_card(opening: Card, key: str, question: Bilingual, answer: Bilingual, points: list[KeyPoint],
                    source: str) -> Card:
    """A follow-up as a card: graded now, and kept for review when it fails, under the opening's headings (a review
    asked "追问：「可以看成给隐藏层加乘性____」" with nothing saying it was about dropout)."""
    return Card(id=_card_id(opening.id, key), kind="short", origin="interview", topic=opening.topic,
                question=question, answer=answer, key_points=points, source=source, heading=opening.heading,
                topics=list(opening.topics), demos=list(opening.demos), difficulty=opening.difficulty,
                headings=list(opening.headings))


def _concept_points(text: str, question: str, glossary: Glossary) -> list[KeyPoint]:
    """The glossary concepts a reference names that its question does not: what an answer must bring."""
    asked = {e.id for e in glossary.find(question)}
    entries = [e for e in glossary.find(text) if e.id not in asked]
    unique = list({e.id: e for e in entries}.values())[:MAX_CONCEPT_POINTS]
    names = [(list(e.zh or e.en), list(e.en or e.zh), only_ruled_out(e.aliases, text)) for e in unique]
    return [KeyPoint(zh=ruling_out(zh), en=ruling_out(en)) if ruled else KeyPoint(zh=zh, en=en)
            for zh, en, ruled in names]


def _points(answer: Bilingual, question: Bilingual, glossary: Glossary) -> list[KeyPoint]:
    """Key points of a follow-up's reference: its concepts when it names two or more, else its sentences."""
    concepts = _concept_points(f"{answer.zh}\n{answer.en}", f"{question.zh}\n{question.en}", glossary)
    return concepts if len(concepts) >= 2 else sentence_points(answer)


FOLLOW_UPS: dict[str, Callable[["Interviewer", Thread], Asked | None]] = {}


def follows_up(kind: str) -> Callable:
    """Register how to build the next follow-up of a kind (probe, deeper, predict); None: none left."""

    def register(fn: Callable[["Interviewer", Thread], Asked | None]) -> Callable:
        FOLLOW_UPS[kind] = fn
        return fn

    return register


def next_kinds(grade: Grade, thread: Thread) -> list[str]:
    """Which follow-ups the last answer calls for, best first: the measurement that drives the interview.

    Nothing right: one probe of a basic point after the opening, never a deeper question. Good: deeper
    (the predict question second). Partial: probe a missed point, or go deeper if it was passable.
    """
    if not grade.covered:
        return ["probe"] if len(thread.turns) == 1 else []
    if not thread.turns[0][1].covered:  # the probe gave its point away: a right answer to it earns no deeper question
        return []
    if grade.score >= GOOD_SCORE:
        return ["deeper", "predict"] if not thread.deeper_done else ["predict", "deeper"]
    return ["probe", "deeper"] if grade.score >= PASS_SCORE else ["probe"]


@follows_up("probe")
def _probe(interviewer: "Interviewer", thread: Thread) -> Asked | None:
    asked, grade = thread.turns[-1]
    last_missed = [p for p in asked.card.key_points if point_label(p) in grade.missed] if asked.kind != "predict" else []
    for point in interviewer.unsaid(thread, [*last_missed, *thread.missed]):
        if point_label(point) not in thread.probed:
            thread.probed.add(point_label(point))
            probe = interviewer.probe(thread, asked.card if point in last_missed else thread.card, point)
            if probe is not None:  # else the next missed point, or the next kind of follow-up
                return probe
    return None


def _asides(sentences: list[tuple[int, str]], card: Card, glossary: Glossary) -> set[str]:
    """The sentences of a section about another subject: they name two concepts or more (one is mostly what the subject
    is set against, or a word the glossary reads loosely), each of another topic than the card's, and neither the card
    nor another of the sentences names any. A ladder step asked of one graded the answer on that subject, its concepts
    the key points: "In LLM training people count tokens and steps instead, because the data set is often seen about
    once.", under batch vs mini-batch SGD, was the why-rung's reference, so a right answer on the mechanism scored 0/5,
    missing 大语言模型 and 词元."""
    named = [(sentence, glossary.find(sentence)) for _, sentence in sentences]
    said = Counter(entry.id for _, entries in named for entry in entries)
    subject = {e.id for e in glossary.find("\n".join([card.question.zh, card.question.en, card.answer.zh,
                                                        card.answer.en]))}
    topics = {card.topic, *card.topics}
    return {sentence for sentence, entries in named if len(entries) >= 2 and all(
        said[e.id] == 1 and e.id not in subject and e.topic not in topics for e in entries)}


@follows_up("deeper")
def _deeper(interviewer: "Interviewer", thread: Thread) -> Asked | None:
    section = thread.section
    if section is None:
        return None
    while thread.items_done < len(section.follow_ups):
        line, question, answer = section.follow_ups[thread.items_done]
        thread.items_done += 1
        points = interviewer.unsaid(thread, _points(answer, question, interviewer.glossary))
        card = _follow_up_card(thread.card, f"follow-up {line}", question, answer, points, f"{section.file}:{line}")
        # an opening of the session asks it already: "BatchNorm 真的是因为减少了内部协变量偏移才有效吗？" came as a deeper
        # question, then as the opening "BatchNorm 有效真的是因为减少了内部协变量偏移吗？"
        if points and not any(asks_same(card, opening, interviewer.grader) for opening in interviewer.openings):
            thread.deeper_done += 1
            return Asked("deeper", card, rung="follow-up", search_lines=(line,))
    opening = aspects(f"{thread.card.question.zh}\n{thread.card.question.en}")
    sentences = section.sentences()
    asides = _asides(sentences, thread.card, interviewer.glossary)
    for rung in LADDER:
        if rung.name in thread.rungs_used or set(rung.asked_as) & set(opening):
            continue
        thread.rungs_used.add(rung.name)
        where = section
        cues = [(n, s) for n, s in sentences if n not in section.answer_lines and n not in thread.cues_used
                and rung.cue.search(s) and s not in asides][:3]
        if not cues and (where := interviewer.answering(thread, rung)) is not None:
            cues = [(n, s) for n, s in where.sentences() if n not in thread.cues_used][:3]
        if not cues:
            continue
        thread.cues_used |= {n for n, _ in cues}
        subject = split_bilingual(heading_title(thread.card.heading))
        question = Bilingual(zh=f"关于「{subject.zh}」：{rung.question.zh}", en=f'On "{subject.en}": {rung.question.en}')
        # a sentence a line: joined by spaces, a list's items (no stop of their own) were one key point, "Non-Maximum
        # Suppression removes duplicate boxes: sort boxes by score take the highest, keep it"
        reference = "\n".join(s for _, s in cues)
        points = interviewer.unsaid(thread, _points(Bilingual(zh=reference, en=reference), thread.card.question,
                                                    interviewer.glossary))
        if points:
            thread.deeper_done += 1
            card = _follow_up_card(thread.card, rung.name, question, Bilingual(zh=reference, en=reference), points,
                                   f"{where.file}:{cues[0][0]}")
            return Asked("deeper", card, rung=rung.name, search_lines=tuple(n for n, _ in cues), section=where)
    return None


def backing_demos(card: Card) -> list[str]:
    """The demos behind a card: its own, then those registered for its topics."""
    from studybot.demos.runner import demos_for_topics

    return list(dict.fromkeys([*card.demos, *demos_for_topics(card.topics)]))


@follows_up("predict")
def _predict(interviewer: "Interviewer", thread: Thread) -> Asked | None:
    """Once a session, a number a demo behind the card measures. Its card names that demo and the note line stating
    the demo's claim, not the opening's: a residual-gradients prediction in an LSTM thread was cited to the LSTM
    heading and sent to `studybot demo rnn-vanishing`."""
    from studybot.demos.runner import claim_source

    if interviewer.predicted:  # a second one came in the same session, under another demo
        return None
    for demo in backing_demos(thread.card):
        prediction = PREDICTIONS.get(demo)
        if prediction is not None:
            interviewer.predicted = demo
            card = _follow_up_card(thread.card, f"predict {demo}", prediction.question,
                                   Bilingual(zh=f"studybot demo {demo}", en=f"studybot demo {demo}"), [],
                                   claim_source(demo) or thread.card.source)
            return Asked("predict", replace(card, demos=[demo]), rung=demo, prediction=prediction)
    return None


# --- predictions ----------------------------------------------------------------------------------


def demo_value(prediction: Prediction, seed: int) -> float:
    """Run the prediction's demo (quick, on the CPU; from the demo cache when it ran before) and pick the number
    the learner predicted."""
    from studybot.demos.runner import run_demo

    result = run_demo(prediction.demo, device="cpu", seed=seed, quick=True, reuse=True)
    return float(prediction.value(result["metrics"]))


class _Measurement:
    """A demo measured in the background while the learner thinks, so the next question is not kept waiting."""

    def __init__(self, measure: Callable[[], float]) -> None:
        self.value: float | None = None
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, args=(measure,), daemon=True)
        self._thread.start()

    def _run(self, measure: Callable[[], float]) -> None:
        try:
            self.value = measure()
        except Exception as exc:  # a demo that cannot run (no torch) must not end the interview
            self.error = str(exc) or type(exc).__name__

    def result(self) -> float | None:
        self._thread.join()
        return self.value


def parse_number(answer: str) -> float | None:
    """The first number of an answer in any notation: 4.5e-5, 0.000045, 4.5×10^-5, 4.5 x 10⁻⁵, 10^-5, 10 的负 5 次方,
    25% (0.25) or 1/4. A power read as its base ("10^-10" as 10) scored 1 where "1e-10" scored 5."""
    text = answer.replace("，", ",").replace(",", "").replace("−", "-")
    text = _SUPERSCRIPT.sub(lambda m: "^" + m.group(0).translate(_SUPERSCRIPT_DIGITS), text)
    text = _CHINESE_POWER.sub(lambda m: f"^{'-' if m.group(1) else ''}{m.group(2)}", text)
    match = _NUMBER.search(text)
    if match is None:
        return None
    value, rest = float(match.group(0)), text[match.end():]
    times = _TIMES_BASE.match(rest)  # 4.5 × 10^-5: the mantissa times a power
    base = float(times.group(1)) if times else value
    power = _POWER.match(rest[times.end():] if times else rest)
    if power:
        try:
            value = (value if times else 1.0) * base ** int(power.group(1))
        except (OverflowError, ZeroDivisionError):
            return None
        rest = (rest[times.end():] if times else rest)[power.end():]
    rest = rest.lstrip()
    if rest.startswith("%"):
        return value / 100
    fraction = re.match(r"/\s*(\d+\.?\d*)", rest)
    if fraction and float(fraction.group(1)):
        return value / float(fraction.group(1))
    return value


def prediction_score(predicted: float | None, measured: float) -> int:
    """0-5 by how many times off the prediction is: within 1.5x is 5, 3x 4, 10x 3, 100x 2, further 1; no number is 0.
    A factor at every scale: 0 is right only of 0 (an absolute tolerance near 0 gave "about 1e-10", 3000x off the
    measured 3.2e-14, and "几乎为 0" full marks)."""
    if predicted is None:
        return 0
    if predicted == 0 or measured == 0:
        return 5 if predicted == measured else 1
    if (predicted > 0) != (measured > 0):
        return 1
    factor = max(predicted / measured, measured / predicted)
    return next((score for limit, score in ((1.5, 5), (3, 4), (10, 3), (100, 2)) if factor <= limit), 1)


# --- planning ------------------------------------------------------------------------------------


@dataclass
class InterviewPlan:
    home: Path
    openings: list[Card]
    topics: list[str]
    minutes: float
    lang: str | None
    seed: int
    follow_ups: int
    warnings: list[str] = field(default_factory=list)
    rivals: dict[str, list[Card]] = field(default_factory=dict)  # by card id: the answers it is told from (grading)
    own: list[Card] = field(default_factory=list)  # the cards of the learner's own notes: where a miss is re-read


def _level(card: Card) -> int:
    return card.difficulty or UNRATED_LEVEL


def plan_interview(
    home: Path | str | None, now: datetime, topics: list[str] | None = None, count: int | None = None,
    minutes: float = 20, level: int = 3, seed: int = 0, lang: str | None = None, follow_ups: int = FOLLOW_UPS_DEFAULT,
    banks: list[Path] | None = None, notes: bool = True, history: bool = True,
) -> InterviewPlan:
    """The opening questions: open questions of the chosen topics, at most `level` hard, taken in turn from
    each topic and, within one, from each difficulty; due cards first, then weak ones (last score 2 or
    less), then new ones, then the rest. The seed shuffles within those groups. Without `history` every card
    counts as new: the order is the seed's alone, so a scripted session repeats in a home each session adds to."""
    if level not in LEVELS:
        raise StudybotError(f"--level {level}: use 1, 2 or 3")
    if lang not in (None, "zh", "en"):
        raise StudybotError(f"--lang {lang!r}: use zh or en")
    if not 0 <= follow_ups <= FOLLOW_UPS_MAX:
        raise StudybotError(f"--follow-ups {follow_ups}: use 0 to {FOLLOW_UPS_MAX}")
    if minutes <= 0:
        raise StudybotError(f"--minutes {minutes:g}: give a positive number of minutes")
    home = resolve_home(home, create=True)
    deck = load_deck(home, banks, notes=notes)
    glossary = load_glossary(home)
    open_cards = [c for c in deck.cards if c.kind == "short" and c.origin != "interview"]
    groups: dict[str, list[Card]] = {}
    taken: set[str] = set()
    for topic in topics or [None]:
        for card in select(open_cards, topic, glossary):
            if _level(card) <= level and card.id not in taken:
                taken.add(card.id)
                groups.setdefault(topic or card.topic, []).append(card)
    if not groups:
        raise StudybotError(f"no open questions at level {level} or below for {', '.join(topics or ['any topic'])}: "
                            "raise --level or pick another --topic")
    schedule = {}
    if history:
        with ReviewStore(home) as store:
            schedule = store.schedule()

    def rank(card: Card) -> int:
        """0: due, 1: weak (last score 2 or less), 2: new, 3: the rest."""
        state = schedule.get(card.id)
        if state is None:
            return 2
        return 0 if state["due"] <= now else 1 if (state["last_score"] or 0) <= 2 else 3

    rng = random.Random(seed)
    ordered: dict[str, list[Card]] = {}
    for topic, cards in groups.items():
        rng.shuffle(cards)
        cards.sort(key=lambda c: (rank(c), schedule[c.id]["due"] if rank(c) == 0 else now))  # most overdue first
        seen: Counter = Counter()
        keyed = []
        for card in cards:  # within a rank, interleave difficulties: the first of each level, then the second, ...
            keyed.append(((rank(card), seen[rank(card), _level(card)], _level(card)), card))
            seen[rank(card), _level(card)] += 1
        ordered[topic] = [card for _, card in sorted(keyed, key=lambda pair: pair[0])]
    names = list(ordered)
    rng.shuffle(names)
    names.sort(key=lambda t: rank(ordered[t][0]) >= 2)  # topics with due or weak cards first
    count = count or max(1, int(minutes // MINUTES_PER_OPENING))
    openings: list[Card] = []
    while len(openings) < count and any(ordered.values()):
        for topic in names:
            if ordered[topic] and len(openings) < count:
                openings.append(ordered[topic].pop(0))
    asked = topics or list(dict.fromkeys(card.topic for card in openings))
    return InterviewPlan(home=home, openings=openings, topics=asked, minutes=minutes, lang=lang, seed=seed,
                         follow_ups=follow_ups, warnings=deck.warnings, rivals=rivals(deck.cards),
                         own=[c for c in deck.cards if c.origin == "note" and not is_bundled_note(c.source)])


# --- the session -----------------------------------------------------------------------------------


Ask = Callable[[dict], "str | None"]


PHRASE_PROMPT = (
    "You are a machine-learning interviewer. Rewrite the follow-up question below as one short, natural "
    "interview question in {language}, keeping what it asks. Never state or hint at the answer. "
    "Reply with the question only."
)
MAX_PHRASE_CHARS = 240
PHRASE_TOKENS = 96


class Phraser:
    """A language model that words the probes and ladder questions; each wording is checked (one line in the
    right language, short, naming no key point of its answer) and the template question kept when it fails."""

    def __init__(self, generator, seed: int = 0) -> None:
        self.generator = generator
        self.seed = seed

    def _one(self, template: str, lang: str, answers: list[str]) -> str:
        from studybot.answer.backends import GenerationError
        from studybot.answer.pipeline import LANGUAGE_NAMES

        messages = [{"role": "system", "content": PHRASE_PROMPT.format(language=LANGUAGE_NAMES[lang])},
                    {"role": "user", "content": template}]
        try:
            reply = self.generator.complete(messages, PHRASE_TOKENS, 0.0, self.seed)
        except GenerationError as exc:
            raise _Unphrased(str(exc)) from None
        text = reply.strip().splitlines()[0].strip(" \"'“”「」") if reply.strip() else ""
        if not text:
            raise _Unphrased("the model's wording was empty")
        if len(text) > MAX_PHRASE_CHARS:
            raise _Unphrased(f"the model's wording ran past {MAX_PHRASE_CHARS} characters")
        if language(text) != lang:
            raise _Unphrased(f"the model's wording was not in {LANGUAGE_NAMES[lang]}")
        if any(find_term(text, answer) for answer in answers if answer.strip()):
            raise _Unphrased("the model's wording gave the answer away")
        return text

    def phrase(self, asked: Asked, lang: str | None) -> Asked:
        """The question worded by the model in the shown languages, or as it was, with the reason."""
        answers = [s for p in ([asked.target] if asked.target else asked.card.key_points) for s in [*p.zh, *p.en]]
        try:
            worded = {code: self._one(getattr(asked.card.question, code), code, answers)
                      for code in ([lang] if lang else ["zh", "en"])}
        except _Unphrased as exc:
            return replace(asked, phrase_note=str(exc))
        question = Bilingual(zh=worded.get("zh", asked.card.question.zh), en=worded.get("en", asked.card.question.en))
        return replace(asked, card=replace(asked.card, question=question), phrased_by="model")


class _Unphrased(Exception):
    """Why a model's wording of a follow-up was not used."""


class Interviewer:
    """Builds follow-ups for one session: the grader, the glossary, the session's openings and the demo predicted."""

    def __init__(self, grader: Grader, seed: int = 0, measure: Callable[[Prediction], float] | None = None,
                 phraser: Phraser | None = None, lang: str | None = None, openings: list[Card] | None = None) -> None:
        self.grader = grader
        self.openings = openings or []  # the session's opening questions, which no follow-up asks again
        self.glossary = grader.glossary
        self.predicted: str | None = None  # the demo whose number the session's predict question asked
        self.measure = measure or (lambda prediction: demo_value(prediction, seed))
        self.phraser = phraser
        self.lang = lang

    def answered(self, thread: Thread, asked: Asked, grade: Grade, answer: str) -> None:
        """Note an answer and its grade in its thread: what the next follow-up is chosen from."""
        thread.turns.append((asked, grade))
        thread.answers.append(answer)
        if asked.kind == "opening":
            thread.missed = [p for p in asked.card.key_points if point_label(p) in grade.missed]

    def answering(self, thread: Thread, rung: Rung) -> Section | None:
        """A section next to the opening's in its note whose heading asks a ladder step of the subject (`answered_by`):
        "Dropout 的缺点" beside "Dropout 为什么能防止过拟合？", a short section that answered 5/5 had nothing deeper to ask.
        Not one that asks of another subject ("Adam 的缺点" beside "SGD with momentum 是怎么工作的？"), nor one the
        session asks as an opening question."""
        section, card = thread.section, thread.card
        named = {e.id for e in self.glossary.find(f"{card.question.zh}\n{card.question.en}\n{card.context}")}
        opened = {opening.source for opening in self.openings}
        return next((other for title, other in _siblings(section.file, section.start)
                     if set(aspects(title)) & set(rung.answered_by) and f"{other.file}:{other.start}" not in opened
                     and {e.id for e in self.glossary.find(title)} <= named), None)

    def unsaid(self, thread: Thread, points: list[KeyPoint]) -> list[KeyPoint]:
        """The points no answer of the thread has brought yet, by its grade or in its words: what a follow-up may be
        graded on or probe. The opening answer "… prepends a learnable CLS token …" was followed by a deeper question
        that marked "✗ token", then by the probe "prepend a learnable [CLS] ____"."""
        covered = {label for _, grade in thread.turns for label in grade.covered}
        said = [self.grader.coverage(points, answer, f"{asked.card.question.zh}\n{asked.card.question.en}")
                for (asked, _), answer in zip(thread.turns, thread.answers)]
        return [p for i, p in enumerate(points) if point_label(p) not in covered and not any(hits[i] for hits in said)]

    def follow_up(self, thread: Thread) -> Asked | None:
        """The follow-up the last answer calls for, or None to move on."""
        for kind in next_kinds(thread.turns[-1][1], thread):
            asked = FOLLOW_UPS[kind](self, thread)
            if asked is not None:  # a note's own follow-up and a predict question keep their words
                worded = self.phraser is not None and (kind == "probe" or (kind == "deeper" and asked.rung != "follow-up"))
                return self.phraser.phrase(asked, self.lang) if worded else asked
        return None

    def probe(self, thread: Thread, card: Card, point: KeyPoint) -> Asked | None:
        """A question whose answer is the point: the note's sentence that holds it, with the point blanked; None when
        no sentence holds it in a single blank. The question again with "还有哪个关键点你没有说到？" asked nothing new
        ("经典 CNN 是如何从 LeNet 演进到 ResNet 的？", its missed points LeNet and ResNet)."""
        question = f"{card.question.zh}\n{card.question.en}"
        target = point
        terms = {"zh": [s for s in point.zh if len(s) <= SHORT_TERM], "en": [s for s in point.en if len(s) <= SHORT_TERM]}
        if not terms["zh"] and not terms["en"]:  # a sentence-long point: ask for the concept it turns on
            concepts = _concept_points(" ".join([*point.zh, *point.en]), question, self.glossary)
            if concepts:
                target = concepts[0]
            else:
                words = [w for w in tokenize(point.zh[0]) if len(w) >= 2 and word_key(w) not in
                         {word_key(t) for t in tokenize(question)}]
                target = KeyPoint(zh=[max(words, key=len)], en=[max(words, key=len)]) if words else point
            terms = {"zh": list(target.zh), "en": list(target.en)}
        section = thread.section
        sources = section.sentences() if section is not None else []
        sources += [(None, s) for line in f"{card.answer.zh}\n{card.answer.en}".splitlines() for s in split_quotable(line)]
        said = tuple(name for entry in self.glossary.find(question) for name in entry.aliases)
        # the interview's language, else a question in one language only (a note's Chinese heading) is in that one
        prefer = self.lang or (language(card.question.zh) if card.question.zh == card.question.en else None)
        found = blanked_sentences(sources, terms, self.grader.lexical_threshold,
                                  section.answer_lines if section is not None else frozenset(), said, question, prefer,
                                  section.rows if section is not None else frozenset())
        if not found:
            return None
        blank = {"zh": "追问：「{}」——空白处应该是什么？为什么？", "en": 'Follow-up: "{}" What goes in the blank, and why?'}
        asked = Bilingual(**{lang: _probe_text(lang, found, blank) for lang in ("zh", "en")})
        # the line of the sentence shown: an English interview cited the Chinese sentence's line for its English one
        line = next((found[lang][0] for lang in sorted(found, key=lambda lang: lang != self.lang)
                     if found[lang][0] is not None), None)
        where = locate(target, section, card, self.grader)
        source = f"{section.file}:{line}" if section is not None and line else f"{where['file']}:{where['line_start']}"
        reference = Bilingual(zh=" / ".join(target.zh), en=" / ".join(target.en))
        follow = _follow_up_card(thread.card, f"probe {point_label(point)}", asked, reference, [target], source)
        return Asked("probe", follow, target=point, search_lines=(line,) if line else ())


def _probe_text(lang: str, found: dict, blank: dict[str, str]) -> str:
    """A probe in one language, never mixing two: the blanked sentence of that language in its frame; without
    one, the other language's blanked sentence in its frame (the English probe of a card whose point only its
    Chinese sentence holds asked the opening question again, "Which key point have you not said yet?", and the
    review card's two languages asked two things)."""
    other = "en" if lang == "zh" else "zh"
    return blank[lang].format(found[lang][1]) if lang in found else blank[other].format(found[other][1])


@dataclass
class InterviewResult:
    session: str
    topics: list[str]
    planned: list[str]  # opening card ids, in asking order
    turns: list[dict]
    summary: dict
    report_file: str
    interrupted: bool = False
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"session": self.session, "topics": self.topics, "planned": self.planned, "turns": self.turns,
                "summary": self.summary, "report_file": self.report_file, "interrupted": self.interrupted,
                "warnings": self.warnings}


def _missed(asked: Asked, grade: Grade, section: Section | None, grader: Grader,
            own: tuple[Section, ...] = ()) -> list[dict]:
    """Each missed point with the note lines that hold it (a follow-up's own lines first; the learner's own notes
    `own` before a bundled note)."""
    if asked.kind == "predict":
        path, line = _source(asked.card)
        return [{"point": point, "file": path, "line_start": line, "line_end": line} for point in grade.missed]
    return [locate(point, section, asked.card, grader, asked.search_lines, own)
            for point in asked.card.key_points if point_label(point) in grade.missed]


def own_sections(card: Card, notes: list[Card]) -> tuple[Section, ...]:
    """The sections of the learner's own notes on a card's topic, in deck order: where its missed points are re-read."""
    topics = {card.topic, *card.topics}
    sections = {(section.file, section.start): section for note in notes if topics & {note.topic, *note.topics}
                and (section := card_section(note)) is not None}
    return tuple(sections.values())


def _grade_prediction(asked: Asked, answer: str, measured: float | None) -> Grade:
    if measured is None:
        return Grade(score=0, rating="again", covered=[], missed=[], method="prediction (demo could not run)")
    score = prediction_score(parse_number(answer), measured)
    label = f"{asked.rung}: measured {measured:.3g}"
    return Grade(score=score, rating=RATING_BY_SCORE[score], covered=[label] if score >= PASS_SCORE else [],
                 missed=[] if score >= PASS_SCORE else [label], method="prediction")


def run_interview(
    plan: InterviewPlan, ask: Ask, clock: Clock, on_turn: Callable[[dict], None] | None = None,
    grader: Grader | None = None, measure: Callable[[Prediction], float] | None = None, phraser: Phraser | None = None,
) -> InterviewResult:
    """Ask the openings and their follow-ups until done, out of time, `ask` returns None or Ctrl-C; each answer
    is graded and committed at once, then the report is written (to <home>/interviews/ and the review store)."""
    grader = grader or Grader(load_glossary(plan.home))
    interviewer = Interviewer(grader, plan.seed, measure, phraser, plan.lang, plan.openings)
    session = uuid.uuid4().hex[:12]
    started = clock()
    turns: list[dict] = []
    questions = 0  # asked, the skipped ones too: an answers file gives the n-th question its n-th line
    interrupted = False
    with ReviewStore(plan.home) as store, session_lock(plan.home):
        store.start_interview(session, started, plan.topics)
        try:
            for card in plan.openings:
                if questions and (clock() - started).total_seconds() >= 60 * plan.minutes:
                    break
                thread = Thread(n=questions + 1, card=card, section=card_section(card))
                asked: Asked | None = Asked("opening", card)
                while asked is not None:
                    questions += 1
                    try:
                        turn = _turn(plan, store, session, thread, asked, ask, clock, interviewer, questions)
                    except _Skipped:
                        break
                    if turn is None:
                        raise _Stop
                    turns.append(turn)
                    if on_turn:
                        on_turn(turn)
                    asked = interviewer.follow_up(thread) if len(thread.turns) <= plan.follow_ups else None
        except _Stop:
            pass
        except KeyboardInterrupt:
            interrupted = True
        ended = clock()
        reached = {t["card"] for t in turns}
        unasked = [in_context(c.question.text(plan.lang), c.context) for c in plan.openings if c.id not in reached]
        summary = summarize(turns, store.past_interviews(session), started, unasked)
        # nothing answered, nothing to report ("Overall score - over 0 answers" was written for a session quit at once)
        report = str(write_report(plan.home, session, started, plan.topics, turns, summary)) if turns else ""
        store.finish_interview(session, ended, summary["score"], summary, report)
    return InterviewResult(session=session, topics=plan.topics, planned=[c.id for c in plan.openings], turns=turns,
                           summary=summary, report_file=report, interrupted=interrupted, warnings=plan.warnings)


class _Stop(Exception):
    """The learner ended the session (`:q`, end of input)."""


class _Skipped(Exception):
    """The learner passed a question with an empty answer: nothing is graded or scheduled, no follow-up comes (an
    Enter pressed by mistake was graded 0/5 and scheduled Again, a failed review)."""


def _turn(plan: InterviewPlan, store: ReviewStore, session: str, thread: Thread, asked: Asked, ask: Ask,
          clock: Clock, interviewer: Interviewer, n: int) -> dict | None:
    """Ask one question, grade the answer, commit it; None when the learner stops, `_Skipped` when they pass it."""
    card, grader = asked.card, interviewer.grader
    prediction = asked.prediction
    measuring = _Measurement(lambda: interviewer.measure(prediction)) if prediction is not None else None
    # where a note card sits, as the quiz shows it: "What changes at test time?" was asked without "(Dropout)"
    shown = {"n": n, "kind": asked.kind, "opening": thread.n, "topic": card.topic, "context": card.context,
             "question": card.question.text(plan.lang), "card": card.id, "rung": asked.rung,
             "phrased_by": asked.phrased_by, "phrase_note": asked.phrase_note}
    if prediction is None:
        grader.prepare(card, plan.rivals.get(card.id, ()))
    asked_at = clock()
    answer = ask(shown)
    if answer is None:
        return None
    if not answer.strip():
        raise _Skipped
    answered_at = clock()
    if measuring is not None:
        measured = measuring.result()
        grade = _grade_prediction(asked, answer, measured)
    else:
        measured = None
        grade = grader.grade(card, answer, plan.rivals.get(card.id, ()))
    interviewer.answered(thread, asked, grade, answer)
    turn = {
        **shown, "answer": answer, "score": grade.score, "rating": grade.rating, "covered": grade.covered,
        "missed": _missed(asked, grade, asked.section or thread.section, grader, own_sections(card, plan.own)),
        "seconds": round((answered_at - asked_at).total_seconds(), 3),
        "target": point_label(asked.target) if asked.target else None,
        # the demos the card itself names (its question's concepts), not all of its topic's: a multi-head attention
        # card's missed points were sent to the √d_k demo
        "reference": card.answer.text(plan.lang), "source": card.source, "demos": list(card.demos),
    }
    if measuring is not None:
        turn["measured"] = measured
        turn["demo_error"] = measuring.error
    keep = asked.kind in ("probe", "deeper") and grade.score < PASS_SCORE
    review = {"rating": grade.rating} if asked.kind == "opening" or keep else None
    due = store.record_turn(session, turn, answered_at, review=review, card=card.to_record() if keep else None,
                            fingerprint=note_print(card) if asked.kind == "opening" else "")
    turn["due"] = iso(due) if due else None
    return turn


# --- the report ------------------------------------------------------------------------------------


def in_context(question: str, context: str) -> str:
    """A question with where its card sits in the notes, as a list of questions shows it: "(Dropout) What changes at
    test time?"."""
    return f"({context}) {question}" if context else question


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def summarize(turns: list[dict], past: list[dict], started: datetime, unasked: list[str]) -> dict:
    """The report as data: overall and per-topic scores, the weakest points with the lines to re-read and the
    demos to run, the questions to expect next time (`unasked`: planned openings never reached), and how
    this session compares with the ones before it."""
    by_topic: dict[str, dict] = {}
    for turn in turns:
        topic = by_topic.setdefault(turn["topic"], {"openings": 0, "answers": 0, "scores": [], "missed": 0})
        topic["openings"] += turn["kind"] == "opening"
        topic["answers"] += 1
        topic["scores"].append(turn["score"])
        topic["missed"] += len(turn["missed"])
    weak: dict[str, dict] = {}
    for i, turn in enumerate(turns):
        # a point an answer later in the session brought is recalled, not weak: "softmax", missed at the opening, was
        # the first point to re-read although its probe, the very next question, was answered 5/5
        recalled = {label for later in turns[i + 1:] for label in later["covered"]}
        for miss in turn["missed"]:
            if miss["point"] in recalled:
                continue
            # once per point, at the lines where it was first missed (a point held by two lines is one point)
            entry = weak.setdefault(miss["point"], {**miss, "topic": turn["topic"], "times_missed": 0, "worst_score": 5,
                                          "first": turn["n"], "demos": []})
            entry["times_missed"] += 1
            entry["worst_score"] = min(entry["worst_score"], turn["score"])
            entry["demos"] = list(dict.fromkeys(entry["demos"] + turn["demos"]))
    ranked = sorted(weak.values(), key=lambda e: (-e["times_missed"], e["worst_score"], e["first"]))
    weakest = [{k: v for k, v in e.items() if k != "first"} for e in ranked[:WEAKEST]]
    failed = [in_context(t["question"], t["context"]) for t in turns if t["score"] < PASS_SCORE]
    score = _mean([t["score"] for t in turns])
    before = [p for p in past if p["started_at"] <= iso(started) and p["score"] is not None]
    compare = {"sessions_before": len(before), "previous_score": None, "change": None, "best_before": None,
               "by_topic": {}}
    if before:
        previous = round(before[-1]["score"], 2)
        compare.update(previous_score=previous, change=round(score - previous, 2) if score is not None else None,
                       best_before=round(max(p["score"] for p in before), 2))
        for topic, data in by_topic.items():
            earlier = [p["by_topic"][topic] for p in before if topic in p["by_topic"]]
            if earlier:
                compare["by_topic"][topic] = {"now": _mean(data["scores"]), "before": _mean(earlier)}
    return {
        "score": score,
        "answers": len(turns),
        "openings": sum(t["kind"] == "opening" for t in turns),
        "by_topic": {topic: {"openings": d["openings"], "answers": d["answers"], "score": _mean(d["scores"]),
                             "missed": d["missed"]} for topic, d in by_topic.items()},
        "weakest": weakest,
        "demos": list(dict.fromkeys(d for e in weakest for d in e["demos"])),
        "expect_next": list(dict.fromkeys(failed + unasked))[:EXPECT_NEXT],
        "compare": compare,
    }


def _lines(miss: dict) -> str:
    end = f"-{miss['line_end']}" if miss["line_end"] != miss["line_start"] else ""
    return f"{miss['file']}:{miss['line_start']}{end}"


def report_markdown(session: str, started: datetime, topics: list[str], turns: list[dict], summary: dict) -> str:
    """The report a learner keeps: scores, weakest points, what to expect, the comparison and the transcript."""
    score = "-" if summary["score"] is None else f"{summary['score']:.2f}/5"
    out = [f"# Mock interview {started:%Y-%m-%d %H:%M} UTC", "",
           f"Session `{session}`, topics: {', '.join(topics)}. Overall score **{score}** over "
           f"{summary['answers']} answers ({summary['openings']} opening questions).", "",
           "## By topic", "", "| topic | openings | answers | mean score | points missed |", "| --- | --- | --- | --- | --- |"]
    out += [f"| {t} | {d['openings']} | {d['answers']} | {d['score']} | {d['missed']} |"
            for t, d in summary["by_topic"].items()]
    out += ["", "## The weakest points", ""]
    for i, weak in enumerate(summary["weakest"], start=1):
        demos = "; run " + ", ".join(f"`studybot demo {d}`" for d in weak["demos"]) if weak["demos"] else ""
        out.append(f"{i}. **{weak['point']}** ({weak['topic']}, missed {weak['times_missed']}x): re-read "
                   f"`{_lines(weak)}`{demos}")
    if not summary["weakest"]:
        out.append("No point was missed.")
    out += ["", "## Questions to expect next time", ""]
    out += [f"- {q.replace(chr(10), ' / ')}" for q in summary["expect_next"]] or ["- (none)"]
    compare = summary["compare"]
    out += ["", "## Compared with earlier sessions", ""]
    if compare["sessions_before"]:
        out.append(f"{compare['sessions_before']} earlier sessions; the last scored {compare['previous_score']}/5 "
                   f"(change {compare['change']:+}), the best {compare['best_before']}/5." if compare["change"] is not None
                   else f"{compare['sessions_before']} earlier sessions; the last scored {compare['previous_score']}/5.")
        out += [f"- {t}: {d['before']} before, {d['now']} now" for t, d in compare["by_topic"].items()]
    else:
        out.append("This is the first session.")
    out += ["", "## Transcript", ""]
    for turn in turns:
        out += [f"### {turn['n']}. {turn['kind']} ({turn['topic']}): {turn['score']}/5", "",
                f"**Q:** {in_context(turn['question'], turn['context']).replace(chr(10), ' / ')}", "",
                f"**A:** {' '.join(turn['answer'].split())}", ""]
        if turn["covered"]:
            out.append("- covered: " + "; ".join(turn["covered"]))
        out += [f"- missed: {m['point']} (`{_lines(m)}`)" for m in turn["missed"]]
        out += [f"- seconds: {turn['seconds']}", ""]
    return "\n".join(out) + "\n"


def write_report(home: Path, session: str, started: datetime, topics: list[str], turns: list[dict],
                 summary: dict) -> Path:
    """<home>/interviews/<start>-<session>.md, written atomically."""
    folder = Path(home) / REPORT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{started:%Y-%m-%dT%H%M%S}-{session}.md"
    write_atomic(path, report_markdown(session, started, topics, turns, summary).encode("utf-8"))
    return path
