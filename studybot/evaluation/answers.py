"""`studybot eval answers`: key-point coverage and citation precision of the answers.

Questions are JSON lines `{"id", "question", "key_points": [[alternative, ...], ...]}` (an
optional "topic" names the knowledge topic a good citation may come from). A key point is
covered when any alternative appears in the answer, ignoring case; an answer over 800
characters covers nothing, since an interview answer must be concise.
"""

from __future__ import annotations

import time
from pathlib import Path

from studybot.answer.pipeline import NothingFound, answer_question
from studybot.errors import StudybotError
from studybot.progress import ProgressFn
from studybot.evaluation.retrieval import evaluation_index, read_jsonl
from studybot.answer.backends import Generator
from studybot.index.search import Index

MAX_ANSWER_CHARS = 800


def load_answer_questions(path: Path) -> list[dict]:
    """Questions with key points, one JSON object per line: {"id", "question", "key_points": [[...], ...]}."""
    questions = read_jsonl(path, ("id", "question", "key_points"), "an answer question")
    for item in questions:
        if not all(isinstance(point, list) for point in item["key_points"]):
            raise StudybotError(f"{path}: question {item['id']}: each key point is a list of alternatives")
    return questions


def covered(answer: str, key_points: list[list[str]]) -> list[bool]:
    """Which key points the answer covers (none when it is too long to be an interview answer)."""
    if len(answer) > MAX_ANSWER_CHARS:
        return [False] * len(key_points)
    low = answer.lower()
    return [any(alt.lower() in low for alt in point) for point in key_points]


def evaluate_answers(
    questions_file: Path,
    corpus: list[Path] | None = None,
    home: Path | None = None,
    *,
    use_llm: bool = True,
    model: str | None = None,
    llm_url: str | None = None,
    progress: ProgressFn | None = None,
    **answer_options,
) -> dict:
    """Answer every question and score it; indexes knowledge/ plus the corpus into a throwaway home
    unless a home is given. The model (if any) is loaded once, before indexing, so a bad --model fails fast."""
    from studybot.answer.backends import open_generator

    questions = load_answer_questions(questions_file)
    generator = open_generator(home, model, llm_url) if use_llm else None
    with evaluation_index(home, corpus or [], bundled=True, progress=progress) as index:
        return _score(questions, index, generator, progress, answer_options)


def _score(questions: list[dict], index: Index, generator: Generator | None, progress, options: dict) -> dict:
    rows, good_citations, citations = [], 0, 0
    for i, item in enumerate(questions, start=1):
        started = time.perf_counter()
        try:
            result = answer_question(item["question"], index, generator, **options)
            text, mode, reason, cited = result.answer, result.mode, result.fallback_reason, result.citations
        except NothingFound as exc:
            text, mode, reason, cited = "", "none", str(exc), []
        seconds = time.perf_counter() - started
        hits = covered(text, item["key_points"])
        points = [alt.lower() for point, hit in zip(item["key_points"], hits) if hit for alt in point]
        for source in cited:
            citations += 1
            good_citations += any(p in source.text.lower() for p in points) or item.get("topic") in source.topics
        rows.append({"id": item["id"], "coverage": round(sum(hits) / len(hits), 4) if hits else 0.0, "mode": mode,
                     "fallback_reason": reason, "chars": len(text), "citations": len(cited),
                     "seconds": round(seconds, 3)})
        if progress:
            progress("answering", i, len(questions))
    n = len(rows)
    return {
        "n": n,
        "model": generator.name if generator else None,
        "coverage": round(sum(r["coverage"] for r in rows) / n, 4),
        "citation_precision": round(good_citations / citations, 4) if citations else None,
        "modes": {m: round(sum(r["mode"] == m for r in rows) / n, 4) for m in ("llm", "extractive", "none")},
        "mean_seconds": round(sum(r["seconds"] for r in rows) / n, 3),
        "questions": rows,
    }
