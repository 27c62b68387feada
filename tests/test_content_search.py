"""Issue 4's acceptance: search finds each quiz question's source section in the bundled notes."""

from __future__ import annotations

from pathlib import Path

import pytest

from studybot.content.schema import load_quizzes
from studybot.home import bundled_dir
from studybot.index.search import Index, search, source_rank


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_quiz_questions_find_their_source_section(knowledge_home: Path, lang: str) -> None:
    index = Index(knowledge_home)
    questions = load_quizzes(bundled_dir("quizzes"))
    ranks = {q.id: source_rank(getattr(q.question, lang), q.source.file, q.source.heading, 5, index) for q in questions}
    misses = sorted(qid for qid, rank in ranks.items() if rank is None)
    share = 1 - len(misses) / len(ranks)
    assert share >= 0.93, f"{share:.3f} of {lang} questions find their source in the top 5; misses: {misses}"


@pytest.mark.slow
def test_every_empty_llm_heading_of_the_seeds_has_an_answering_section(knowledge_home: Path, seeds: Path) -> None:
    """The seeds end with LLM topics that have headings but no text; the bundled notes answer each."""
    index = Index(knowledge_home)
    for topic in ["SFT", "RLHF", "PPO", "DPO", "rejection sampling", "CoT", "RAG", "agent", "function calling", "vLLM"]:
        top = search(f"What is {topic}?", k=3, index=index)
        assert any(topic.lower() in (hit.path + hit.text).lower() for hit in top), (topic, [h.path for h in top])
