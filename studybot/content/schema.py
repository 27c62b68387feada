"""Schema and loaders for bundled content: knowledge front matter, the glossary, quiz banks.

Retrieval, quizzes and the content tests all read these hand-written files; checking them in
one place turns a typo into a single error that names the file and line to fix.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studybot.errors import StudybotError
from studybot.ingest.notes import split_front_matter

QUESTION_TYPES = ("short", "choice", "cloze")
BLANK = "____"
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_BLANKS = re.compile(r"_{4,}")
_QUESTION_KEYS = {
    "id", "topic", "type", "difficulty", "question", "answer", "key_points", "source",
    "options", "correct", "demo",
}


class _SchemaError(ValueError):
    """A schema violation inside one record; the loader adds the file and line."""


@dataclass(frozen=True)
class Bilingual:
    zh: str
    en: str

    def text(self, lang: str | None = None) -> str:
        """One language ("zh" or "en"), or both when none is chosen (once when they are the same)."""
        if lang in ("zh", "en"):
            return getattr(self, lang)
        return self.zh if self.zh == self.en else f"{self.zh}\n{self.en}"


@dataclass(frozen=True)
class KeyPoint:
    """One thing a good answer mentions, with the synonyms a grader may accept."""

    zh: list[str]
    en: list[str]


@dataclass(frozen=True)
class NoteSection:
    """The knowledge-note section a bank question is about (file and heading)."""

    file: str
    heading: str


@dataclass(frozen=True)
class Question:
    id: str
    topic: str
    type: str
    difficulty: int
    question: Bilingual
    answer: Bilingual
    key_points: list[KeyPoint]
    source: NoteSection
    options: list[Bilingual] | None = None
    correct: int | list[str] | None = None
    demo: str | None = None
    line: int = 0  # where the question is written: file:line in error messages and card sources
    file: str = ""


@dataclass(frozen=True)
class GlossaryEntry:
    id: str
    topic: str  # "" when no bundled topic covers the concept (SVM, PCA, GAN)
    en: list[str]
    zh: list[str]
    file: str = ""
    line: int = 0
    cased: list[str] = field(default_factory=list)  # aliases matched only as written: ZeRO, not "zero"

    @property
    def aliases(self) -> list[str]:
        return [*self.en, *self.zh]


@dataclass(frozen=True)
class KnowledgeMeta:
    """The YAML front matter of a bundled knowledge note."""

    title: str
    topic: str
    aliases: list[str]
    tags: list[str]
    demos: list[str]


# --- small field checkers -----------------------------------------------------------------------


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _SchemaError(f"{what} must be a non-empty string")
    return value


def _texts(value: Any, what: str, allow_empty: bool = False) -> list[str]:
    if not isinstance(value, list) or (not value and not allow_empty):
        raise _SchemaError(f"{what} must be a {'' if allow_empty else 'non-empty '}list of strings")
    return [_text(item, f"every item of {what}") for item in value]


def _slug(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _SLUG.match(value):
        raise _SchemaError(f"{what} must be a lowercase slug like 'llm-apps', got {value!r}")
    return value


def _mapping(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise _SchemaError(f"{what} must be a mapping")
    return value


def _languages(value: Any, what: str) -> dict:
    """A mapping of zh and en alone. A comma ends unquoted text inside {...}: in `{zh: …, en: To x, cutting y}`
    the rest became a key of its own ("cutting y", null) and the option read "To x", with no warning."""
    data = _mapping(value, what)
    if stray := [key for key in data if key not in ("zh", "en")]:
        raise _SchemaError(f"{what} has {stray[0]!r} besides zh and en; a comma ends unquoted text inside {{...}}, "
                           "so put the text in quotes")
    return data


def _bilingual(value: Any, what: str) -> Bilingual:
    data = _languages(value, what)
    return Bilingual(zh=_text(data.get("zh"), f"{what}.zh"), en=_text(data.get("en"), f"{what}.en"))


# --- records -----------------------------------------------------------------------------------


def _key_points(value: Any) -> list[KeyPoint]:
    if not isinstance(value, list) or not 3 <= len(value) <= 6:
        raise _SchemaError("key_points must be a list of 3 to 6 points")
    points = []
    for i, item in enumerate(value):
        data = _languages(item, f"key_points[{i}]")
        points.append(KeyPoint(zh=_texts(data.get("zh"), f"key_points[{i}].zh"),
                               en=_texts(data.get("en"), f"key_points[{i}].en")))
    return points


def _choice_fields(data: dict) -> tuple[list[Bilingual], int]:
    options = data.get("options")
    if not isinstance(options, list) or not 3 <= len(options) <= 5:
        raise _SchemaError("a choice question needs 3 to 5 options")
    correct = data.get("correct")
    if isinstance(correct, bool) or not isinstance(correct, int) or not 0 <= correct < len(options):
        raise _SchemaError(f"correct must be the 0-based index of an option (0-{len(options) - 1})")
    return [_bilingual(o, f"options[{i}]") for i, o in enumerate(options)], correct


def _cloze_fields(data: dict, question: Bilingual) -> list[str]:
    for lang in ("zh", "en"):
        if _BLANKS.findall(getattr(question, lang)) != [BLANK]:
            raise _SchemaError(f"a cloze question needs exactly one {BLANK} in question.{lang}")
    return _texts(data.get("correct"), "correct (the accepted fills of a cloze question)")


def question_from_dict(data: Any, topic: str, line: int = 0, file: str = "") -> Question:
    """Build one quiz question, raising a schema error on any missing or malformed field."""
    data = _mapping(data, "a question")
    unknown = sorted(set(data) - _QUESTION_KEYS)
    if unknown:
        raise _SchemaError(f"unknown field(s) {', '.join(unknown)}")
    qid = _text(data.get("id"), "id")
    if not re.fullmatch(rf"{re.escape(topic)}-\d{{3}}", qid):
        raise _SchemaError(f"id {qid!r} must be '{topic}-' and three digits")
    if data.get("topic", topic) != topic:
        raise _SchemaError(f"topic {data['topic']!r} differs from the bank's topic {topic!r}")
    qtype = data.get("type")
    if qtype not in QUESTION_TYPES:
        raise _SchemaError(f"type must be one of {', '.join(QUESTION_TYPES)}, got {qtype!r}")
    difficulty = data.get("difficulty")
    if isinstance(difficulty, bool) or difficulty not in (1, 2, 3):
        raise _SchemaError(f"difficulty must be 1, 2 or 3, got {difficulty!r}")
    question = _bilingual(data.get("question"), "question")
    source = _mapping(data.get("source"), "source")
    options, correct = None, None
    if qtype == "choice":
        options, correct = _choice_fields(data)
    elif qtype == "cloze":
        correct = _cloze_fields(data, question)
    if qtype != "choice" and "options" in data:
        raise _SchemaError("only choice questions have options")
    if qtype == "short" and "correct" in data:
        raise _SchemaError("short questions have no 'correct' field; put the answer in 'answer'")
    demo = data.get("demo")
    return Question(
        id=qid, topic=topic, type=qtype, difficulty=difficulty, question=question,
        answer=_bilingual(data.get("answer"), "answer"), key_points=_key_points(data.get("key_points")),
        source=NoteSection(file=_text(source.get("file"), "source.file"),
                           heading=_text(source.get("heading"), "source.heading")),
        options=options, correct=correct, demo=None if demo is None else _slug(demo, "demo"), line=line, file=file,
    )


def knowledge_meta_from_dict(data: Any) -> KnowledgeMeta:
    data = _mapping(data, "the front matter")
    return KnowledgeMeta(
        title=_text(data.get("title"), "title"), topic=_slug(data.get("topic"), "topic"),
        aliases=_texts(data.get("aliases"), "aliases"), tags=_texts(data.get("tags"), "tags"),
        demos=[_slug(d, "every demo") for d in _texts(data.get("demos", []), "demos", allow_empty=True)],
    )


# --- files -------------------------------------------------------------------------------------


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StudybotError(f"{path}: cannot read it as UTF-8 text ({exc}); check the file") from exc


def _parse_yaml(text: str, path: Path, first_line: int = 1) -> Any:
    import yaml  # here, not at the top: a search reads the glossary from its index and never parses YAML

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: 8x faster
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = first_line + (mark.line if mark else 0)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise StudybotError(f"{path}:{line}: malformed YAML ({problem}); fix the file") from exc


_ID_LINE = re.compile(r"\bid:[ \t]*['\"]?([^'\"\n,}#]*?)['\"]?[ \t]*(?=[,}\n#])")


class _IdLines:
    """Where each `id: <value>` of a file is, found in one pass: schema errors point at the record to fix.

    (One search per record was quadratic: 0.3 s of every cold search went to the glossary's 431 ids.)
    """

    def __init__(self, text: str) -> None:
        self.lines: dict[str, list[int]] = {}
        line, last = 1, 0
        for match in _ID_LINE.finditer(text + "\n"):
            line += text.count("\n", last, match.start())
            last = match.start()
            self.lines.setdefault(match.group(1), []).append(line)

    def line(self, record_id: Any, occurrence: int = 1) -> int:
        """Line of the `occurrence`-th record with this id (the last one when there are fewer), else 1."""
        found = self.lines.get(str(record_id))
        return found[min(occurrence, len(found)) - 1] if found else 1


def yaml_files(paths: Path | str | Iterable[Path | str]) -> list[Path]:
    """The given files, and the *.yaml files of the given folders (sorted); missing folders give none."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    return [f for p in map(Path, paths) for f in (sorted(p.glob("*.yaml")) if p.is_dir() else [p] if p.is_file() else [])]


def claim_id(seen: dict[str, str], record_id: str, place: str, what: str) -> None:
    """Record where `record_id` is first used; a second use anywhere is an error naming both places.

    `place` is `file:line`; one `seen` dict spans every file that must not share ids.
    """
    if record_id in seen:
        raise StudybotError(f"{place}: {what} id {record_id} is also used in {seen[record_id]}; give it a new one")
    seen[record_id] = place


class BankProblems(StudybotError):
    """A quiz bank with problems: every one, each `file:line: what`, so one fix pass finds them all."""

    def __init__(self, problems: list[str]) -> None:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more)
        self.problems = problems


