"""`studybot eval answers`: key-point coverage and citation precision of the answers.

Questions are JSON lines `{"id", "question", "key_points": [[alternative, ...], ...]}` (an
optional "topic" names the knowledge topic a good citation may come from). A key point is
covered when any alternative appears in the answer, ignoring case; an answer over 800
characters covers nothing, since an interview answer must be concise. A question may also say
which passages answer it, with the retrieval evaluation's `accept` rules: the answer's first
citation should be one of them (the passage the answer opens with is the one that answers).
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Callable

from studybot.answer.checks import ModelCheck, check_questions, model_key, save_check
from studybot.answer.pipeline import NothingFound, answer_question
from studybot.clock import iso, utc_now
from studybot.errors import StudybotError
from studybot.progress import ProgressFn
from studybot.evaluation.retrieval import answers, evaluation_index, read_jsonl
from studybot.answer.backends import Generator, Target
from studybot.index.store import current_generation
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
    llm_model: str | None = None,
    progress: ProgressFn | None = None,
    **answer_options,
) -> dict:
    """Answer every question and score it; indexes knowledge/ plus the corpus into a throwaway home
    unless a home is given. The model (if any) is loaded once, before indexing, so a bad --model fails fast."""
    from studybot.answer.backends import open_generator

    questions = load_answer_questions(questions_file)
    generator = open_generator(home, model, llm_url, llm_model) if use_llm else None
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
        row = {"id": item["id"], "coverage": round(sum(hits) / len(hits), 4) if hits else 0.0, "mode": mode,
               "fallback_reason": reason, "chars": len(text), "citations": len(cited),
               "first_citation": f"{cited[0].file}:{cited[0].line_start}" if cited else None,
               "seconds": round(seconds, 3)}
        if item.get("accept"):
            row["first_citation_accepted"] = bool(cited) and answers(cited[0], item["accept"])
        rows.append(row)
        if progress:
            progress("answering", i, len(questions))
    n = len(rows)
    judged = [r["first_citation_accepted"] for r in rows if "first_citation_accepted" in r]
    return {
        "n": n,
        "model": generator.name if generator else None,
        "coverage": round(sum(r["coverage"] for r in rows) / n, 4),
        "citation_precision": round(good_citations / citations, 4) if citations else None,
        "first_citation_accepted": round(sum(judged) / len(judged), 4) if judged else None,
        "modes": {m: round(sum(r["mode"] == m for r in rows) / n, 4) for m in ("llm", "extractive", "none")},
        "mean_seconds": round(sum(r["seconds"] for r in rows) / n, 3),
        "questions": rows,
    }


def check_model(
    home: Path,
    target: Target,
    *,
    progress: ProgressFn | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> ModelCheck:
    """Answer the bundled check questions with a model and store the share of its answers that passed
    verification in the home. They are answered from the home's index, the notes `ask` answers from
    (with the bundled notes alone when the home has none yet)."""
    questions = load_answer_questions(check_questions())
    generator = target.open()
    indexed = current_generation(home) is not None
    with evaluation_index(home if indexed else None, None if indexed else [], bundled=True, progress=progress) as index:
        result = _score(questions, index, generator, progress, {})
    check = ModelCheck(model_key(target), generator.name, result["modes"]["llm"], result["coverage"], result["n"],
                       result["mean_seconds"], iso(clock()))
    save_check(home, check)
    return check
