"""Which model `ask` runs by default: the one whose measured pass rate says it is worth the wait.

`models check` answers the bundled check questions and stores the share of answers that passed
verification; `plan_model` runs the default model only at USEFUL_PASS_RATE or more, a model named
on the command line (or --llm) always, and otherwise answers at once with a one-line note.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from studybot.answer.backends import Target, generator_target
from studybot.answer.checks import (CHECKS_FILE, USEFUL_PASS_RATE, ModelCheck, check_questions, find_check, model_key,
                                    read_checks, save_check)
from studybot.answer.pipeline import plan_model
from studybot.evaluation.answers import check_model, load_answer_questions
from tests.conftest import run_cli
from tests.fake_llm import registered_fakes
from tests.http_fakes import FakeModelServer


@pytest.fixture
def home(knowledge_home: Path, tmp_path: Path) -> Path:
    """A copy of the bundled-notes home, so checks written here stay in this test."""
    copy = tmp_path / "home"
    shutil.copytree(knowledge_home, copy)
    return copy


def _check(home: Path, target: Target, pass_rate: float) -> ModelCheck:
    check = ModelCheck(model_key(target), "m", pass_rate, 0.9, 10, 1.0, "2026-12-02T00:00:00Z")
    save_check(home, check)
    return check


def test_the_check_questions_are_answerable_from_the_bundled_notes(home: Path) -> None:
    questions = load_answer_questions(check_questions())
    assert len(questions) >= 10 and {q["id"] for q in questions} == {f"check-{i:02d}" for i in range(1, len(questions) + 1)}
    text = "\n".join(p.read_text(encoding="utf-8") for p in (Path(__file__).parents[1] / "knowledge").glob("*.md")).lower()
    for q in questions:  # every key point is something the notes say, in one of its spellings
        assert all(any(alt.lower() in text for alt in point) for point in q["key_points"]), q["id"]


def test_a_grounded_model_passes_checks_that_a_looping_one_fails(home: Path) -> None:
    with registered_fakes():  # the grounded fake copies source [1]'s first sentence: in the wrong language at times
        good = check_model(home, Target("fake-grounded", "good"))
        bad = check_model(home, Target("fake-looping", "bad"))
    assert good.pass_rate >= 0.3 and good.n == len(load_answer_questions(check_questions()))
    assert not bad.useful and bad.pass_rate == 0.0
    stored = read_checks(home)
    assert stored[good.key].pass_rate == good.pass_rate and stored[bad.key].pass_rate == 0.0  # both kept, by model


def test_the_default_model_runs_only_when_its_check_passed(home: Path) -> None:
    default = generator_target(home)  # the bundled GGUF: no config in this home
    assert default.kind == "llama-cpp" and not default.explicit
    unchecked = plan_model(home)
    assert unchecked.target is None and "not checked yet" in unchecked.note and "models check" in unchecked.note
    _check(home, default, 0.0)
    weak = plan_model(home)
    assert weak.target is None and "passed 0% of the answer checks" in weak.note and "--llm-url" in weak.note
    assert plan_model(home, llm=True).target == default and plan_model(home, llm=True).note is None
    _check(home, default, USEFUL_PASS_RATE)
    assert plan_model(home).target == default and plan_model(home).note is None
    assert plan_model(home, llm=False).target is None and plan_model(home, llm=False).note is None


def test_a_model_named_on_the_command_line_runs_without_a_check(home: Path) -> None:
    plan = plan_model(home, llm_url="http://127.0.0.1:9")
    assert plan.target is not None and plan.target.explicit and plan.note is None


def test_a_damaged_checks_file_counts_as_no_checks(home: Path) -> None:
    (home / CHECKS_FILE).write_text("{not json", encoding="utf-8")
    assert read_checks(home) == {} and plan_model(home).target is None
    _check(home, generator_target(home), 1.0)  # and the next check replaces it
    assert find_check(home, model_key(generator_target(home))).pass_rate == 1.0


def test_default_ask_answers_at_once_and_says_how_to_get_a_model(home: Path) -> None:
    result = run_cli("ask", "为什么 sigmoid 会饱和？", "--json", home=home)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["mode"] == "extractive" and doc["model"] is None and doc["fallback_reason"] is None
    assert "models check" in doc["model_note"] and "0.25" in doc["answer"]
    plain = run_cli("ask", "为什么 sigmoid 会饱和？", home=home)
    assert plain.returncode == 0 and "models check" in plain.stderr and "models check" not in plain.stdout


def test_models_check_against_a_server_then_ask_uses_it_from_config(home: Path) -> None:
    with FakeModelServer() as server:
        url = f"{server.url}/ok"
        (home / "config.toml").write_text(f'[llm]\nurl = "{url}"\n', encoding="utf-8")
        before = run_cli("ask", "Why does the sigmoid function saturate?", "--json", home=home)
        assert json.loads(before.stdout)["mode"] == "extractive" and server.chat_requests("ok") == []
        checked = run_cli("models", "check", "--json", home=home)
        assert checked.returncode == 0, checked.stderr
        doc = json.loads(checked.stdout)
        assert doc["useful"] and doc["pass_rate"] >= USEFUL_PASS_RATE and doc["key"] == f"server:{url}:"
        assert len(server.chat_requests("ok")) == doc["n"]
        after = json.loads(run_cli("ask", "Why does the sigmoid function saturate?", "--json", home=home).stdout)
        assert after["mode"] == "llm" and after["model_note"] is None
