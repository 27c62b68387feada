"""Quiz cards: bank questions, interview-answer blocks of the indexed notes, and clozes of their key terms.

Every source becomes the same `Card`, so grading, scheduling, stats and the Anki export never
ask where a card came from. Card ids are stable: a bank question keeps its bank id, and a card
from a note is named by a hash of the note's path and heading path, so re-indexing (which
renumbers chunks) keeps its review history.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from studybot.ingest.chunking import ANSWER_HEADING
from studybot.content.schema import BLANK, Bilingual, KeyPoint, Question, load_quizzes, read_quiz_banks
from studybot.errors import StudybotError
from studybot.content.glossary import Glossary, load_glossary
from studybot.home import bundled_dir
from studybot.ingest.notes import heading_title, parse_note
from studybot.text.language import has_cjk
from studybot.text.sentences import split_sentences

MAX_NOTE_POINTS = 6
MIN_CLOZE_SENTENCE = 12
_LANG_MARK = re.compile(r"^\s*(中文|English)\s*[:：]\s*", re.IGNORECASE)


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

    def to_dict(self) -> dict:
        return {
            "id": self.id, "kind": self.kind, "origin": self.origin, "topic": self.topic,
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
    """'A / B' headings and '中文：… English: …' answer blocks become their two halves; other text serves both."""
    if " / " in text and has_cjk(text.split(" / ", 1)[0]) and not has_cjk(text.split(" / ", 1)[1]):
        zh, en = text.split(" / ", 1)
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
    """A blockquoted answer as plain text: quote marks and bold/code markers dropped."""
    lines = (re.sub(r"^\s*>\s?", "", line) for line in text.splitlines())
    return re.sub(r"\*\*|__|`", "", "\n".join(lines)).strip()


def reference_sentences(text: str) -> list[str]:
    """Sentences and clauses of a reference answer, the units a grader checks one by one."""
    return [s for s in (part.strip(" -*>•\t") for part in split_sentences(text)) if len(s) >= 4]


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


def _note_topics(metadata: dict, text: str, glossary: Glossary) -> list[str]:
    """Front-matter topic and tags first, then the commonest glossary topic of the text (notes without front matter)."""
    topics = [str(metadata["topic"])] if metadata.get("topic") else []
    tags = metadata.get("tags") or []
    topics += [str(t) for t in (tags if isinstance(tags, list) else [tags])]
    counts = Counter(entry.topic for entry in glossary.find(text))
    if counts:
        topics.append(counts.most_common(1)[0][0])
    return list(dict.fromkeys(t for t in topics if t)) or ["notes"]


def _cloze(card: Card, glossary: Glossary) -> Card | None:
    """Blank the first key term of the reference whose sentence gives context and does not give it away.

    The blank must not name the term again elsewhere in the sentence, nor cut a longer term
    (梯度 inside 梯度消失): every other concept of the sentence must survive the blanking.
    """
    for sentence in reference_sentences(card.answer.zh):
        concepts = glossary.find(sentence)
        for entry in concepts:
            aliases = sorted(entry.aliases, key=len, reverse=True)
            match = next((m for a in aliases if (m := re.search(re.escape(a), sentence, re.IGNORECASE))), None)
            if match is None or len(sentence) - len(match.group(0)) < MIN_CLOZE_SENTENCE:
                continue
            blanked = sentence[:match.start()] + BLANK + sentence[match.end():]
            left = {e.id for e in glossary.find(blanked)}
            if entry.id in left or not {e.id for e in concepts if e.id != entry.id} <= left:
                continue
            return Card(
                id=card.id.replace("note-", "term-", 1) + f"-{entry.id}", kind="cloze", origin="term",
                topic=card.topic, question=Bilingual(zh=blanked, en=blanked),
                answer=Bilingual(zh=sentence, en=sentence), key_points=[KeyPoint(zh=entry.zh or entry.en, en=entry.en)],
                source=card.source, heading=card.heading, topics=card.topics + [entry.topic],
                accepted=list(entry.aliases), demos=card.demos,
            )
    return None


def note_cards(index, glossary: Glossary, covered: set[tuple[str, str]]) -> list[Card]:
    """A card per interview-answer block of the indexed notes, plus one cloze of its first key term.

    `covered` holds (file name, heading) pairs that a bank question already asks about: the
    bundled notes' answer blocks are the banks' sources, and asking them twice would be noise.
    """
    from studybot.demos.runner import demos_for_topics

    rows = index.catalog.execute(
        "SELECT path, heading, line_start, text FROM chunks WHERE kind = 'answer' ORDER BY path, ordinal"
    ).fetchall()
    blocks: dict[str, dict] = {}
    for path, heading, line_start, text in rows:
        heading_path = json.loads(heading)
        if heading_path and ANSWER_HEADING.search(heading_path[-1]):
            asked = heading_path[:-1]
        else:
            asked = heading_path
        if not asked or (Path(path).name, asked[-1]) in covered:
            continue
        card_id = note_card_id(path, heading_path)
        block = blocks.setdefault(card_id, {"path": path, "question": asked[-1], "line": line_start, "texts": []})
        block["texts"].append(_unquote(text))
    cards: list[Card] = []
    for card_id, block in blocks.items():
        reference = "\n".join(block["texts"])
        metadata = index.metadata(block["path"])
        topics = _note_topics(metadata, f"{block['question']}\n{reference}", glossary)
        answer = split_bilingual(reference)
        points = sentence_points(answer)
        if not points:
            continue
        demos = [str(d) for d in metadata.get("demos") or []] or demos_for_topics(topics[0])
        card = Card(
            id=card_id, kind="short", origin="note", topic=topics[0], question=split_bilingual(block["question"]),
            answer=answer, key_points=points, source=f"{block['path']}:{block['line']}", heading=block["question"],
            topics=topics, demos=demos,
        )
        cards.append(card)
        cloze = _cloze(card, glossary)
        if cloze is not None:
            cards.append(cloze)
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
            cards += note_cards(index, index.glossary, covered)
    if home is not None:
        cards += interview_cards(Path(home))
    return Deck(cards=cards, warnings=warnings)


def interview_cards(home: Path) -> list[Card]:
    """The follow-ups a mock interview found weak, kept in the review store so `review` asks them again."""
    from studybot.study.reviews import interview_cards as kept

    return [Card.from_record(record) for record in kept(home)]


def topic_counts(cards: list[Card]) -> dict[str, int]:
    """Cards per primary topic, largest first: what an unknown --topic lists."""
    return dict(Counter(card.topic for card in cards).most_common())


def select(cards: list[Card], topic: str | None, glossary: Glossary | None = None) -> list[Card]:
    """The cards of a topic: a quiz topic, a note's topic or tag, or any glossary alias of a concept.

    `--topic 循环神经网络` finds the glossary entry rnn and so the topic rnn.
    """
    if not topic:
        return list(cards)
    glossary = glossary or load_glossary(None)
    wanted = {topic.strip().lower()}
    wanted |= {entry.topic for entry in glossary.find(topic)} | {entry.id for entry in glossary.find(topic)}
    chosen = [card for card in cards if wanted & {t.lower() for t in card.topics}]
    if not chosen:
        known = ", ".join(f"{name} ({count})" for name, count in topic_counts(cards).items())
        raise StudybotError(f"no cards for topic {topic!r}; known topics: {known or 'none'}")
    return chosen
