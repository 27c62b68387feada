"""Mock interviews: follow-ups chosen by measuring each answer, the record, the report and the review cards."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone
from dataclasses import replace
from pathlib import Path

import pytest

from studybot.content.glossary import load_glossary
from studybot.content.schema import Bilingual, KeyPoint
from studybot.study.cards import Card, load_deck, split_bilingual
from studybot.study.grading import Grader, point_label
from studybot.study.interview import (KINDS, PREDICTIONS, Asked, Phraser, backing_demos, parse_number, plan_interview,
                                      prediction_score, run_interview)
from tests.conftest import REPO, main_in_process, one_line_error, run_cli, sigint_default
from tests.fake_llm import FakeGenerator

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
NOW = "2026-01-05T09:00:00+00:00"
BASE = ["interview", "--topic", "optimizers", "--no-notes", "-n", "3", "--seed", "0", "--now", NOW]


@pytest.fixture(scope="module")
def cards():
    return load_deck(None).by_id()


def _script(tmp_path: Path, cards: dict) -> Path:
    """Strong, partial and nonsense answers to the three openings, each followed by a failed follow-up."""
    planned = [c.id for c in plan_interview(tmp_path / "plan-home", T0, ["optimizers"], count=3, notes=False).openings]
    strong, partial = cards[planned[0]], cards[planned[1]]
    lines = [strong.answer.en, "I am not sure.",
             f"It is about {partial.key_points[0].en[0]}.", "no idea",
             "banana bread is tasty", "pass"]
    path = tmp_path / "answers.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(monkeypatch, capsys, home: Path, answers: Path) -> dict:
    code, out, err = main_in_process(monkeypatch, capsys, *BASE, "--home", str(home), "--answers-file", str(answers),
                                     "--json")
    assert code == 0, err
    return json.loads(out)


def test_a_scripted_session_follows_the_measurement_and_repeats(tmp_path: Path, monkeypatch, capsys, cards) -> None:
    answers = _script(tmp_path, cards)
    doc = _run(monkeypatch, capsys, tmp_path / "a", answers)
    turns = doc["turns"]
    assert [t["kind"] for t in turns] == ["opening", "deeper", "opening", "probe", "opening", "probe"]
    strong, deeper, partial, probe, nonsense, basic = turns
    assert strong["score"] >= 4 and strong["answer"] == cards[strong["card"]].answer.en
    # the deeper question is the note's own first follow-up, asked verbatim from the note
    note = Path(cards[strong["card"]].source.rsplit(":", 1)[0]).read_text(encoding="utf-8")
    assert deeper["question"].splitlines()[1] in note and deeper["rung"] == "follow-up"
    # a partial answer: the probe asks about a point it really missed, blanked out of the note's sentence
    assert 1 <= partial["score"] <= 3 and partial["covered"]
    assert probe["target"] in [m["point"] for m in partial["missed"]] and "____" in probe["question"]
    target = next(p for p in cards[partial["card"]].key_points if point_label(p) == probe["target"])
    assert not any(s.lower() in probe["question"].lower() for s in [*target.zh, *target.en])
    # nonsense scores at most 1 and earns a probe of the basics, never a deeper question
    assert nonsense["score"] <= 1 and not nonsense["covered"] and basic["kind"] == "probe"
    # the same script, seed and clock in a fresh home: the same interview
    again = _run(monkeypatch, capsys, tmp_path / "b", answers)
    assert again["turns"] == turns and again["summary"]["score"] == doc["summary"]["score"]


def test_a_scripted_session_repeats_in_a_home_it_adds_to_without_history(tmp_path: Path, monkeypatch, capsys,
                                                                          cards) -> None:
    """The README said a scripted session with a fixed --seed repeats exactly; run twice in one home, the second put
    the first one's weak cards first, and every scripted answer after went to another question."""
    answers, home = _script(tmp_path, cards), tmp_path / "home"
    first = _run(monkeypatch, capsys, home, answers)
    weak_first = _run(monkeypatch, capsys, home, answers)  # the history orders the openings: the weak ones first
    assert weak_first["turns"][0]["card"] != first["turns"][0]["card"]

    def run() -> list[tuple[str, str, str]]:
        code, out, err = main_in_process(monkeypatch, capsys, *BASE, "--home", str(home), "--answers-file",
                                         str(answers), "--no-history", "--json")
        assert code == 0, err
        return [(t["card"], t["question"], t["answer"]) for t in json.loads(out)["turns"]]

    assert run() == run() == [(t["card"], t["question"], t["answer"]) for t in first["turns"]]


def test_an_empty_answer_skips_its_question_ungraded_and_unscheduled(tmp_path: Path, monkeypatch, capsys) -> None:
    """An Enter pressed alone was graded 0/5 and scheduled Again, a failed review, and its opening probed."""
    home, answers = tmp_path / "home", tmp_path / "answers.txt"
    answers.write_text("\u3000\nI am not sure.\n \n:q\n", encoding="utf-8")  # an IME's full-width space, a space
    doc = _run(monkeypatch, capsys, home, answers)
    first, second = doc["planned"][:2]
    # the first opening is passed, the second answered; its probe is passed too, and the session goes on
    assert [(t["n"], t["card"], t["answer"]) for t in doc["turns"]] == [(2, second, "I am not sure.")]
    with sqlite3.connect(home / "reviews.sqlite") as db:
        assert [card for (card,) in db.execute("SELECT card_id FROM reviews")] == [second]
    unasked = load_deck(home, notes=False).by_id()[first].question
    assert f"{unasked.zh}\n{unasked.en}" in doc["summary"]["expect_next"]


def test_every_missed_point_cites_real_lines_that_hold_it(tmp_path: Path, monkeypatch, capsys, cards) -> None:
    doc = _run(monkeypatch, capsys, tmp_path / "home", _script(tmp_path, cards))
    grader = Grader(load_glossary(None))
    asked = load_deck(tmp_path / "home", notes=False).by_id()  # the bank cards and the failed follow-ups
    missed = [(turn, miss) for turn in doc["turns"] for miss in turn["missed"]]
    for turn in (t for t in doc["turns"] if t["kind"] == "opening"):  # every point the grader found missing
        labels = [point_label(p) for p in cards[turn["card"]].key_points]
        assert [m["point"] for m in turn["missed"]] == [label for label in labels if label not in turn["covered"]]
    single = 0
    for turn, miss in missed:
        lines = Path(miss["file"]).read_text(encoding="utf-8").splitlines()
        assert miss["file"].endswith(".md") and 1 <= miss["line_start"] <= miss["line_end"] <= len(lines)
        if miss["line_start"] == miss["line_end"]:  # one line: by the grader's own measure, it says the point
            single += 1
            point = next(p for p in asked[turn["card"]].key_points if point_label(p) == miss["point"])
            assert grader.coverage([point], lines[miss["line_start"] - 1])[0], (miss, lines[miss["line_start"] - 1])
    assert len(missed) >= 10 and single == len(missed)
    report = Path(doc["report_file"]).read_text(encoding="utf-8")
    for weak in doc["summary"]["weakest"]:
        assert f"{weak['file']}:{weak['line_start']}" in report and weak["point"] in report


