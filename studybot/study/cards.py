"""Quiz cards: bank questions, the questions the indexed notes ask, and clozes of the terms they teach.

Every source becomes the same `Card`, so grading, scheduling, stats and the Anki export never
ask where a card came from. Card ids are stable: a bank question keeps its bank id, and a card
from a note is named by a hash of the note's path and heading path, so re-indexing (which
renumbers chunks) keeps its review history, and a renamed note or heading hands its history to
the card that asks the same thing (`Card.fingerprint`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import asdict, astuple, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from studybot.ingest.chunking import ANSWER_HEADING
from studybot.content.schema import BLANK, Bilingual, KeyPoint, Question, load_quizzes, read_quiz_banks
from studybot.errors import StudybotError
from studybot.content.glossary import Glossary, concept_topics, load_glossary, mention
from studybot.home import bundled_dir, is_bundled_note
from studybot.ingest.notes import heading_title, parse_note, without_bold
from studybot.study.keypoints import MIN_POINTS, DocumentFrequencies, answer_tokens, term_points
from studybot.study.questions import (URL, is_question, qa_pairs, question_key, same_question, section_question,
                                      trim_answer)
from studybot.text.aspects import aspects, compares, defines
from studybot.text.language import has_cjk
from studybot.text.sentences import is_aside, split_sentences
from studybot.text.tables import column_names, read_tables, row_cells
from studybot.text.tokens import TEX_COMMAND, find_term, squashed

if TYPE_CHECKING:
    from studybot.study.grading import Grader

MAX_NOTE_POINTS = 6
MIN_CLOZE_SENTENCE = 12
_LANG_MARK = re.compile(r"^\s*(中文|English)\s*[:：]\s*", re.IGNORECASE)
# a list's or a quote's mark before a sentence, which a space ends: "*args 收集…" opens with code, not a bullet ("args 收集
# 多余的____成元组"), and so does "-1 is the padding label"
_ITEM_MARK = re.compile(r"^\s*(?:(?:[-*>]\s|•)\s*)*")


@dataclass
class Card:
    """One thing to recall, with what grading needs (key points, accepted fills, the right option)."""

    id: str
    kind: str  # short | choice | cloze
    origin: str  # bank | note | term
    topic: str
    question: Bilingual
    answer: Bilingual
    key_points: list[KeyPoint]
    source: str  # "file:line" to open
    heading: str = ""  # the section of the source the card asks about
    topics: list[str] = field(default_factory=list)  # everything --topic may match
    options: list[Bilingual] = field(default_factory=list)
    correct: int | None = None  # choice: 0-based index of the right option
    accepted: list[str] = field(default_factory=list)  # cloze: the accepted fills
    demos: list[str] = field(default_factory=list)
    difficulty: int = 0  # a bank question's 1-3; 0: not rated (a note's card)
    headings: list[str] = field(default_factory=list)  # a note card's heading path, which --topic also searches

    @property
    def context(self) -> str:
        """Where a note card's question sits in the notes, less what the question already says: "P-Tuning" for
        "How the prompt encoder works", a heading that does not name its subject; "" for a bank card. A cloze's
        context never names its blank: "目标检测 > IoU" over "$$____ = \\frac{|A \\cap B|}{|A \\cup B|}$$" said the answer."""
        asked = squashed(f"{self.question.zh}{self.question.en}")
        headings = [h for h in self.headings if not any(squashed(fill) in squashed(h) and find_term(h, fill)
                                                        for fill in self.accepted if fill.strip())]  # cheap test first
        while headings and any(squashed(side) in asked for side in astuple(split_bilingual(headings[-1]))):
            headings.pop()  # a bilingual heading ("… / …") is asked in one language or the other
        return " > ".join(headings)

    @property
    def fingerprint(self) -> str:
        """What the card asks for apart from where it sits (its id is its note's path and heading path): the
        same after the note or heading is renamed, so its review history can follow it."""
        parts = [self.kind, self.answer.zh, self.answer.en, *self.accepted]
        return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        return {
            "id": self.id, "kind": self.kind, "origin": self.origin, "topic": self.topic, "context": self.context,
            "question": {"zh": self.question.zh, "en": self.question.en},
            "reference": {"zh": self.answer.zh, "en": self.answer.en}, "source": self.source,
            "options": [{"zh": o.zh, "en": o.en} for o in self.options], "demos": list(self.demos),
        }

    def to_record(self) -> dict:
        """Everything, as JSON-ready data: how a card made by an interview is kept in the review store."""
        return asdict(self)

    @classmethod
    def from_record(cls, data: dict) -> "Card":
        """The card `to_record` kept."""
        return cls(**{
            **data, "question": Bilingual(**data["question"]), "answer": Bilingual(**data["answer"]),
            "key_points": [KeyPoint(**p) for p in data["key_points"]],
            "options": [Bilingual(**o) for o in data["options"]],
        })


@dataclass
class Deck:
    cards: list[Card]
    warnings: list[str] = field(default_factory=list)

    def by_id(self) -> dict[str, Card]:
        return {card.id: card for card in self.cards}


# --- bank questions ----------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _heading_lines(path: Path) -> dict[str, int]:
    """Heading text -> 1-based line in a knowledge note, so feedback can point at file:line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    lines: dict[str, int] = {}
    for heading in parse_note(text, path).headings:
        lines.setdefault(heading.title, heading.line)
    return lines


def _bank_card(question: Question, bank: Path) -> Card:
    note = bundled_dir("knowledge") / question.source.file
    line = _heading_lines(note).get(heading_title(question.source.heading))
    source = f"{note}:{line}" if line else f"{bank}:{question.line}"
    options = list(question.options or [])
    return Card(
        id=question.id, kind=question.type, origin="bank", topic=question.topic, question=question.question,
        answer=question.answer, key_points=list(question.key_points), source=source,
        heading=question.source.heading, topics=[question.topic],
        options=options, correct=question.correct if question.type == "choice" else None,
        accepted=list(question.correct) if question.type == "cloze" else [],
        demos=[question.demo] if question.demo else [], difficulty=question.difficulty,
    )


def bank_roots(home: Path | None, banks: list[Path] | None = None) -> list[Path]:
    """The quiz banks to read (files or folders): the given ones, else the bundled banks plus <home>/quizzes."""
    if banks:
        roots = [Path(b).expanduser() for b in banks]
        for root in roots:
            if not root.exists():
                raise StudybotError(f"quiz bank {root} not found: pass a .yaml file or a folder of them")
        return roots
    user = Path(home) / "quizzes" if home is not None else None
    return [bundled_dir("quizzes")] + ([user] if user is not None and user.is_dir() else [])


def bank_cards(roots: list[Path], strict: bool = False) -> tuple[list[Card], list[str]]:
    """Cards of every sound bank and the problems of the others, which are left out (`strict`: any
    problem is an error instead, naming the first and counting the rest)."""
    questions, problems = (load_quizzes(roots), []) if strict else read_quiz_banks(roots)
    return [_bank_card(question, Path(question.file)) for question in questions], problems


# --- cards from the indexed notes --------------------------------------------------------------


def note_card_id(path: str, heading_path: list[str], prefix: str = "note") -> str:
    """Stable across re-indexing: chunk ids change, a note's path and headings do not."""
    digest = hashlib.sha1(f"{path}\x1f{' > '.join(heading_path)}".encode()).hexdigest()[:12]
    return f"{prefix}-{digest}"


def split_bilingual(text: str) -> Bilingual:
    """'A / B' headings and '中文：… English: …' answer blocks become their two halves; other text serves both.
    A slash in an answer's text is no such pair: "测试时输出乘 1 / p。" gave a Chinese half and an English half "p。",
    and the note's question no card."""
    zh, _, en = text.partition(" / ")
    if (en and "\n" not in text.strip() and has_cjk(zh) and not has_cjk(en) and re.search("[A-Za-z]{2}", en)
            and not en.rstrip().endswith(("。", "；", "，"))):  # a sentence's end after the slash: "1 / keep_prob。"
        return Bilingual(zh=zh.strip(), en=en.strip())
    parts: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        mark = _LANG_MARK.match(line)
        if mark:
            current = "zh" if mark.group(1) == "中文" else "en"
            line = line[mark.end():]
        parts.setdefault(current, []).append(line)
    if parts.get("zh") and parts.get("en"):
        return Bilingual(zh="\n".join(parts["zh"]).strip(), en="\n".join(parts["en"]).strip())
    return Bilingual(zh=text.strip(), en=text.strip())


def _unquote(text: str) -> str:
    """A blockquoted answer without its quote marks, links and bold (a link is not something to say in an interview,
    nor a key point), its inline code kept as code, backticks and all, as a section's answer keeps it (`_prose`):
    without them an interview answer's `super().__init__(*args, **kwargs)` reached Anki as text, not <code>."""
    lines = (URL.sub("", re.sub(r"^\s*>\s?", "", line)) for line in text.splitlines())
    return without_bold("\n".join(lines)).strip()


def _answer_only(reference: str) -> str:
    """A section's answer without a first line that asks a question: a callout's title over it ("> [!question] 面试题：
    权重为啥不能全初始化成 0？" under "## 为什么不能全 0 初始化") asks the card's question again, and its label and words
    were the card's key points (面试题、为啥) and the first words of its reference."""
    title, _, rest = reference.partition("\n")
    return rest.strip() if rest.strip() and title.rstrip().endswith(("?", "？")) else reference


def reference_sentences(text: str) -> list[str]:
    """Sentences and clauses of a reference answer, the units a grader checks one by one (and a cloze blanks):
    not words to the reader ("Let's however first take a look at the architecture of a contemporary ____ network.")."""
    parts: list[str] = []
    for part in (_ITEM_MARK.sub("", part).rstrip(" -*>•\t") for part in split_sentences(text)):
        # a line that ends in a colon says what follows it: alone, "递推公式（从第一层往后）：" held the point 递推 that an
        # answer giving the formula in English could not reach by meaning (0.86 to it, 0.92 with its formula)
        if parts and parts[-1].endswith((":", "：")):
            parts[-1] += ("" if parts[-1].endswith("：") else " ") + part
        else:
            parts.append(part)
    return [s for s in parts if len(s) >= 4 and not is_aside(s)]


def _groups(items: list[str], n: int) -> list[str]:
    """Join adjacent items into n groups of nearly equal size, keeping order."""
    size, extra = divmod(len(items), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        out.append(" ".join(items[start:end]))
        start = end
    return out


def sentence_points(answer: Bilingual) -> list[KeyPoint]:
    """Key points of a note's answer: its sentences, at most six groups, paired across languages."""
    zh, en = reference_sentences(answer.zh), reference_sentences(answer.en)
    if not zh or not en:
        return []
    if answer.zh == answer.en:
        return [KeyPoint(zh=[s], en=[s]) for s in _groups(zh, min(len(zh), MAX_NOTE_POINTS))]
    n = min(len(zh), len(en), MAX_NOTE_POINTS)
    return [KeyPoint(zh=[a], en=[b]) for a, b in zip(_groups(zh, n), _groups(en, n))]


def _labels(metadata: dict) -> list[str]:
    """A note's front-matter topic and tags."""
    topics = [str(metadata["topic"])] if metadata.get("topic") else []
    tags = metadata.get("tags") or []
    return [t for t in topics + [str(t) for t in (tags if isinstance(tags, list) else [tags])] if t]


def note_topics(metadata: dict, concepts: list) -> list[str]:
    """Front-matter topic and tags first, then the commonest topic of the concepts a card names (notes without
    front matter)."""
    topics = _labels(metadata)
    counts = Counter(concept_topics(concepts))
    if counts:
        topics.append(counts.most_common(1)[0][0])
    return list(dict.fromkeys(t for t in topics if t)) or ["notes"]


def _cloze(card: Card, glossary: Glossary, terms: set[str] | None = None,
           lines: dict[int, str] | None = None) -> Card | None:
    """Blank the first key term of the reference (of `terms`, if given) whose sentence gives context and does
    not give it away; cited at the line of the section's `lines` that holds the sentence (a cloze cited its heading).

    The blank must not name the term again elsewhere in the sentence, nor cut a longer term
    (梯度 inside 梯度消失): every other concept of the sentence must survive the blanking. A table's row is one
    sentence, read with its columns' names as the reference reads it, and cited at its line.
    """
    lines = lines or {}
    read = dict(zip(sorted(lines), read_tables([lines[n] for n in sorted(lines)])))
    rows = {squashed(text) for n, text in read.items() if text and row_cells(lines[n]) is not None}
    sentences = [s for line in card.answer.zh.splitlines()
                 for s in (reference_sentences(line) if squashed(line) not in rows else [line])]
    for sentence in sentences:
        concepts = glossary.find(sentence)
        for entry in concepts:
            if terms is not None and entry.id not in terms:
                continue
            match = mention(entry, sentence)
            if (match is None or len(sentence) - len(match.group(0)) < MIN_CLOZE_SENTENCE or _in_formula(sentence, match)
                    or _in_word(sentence, match)):
                continue
            blanked = sentence[:match.start()] + BLANK + sentence[match.end():]
            left = {e.id for e in glossary.find(blanked)}
            if entry.id in left or not {e.id for e in concepts if e.id != entry.id} <= left:
                continue
            said = squashed(sentence)[:24]
            line = next((n for n, text in read.items() if said and said in squashed(text)), None)
            return Card(
                id=card.id.replace("note-", "term-", 1) + f"-{entry.id}", kind="cloze", origin="term",
                topic=card.topic, question=Bilingual(zh=blanked, en=blanked),
                answer=Bilingual(zh=sentence, en=sentence), key_points=[KeyPoint(zh=entry.zh or entry.en, en=entry.en)],
                source=f"{card.source.rsplit(':', 1)[0]}:{line}" if line else card.source, heading=card.heading,
                topics=card.topics + concept_topics([entry]),
                accepted=list(entry.aliases), demos=card.demos, headings=card.headings,
            )
    return None


def _in_formula(sentence: str, match: re.Match) -> bool:
    """Whether a term's place is inside a formula (`$…$`, or by a TeX command): "\\mathcal{L}_{____}" blanked the
    DPO loss's subscript, which nobody says aloud."""
    inside_dollars = sentence.count("$", 0, match.start()) % 2 == 1
    return inside_dollars or bool(TEX_COMMAND.search(sentence[max(0, match.start() - 12):match.start()]))


def _in_word(sentence: str, match: re.Match) -> bool:
    """Whether a term's place is part of a longer word, hyphenated or joined ("Soft-NMS", "BERT-base", "state_dict",
    "Transformer architectures", "Mosaic数据增强": Chinese leaves out the space): "Soft-____：不直接删，而是降低分数。"
    asked for a piece of a name, not what the sentence says."""
    before, after = sentence[:match.start()], sentence[match.end():]
    return bool(re.search(r"(?:\w[-_]|[A-Za-z0-9])$", before) or re.match(r"[-_]\w|[A-Za-z0-9]", after))


SectionKey = tuple[str, tuple[str, ...]]  # a note's path and a heading path in it


@dataclass
class _Section:
    """One section of a note as the index holds it: its lines by source line number, across its chunks."""

    path: str
    heading_path: list[str]
    line: int  # where its first chunk starts (the heading line)
    lines: dict[int, str] = field(default_factory=dict)
    answer: bool = False  # an interview-answer block or a blockquoted answer
    titled: bool = False  # heading_path starts with the note's name, which the note does not write there

    @property
    def written(self) -> list[str]:
        """The heading path as the note writes it, which names its cards: a card keeps its id, and its review
        history, when indexing comes to put the note's name before its headings."""
        return self.heading_path[1:] if self.titled else self.heading_path

    def text(self, before: int | None = None) -> str:
        """The section's text in line order, once (split chunks overlap), up to line `before`."""
        return "\n".join(t for n, t in sorted(self.lines.items()) if before is None or n < before)


def _sections(rows: list[tuple]) -> dict[SectionKey, _Section]:
    """Sections in file order, keyed by note path and heading path, each chunk's text put back on its lines.

    A chunk's text ends on its line_end and keeps its inner lines, so its first line is line_end minus
    its line count; overlapping chunks of a long section then write the same lines twice, harmlessly. The chunks
    of one line (a paragraph written on one line, cut at sentences) are that line's runs, in order.
    """
    sections: dict[SectionKey, _Section] = {}
    for path, heading, line_start, line_end, kind, text, _, titled in rows:
        heading_path = json.loads(heading)
        section = sections.setdefault((path, tuple(heading_path)),
                                      _Section(path, heading_path, line_start, titled=bool(titled)))
        lines = text.split("\n")
        if len(lines) == 1 and (said := section.lines.get(line_end)) and text not in said:
            lines = [f"{said}{'' if has_cjk(said[-1:]) or said[-1:] in '。！？；，：”」' else ' '}{text}"]
        section.lines.update(zip(range(line_end - len(lines) + 1, line_end + 1), lines))
        section.answer = section.answer or kind == "answer"
    return sections


def _heading_only_questions(sections: dict[SectionKey, _Section]) -> dict[SectionKey, _Section]:
    """Question headings with no text of their own (only subsections): their first plain subsection answers them."""
    found: dict[SectionKey, _Section] = {}
    for (path, heading_path), section in sections.items():
        for depth in range(1, len(heading_path)):
            key = (path, heading_path[:depth])
            if key in sections or not is_question(heading_path[depth - 1]):
                continue
            if key not in found and not section.answer and not is_question(heading_path[-1]):
                found[key] = _Section(path, list(heading_path[:depth]), section.line, dict(section.lines),
                                      titled=section.titled)
    return found


def _answer_blocks(sections: dict[SectionKey, _Section],
                   covered: set[tuple[str, str]]) -> dict[SectionKey, tuple[str, _Section]]:
    """Interview-answer blocks by the heading path of the question they answer, with the question asked.

    An answer heading (面试回答, Interview answer) answers its parent heading; a blockquoted answer, its own
    heading when that asks a question (a quote under "ETL tools" is an excerpt, not an answer).
    """
    blocks = {}
    for (path, heading_path), section in sections.items():
        if not section.answer or not heading_path:
            continue
        headed = ANSWER_HEADING.search(heading_path[-1])
        asked = heading_path[:-1] if headed else heading_path
        if asked and (headed or is_question(asked[-1])) and (Path(path).name, asked[-1]) not in covered:
            blocks.setdefault((path, tuple(asked)), (_asked_of(asked), section))
    return blocks


def _asked_of(heading_path: list[str]) -> str:
    """The question an answer block answers: its heading's, or, under a heading that only names a subject
    ("Multi-Head Attention > Interview answer", which a card asked as the bare "Multi-Head Attention"), to explain it."""
    question = section_question(heading_path)
    if is_question(heading_path[-1]) or "?" in question or "？" in question:
        return question
    return f"请解释{question}。" if has_cjk(question) else f"Explain {question}."


def _card_topics(section: _Section, question: str, reference: str, points: list[KeyPoint], index,
                 glossary: Glossary) -> tuple[list[str], list[str]]:
    """What --topic may match (front matter, the text's commonest topic, the concepts asked and the key points
    name), and the demos that measure a concept the card asks, as an answer names them (`pipeline.demos_for`:
    a note's topic or front matter would back every card of the note, a KV-cache card with attention scaling)."""
    from studybot.demos.runner import demos_for_concepts

    metadata = index.metadata(section.path)
    asked = glossary.find(" ".join([*section.heading_path, question]))
    named = [entry.id for point in points for entry in glossary.find(point.en[0])]
    concepts = asked + glossary.find(reference)
    topics = note_topics(metadata, concepts)
    labels = [str(metadata["topic"])] if metadata.get("topic") else _labels(metadata) or topics  # a topic: is its topic
    topics = list(dict.fromkeys([main_topic(labels, concepts, glossary)] + topics + [e.id for e in asked]
                                + concept_topics(asked) + named))
    return topics, demos_for_concepts(entry.id for entry in asked)


@lru_cache(maxsize=1)
def _syllabus_names() -> dict[str, str]:
    from studybot.study.trends import syllabus, topic_names

    return {name: meta.topic for meta in syllabus() for name in topic_names(meta)}


def syllabus_topic(label: str, glossary: Glossary) -> str:
    """The syllabus topic a note's label names, else the label: a tag "optimizer" is the bundled topic
    "optimizers" (by its aliases, or the topic of the glossary concept the label is the whole name of), so stats
    shows one row for both, not a row of 6 cards beside one of 13."""
    low = label.strip().lower()
    if low in _syllabus_names():
        return _syllabus_names()[low]
    whole = [e for e in glossary.find(label) if low in {a.lower() for a in (*e.en, *e.zh)}]
    return next(iter(concept_topics(whole)), label)


def main_topic(labels: list[str], concepts: list, glossary: Glossary) -> str:
    """The syllabus topic a card is filed under: of its note's `labels` (its front-matter topic, else its tags, else
    the card's commonest concept topic), the one whose topic the card's concepts name most, the first on a tie. A broad
    first tag files nothing: "tags: [NLP, attention]" filed a note's attention cards under "embeddings" (NLP is an
    embeddings concept), and "[LLM, 微调, PEFT]" its LoRA cards under "pretraining"."""
    named = Counter(concept_topics(concepts))
    topics = [syllabus_topic(label, glossary) for label in labels]
    return max(topics, key=lambda topic: named[topic])


@dataclass
class _Ask:
    """A question a note asks and the section that answers it, before its key points are chosen."""

    id: str
    question: str
    reference: str
    source: str
    section: _Section
    cloze: bool = False  # an interview-answer block also gives a cloze of its first key term


_ONLY_A_QUESTION = re.compile(r"[^\n]*[?？]")


def _note_card(ask: _Ask, index, glossary: Glossary, frequencies: DocumentFrequencies,
               tokens: list[str]) -> Card | None:
    """A short-answer card of a note; None when its answer names too few terms to grade, or is itself a
    question (a section of "- [ ] TODO" under a question the note has not answered yet)."""
    if _ONLY_A_QUESTION.fullmatch(ask.reference.strip()):
        return None
    answer = split_bilingual(ask.reference)
    if answer.zh != answer.en:  # a bilingual answer block: its sentences, paired across the languages
        points = sentence_points(answer)
    else:
        # the headings above the question are asked too: "What changes at test time?" under "Dropout" had a point
        # of "dropout", which any answer about dropout names, right or wrong (a wrong one was due 16 days later); and so
        # are a table's column names, which label each of its rows as a heading does
        asked = "\n".join([*ask.section.heading_path, ask.question, *column_names(ask.section.text())])
        points = term_points(ask.reference, asked, glossary, frequencies, tokens)
    if not points or (answer.zh == answer.en and len(points) < MIN_POINTS):
        return None
    topics, demos = _card_topics(ask.section, ask.question, ask.reference, points, index, glossary)
    return Card(
        id=ask.id, kind="short", origin="note", topic=topics[0], question=split_bilingual(ask.question),
        answer=answer, key_points=points, source=ask.source, heading=ask.question, topics=topics, demos=demos,
        headings=list(ask.section.heading_path),
    )


def _term_cloze(card_id: str, section: _Section, index, glossary: Glossary) -> Card | None:
    """A cloze of the term a section teaches without asking (a heading that names a glossary concept)."""
    taught = {entry.id for entry in glossary.find(section.heading_path[-1])}
    reference = trim_answer(section.text())
    if not taught or not reference:
        return None
    topics, demos = _card_topics(section, section.heading_path[-1], reference, [], index, glossary)
    text = Bilingual(zh=reference, en=reference)
    card = Card(id=card_id, kind="short", origin="note", topic=topics[0], question=text, answer=text, key_points=[],
                source=f"{section.path}:{section.line}", heading=section.heading_path[-1], topics=topics, demos=demos,
                headings=list(section.heading_path))
    return _cloze(card, glossary, taught, section.lines)


def _chunk_rows(index) -> list[tuple]:
    """(path, heading, line_start, line_end, kind, text, tokens, titled) of every chunk, in note order; titled
    is 0 throughout in an index written before note names were put before headings (until `studybot index`)."""
    import sqlite3

    columns = "path, heading, line_start, line_end, kind, text, tokens"
    try:
        return index.catalog.execute(f"SELECT {columns}, titled FROM chunks ORDER BY path, ordinal").fetchall()
    except sqlite3.OperationalError:
        return [(*row, 0) for row in index.catalog.execute(f"SELECT {columns} FROM chunks ORDER BY path, ordinal")]


def note_cards(index, glossary: Glossary, covered: set[tuple[str, str]]) -> list[Card]:
    """Cards of the indexed notes: every section that asks a question, and clozes of the terms they teach.

    A card is an interview-answer block (its question is the heading it answers), a section headed
    by a question, or a question-answer pair in a section's body; its reference is the section's
    first paragraphs and its key points the terms that set it apart (`keypoints.py`). An answer
    block, and a section that teaches a glossary term without asking, also give a cloze of a term.
    The bundled notes give only their answer blocks, and `covered` holds (file name, heading) pairs
    a bank question already asks: the banks are made from those, and asking twice would be noise.
    """
    rows = _chunk_rows(index)
    frequencies = DocumentFrequencies.from_token_rows(row[6] for row in rows)
    sections = _sections(rows)
    pairs = {key: found for key, section in sections.items()
             if index.own(key[0]) and (found := qa_pairs(sorted(section.lines.items())))}
    blocks = _answer_blocks({key: s for key, s in sections.items() if key not in pairs}, covered)
    found: list[_Ask | Card | None] = [
        _Ask(note_card_id(path, block.written), question, _answer_only(_unquote(block.text())), f"{path}:{block.line}",
             block, cloze=True) for (path, _), (question, block) in blocks.items()]
    for key, section in {**sections, **_heading_only_questions(sections)}.items():
        path, heading_path = key
        if not heading_path or key in blocks or not index.own(path):
            continue
        if ANSWER_HEADING.search(heading_path[-1]) and key not in pairs:  # an answer block covered by a bank
            continue
        title = heading_path[-1]
        question = section_question(list(heading_path))
        asked = [pair for pair in pairs.get(key, []) if not same_question(pair.question, question)]
        found += [_Ask(note_card_id(path, [*section.written, pair.question]), pair.question, pair.answer,
                       f"{path}:{pair.line}", section) for pair in asked]
        if is_question(title) and (Path(path).name, title) not in covered:
            # the text before the sub-questions, or all of it when the section opens with them (its answer in parts)
            reference = trim_answer(section.text(before=asked[0].line if asked else None)) or trim_answer(section.text())
            reference = _answer_only(reference)
            found.append(_Ask(note_card_id(path, section.written), question, reference, f"{path}:{section.line}",
                              section))
        elif not asked:
            found.append(_term_cloze(note_card_id(path, section.written), section, index, glossary))
    tokens = answer_tokens([a.reference for a in found if isinstance(a, _Ask)], index.manifest.get("glossary", ""))
    cards: list[Card] = []
    for item in found:
        card = _note_card(item, index, glossary, frequencies, tokens[item.reference]) if isinstance(item, _Ask) else item
        cloze = (_cloze(card, glossary, lines=item.section.lines) if card is not None and isinstance(item, _Ask)
                 and item.cloze else None)
        cards += [c for c in (card, cloze) if c is not None]
    return cards


NOTE_CARD_CACHE = "note-cards.sqlite"


def _deck_key(index, covered: set[tuple[str, str]]) -> str:
    """What a deck of note cards depends on: the index generation, the glossary files, the bank questions
    that cover sections, and the code that makes the cards (so a new version never reads old cards)."""
    from studybot.content.glossary import glossary_dirs
    from studybot.study import keypoints, questions
    from studybot.text import sentences, tables, tokens

    parts = [str(index.folder), json.dumps(index.manifest, sort_keys=True), json.dumps(sorted(covered))]
    for folder in glossary_dirs(index.home):
        parts += [f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in sorted(folder.glob("*.y*ml"))]
    parts += [Path(module.__file__).read_text(encoding="utf-8")
              for module in (keypoints, questions, sentences, tables, tokens)]
    parts.append(Path(__file__).read_text(encoding="utf-8"))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def cached_note_cards(index, covered: set[tuple[str, str]]) -> list[Card]:
    """note_cards, read back from the shared cache when nothing they depend on changed since the last deck.

    Quiz start-up is where a user waits: making the cards of a 1.3 MB book takes about a second of CPU
    (segmenting, weighing terms), reading them back a few milliseconds.
    """
    from studybot.cache import ContentCache
    from studybot.home import cache_dir

    cache = ContentCache(cache_dir() / NOTE_CARD_CACHE)
    key = _deck_key(index, covered)
    found = cache.get_many("cards", [key]).get(key)
    if found is not None:
        return [Card.from_record(data) for data in json.loads(found)]
    cards = note_cards(index, index.glossary, covered)
    cache.put_many("cards", {key: json.dumps([card.to_record() for card in cards], ensure_ascii=False)})
    return cards


# --- the deck and topic matching ---------------------------------------------------------------


def load_deck(home: Path | None, banks: list[Path] | None = None, notes: bool = True, strict: bool = False) -> Deck:
    """Every card: bank questions, (when notes are indexed in home) the notes' answer blocks and clozes, and the
    cards mock interviews made.

    A bank with problems is skipped with a warning for each problem, unless `strict`.
    """
    from studybot.index import store

    cards, problems = bank_cards(bank_roots(home, banks), strict)
    warnings = [f"quiz bank skipped: {problem}" for problem in problems]
    if notes and home is not None:
        if store.current_generation(Path(home)) is None:
            warnings.append("no notes are indexed in this home: only the quiz banks are asked "
                            "(run `studybot index PATH` to quiz your own notes too)")
        else:
            from studybot.index.search import Index

            index = Index(home)
            covered = {(Path(c.source.rsplit(":", 1)[0]).name, c.heading) for c in cards}
            made = cached_note_cards(index, covered)
            cards = _asked_once(cards, made, index, covered)
            warnings += _follow_renamed(Path(home), made)
    if home is not None:
        cards += interview_cards(Path(home))
    return Deck(cards=cards, warnings=warnings)


def _asked_once(bank: list[Card], notes: list[Card], index, covered: set[tuple[str, str]]) -> list[Card]:
    """The bank's cards and the notes', each question asked once (`_gone`). Which cards give way is kept in the shared
    cache beside the note cards until they, the banks or the code comparing questions change: reading every question's
    concepts took 0.1-0.3 s of CPU of a deck that takes 0.16 s once its note cards are cached."""
    from studybot.cache import ContentCache
    from studybot.home import cache_dir
    from studybot.study import grading
    from studybot.text import aspects as asking

    cache = ContentCache(cache_dir() / NOTE_CARD_CACHE)
    parts = [_deck_key(index, covered), json.dumps([card.to_record() for card in bank], ensure_ascii=False)]
    parts += [Path(module.__file__).read_text(encoding="utf-8") for module in (grading, asking)]
    key = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    found = cache.get_many("gone", [key]).get(key)
    gone = set(json.loads(found)) if found is not None else _gone(bank, notes, index.glossary)
    if found is None:
        cache.put_many("gone", {key: json.dumps(sorted(gone))})
    return [card for card in [*bank, *notes] if card.id not in gone]


def _gone(bank: list[Card], notes: list[Card], glossary: Glossary) -> set[str]:
    """The cards that give way so that each question is asked once: it was asked twice in a row and graded twice. A
    bank question that a card of the user's notes asks, in the same words or in others (`asks_same`), gives way to the
    user's card ("BatchNorm 在训练和推理时有什么不同？"; "LSTM 有哪些门？" beside "LSTM 的三个门分别起什么作用？"); a card of a
    bundled note gives way to the bank question, whose key points are written with their synonyms ("*args 和 **kwargs
    怎么用？" of python.md beside "Python 中 *args 和 **kwargs 有什么用？")."""
    from studybot.study.grading import Grader  # grading reads cards

    by_key: dict[str, list[Card]] = {}  # the note cards asking a question in the same words
    by_concepts: dict[frozenset[str], list[Card]] = {}  # those a bank card may ask the same as in other words
    for card in notes:
        for key in _question_keys(card) if card.origin == "note" else ():
            by_key.setdefault(key, []).append(card)
        for question in {card.question.zh, card.question.en} if card.origin == "note" and card.kind == "short" else ():
            if concepts := _concepts(question, card.context, glossary):
                by_concepts.setdefault(concepts, []).append(card)
    grader = Grader(glossary, semantic=False)
    gone: set[str] = set()
    for card in bank:
        same = [note for key in _question_keys(card) for note in by_key.get(key, ())]
        if card.kind == "short":  # a bank card sits under no headings
            same += [note for question in {card.question.zh, card.question.en}
                     for note in by_concepts.get(_concepts(question, "", glossary), ())
                     if asks_same(note, card, grader)]
        gone |= {note.id if is_bundled_note(note.source.rsplit(":", 1)[0]) else card.id for note in same}
    return gone


def _question_keys(card: Card) -> set[str]:
    return {key for key in (question_key(card.question.zh), question_key(card.question.en)) if key}


SAME_ANSWER_SCORE = 4  # of 5: one card's own answer answers another's question as a good answer does


def _concepts(question: str, context: str, glossary: Glossary) -> frozenset[str]:
    """The glossary concepts a question names, with those of the headings it sits under (a note's "为什么需要位置编码？"
    under "Positional Encoding 位置编码"), less a concept that is only the topic of another (the Transformer of
    "Transformer 为什么需要位置编码？") unless the question compares them."""
    found = glossary.find(f"{question}\n{context}")
    topics = set() if compares(question) else {e.topic for e in found if e.topic != e.id}
    return frozenset(e.id for e in found if e.id not in topics)


def _asks(card: Card, glossary: Glossary) -> set[tuple[frozenset[str], frozenset[str]]]:
    """What a card's question asks, in each of its languages: its concepts (`_concepts`), and what it asks of them
    (why, pros or cons, a solution, a comparison, a definition)."""
    return {(concepts, frozenset([*aspects(question), *["compare"] * compares(question),
                                  *["define"] * defines(question)]))
            for question in {card.question.zh, card.question.en}
            if (concepts := _concepts(question, card.context, glossary))}


def asks_same(card: Card, other: Card, grader: "Grader") -> bool:
    """Whether a card asks what another asks: the same question (`question_key`), or one in other words: their
    questions name the same concepts and ask the same of them (`_asks`), and the card's own answer says enough of the
    other's key points to pass it as a good answer (by words). "GRU 和 LSTM 有什么区别？" and "LSTM 和 GRU 有什么区别？"
    are one question, and so are "LSTM 有哪些门？" and "LSTM 的三个门分别起什么作用？" over a note listing the three gates
    and their roles; "LSTM 是谁提出的？" names LSTM alone and asks nothing of it either, but its answer answers another."""
    from studybot.study.grading import score_from_coverage

    if _question_keys(card) & _question_keys(other):
        return True
    if not other.key_points or not _asks(card, grader.glossary) & _asks(other, grader.glossary):
        return False
    reference = "\n".join(dict.fromkeys([card.answer.zh, card.answer.en]))
    hits = grader.coverage(other.key_points, reference, f"{other.question.zh}\n{other.question.en}")
    return score_from_coverage(sum(hits), len(hits)) >= SAME_ANSWER_SCORE


def note_print(card: Card) -> str:
    """The fingerprint a review keeps for a card made from notes (whose id a rename changes), else ""."""
    return card.fingerprint if card.origin in ("note", "term") and (card.answer.zh or card.answer.en) else ""


def _follow_renamed(home: Path, cards: list[Card]) -> list[str]:
    """Keep the history of note cards whose note or heading was renamed (see ReviewStore.follow_renamed)."""
    from studybot.study.reviews import ReviewStore

    by_id = {card.id: card for card in cards}
    with ReviewStore(home, reads_only=True) as store:  # every command builds a deck: `stats` on a read-only home too
        moves = store.follow_renamed({card.id: fp for card in cards if (fp := note_print(card))})
    if not moves:
        return []
    example = by_id[moves[0][1]]
    return [f"{len(moves)} card{'s' if len(moves) > 1 else ''} kept {'their' if len(moves) > 1 else 'its'} review "
            f"history across a renamed note or heading (e.g. {example.source})"]


def interview_cards(home: Path) -> list[Card]:
    """The follow-ups a mock interview found weak, kept in the review store so `review` asks them again."""
    from studybot.study.reviews import interview_cards as kept

    return [Card.from_record(record) for record in kept(home)]


def rivals(cards: list[Card]) -> dict[str, list[Card]]:
    """Each question card of a note with the question cards next to it in the same note on the same topic,
    before and after: the answers a learner most easily gives in its place, which must not earn its points
    by meaning (`Grader.about_card`)."""
    runs: dict[tuple[str, str], list[Card]] = {}
    for card in cards:
        if card.kind == "short" and card.origin == "note":
            runs.setdefault((card.source.rsplit(":", 1)[0], card.topic), []).append(card)
    found: dict[str, list[Card]] = {}
    for run in runs.values():
        for i, card in enumerate(run):
            found[card.id] = run[max(i - 1, 0):i] + run[i + 1:i + 2]
    return found


def topic_counts(cards: list[Card]) -> dict[str, int]:
    """Cards per primary topic, largest first: what an unknown --topic lists."""
    return dict(Counter(card.topic for card in cards).most_common())


def _named_in_note(card: Card, needle: str) -> bool:
    """Whether a note card's headings (its note's title among them) or its note's file name say a topic's words:
    "--topic metrics" was refused for a Precision/Recall/AUC note named metrics.md, filed under "notes"."""
    places = [h.lower() for h in card.headings]
    if card.origin != "bank":  # a bank card's file is the bundled note of its topic, which names it already
        places.append(re.sub(r"[_\-]+", " ", Path(card.source.rpartition(":")[0]).stem).lower())
    return len(needle) >= 2 and any(needle in place for place in places)


def select(cards: list[Card], topic: str | None, glossary: Glossary | None = None) -> list[Card]:
    """The cards of a topic: a quiz topic, a note's topic or tag, any glossary alias of a concept, or words
    of a note card's headings or its note's file name.

    `--topic 循环神经网络` finds the glossary entry rnn and so the topic rnn, and every note card whose
    heading or key points name a concept of it, in either language. A bank card, which knows only its topic, is
    also chosen by the concept named in its question or answer (`--topic BatchNorm`: those of normalization that say
    BatchNorm); when none does, the user's own cards on it alone, and without those the concept's whole topic (all
    of normalization). A note card is not chosen by topic, since it names its own concepts (`--topic tokenization`
    asked the LoRA and RMSNorm notes, concepts of pretraining).
    """
    if not topic:
        return list(cards)
    glossary = glossary or load_glossary(None)
    needle = topic.strip().lower()
    concepts = glossary.find(topic)
    named = {needle} | {entry.id for entry in concepts}
    broad = named | set(concept_topics(concepts))
    chosen = [card for card in cards if (broad if card.origin == "bank" else named) & {t.lower() for t in card.topics}
              or _named_in_note(card, needle)]
    if not named & {t.lower() for card in cards for t in card.topics if card.origin == "bank"}:
        # a concept that is no topic of its own: of the bank cards of its topic, those that name it ("--topic 知识蒸馏"
        # asked sixteen quantization questions, distillation being filed under quantization, before the user's own)
        ids = {entry.id for entry in concepts}
        narrow = [card for card in chosen if card.origin != "bank" or ids & {e.id for e in glossary.find(
            f"{card.question.zh}\n{card.question.en}\n{card.answer.zh}\n{card.answer.en}")}]
        chosen = narrow or chosen
    if not chosen:
        known = ", ".join(f"{name} ({count})" for name, count in topic_counts(cards).items())
        raise StudybotError(f"no cards for topic {topic!r}; known topics: {known or 'none'}")
    return chosen
