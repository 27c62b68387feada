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
from studybot.index.search import Hit, Index, search


def read_jsonl(path: Path, required: tuple[str, ...], what: str) -> list[dict]:
    """Non-empty JSON lines, each an object with the `required` keys; errors name file and line."""
    path = Path(path)
    if not path.is_file():
        raise StudybotError(f"question file not found: {path}")
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
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
    return read_jsonl(path, ("id", "question", "accept"), "a question line")


@contextmanager
def evaluation_index(
    home: Path | None, corpus: list[Path] | None, bundled: bool, repair: str = DEFAULT_SCORER,
    progress: ProgressFn | None = None,
) -> Iterator[Index]:
    """The index to evaluate: the corpus built into a throwaway home, or the given home (refreshed
    with the corpus, if any)."""
    if home is None:
        with tempfile.TemporaryDirectory(prefix="studybot-eval-") as tmp:
            build_index(tmp, corpus, bundled=bundled, repair=repair, progress=progress)
            yield Index(tmp)
        return
    if corpus:
        build_index(home, corpus, repair=repair, progress=progress)
    yield Index(home)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def answers(hit: Hit, accept: list[dict]) -> bool:
    """The hit rule: same file name as `source`, and the joined heading path contains a `heading` string."""
    path = _squash("".join(hit.heading_path))
    return any(
        Path(hit.file).name == rule["source"] and any(_squash(h) in path for h in rule["heading"])
        for rule in accept
    )


def evaluate_retrieval(
    questions_file: Path,
    corpus: list[Path] | None = None,
    k: int = 5,
    home: Path | None = None,
    mode: str = "hybrid",
    repair: str = DEFAULT_SCORER,
    progress: ProgressFn | None = None,
) -> dict:
    """Index the corpus (into a throwaway home unless one is given), run every question, score the ranks.

    A throwaway home holds the corpus alone, so the bundled notes do not compete with it.
    """
    questions = load_questions(questions_file)
    with evaluation_index(home, corpus, bundled=not corpus, repair=repair, progress=progress) as index:
        return _score(questions, index, k, mode)


def _score(questions: list[dict], index: Index, k: int, mode: str) -> dict:
    hits_at_1 = hits_at_k = 0
    reciprocal = 0.0
    misses = []
    for item in questions:
        hits = search(item["question"], k=k, index=index, mode=mode)
        rank = next((h.rank for h in hits if answers(h, item["accept"])), None)
        if rank is None:
            misses.append(item["id"])
            continue
        hits_at_1 += rank == 1
        hits_at_k += 1
        reciprocal += 1.0 / rank
    n = len(questions)
    return {"n": n, "k": k, "mode": mode, "recall@1": round(hits_at_1 / n, 4), "recall@k": round(hits_at_k / n, 4),
            "mrr": round(reciprocal / n, 4), "misses": misses}