def test_json_document_store_and_review_cards(tmp_path: Path, monkeypatch, capsys, cards) -> None:
    home = tmp_path / "home"
    doc = _run(monkeypatch, capsys, home, _script(tmp_path, cards))
    assert {"session", "topics", "turns", "summary", "report_file"} <= set(doc) and doc["topics"] == ["optimizers"]
    for n, turn in enumerate(doc["turns"], start=1):
        assert {"n", "kind", "question", "answer", "score", "covered", "missed", "seconds"} <= set(turn)
        assert turn["n"] == n and turn["kind"] in KINDS and 0 <= turn["score"] <= 5 and turn["seconds"] == 0
        assert all({"point", "file", "line_start", "line_end"} <= set(m) for m in turn["missed"])
    summary = doc["summary"]
    assert {"score", "by_topic", "weakest", "demos"} <= set(summary) and len(summary["weakest"]) == 3
    scores = [t["score"] for t in doc["turns"]]
    assert summary["score"] == round(sum(scores) / len(scores), 2)
    assert summary["by_topic"]["optimizers"]["answers"] == 6
    failed = [t for t in doc["turns"] if t["kind"] != "opening" and t["score"] < 3]
    assert len(failed) == 3 and all(t["question"] in summary["expect_next"] for t in failed)
    with sqlite3.connect(home / "reviews.sqlite") as db:
        assert db.execute("SELECT count(*) FROM interview_turns").fetchone()[0] == 6
        assert db.execute("SELECT report_file FROM interviews").fetchone()[0] == doc["report_file"]
        logged = [r for (r,) in db.execute("SELECT card_id FROM reviews ORDER BY id")]
    assert logged == [t["card"] for t in doc["turns"] if t["kind"] == "opening" or t["score"] < 3]
    # the failed follow-ups are review cards now: `review` asks them (with the openings answered badly)
    code, out, _ = main_in_process(monkeypatch, capsys, "review", "--home", str(home), "--now",
                                   "2026-01-05T09:10:00+00:00", "--answers-file", "/dev/null", "--json")
    assert code == 0 and {t["card"] for t in failed} <= set(json.loads(out)["planned"])
    # a second session compares itself with the first
    again = _run(monkeypatch, capsys, home, _script(tmp_path, cards))
    assert again["summary"]["compare"]["sessions_before"] == 1
    assert again["summary"]["compare"]["previous_score"] == summary["score"]
    # a session quit before its first answer writes no report and is no session to compare with
    empty = _run(monkeypatch, capsys, home, Path(os.devnull))
    assert empty["turns"] == [] and empty["report_file"] == "" and len(list((home / "interviews").glob("*.md"))) == 2
    code, out, err = main_in_process(monkeypatch, capsys, *BASE, "--home", str(home), "--answers-file", os.devnull)
    assert code == 0 and "nothing answered" in out + err and "Overall" not in out  # no "Overall - over 0 answers"
    assert _run(monkeypatch, capsys, home, _script(tmp_path, cards))["summary"]["compare"]["sessions_before"] == 2