def load_quiz_bank(path: Path | str) -> list[Question]:
    """Load and check one quiz bank (`topic` plus `questions`); BankProblems lists every problem found."""
    path = Path(path)
    text = _read(path)
    data = _parse_yaml(text, path)
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise BankProblems([f"{path}:1: a quiz bank needs 'topic' and a 'questions' list; fix the file"])
    try:
        topic = _slug(data.get("topic"), "topic")
    except _SchemaError as exc:
        raise BankProblems([f"{path}:1: {exc}; fix the file"]) from exc
    questions: list[Question] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    occurrences: Counter[str] = Counter()
    id_lines = _IdLines(text)
    for index, item in enumerate(data["questions"]):
        qid = item.get("id") if isinstance(item, dict) else None
        occurrences[str(qid)] += 1
        line = id_lines.line(qid, occurrences[str(qid)]) if qid else 1
        try:
            question = question_from_dict(item, topic, line, str(path))
            claim_id(seen, question.id, f"{path}:{line}", "question")
        except _SchemaError as exc:
            problems.append(f"{path}:{line}: question {qid or index + 1}: {exc}; fix the file")
            continue
        except StudybotError as exc:
            problems.append(str(exc))
            continue
        questions.append(question)
    if problems:
        raise BankProblems(problems)
    return questions


