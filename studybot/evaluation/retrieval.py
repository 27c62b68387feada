"""`studybot eval retrieval`: recall@1, recall@k and MRR over questions with known answers."""

from __future__ import annotations

import json
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from studybot.errors import StudybotError
from studybot.ingest.repair.scoring import DEFAULT_SCORER
from studybot.progress import ProgressFn
from studybot.index.build import build_index
from studybot.answer.sources import Source
from studybot.index.search import Hit, Index, search
from studybot.text.language import language


def read_jsonl(path: Path, required: tuple[str, ...], what: str) -> list[dict]:
    """Non-empty JSON lines, each an object with the `required` keys; errors name file and line."""
    path = Path(path)
    if path.is_dir():
        raise StudybotError(f"{path} is a folder: give a JSON Lines file of questions (notes to evaluate go in --corpus)")
    if not path.is_file():
        raise StudybotError(f"question file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise StudybotError(f"{path} is not UTF-8 text: give a JSON Lines file of questions") from None
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or not all(item.get(key) for key in required):
                raise ValueError
        except ValueError:
            raise StudybotError(f"{path}:{number}: not {what} (need {', '.join(required)})") from None
        items.append(item)
    if not items:
        raise StudybotError(f"{path} holds no questions")
    return items


def load_questions(path: Path) -> list[dict]:
    """Questions, one JSON object per line: {"id", "question", "accept": [{"source", "heading": [...]}]}."""
    questions = read_jsonl(path, ("id", "question", "accept"), "a question line")
    for item in questions:
        if not _accept_rules(item["accept"]):  # a heading given as a string matched it letter by letter
            raise StudybotError(f"{path}: question {item['id']!r}: accept must be a list of "
                                '{"source": "file.md", "heading": ["a heading", ...]}')
    return questions


def _accept_rules(accept: object) -> bool:
    return isinstance(accept, list) and all(
        isinstance(rule, dict) and isinstance(rule.get("source"), str) and isinstance(rule.get("heading"), list)
        and all(isinstance(h, str) for h in rule["heading"]) for rule in accept)


@contextmanager
def evaluation_index(
    home: Path | None, corpus: list[Path] | None, bundled: bool, repair: str = DEFAULT_SCORER,
    progress: ProgressFn | None = None,
) -> Iterator[Index]:
    """The index to evaluate.

    With a corpus (an empty list: the bundled notes alone) and no explicit home, the corpus is
    built into a throwaway home, whatever $STUDYBOT_HOME says: an evaluation never adds its corpus
    to the user's index. With a home, that home is evaluated, refreshed with the corpus if one is
    given. With neither, the user's home ($STUDYBOT_HOME, else the default) is evaluated as it is.
    """
    if corpus is not None and home is None:
        with tempfile.TemporaryDirectory(prefix="studybot-eval-") as tmp:
            build_index(tmp, corpus, bundled=bundled, repair=repair, progress=progress)
            yield Index(tmp)
        return
    if corpus:
        build_index(home, corpus, repair=repair, progress=progress)
    yield Index(home)


SELF_QUESTIONS = 200  # enough to see a failure per language, few enough to run in seconds
_GENERIC_HEADING = re.compile(r"^(?:面试回答|回答|答案|总结|小结|参考|参考资料|references?|summary|notes?|"
                              r"interview answer|follow-?ups?|追问)\b", re.IGNORECASE)


def self_questions(index: Index, limit: int = SELF_QUESTIONS) -> list[dict]:
    """Questions made from the user's own notes: each section's heading, asked as written, must find it.

    Bundled notes are left out (their retrieval is measured elsewhere); an interview-answer block
    is asked by the heading of the question it answers. Evenly spread over the notes, in file order.
    """
    seen: dict[tuple[str, str], dict] = {}
    for path, heading in index.catalog.execute("SELECT path, heading FROM chunks ORDER BY path, line_start"):
        titles = [t for t in json.loads(heading) if not _GENERIC_HEADING.match(t.strip())]
        if not index.own(path) or not titles or len(re.sub(r"\W", "", titles[-1])) < 4:
            continue
        title = titles[-1]
        seen.setdefault((path, title), {
            "id": f"self-{len(seen) + 1:03d}", "question": title,
            "accept": [{"source": Path(path).name, "heading": [title]}],
        })
    questions = list(seen.values())
    step = max(1, -(-len(questions) // limit))
    return questions[::step][:limit]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def answers(hit: Hit | Source, accept: list[dict]) -> bool:
    """The hit rule (for a search hit or an answer's cited source): same file name as `source`, and
    the joined heading path contains a `heading` string."""
    path = _squash("".join(hit.heading_path))
    return any(
        Path(hit.file).name == rule["source"] and any(_squash(h) in path for h in rule["heading"])
        for rule in accept
    )


def evaluate_retrieval(
    questions_file: Path | None,
    corpus: list[Path] | None = None,
    k: int = 5,
    home: Path | None = None,
    mode: str = "hybrid",
    repair: str = DEFAULT_SCORER,
    progress: ProgressFn | None = None,
) -> dict:
    """Index the corpus (into a throwaway home unless one is given), run every question, score the ranks.

    A throwaway home holds the corpus alone, so the bundled notes do not compete with it. Without
    a questions file, the questions are made from the notes themselves (`self_questions`), and a
    warning says when keyword search finds none of the Chinese ones (damaged or unsegmented text).
    """
    questions = load_questions(questions_file) if questions_file is not None else None
    with evaluation_index(home, corpus, bundled=not corpus, repair=repair, progress=progress) as index:
        if questions is not None:
            return {**_score(questions, index, k, mode), "warnings": []}
        questions = self_questions(index)
        if not questions:
            raise StudybotError("your notes have no section headings to ask about: index notes with headings first")
        result = _score(questions, index, k, mode)
        chinese = [q for q in questions if question_language(q) == "zh"]
        warnings = []
        if chinese and _score(chinese, index, k, "bm25")["recall@k"] == 0:
            warnings.append("keyword search finds none of your Chinese headings: the notes may be damaged "
                            "(see `studybot repair`) or the index stale (`studybot index --rebuild`)")
        return {**result, "self": True, "warnings": warnings}


def question_language(item: dict) -> str:
    """The question's language: its "lang" field when given, else detected from the text."""
    return item.get("lang") or language(item["question"])


def _figures(ranks: list[int | None]) -> dict:
    """Recall@1, recall@k (k: the cut-off the ranks were taken at) and MRR of ranks (None: not in the top k)."""
    n = len(ranks)
    return {"n": n, "recall@1": round(sum(r == 1 for r in ranks) / n, 4) if n else None,
            "recall@k": round(sum(r is not None for r in ranks) / n, 4) if n else None,
            "mrr": round(sum(1.0 / r for r in ranks if r) / n, 4) if n else None}


def _score(questions: list[dict], index: Index, k: int, mode: str) -> dict:
    """Recall@1, recall@k and MRR over all questions and per question language, and the misses."""
    ranks: list[int | None] = []
    for item in questions:
        hits = search(item["question"], k=k, index=index, mode=mode)
        ranks.append(next((h.rank for h in hits if answers(h, item["accept"])), None))
    by_language = {}
    for lang in ("zh", "en"):
        chosen = [rank for item, rank in zip(questions, ranks) if question_language(item) == lang]
        if chosen:
            by_language[lang] = _figures(chosen)
    return {**_figures(ranks), "k": k, "mode": mode, "by_language": by_language,
            "misses": [item["id"] for item, rank in zip(questions, ranks) if rank is None],
            # what each miss asked and where its answer is: a made-up id (self-018) says nothing by itself
            "missed": [{"id": item["id"], "question": item["question"], "in": sorted({r["source"] for r in item["accept"]})}
                       for item, rank in zip(questions, ranks) if rank is None]}