def test_ctrl_c_after_two_answers_keeps_both(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "STUDYBOT_HOME"}
    proc = subprocess.Popen([sys.executable, "-m", "studybot", *BASE[:-2], "--follow-ups", "0", "--home", str(home)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env=env, preexec_fn=sigint_default)
    proc.stdin.write("first answer about momentum\nsecond answer about the learning rate\n")
    proc.stdin.flush()

    def count(table: str) -> int:
        if not (home / "reviews.sqlite").exists():
            return 0
        with sqlite3.connect(home / "reviews.sqlite") as db:
            try:
                return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            except sqlite3.OperationalError:  # not migrated yet
                return 0

    deadline = time.monotonic() + 60
    while count("interview_turns") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # now waiting at the third question
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "stopped: 2 answers saved" in err and "Traceback" not in err
    with sqlite3.connect(home / "reviews.sqlite") as db:
        turns = [a for (a,) in db.execute("SELECT answer FROM interview_turns ORDER BY n")]
        reviews = [a for (a,) in db.execute("SELECT answer FROM reviews ORDER BY id")]
        report = db.execute("SELECT report_file FROM interviews").fetchone()[0]
    assert turns == reviews == ["first answer about momentum", "second answer about the learning rate"]
    assert "second answer about the learning rate" in Path(report).read_text(encoding="utf-8")


@pytest.mark.slow
def test_predict_then_measure(tmp_path: Path) -> None:
    """A strong answer on RNNs goes deeper, and a good deeper answer earns the demo's predict question."""
    plan = plan_interview(tmp_path / "home", T0, ["rnn"], count=1, notes=False)
    opening = plan.openings[0]
    assert "rnn-vanishing" in backing_demos(opening)
    note_lines = Path(opening.source.rsplit(":", 1)[0]).read_text(encoding="utf-8").splitlines()

    def ask(shown: dict) -> str | None:
        if shown["kind"] == "opening":
            return opening.answer.en
        if shown["kind"] == "deeper":  # the note's own answer to its follow-up
            line = next(line for line in note_lines if shown["question"].splitlines()[1] in line)
            return line.split("A:", 1)[1]
        return "0.001" if shown["kind"] == "predict" else None

    result = run_interview(plan, ask, lambda: T0, grader=Grader(load_glossary(None)))
    kinds = [t["kind"] for t in result.turns]
    assert kinds[:2] == ["opening", "deeper"] and result.turns[1]["score"] >= 4 and kinds[2] == "predict"
    predict = result.turns[2]
    assert predict["question"] == f"{PREDICTIONS['rnn-vanishing'].question.zh}\n{PREDICTIONS['rnn-vanishing'].question.en}"
    assert 0 < predict["measured"] < 1 and predict["score"] == prediction_score(0.001, predict["measured"])


def test_numbers_and_prediction_scores() -> None:
    assert parse_number("about 4.5e-5") == 4.5e-5 and parse_number("25%") == 0.25 and parse_number("1/4") == 0.25
    assert parse_number("大约 0.0001 吧") == 0.0001 and parse_number("no idea") is None
    assert prediction_score(4.5e-5, 4.54e-5) == 5 and prediction_score(1e-4, 4.54e-5) == 4
    assert prediction_score(1e-3, 4.54e-5) == 2 and prediction_score(0.25, 4.54e-5) == 1
    assert prediction_score(None, 1.0) == 0 and prediction_score(-1, 1) == 1 and prediction_score(0, 0) == 5


def test_a_prediction_is_scored_by_how_many_times_off_it_is_in_any_notation() -> None:
    """rnn-vanishing measured 3.23e-14: "about 1e-10" (3000x off) and "几乎为 0" scored 5, "10^-10" 1."""
    measured = 3.23e-14
    for answer in ("about 1e-10", "10^-10", "10⁻¹⁰", "1×10^-10", "1 x 10^{-10}", "10 的负 10 次方", "1e−10"):
        assert parse_number(answer) == pytest.approx(1e-10), answer
        assert prediction_score(parse_number(answer), measured) == 1, answer
    assert parse_number("3.2 × 10⁻¹⁴") == pytest.approx(3.2e-14) and parse_number("2^-24") == 2 ** -24
    assert prediction_score(parse_number("大约 3 x 10^-14"), measured) == 5
    assert prediction_score(parse_number("10 的 -13 次方"), measured) == 3  # 3.1x off
    assert prediction_score(parse_number("about 10x"), 10.4) == 5  # "x" after a number is no product
    # an answer with no number is at most partial, "almost 0" included: 0 is right only of 0
    assert prediction_score(parse_number("非常小，几乎为 0"), measured) <= 2
    assert prediction_score(parse_number("almost zero"), measured) <= 2 and prediction_score(0.0, 0.0) == 5


def test_one_prediction_a_session_cited_to_the_claim_its_demo_tests(cards) -> None:
    """A second predict question came in one session, on residual connections inside an LSTM thread; its miss was
    cited to the LSTM note's heading and sent to `studybot demo rnn-vanishing`."""
    from studybot.study.interview import FOLLOW_UPS, Interviewer, Thread

    interviewer = Interviewer(Grader(load_glossary(None)))
    rnn = next(c for c in cards.values() if "rnn-vanishing" in c.demos and c.kind == "short")
    residual = replace(rnn, id="lstm-note", demos=[], topics=["rnn", "gradients"])  # its topics' demos back it
    asked = FOLLOW_UPS["predict"](interviewer, Thread(n=1, card=residual, section=None))
    demo = asked.rung
    assert asked.kind == "predict" and demo != "rnn-vanishing" and asked.card.demos == [demo]
    path, line = asked.card.source.rsplit(":", 1)
    stated = Path(path).read_text(encoding="utf-8").splitlines()[int(line) - 1]
    assert stated.startswith(f"`studybot demo {demo}` tests this claim:")
    assert FOLLOW_UPS["predict"](interviewer, Thread(n=3, card=rnn, section=None)) is None  # once a session


def test_no_follow_up_asks_what_an_opening_of_the_session_asks(tmp_path: Path, cards) -> None:
    """The normalization note's own follow-up "BatchNorm 真的是因为减少了内部协变量偏移才有效吗？" was asked as a deeper
    question, and then the session's opening "BatchNorm 有效真的是因为减少了内部协变量偏移吗？"."""
    from studybot.study.interview import InterviewPlan

    first, later = cards["normalization-001"], cards["normalization-013"]
    (tmp_path / "home").mkdir()
    plan = InterviewPlan(home=tmp_path / "home", openings=[first, later], topics=["normalization"], minutes=20,
                         lang=None, seed=0, follow_ups=1)
    turns = run_interview(plan, lambda shown: first.answer.en if shown["card"] == first.id else "I am not sure.",
                          lambda: T0, grader=Grader(load_glossary(None))).turns
    assert [t["kind"] for t in turns[:3]] == ["opening", "deeper", "opening"] and turns[0]["score"] >= 4
    assert turns[1]["rung"] == "follow-up" and "internal covariate shift" not in turns[1]["question"]
    assert turns[2]["card"] == later.id


@pytest.mark.parametrize("args, needle", [
    (["--topic", "knitting"], "no cards for topic 'knitting'"),
    (["--minutes", "0"], "--minutes 0: give a positive number"),
    (["--lang", "fr"], "--lang 'fr': use zh or en"),
])
def test_bad_input_is_one_line(tmp_path: Path, args: list[str], needle: str) -> None:
    one_line_error(run_cli("interview", "--no-notes", *args, home=tmp_path / "home", timeout=60), needle)


def test_openings_take_turns_over_topics_and_levels_and_put_due_cards_first(tmp_path: Path) -> None:
    from datetime import timedelta

    from studybot.study.reviews import ReviewStore

    home = tmp_path / "home"
    plan = plan_interview(home, T0, ["optimizers", "cnn"], count=6, notes=False)
    topics = [c.topic for c in plan.openings]
    assert topics[0::2] == [topics[0]] * 3 and topics[1::2] == [topics[1]] * 3 and set(topics) == {"optimizers", "cnn"}
    for topic in ("optimizers", "cnn"):  # each topic's first questions climb its difficulties before repeating one
        levels = [c.difficulty for c in plan.openings if c.topic == topic]
        assert levels[:2] == sorted(set(levels[:2])) and len(set(levels[:2])) == 2, levels
    assert {c.difficulty for c in plan_interview(home, T0, ["cnn"], count=5, level=1, notes=False).openings} == {1}
    failed = plan.openings[-1]
    with ReviewStore(home) as store:
        store.record(failed.id, failed.topic, "again", T0)
    later = plan_interview(home, T0 + timedelta(days=1), ["optimizers", "cnn"], count=6, notes=False)
    assert later.openings[0].id == failed.id  # due now: asked first, its topic leads


def test_colon_q_ends_the_session_and_the_report_keeps_what_was_asked(tmp_path: Path, monkeypatch, capsys,
                                                                      cards) -> None:
    answers = tmp_path / "answers.txt"
    answers.write_text("momentum keeps a velocity\n:q\nnever read\n", encoding="utf-8")
    doc = _run(monkeypatch, capsys, tmp_path / "home", answers)
    assert len(doc["turns"]) == 1 and not doc["interrupted"]
    unasked = [cards[card_id].question for card_id in doc["planned"][1:]]
    assert doc["summary"]["expect_next"][-2:] == [f"{q.zh}\n{q.en}" for q in unasked]
    report = Path(doc["report_file"]).read_text(encoding="utf-8")
    assert "momentum keeps a velocity" in report and "never read" not in report


# --- a model words the follow-ups (--model / --llm-url) -------------------------------------------


class _Worded(FakeGenerator):
    """A model that words every question it is given as one fixed question in the language asked for."""

    kind = "fake-worded"
    words = {"Chinese": "你能换个角度讲讲这一点吗？", "English": "Could you put that point another way?"}

    def reply(self, messages) -> str:
        return next(text for name, text in self.words.items() if name in messages[0]["content"])


class _Giveaway(_Worded):
    """A model that blurts out the answer of the probe the scripted session gets (and English when asked Chinese)."""

    kind = "fake-giveaway"
    words = {"Chinese": "Does it go from peak to minimum?", "English": "Does it go from peak to minimum?"}


def test_a_model_words_probes_and_ladder_questions_but_never_gives_the_answer_away(tmp_path: Path, cards) -> None:
    answers = _script(tmp_path, cards).read_text(encoding="utf-8").splitlines()
    plan = plan_interview(tmp_path / "home", T0, ["optimizers"], count=3, lang="en", notes=False)
    grader = Grader(load_glossary(None))

    def session(generator) -> list[dict]:
        script = iter(answers)
        return run_interview(plan, lambda shown: next(script, None), lambda: T0, grader=grader,
                             phraser=Phraser(generator)).turns

    worded = session(_Worded())
    assert [t["kind"] for t in worded] == ["opening", "deeper", "opening", "probe", "opening", "probe"]
    for turn in worded:
        model_words = turn["kind"] == "probe" or (turn["kind"] == "deeper" and turn["rung"] != "follow-up")
        assert (turn["phrased_by"] == "model") == model_words, turn
        assert (turn["question"] == _Worded.words["English"]) == model_words
    blurted = session(_Giveaway())
    probe = blurted[3]
    assert probe["target"] == "从最大到最小 / from peak to minimum" and probe["phrased_by"] == "template"
    assert probe["phrase_note"] == "the model's wording gave the answer away" and "____" in probe["question"]
    assert blurted[5]["phrased_by"] == "model"  # the same words do not give away another point
    chinese = Phraser(_Giveaway()).phrase(Asked("probe", cards["optimizers-001"]), "zh")
    assert chinese.phrased_by == "template" and chinese.phrase_note.startswith("the model's wording was not in Chinese")


def test_a_failing_model_server_leaves_the_questions_as_written(tmp_path: Path, monkeypatch, capsys, cards) -> None:
    from tests.http_fakes import FakeModelServer

    with FakeModelServer() as server:
        code, out, err = main_in_process(monkeypatch, capsys, *BASE, "--home", str(tmp_path / "home"), "--answers-file",
                                         str(_script(tmp_path, cards)), "--llm-url", f"{server.url}/garbage", "--json")
    assert code == 0, err
    turns = json.loads(out)["turns"]
    probes = [t for t in turns if t["kind"] == "probe"]
    assert len(turns) == 6 and probes and all(t["phrased_by"] == "template" and "____" in t["question"] for t in probes)
    assert all(server.url in t["phrase_note"] for t in probes), probes[0]["phrase_note"]


def _missed_turn(n: int, point: str, line: int, score: int, covered: tuple[str, ...] = ()) -> dict:
    return {"n": n, "kind": "opening", "topic": "normalization", "score": score, "demos": [], "question": f"q{n}",
            "context": "", "covered": list(covered),
            "missed": [{"point": point, "file": "normalization.md", "line_start": line, "line_end": line}]}


def test_a_point_recalled_later_in_the_session_is_no_weakest_point() -> None:
    """"softmax" was the first point to re-read although the probe right after the opening that missed it was
    answered 5/5; a point missed after its recall is weak again."""
    from studybot.study.interview import summarize

    probe = {**_missed_turn(1, "γ 和 β / gamma and beta", 13, 5, covered=("softmax",)), "kind": "probe", "missed": []}
    turns = [_missed_turn(1, "softmax", 29, 1), probe, _missed_turn(2, "表达能力 / representational power", 26, 3),
             _missed_turn(3, "γ 和 β / gamma and beta", 13, 2, covered=("表达能力 / representational power",))]
    weakest = summarize(turns, [], T0, [])["weakest"]
    assert [w["point"] for w in weakest] == ["γ 和 β / gamma and beta"], weakest


def test_a_missed_point_of_a_bundled_note_is_re_read_in_the_learners_own_note_that_holds_it(tmp_path: Path,
                                                                                           cards) -> None:
    """"主要是让优化地形更平滑" was sent to the bundled normalization.md, the learner's own normalization.md:9 saying
    "后来的研究认为主要是让 loss landscape 更平滑"; a point their notes do not hold is still read in the bundled note."""
    from studybot.index.build import build_index
    from studybot.study.interview import card_section

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "bn.md").write_text("# BatchNorm\n\n## BatchNorm 为什么有用？\n\n- 对每个通道在 batch 上标准化\n"
                                 "- 主要是让 loss landscape 更平滑，可以用更大的学习率\n", encoding="utf-8")
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    card = cards["normalization-001"]  # its points: ... 更大的学习率 ... 损失曲面更平滑 ... γ 和 β
    plan = replace(plan_interview(tmp_path / "home", T0, ["normalization"], count=1), openings=[card], follow_ups=0)
    answers = iter(["不知道"])
    turns = run_interview(plan, lambda shown: next(answers, None), lambda: T0, grader=Grader(load_glossary(None))).turns
    missed = {m["point"]: (Path(m["file"]).name, m["line_start"]) for m in turns[0]["missed"]}
    assert missed["更大的学习率 / larger learning rate"] == ("bn.md", 6), missed
    assert missed["损失曲面更平滑 / smoother loss landscape"] == ("bn.md", 6), missed
    assert missed["γ 和 β / gamma and beta"][0] == Path(card_section(card).file).name == "normalization.md", missed