def read_quiz_banks(paths: Path | str | Iterable[Path | str]) -> tuple[list[Question], list[str]]:
    """The questions of every sound bank, and every problem of the others (each bank with a problem is
    left out whole): one broken file must not block practice from the rest.

    A bank without questions, or one reusing an id of an earlier bank, is a problem too.
    """
    questions: list[Question] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for path in yaml_files(paths):
        try:
            bank = load_quiz_bank(path)
        except BankProblems as exc:
            problems += exc.problems
            continue
        except StudybotError as exc:  # unreadable text, malformed YAML
            problems.append(str(exc))
            continue
        if not bank:
            problems.append(f"{path}: the quiz bank has no questions; add some under 'questions:' or remove it")
            continue
        trial, clashes = dict(seen), []
        for question in bank:
            try:
                claim_id(trial, question.id, f"{path}:{question.line}", "question")
            except StudybotError as exc:
                clashes.append(str(exc))
        if clashes:
            problems += clashes
            continue
        seen = trial
        questions += bank
    return questions, problems


def load_quizzes(paths: Path | str | Iterable[Path | str]) -> list[Question]:
    """Every question of the given bank files and folders (their *.yaml), or BankProblems naming all problems."""
    questions, problems = read_quiz_banks(paths)
    if problems:
        raise BankProblems(problems)
    return questions


