"""`studybot eval retrieval`: per-language figures, questions from the user's own notes, and a user's home left alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from studybot.evaluation.retrieval import evaluate_retrieval, self_questions
from studybot.index.search import Index
from studybot.index.build import build_index
from tests.conftest import REPO

QUESTIONS = [
    {"id": "q1", "question": "LayerNorm 为什么不依赖 batch size？", "accept": [{"source": "norms.md", "heading": ["BatchNorm和LayerNorm"]}]},
    {"id": "q2", "question": "What problem does clipping the gradient solve?", "accept": [{"source": "norms.md", "heading": ["clip"]}]},
    {"id": "q3", "question": "tuple 能当字典的键吗？", "accept": [{"source": "python.md", "heading": ["tuple"]}]},
    {"id": "q4", "question": "Why do generators save memory?", "lang": "en", "accept": [{"source": "python.md", "heading": ["Generators"]}]},
]


def _questions(tmp_path: Path) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in QUESTIONS) + "\n", encoding="utf-8")
    return path


def test_figures_per_question_language(tmp_path: Path, tiny_home: Path) -> None:
    result = evaluate_retrieval(_questions(tmp_path), home=tiny_home, k=5)
    assert result["n"] == 4 and set(result["by_language"]) == {"zh", "en"}
    assert result["by_language"]["zh"]["n"] == 2 and result["by_language"]["en"]["n"] == 2
    assert result["recall@k"] == 1.0 and result["misses"] == []
    for figures in result["by_language"].values():
        assert 0 < figures["mrr"] <= figures["recall@k"] == 1.0


def test_self_questions_ask_the_users_own_headings(tiny_home: Path) -> None:
    questions = self_questions(Index(tiny_home))
    asked = {q["question"] for q in questions}
    assert {"BatchNorm 和 LayerNorm 有什么区别", "Why clip gradients?", "tuple 和 list 的区别", "Generators"} <= asked
    assert not any(q["question"].startswith("面试回答") for q in questions)  # an answer block is asked by its question
    result = evaluate_retrieval(None, home=tiny_home, k=5)
    assert result["self"] and result["n"] == len(questions) and set(result["by_language"]) == {"zh", "en"}
    assert result["recall@k"] == 1.0 and result["warnings"] == []


def test_a_corpus_is_evaluated_alone_even_with_studybot_home_set(tmp_path: Path, notes_dir: Path) -> None:
    """$STUDYBOT_HOME points at the user's index; `eval --corpus` must neither use nor change it."""
    user_home = tmp_path / "user-home"
    other = tmp_path / "other-notes"
    other.mkdir()
    (other / "rnn.md").write_text("# RNN\n\n## Why do RNN gradients vanish?\n\nRepeated multiplication by the "
                                  "recurrent weight matrix shrinks the gradient over long sequences.\n", encoding="utf-8")
    build_index(user_home, [other], bundled=False)
    before = Index(user_home).manifest
    env = {**os.environ, "STUDYBOT_HOME": str(user_home)}
    result = subprocess.run([sys.executable, "-m", "studybot", "eval", "retrieval", str(_questions(tmp_path)),
                             "--corpus", str(notes_dir), "--repair", "jieba", "--json"],
                            capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["n"] == 4 and doc["recall@k"] == 1.0  # the corpus was indexed and searched
    after = Index(user_home).manifest
    assert after["generation"] == before["generation"] and after["sources"] == before["sources"] == [str(other)]


def test_a_miss_is_shown_with_its_question_and_where_its_answer_is(tmp_path: Path, tiny_home: Path) -> None:
    """--self's misses were bare made-up ids ("misses: self-018, self-022"): the user could not tell which heading."""
    from tests.conftest import run_cli

    wrong = [{"id": "q9", "question": "tuple 能当字典的键吗？", "accept": [{"source": "norms.md", "heading": ["nowhere"]}]}]
    path = tmp_path / "wrong.jsonl"
    path.write_text(json.dumps(wrong[0], ensure_ascii=False) + "\n", encoding="utf-8")
    result = evaluate_retrieval(path, home=tiny_home, k=5)
    assert result["misses"] == ["q9"] and result["missed"] == [{"id": "q9", "question": "tuple 能当字典的键吗？", "in": ["norms.md"]}]
    shown = run_cli("eval", "retrieval", str(path), home=tiny_home)
    assert shown.returncode == 0 and "q9  tuple 能当字典的键吗？  (in norms.md)" in shown.stdout, shown.stderr