def test_the_weakest_points_name_each_point_once_at_its_first_lines() -> None:
    from studybot.study.interview import summarize

    turns = [_missed_turn(1, "γ 和 β / gamma and beta", 13, 2), _missed_turn(2, "γ 和 β / gamma and beta", 32, 1),
             _missed_turn(3, "表达能力 / representational power", 26, 3)]
    weakest = summarize(turns, [], T0, [])["weakest"]
    assert [(w["point"], w["line_start"], w["times_missed"], w["worst_score"]) for w in weakest] == [
        ("γ 和 β / gamma and beta", 13, 2, 1), ("表达能力 / representational power", 26, 1, 3)]


def test_a_probe_from_a_latex_line_shows_no_markup_and_gives_no_symbol_away() -> None:
    from studybot.study.interview import _plain, blanked_sentences

    line = _plain("归一化层把激活变成均值 0、方差 1，再用可学习的缩放 $\\gamma$ 和平移 $\\beta$ 恢复表达能力：")
    assert line == "归一化层把激活变成均值 0、方差 1，再用可学习的缩放 γ 和平移 β 恢复表达能力："
    formula = _plain("最优策略满足 $\\pi^*(y|x)=\\frac{1}{Z(x)}\\pi_{ref}(y|x)$，其中缩放和平移都是可学习的参数。")
    terms = {"zh": ["γ 和 β", "可学习的缩放和平移"], "en": ["gamma and beta"]}
    found = blanked_sentences([(26, formula), (13, line)], terms, 0.6)
    assert found == {"zh": (13, "归一化层把激活变成均值 0、方差 1，再用可学习的缩放 ____ 和平移 ____ 恢复表达能力：")}


def test_a_probe_never_puts_one_language_inside_the_other(cards) -> None:
    from studybot.study.interview import Interviewer, Section, Thread

    card = cards["normalization-002"]
    section = Section(file="n.md", start=1, end=2, lines={1: "", 2: "只做标准化会限制每层的表达能力，所以要加 γ、β。"})
    point = card.key_points[0]  # 表达能力 / representational power: only the Chinese line says it
    asked = Interviewer(Grader(load_glossary(None))).probe(Thread(n=1, card=card, section=section), card, point)
    assert asked.card.question.zh == "追问：「只做标准化会限制每层的____，所以要加 γ、β。」——空白处应该是什么？为什么？"
    # only the Chinese line holds the point: the English probe is that one whole, not the opening question asked again
    # ("Which key point have you not said yet?"), so the review card asks one thing in both languages
    assert asked.card.question.en == asked.card.question.zh
    chinese_only = replace(card, question=Bilingual(zh=card.question.zh, en=card.question.zh))
    asked = Interviewer(Grader(load_glossary(None))).probe(Thread(n=1, card=chinese_only, section=section),
                                                            chinese_only, point)
    assert asked.card.question.en == asked.card.question.zh