def read_glossary_entries(dirs: Path | str | Iterable[Path | str]) -> list[GlossaryEntry]:
    """Every entry of every *.yaml glossary in the given folders; ids are unique across files.

    Missing folders are skipped: a user's notes folder usually has no glossary of its own.
    """
    folders = [dirs] if isinstance(dirs, (str, Path)) else list(dirs)
    entries: list[GlossaryEntry] = []
    seen: dict[str, str] = {}
    for path in yaml_files(Path(f) for f in folders if Path(f).is_dir()):
        text = _read(path)
        data = _parse_yaml(text, path)
        if not isinstance(data, list):
            raise StudybotError(f"{path}:1: a glossary is a list of entries (- id: ...); fix the file")
        occurrences: Counter[str] = Counter()
        id_lines = _IdLines(text)
        for index, item in enumerate(data):
            entry_id = item.get("id") if isinstance(item, dict) else None
            occurrences[str(entry_id)] += 1
            line = id_lines.line(entry_id, occurrences[str(entry_id)]) if entry_id else 1
            try:
                data_item = _mapping(item, "a glossary entry")
                entry = GlossaryEntry(
                    id=_slug(entry_id, "id"),
                    # the bundled topic whose demos back the concept; none for one the bundled notes leave out
                    topic=_slug(data_item["topic"], "topic") if data_item.get("topic") is not None else "",
                    en=_texts(data_item.get("en"), "en"),
                    zh=_texts(data_item.get("zh", []), "zh", allow_empty=True),
                    file=str(path), line=line,
                    cased=_texts(data_item.get("cased", []), "cased", allow_empty=True),
                )
                if stray := [alias for alias in entry.cased if alias not in entry.aliases]:
                    raise _SchemaError(f"cased lists {stray[0]!r}, which is not one of its en or zh aliases")
            except _SchemaError as exc:
                raise StudybotError(f"{path}:{line}: glossary entry {entry_id or index + 1}: {exc}; "
                                    "fix the file") from exc
            claim_id(seen, entry.id, f"{path}:{line}", "glossary")
            entries.append(entry)
    return entries


def load_knowledge_meta(path: Path | str) -> KnowledgeMeta:
    """Read and check the front matter of one knowledge note."""
    path = Path(path)
    front, _ = split_front_matter(_read(path).splitlines())
    if not front:
        raise StudybotError(f"{path}:1: a knowledge note starts with YAML front matter between '---' lines")
    data = _parse_yaml(front, path, first_line=2)
    try:
        return knowledge_meta_from_dict(data)
    except _SchemaError as exc:
        raise StudybotError(f"{path}:1: front matter: {exc}; fix the file") from exc