def test_a_probe_never_blanks_a_name_its_question_said() -> None:
    """A point is blanked where the sentence says it, never inside "weight decay" (the question's own name of its
    subject: "____退火按____从最大值…" after "余弦退火…是怎么工作的？"), and a word the question writes is no blank at all:
    "RoPE 旋转位置编码的原理是什么？" was probed "把 q、k 按位置____" (旋转)."""
    from studybot.study.interview import Interviewer, Section, Thread

    card = Card(id="wd-1", kind="short", origin="bank", topic="regularization",
                question=Bilingual(zh="权重衰减是怎么工作的？", en="How does weight decay work?"),
                answer=Bilingual(zh="权重每步按比例衰减。", en="Weights decay a little at every step."),
                key_points=[KeyPoint(zh=["比例"], en=["proportion"]), KeyPoint(zh=["衰减"], en=["decay"])],
                source="wd.md:1")
    lines = {1: "", 2: "权重衰减也叫 L2 正则化。", 3: "权重衰减让权重每步按比例衰减，向零收缩。",
             4: "Weight decay lets each parameter decay in proportion toward zero at every step."}
    section = Section(file="wd.md", start=1, end=4, lines=lines, answer_lines={2, 3, 4})
    interviewer = Interviewer(Grader(load_glossary(None)))
    asked = interviewer.probe(Thread(n=1, card=card, section=section), card, card.key_points[0])
    assert asked.card.question.zh == "追问：「权重衰减让权重每步按____衰减，向零收缩。」——空白处应该是什么？为什么？"
    assert asked.card.question.en == ('Follow-up: "Weight decay lets each parameter decay in ____ toward zero at '
                                      'every step." What goes in the blank, and why?')
    # "decay" is the question's own word: no blank gives it away, and no probe asks it
    assert interviewer.probe(Thread(n=1, card=card, section=section), card, card.key_points[1]) is None


def test_a_probe_is_one_blank_on_its_own_point_in_a_whole_sentence_of_the_questions_language() -> None:
    """A probe sweep found "上一步的____算出新的____就是对历史的____" (a clause and a repeated 隐藏状态 dropped), "多头注意力把
    Q、____ 投影…" for the point 共享 K/V, a Chinese card probed only in English under --lang zh, and, where no sentence
    held the point, the question again with "还有哪个关键点你没有说到？"."""
    from studybot.study.interview import Interviewer, Section, Thread

    def probe(question: str, point: KeyPoint, lines: dict[int, str], answer_lines: set[int] = frozenset(),
              lang: str | None = None):
        card = Card(id="p-1", kind="short", origin="note", topic="notes", question=split_bilingual(question),
                    answer=Bilingual("", ""), key_points=[point], source="p.md:1")
        section = Section(file="p.md", start=1, end=max(lines), lines={1: "", **lines}, answer_lines=set(answer_lines))
        asked = Interviewer(Grader(load_glossary(None)), lang=lang).probe(Thread(n=1, card=card, section=section),
                                                                          card, point)
        return asked and asked.card.question

    hidden = KeyPoint(zh=["隐藏状态"], en=["hidden state"])
    twice = "RNN 每步用当前输入和上一步的隐藏状态算出新的隐藏状态，隐藏状态就是对历史的记忆。"
    once = "隐藏状态像一个摘要，把读过的输入压缩成一个向量。"
    asked = probe("RNN 是如何工作的？", hidden, {2: twice, 3: once})
    assert asked.zh == "追问：「____像一个摘要，把读过的输入压缩成一个向量。」——空白处应该是什么？为什么？", asked
    assert probe("RNN 是如何工作的？", hidden, {2: twice}) is None  # no garbled probe, and no question asked again
    # the point's own words, not two letters of it that another sentence writes for something else
    shared = KeyPoint(zh=["共享 K/V"], en=["share K/V"])
    lines = {2: "多头注意力把 Q、K、V 投影到 h 个低维子空间，分别做注意力再拼接。", 3: "MQA 让所有 query 头共享 K/V，KV cache 变小。"}
    assert probe("MQA 和 GQA 是什么？", shared, lines).zh == \
        "追问：「MQA 让所有 query 头____，KV cache 变小。」——空白处应该是什么？为什么？"
    assert probe("MQA 和 GQA 是什么？", shared, {2: lines[2]}) is None
    # a Chinese question whose English answer block holds the point first is asked in Chinese from its Chinese line
    running = KeyPoint(zh=["滑动平均"], en=["running average"])
    lines = {2: "BatchNorm normalises over the batch and keeps a running average for inference.",
             3: "BatchNorm 推理时用训练中记下的滑动平均，LayerNorm 推理和训练一样。"}
    for lang in (None, "zh"):
        asked = probe("BatchNorm 和 LayerNorm 有什么区别？", running, lines, {2}, lang)
        assert asked.zh == asked.en == "追问：「BatchNorm 推理时用训练中记下的____，LayerNorm 推理和训练一样。」——空白处应该是什么？为什么？"
    asked = probe("BatchNorm 和 LayerNorm 有什么区别？", running, lines, {2}, "en")
    assert asked.en == ('Follow-up: "BatchNorm normalises over the batch and keeps a ____ for inference." What goes in '
                        'the blank, and why?')


def test_an_opening_with_nothing_right_gets_no_deeper_question_after_its_probe(cards) -> None:
    """"I don't know" scored 0, its probe (which blanks the point in the note's sentence) was answered right, and a
    deeper question followed: the probe gives its point away, so it proves nothing about going deeper."""
    from studybot.study.grading import Grade
    from studybot.study.interview import Asked, Thread, next_kinds

    card = cards["normalization-002"]
    blank, right = Grade(0, "again", [], ["a"], "key points"), Grade(5, "easy", ["a"], [], "key points")
    thread = Thread(n=1, card=card, section=None, turns=[(Asked("opening", card), blank)])
    assert next_kinds(blank, thread) == ["probe"]
    thread.turns.append((Asked("probe", card), right))
    assert next_kinds(right, thread) == []
    thread.turns[0] = (Asked("opening", card), Grade(3, "good", ["a"], ["b"], "key points"))  # a partial opening
    assert "deeper" in next_kinds(right, thread)


def test_the_report_sends_a_missed_point_to_its_cards_own_demo_not_its_topics(tmp_path: Path) -> None:
    """A multi-head attention card's missed points were sent to `studybot demo attention-scaling` (the √d_k demo,
    registered for the whole transformer topic): a turn names the demos its card names, and the report those."""
    plan = plan_interview(tmp_path / "home", T0, ["transformer"], count=3, notes=False, follow_ups=0)
    result = run_interview(plan, lambda shown: "I am not sure." if shown["kind"] == "opening" else None, lambda: T0,
                           grader=Grader(load_glossary(None)))
    by_id = {card.id: card for card in plan.openings}
    assert result.turns and all(t["demos"] == list(by_id[t["card"]].demos) for t in result.turns)
    assert set(result.summary["demos"]) <= {d for t in result.turns for d in t["demos"]}
    assert any("attention-scaling" not in by_id[t["card"]].demos for t in result.turns)  # such a card was asked


# A procedure whose steps are a list, with what it costs and its alternative as more items; one whose section is its
# steps alone; a Chinese section whose "because" names concepts a good answer names anyway; and a question asking why.
DEEPER_NOTES = {
    "decoding.md": """# Decoding

## How does beam search work?

Beam search keeps several partial outputs at once:

1. start every sequence from the start token
2. extend every kept sequence by each candidate next token
3. keep the k sequences with the highest total log-probability
4. stop when every kept sequence has produced the end token

Compared with a single greedy pass:

- a beam of width k costs k times the work of a single pass
- wider beams find likelier outputs but they are often shorter and blander
- greedy decoding keeps one sequence instead of k, which is faster yet may miss a likelier output

## How does top-k sampling pick a token?

1. sort the vocabulary by probability
2. keep the k most probable tokens
3. renormalise their probabilities and draw one token
""",
    "norm.md": """# 归一化

## 什么是层归一化？

层归一化对每个样本自己的全部特征求均值和方差，再做标准化。

因为它和批大小无关，层归一化常用在 RNN 和 Transformer 里，批大小为 1 时也能用。

但是它的代价是推理时要现算统计量，不能像批归一化那样折叠进卷积的权重。

### 面试回答

层归一化在每个样本内部对全部特征求均值和方差，再做标准化，和批大小无关。

## 为什么 Transformer 用层归一化？

因为一批里的句子长短不一，按批统计的均值和方差不稳定，所以 RNN 也用层归一化。

但是在卷积网络里，层归一化的效果通常不如批归一化。

### 面试回答

层归一化只在单个样本内部计算均值和方差，不受批大小和序列长度的影响。
""",
}


@pytest.fixture(scope="module")
def deeper_notes(tmp_path_factory) -> tuple[dict[str, Card], Grader]:
    """The note cards of a home indexing DEEPER_NOTES alone, by question, and a grader."""
    from studybot.index.build import build_index

    root = tmp_path_factory.mktemp("deeper")
    (root / "notes").mkdir()
    for name, text in DEEPER_NOTES.items():
        (root / "notes" / name).write_text(text, encoding="utf-8")
    build_index(root / "home", [root / "notes"], bundled=False, repair="jieba")
    cards = {c.question.zh: c for c in load_deck(root / "home").cards if c.origin == "note"}
    return cards, Grader(load_glossary(root / "home"))


def _thread(tmp_path: Path, card, grader: Grader, answers: list[str]) -> list[dict]:
    """The turns of an interview on `card` alone answered with `answers`, in turn, until they run out."""
    from studybot.study.interview import InterviewPlan

    (tmp_path / "home").mkdir(parents=True)
    plan = InterviewPlan(home=tmp_path / "home", openings=[card], topics=[card.topic], minutes=20, lang=None, seed=0,
                         follow_ups=3)
    script = iter(answers)
    return run_interview(plan, lambda shown: next(script, None), lambda: T0, grader=grader,
                         measure=lambda prediction: 0.0).turns


def _points(turn: dict) -> list[str]:
    """The key points a turn was graded on, by label."""
    return [*turn["covered"], *(m["point"] for m in turn["missed"])]


def test_a_deeper_question_asks_what_the_opening_did_not_with_each_sentence_a_point(tmp_path: Path,
                                                                                   deeper_notes) -> None:
    """"How does NMS work?" answered 5/5 was followed by "One level deeper: how exactly does it work?", graded on one
    key point that ran its list's first items together, which a right answer could not pass."""
    cards, grader = deeper_notes
    steps = ("Start each sequence at the start token, extend every kept sequence by each candidate next token, keep "
             "the k with the highest total log-probability, and stop when each has produced the end token.")
    right = ("Width k costs k times the work of one pass; wider beams find likelier but shorter, blander outputs; "
             "greedy decoding keeps one sequence instead of k: faster, yet it may miss a likelier output.")
    opening, deeper = _thread(tmp_path / "beam", cards["How does beam search work?"], grader, [steps, right])
    assert opening["score"] >= 4 and deeper["kind"] == "deeper" and "how exactly" not in deeper["question"]
    # each key point is one of the note's items, not two run together, and a right answer passes them
    assert _points(deeper) == ["a beam of width k costs k times the work of a single pass",
                               "wider beams find likelier outputs but they are often shorter and blander",
                               "greedy decoding keeps one sequence instead of k, which is faster yet may miss a "
                               "likelier output"]
    assert deeper["score"] == 5
    # a section that is its steps alone has nothing deeper to ask: no question rewords the opening one
    turns = _thread(tmp_path / "top-k", cards["How does top-k sampling pick a token?"], grader,
                    ["Sort the vocabulary by probability, keep the k most probable tokens, renormalise them and draw "
                     "one token.", "I am not sure."])
    assert turns[0]["score"] >= 4 and [t["kind"] for t in turns if t["kind"] == "deeper"] == [], turns[1:]
    # a question that asks why is not asked "why is that so?" of its own section again
    turns = _thread(tmp_path / "why", cards["为什么 Transformer 用层归一化？"], grader,
                    ["因为它只在单个样本内部计算均值和方差，不受批大小和序列长度的影响。", "不知道", "不知道"])
    assert turns[0]["score"] >= 4 and len(turns) > 1 and "why" not in [t["rung"] for t in turns], turns[1:]


def test_a_follow_up_neither_grades_nor_probes_a_point_the_thread_already_said(tmp_path: Path, deeper_notes) -> None:
    """The opening answer "… prepends a learnable CLS token …" (5/5) was followed by a deeper question that marked
    "✗ token" and a probe "prepend a learnable [CLS] ____"; "… same receptive field … extra nonlinearity" by one graded
    on 感受野 and 激活函数."""
    cards, grader = deeper_notes
    said = "层归一化在每个样本内部对全部特征求均值和方差再标准化，和批大小无关，所以 RNN 和 Transformer 都用它。"
    turns = _thread(tmp_path, cards["什么是层归一化？"], grader, [said, "不知道", "不知道", "不知道"])
    # the interview answer's points (批大小 among them) and the concepts the answer named beyond them (RNN, Transformer)
    named = {"批大小 / batch size", "循环神经网络 / recurrent neural network", "Transformer 模型 / Transformer"}
    assert turns[0]["score"] >= 4 and "批大小 / batch size" in turns[0]["covered"]
    assert len(turns) > 1  # a follow-up was asked: it is graded on what the answer had not said
    assert [(t["kind"], p) for t in turns[1:] for p in _points(t) if p in named] == []


def test_a_note_cards_questions_and_follow_ups_keep_where_they_sit_in_the_notes(tmp_path: Path) -> None:
    """"What changes at test time?" was asked without "(Dropout)", which the quiz shows, and a failed probe came back in
    `review` as "追问：「可以看成给隐藏层加乘性____」" with nothing saying it was about dropout."""
    from rich.console import Console

    from studybot.cli.interview import _render_question
    from studybot.index.build import build_index
    from studybot.study.interview import InterviewPlan

    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "dropout.md").write_text(
        "# Dropout\n\n## 为什么能防止过拟合？\n\n训练时以概率 p 随机把神经元置零，每一步训练一个不同的子网络，最后相当于"
        "指数多个子网络的集成；神经元不能依赖特定的其他神经元，减少共适应；也可以看成给隐藏层加乘性噪声。\n\n"
        "## What changes at test time?\n\nAt test time dropout is turned off. With inverted dropout the kept "
        "activations are scaled by 1/(1-p) during training, so inference needs no change; without it the weights "
        "are multiplied by (1-p) at test time.\n", encoding="utf-8")
    home = tmp_path / "home"
    build_index(home, [tmp_path / "notes"], bundled=False, repair="jieba")
    openings = sorted((c for c in load_deck(home).cards if c.origin == "note" and c.kind == "short"),
                      key=lambda c: c.question.zh)
    assert [c.question.zh for c in openings] == ["What changes at test time?", "为什么能防止过拟合？"]
    plan = InterviewPlan(home=home, openings=openings, topics=["regularization"], minutes=20, lang=None, seed=0,
                         follow_ups=1)
    shown: list[dict] = []
    result = run_interview(plan, lambda asked: shown.append(asked) or "不知道", lambda: T0,
                           grader=Grader(load_glossary(home)))
    assert [t["kind"] for t in result.turns] == ["opening", "probe", "opening", "probe"]
    assert [t["context"] for t in result.turns if t["kind"] == "opening"] == ["Dropout", "Dropout"]
    out = Console(record=True, width=120)
    _render_question(out, shown[0])
    assert "(Dropout)\nWhat changes at test time?" in out.export_text()
    assert "(Dropout) What changes at test time?" in result.summary["expect_next"]
    assert "(Dropout) What changes at test time?" in Path(result.report_file).read_text(encoding="utf-8")
    # the failed probes are review cards under the opening's headings: the quiz shows where they sit
    kept = {c.question.zh: c.context for c in load_deck(home).cards if c.origin == "interview"}
    assert sorted(kept.values()) == ["Dropout > What changes at test time?", "Dropout > 为什么能防止过拟合？"], kept


SIBLING_NOTES = {
    "dropout.md": "# Dropout\n\n## Dropout 为什么能防止过拟合？\n\n训练时以概率 p 随机把神经元置零，每一步训练一个不同的子网络，"
                  "最后相当于指数多个子网络的模型集成；神经元不能依赖特定的其他神经元，减少共适应，也可以看成给隐藏层加乘性"
                  "噪声。\n\n## Dropout 的缺点\n\n- 训练时间变长，收敛变慢，梯度的噪声更大\n- 和批归一化一起用会有方差偏移\n",
    "regularization.md": "# Regularization\n\n## How does weight decay prevent overfitting?\n\nWeight decay adds the "
                         "squared L2 norm of the weights to the loss, which shrinks every weight towards zero at each "
                         "gradient step, so the model cannot fit noise in the training data with large weights.\n\n"
                         "## Drawbacks of early stopping\n\n- It needs a held-out validation set and patience tuning.\n\n"
                         "## Drawbacks of weight decay\n\n- Its strength needs tuning with the learning rate.\n"
                         "- Under Adam it is not the same as L2 regularization, which is why AdamW decouples it.\n",
}


def test_a_good_answer_on_a_short_section_goes_deeper_on_its_subjects_drawbacks(tmp_path: Path) -> None:
    """5/5 on "Dropout 为什么能防止过拟合？" (even with --follow-ups 3) ended the thread: its section had nothing deeper
    to ask, while the note's "Dropout 的缺点" says what it costs. Not a section on another subject's drawbacks, nor one
    the session asks as an opening."""
    from studybot.index.build import build_index
    from studybot.study.interview import InterviewPlan

    (tmp_path / "notes").mkdir()
    for name, text in SIBLING_NOTES.items():
        (tmp_path / "notes" / name).write_text(text, encoding="utf-8")
    home = tmp_path / "home"
    build_index(home, [tmp_path / "notes"], bundled=False, repair="jieba")
    cards = {c.question.zh: c for c in load_deck(home).cards if c.origin == "note" and c.kind == "short"}
    grader = Grader(load_glossary(home))

    def interview(*questions: str) -> list[dict]:
        openings = [cards[q] for q in questions]
        plan = InterviewPlan(home=home, openings=openings, topics=["regularization"], minutes=20, lang=None, seed=0,
                             follow_ups=3)
        return run_interview(plan, lambda shown: next((c.answer.zh for c in openings if c.id == shown["card"]),
                                                      "不知道"), lambda: T0, grader=grader).turns

    for question, costs in (("Dropout 为什么能防止过拟合？", "## Dropout 的缺点"),
                            ("How does weight decay prevent overfitting?", "## Drawbacks of weight decay")):
        turns = interview(question)
        assert turns[0]["score"] == 5 and [t["kind"] for t in turns[:2]] == ["opening", "deeper"], turns
        deeper = turns[1]
        lines = Path(cards[question].source.rsplit(":", 1)[0]).read_text(encoding="utf-8").splitlines()
        start = lines.index(costs) + 1  # the costs' section runs to the end of its note
        assert deeper["rung"] == "trade-off", deeper
        assert deeper["missed"] and all(m["line_start"] > start for m in deeper["missed"]), (start, deeper)
    # the session asks "Dropout 的缺点" itself: no deeper question asks it first
    turns = interview("Dropout 为什么能防止过拟合？", "Dropout 的缺点")
    assert [t["kind"] for t in turns[:2]] == ["opening", "opening"], turns[1]


def test_a_bilingual_probe_asks_one_sentence_in_its_two_languages(tmp_path: Path) -> None:
    """The Chinese half of a probe quoted the interview answer and the English half another paragraph ("In LLM
    training people count tokens and steps instead, because the ____ is often seen about once."), which an English
    interview asked alone, cited at the Chinese sentence's line."""
    from studybot.study.interview import Interviewer, Thread, card_section

    note = tmp_path / "reg.md"
    note.write_text("""# Regularisation

## L1 和 L2 正则有什么区别？ / What is the difference between L1 and L2 regularisation?

Sparse models are popular on phones, because a sparse weight vector is cheap to store.

### 面试回答 / Interview answer

中文：L1 正则让很多权重变成恰好为零，得到稀疏解；L2 正则只把权重缩小，不会变成零。

English: L1 drives many weights to exactly zero; L2 only shrinks them towards zero.

## 为什么要做梯度裁剪？ / Why clip gradients?

梯度裁剪把梯度范数限制在阈值以内，防止梯度爆炸。/ Clipping caps the gradient norm so one batch cannot wreck the weights.

Exploding gradients show up as a sudden NaN loss.
""", encoding="utf-8")

    def probe(line: int, heading: str, zh: str, en: str, lang: str | None,
              answer: Bilingual = Bilingual("", "")) -> Card:
        card = Card(id="reg", kind="short", origin="bank", topic="regularization", question=split_bilingual(heading),
                    answer=answer, key_points=[KeyPoint(zh=[zh], en=[en])], source=f"{note}:{line}",
                    heading=heading)
        thread = Thread(n=1, card=card, section=card_section(card))
        return Interviewer(Grader(load_glossary(None)), lang=lang).probe(thread, card, card.key_points[0]).card

    l1 = "L1 和 L2 正则有什么区别？ / What is the difference between L1 and L2 regularisation?"
    # only the Chinese paragraph of the interview answer names it: one sentence, in one language, not the English of
    # another paragraph, in an English interview too
    for lang in (None, "en"):
        sparse = probe(3, l1, "稀疏", "sparse", lang)
        assert sparse.question.zh == sparse.question.en == (
            "追问：「L1 正则让很多权重变成恰好为零，得到____解；L2 正则只把权重缩小，不会变成零。」——空白处应该是什么？为什么？")
        assert sparse.source == f"{note}:9"
    # a bilingual line whose English says it in other words: the same; but a card's own answer that says it in both
    # languages is asked in both
    clip = "为什么要做梯度裁剪？ / Why clip gradients?"
    line = probe(13, clip, "梯度爆炸", "exploding gradients", None)
    assert line.question.zh == line.question.en == "追问：「梯度裁剪把梯度范数限制在阈值以内，防止____。」——空白处应该是什么？为什么？"
    own = probe(13, clip, "梯度爆炸", "exploding gradients", None, Bilingual(
        zh="裁剪限制梯度范数，防止训练中出现梯度爆炸。", en="Clipping caps the gradient norm and so prevents exploding gradients."))
    assert own.question.zh == "追问：「裁剪限制梯度范数，防止训练中出现____。」——空白处应该是什么？为什么？"
    assert own.question.en == ('Follow-up: "Clipping caps the gradient norm and so prevents ____." What goes in the '
                               'blank, and why?')
    # both paragraphs hold it: each half is its own language's, cited where the interview shows it
    both = probe(3, l1, "恰好为零", "exactly zero", None)
    assert both.question.zh == "追问：「L1 正则让很多权重变成____，得到稀疏解；L2 正则只把权重缩小，不会变成零。」——空白处应该是什么？为什么？"
    assert both.question.en == 'Follow-up: "L1 drives many weights to ____;" What goes in the blank, and why?'
    assert both.source == f"{note}:9" and probe(3, l1, "恰好为零", "exactly zero", "en").source == f"{note}:11"


def test_a_probe_of_a_table_quotes_one_row_with_its_columns_names_and_cites_that_row(tmp_path: Path) -> None:
    """A heading over a 3-column table: the card's answer was the whole table on one line, so a probe asked "target
    data; similar to ____; different from ____ small; freeze backbone, …" (the column name "source" blanked twice) and
    its missed points were cited at the heading. Each row is now a sentence with its columns' names (as answers read
    tables), a column's name is no point (it labels every row, as a heading does), and a row's point is cited at
    its row; a Chinese row is not cut at its "；"."""
    from studybot.index.build import build_index
    from studybot.study.interview import Interviewer, Thread, card_section, locate

    notes = tmp_path / "notes"
    notes.mkdir()
    text = ("# Regularization\n\n## Which regularizer suits which model?\n\n"
            "| model size | little data | plenty of data |\n|---|---|---|\n"
            "| small | weight decay with early stopping | plain training without extra penalties |\n"
            "| large | heavy dropout plus mixup augmentation | stochastic depth and label smoothing |\n\n"
            "## 不同 batch 大小该用哪种归一化？\n\n| 网络 | 小 batch | 大 batch |\n|---|---|---|\n"
            "| 卷积网络 | GroupNorm，统计量与批大小无关 | BatchNorm，训练稳定且收敛更快 |\n"
            "| Transformer | LayerNorm，逐样本归一化 | LayerNorm，推理和训练完全一致 |\n")
    (notes / "reg.md").write_text(text, encoding="utf-8")
    lines = text.splitlines()
    rows = {n: line for n, line in enumerate(lines, 1) if line.startswith("| ") and not line.startswith("| model size")
            and not line.startswith("| 网络")}
    build_index(tmp_path / "home", [notes], bundled=False, repair="jieba")
    cards = [c for c in load_deck(tmp_path / "home").cards if c.origin == "note" and c.kind == "short"]
    assert len(cards) == 2, [c.question.en for c in cards]
    grader = Grader(load_glossary(None), semantic=False)
    probed = 0
    for card in cards:
        header = lines[int(card.source.rsplit(":", 1)[1]) + 1]  # under the heading and its blank line
        names = [cell.strip() for cell in header.strip("|").split("|") if cell.strip()]
        said = {word.lower() for point in card.key_points for word in (*point.zh, *point.en)}
        assert not said & {word.lower() for name in names for word in name.split()}, (names, said)
        section = card_section(card)
        probes = [(point, asked) for point in card.key_points
                  if (asked := Interviewer(grader).probe(Thread(n=1, card=card, section=section), card, point))]
        # a point whose row names it in several words ("weight decay with early stopping") has no one blank to ask
        assert probes or card.question.en.startswith("Which regularizer"), card.question.en
        probed += len(probes)
        for point, asked in probes:
            line = int(asked.card.source.rsplit(":", 1)[1])
            quoted = asked.card.question.zh
            assert line in rows, (asked.card.source, quoted)
            assert all(name in quoted for name in names[1:]), quoted  # the row with its columns' names
            others = [cell.strip() for n, row in rows.items() if n != line for cell in row.strip("|").split("|")[1:]]
            assert not any(cell in quoted for cell in others), quoted  # and no other row
            assert locate(point, section, card, grader)["line_start"] in rows, point
    assert probed >= 3


def test_no_ladder_step_is_asked_of_an_aside_on_another_subject(tmp_path: Path) -> None:
    """The why-rung of "batch GD vs SGD vs mini-batch" was "In LLM training people count tokens and steps instead,
    because the data set is often seen about once.", the section's one "because": a right answer on the mechanism
    scored 0/5, missing 大语言模型 and 词元, which became the report's weakest points. A sentence that names only
    concepts neither its card nor the rest of its section names is about another subject: no step of the ladder."""
    from studybot.study.interview import Interviewer, Thread, card_section

    note = tmp_path / "sgd.md"
    note.write_text("""# Optimisers

## What is the difference between batch gradient descent and SGD?

Batch gradient descent uses the whole training set for every step, exact but slow.

SGD estimates the gradient from one example per step, and its noise helps escape saddle points.

In LLM training people count tokens and steps instead, because the data set is often seen about once.

## 小批量梯度下降和批量梯度下降有什么区别？

批量梯度下降每步用全部数据，小批量梯度下降每步用一个 batch。

在大语言模型训练里人们更常数词元和步数，因为数据集通常只看一遍。

小批量梯度是全量梯度的无偏估计，因为它的噪声能帮助逃离鞍点，所以带来隐式正则化。
""", encoding="utf-8")
    grader = Grader(load_glossary(None))
    aside = ["大语言模型 / large language model", "词元 / token"]

    def deeper(line: int, question: str, answer: str) -> list[Asked]:
        """The deeper questions after a full answer to the card of the section at `line`."""
        card = Card(id=f"sgd-{line}", kind="short", origin="bank", topic="optimizers",
                    question=split_bilingual(question), answer=Bilingual(zh=answer, en=answer),
                    key_points=[KeyPoint(zh=["鞍点"], en=["saddle points"]), KeyPoint(zh=["噪声"], en=["noise"])],
                    source=f"{note}:{line}", heading=question)
        interviewer, thread = Interviewer(grader), Thread(n=1, card=card, section=card_section(card))
        interviewer.answered(thread, Asked("opening", card), grader.grade(card, answer), answer)
        asked = []
        while (follow_up := interviewer.follow_up(thread)) is not None:
            asked.append(follow_up)
            interviewer.answered(thread, follow_up, grader.grade(follow_up.card, "不知道"), "不知道")
        return asked

    english = deeper(3, "What is the difference between batch gradient descent and SGD?",
                     "Batch GD uses all the data per step; SGD one example, whose noise helps escape saddle points.")
    assert [(a.rung, point_label(p)) for a in english for p in a.card.key_points if point_label(p) in aside] == []
    assert not any("LLM" in a.card.answer.en for a in english), [a.card.answer.en for a in english]
    # the Chinese section's other "因为" is on its subject: the why-rung asks it, and it alone
    chinese = deeper(11, "小批量梯度下降和批量梯度下降有什么区别？", "批量梯度下降每步用全部数据，小批量每步一个 batch，噪声能帮助逃离鞍点。")
    why = [a for a in chinese if a.rung == "why"]
    assert why and why[0].card.answer.zh == "小批量梯度是全量梯度的无偏估计，因为它的噪声能帮助逃离鞍点，所以带来隐式正则化。", \
        [a.card.answer.zh for a in chinese]
