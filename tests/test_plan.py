"""`studybot plan`: a day-by-day plan to the interview date, saved for `review` to follow."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import fsrs
import pytest

from studybot.errors import StudybotError
from studybot.home import bundled_dir
from studybot.study.cards import load_deck
from studybot.study.planner import (MINUTES_PER_CARD, MOCK_MINUTES, RETENTION_BASE, RETENTION_FINAL, make_plan,
                                    parse_until, plan_until, retention_on, todays_plan)
from studybot.study.quiz import plan_quiz, run_quiz
from studybot.study.reviews import ReviewStore, scheduler
from tests.conftest import main_in_process

NOW = datetime(2027, 1, 1, 9, 0, tzinfo=timezone.utc)
UNTIL = date(2027, 1, 15)
TOPICS = ("normalization", "optimizers")


@pytest.fixture(scope="module")
def cards() -> list:
    return [c for c in load_deck(None).cards if c.topic in TOPICS]


def _history(home: Path, cards: list) -> dict[str, str]:
    """A strong normalization card, a normalization card failed three days ago and an optimizers card failed
    yesterday: both failures are due now, the normalization one the more overdue, optimizers the weaker topic."""
    norm = sorted(c.id for c in cards if c.topic == "normalization")
    opt = sorted(c.id for c in cards if c.topic == "optimizers")
    home.mkdir(exist_ok=True)
    with ReviewStore(home, NOW.date()) as store:
        store.record(norm[0], "normalization", "easy", NOW - timedelta(days=3), score=5)
        store.record(norm[1], "normalization", "again", NOW - timedelta(days=3), score=0)
        store.record(opt[0], "optimizers", "again", NOW - timedelta(days=1), score=0)
    return {"strong": norm[0], "norm_failed": norm[1], "opt_failed": opt[0]}


def test_the_desired_retention_rises_over_the_last_week_to_the_final_one() -> None:
    days = [UNTIL - timedelta(days=n) for n in range(14, 0, -1)]
    values = [retention_on(d, UNTIL) for d in days]
    assert values[:7] == [RETENTION_BASE] * 7 and values[-1] == RETENTION_FINAL == 0.95
    assert values[7] == 0.864 and values == sorted(values) and len(set(values[6:])) == 8


def test_a_plan_day_by_day(tmp_path: Path, cards: list) -> None:
    ids = _history(tmp_path / "home", cards)
    with ReviewStore(tmp_path / "home", NOW.date()) as store:
        schedule = store.schedule()
    plan = make_plan(cards, schedule, NOW, UNTIL, minutes_per_day=30)
    assert plan == make_plan(cards, schedule, NOW, UNTIL, minutes_per_day=30)  # the clock is the only time read
    days = plan["days"]
    assert [d["date"] for d in days] == [(NOW.date() + timedelta(days=n)).isoformat() for n in range(14)]
    assert [d["days_left"] for d in days] == list(range(14, 0, -1))
    assert [d["retention"] for d in days] == [retention_on(date.fromisoformat(d["date"]), UNTIL) for d in days]
    first = days[0]
    assert first["cards"][:2] == [ids["opt_failed"], ids["norm_failed"]]  # weakest topic first, not most overdue
    assert [t["topic"] for t in first["topics"]][:2] == ["optimizers", "normalization"] and first["due"] == 2
    mocks = [n for n, d in enumerate(days) if d["mock_interview"]]
    assert mocks == [2, 5, 8, 11, 13]  # every third day, and the day before (never two days running)
    for day in days:
        assert day["minutes"] == day["new"] * MINUTES_PER_CARD + day["due"] * MINUTES_PER_CARD + \
            MOCK_MINUTES * bool(day["mock_interview"])
        assert day["new"] == 0 or day["minutes"] <= 30
    assert days[-1]["new"] == days[-2]["new"] == 0  # the last two days only review
    planned_new = [cid for d in days for cid in d["cards"][d["due"]:]]
    assert len(planned_new) == len(set(planned_new)) == len(cards) - 3 - plan["unplanned_new"]
    first_new = [c for c in cards if c.id == planned_new[0]][0]
    assert first_new.difficulty == 1 and first_new.topic == "normalization"  # the basics first, in syllabus order
    assert all(d["new_topics"] == [] for d in days)  # both topics were studied before the plan
    fresh = make_plan(cards, {}, NOW, UNTIL, minutes_per_day=30)["days"]
    assert fresh[0]["new_topics"][0] == "normalization"
    assert sorted(t for d in fresh for t in d["new_topics"]) == ["normalization", "optimizers"]


def test_new_cards_come_in_steadily_so_their_reviews_fit_the_minutes_of_later_days() -> None:
    cards = load_deck(None).cards  # every bundled card, more than two weeks of 30 minutes can teach
    plan = make_plan(cards, {}, NOW, UNTIL, minutes_per_day=30)
    days = plan["days"]
    assert all((d["due"] + d["new"]) * MINUTES_PER_CARD <= 30 for d in days)  # the mock interview comes on top
    learning = [d["new"] for d in days[:-2] if not d["mock_interview"] and not d["due"]]
    assert learning and len(set(learning)) == 1  # one steady rate on a day with nothing else to do
    assert sum(d["new"] for d in days) == len(cards) - plan["unplanned_new"] > 20


def test_cards_left_out_beside_unused_minutes_name_the_rate_that_kept_them_out(tmp_path: Path, monkeypatch,
                                                                             capsys) -> None:
    """Days of "new 17  25.5 min" of 30 beside "146 new cards did not fit …: raise --minutes-per-day" read as minutes
    wasted: the steady rate (the most a day whose reviews fit later days) held those cards back, and the plan says so."""
    args = ["plan", "--until", UNTIL.isoformat(), "--home", str(tmp_path / "home"), "--now", NOW.isoformat(),
            "--no-notes"]
    code, out, err = main_in_process(monkeypatch, capsys, *args, "--json")
    assert code == 0, err
    doc = json.loads(out)
    rate, learning = doc["new_per_day"], doc["days"][:-2]
    assert doc["unplanned_new"] > 0 and rate == max(d["new"] for d in doc["days"])
    assert any(d["new"] == rate and d["minutes"] + MINUTES_PER_CARD <= 30 for d in learning)  # room left that day
    code, out, err = main_in_process(monkeypatch, capsys, *args)
    assert code == 0, err
    assert (f"{doc['unplanned_new']} new cards did not fit before the interview: at most {rate} new cards a day, so "
            "that the reviews they bring back fit 30 minutes on the later days; raise --minutes-per-day") in out
    roomy = make_plan([c for c in load_deck(None).cards if c.topic in TOPICS], {}, NOW, UNTIL, minutes_per_day=60)
    assert roomy["unplanned_new"] == 0 and roomy["new_per_day"] is None  # no rate held a card back


def test_a_plan_with_no_room_for_any_new_card_names_no_rate_of_zero(tmp_path: Path, monkeypatch, capsys) -> None:
    """50 cards failed four days ago fill the first day and come back together three days later: every new card's
    first review would fall on a day their reviews already fill, and the plan said "at most 0 new cards a day, so that
    the reviews they bring back fit 30 minutes on the later days", days of 75 minutes beside it."""
    home = tmp_path / "home"
    home.mkdir()
    with ReviewStore(home, NOW.date()) as store:
        for card in load_deck(None).cards[:50]:
            store.record(card.id, card.topic, "again", NOW - timedelta(days=4))
    args = ["plan", "--until", (NOW.date() + timedelta(days=5)).isoformat(), "--home", str(home), "--now",
            NOW.isoformat(), "--no-notes"]
    code, out, err = main_in_process(monkeypatch, capsys, *args, "--json")
    doc = json.loads(out)
    assert code == 0 and doc["new_per_day"] == 0 and doc["unplanned_new"] > 0, err
    assert sum(d["new"] for d in doc["days"]) == 0 and max(d["minutes"] for d in doc["days"]) > 30
    code, out, err = main_in_process(monkeypatch, capsys, *args)
    assert code == 0 and "at most 0" not in out, out
    assert (f"{doc['unplanned_new']} new cards did not fit before the interview: the reviews already due leave no room "
            "on the days a new card would come back; raise --minutes-per-day") in out, out


def test_mock_interviews_take_the_topics_answered_worst_so_far() -> None:
    """Four rnn cards failed all week; one optimizers card and one normalization card answered perfectly. The
    projection (every due card answered well) and the share of each topic seen put the two nearly unseen topics
    first and never the failing one."""
    cards = [c for c in load_deck(None).cards if c.topic in ("rnn", "optimizers", "normalization")]
    state = lambda score: {"fsrs": fsrs.Card(due=NOW).to_dict(), "last_score": score}  # noqa: E731
    rnn = [c.id for c in cards if c.topic == "rnn"][:4]
    schedule = {cid: state(0) for cid in rnn}
    schedule |= {next(c.id for c in cards if c.topic == t): state(5) for t in ("optimizers", "normalization")}
    mocks = [d["mock_interview"]["topics"] for d in make_plan(cards, schedule, NOW, UNTIL)["days"] if d["mock_interview"]]
    assert mocks and all(topics[0] == "rnn" for topics in mocks), mocks


def test_plan_is_saved_and_review_follows_it(tmp_path: Path, cards: list, monkeypatch, capsys) -> None:
    home = tmp_path / "home"
    ids = _history(home, cards)
    banks = [bundled_dir("quizzes") / f"{t}.yaml" for t in TOPICS]
    unplanned = plan_quiz(home, NOW, due_only=True, banks=banks, notes=False)
    assert [c.id for c in unplanned.cards] == [ids["norm_failed"], ids["opt_failed"]]  # most overdue first
    assert unplanned.retention == 0.9 and unplanned.planned_topics == []

    bank_args = [a for b in banks for a in ("--bank", str(b))]
    code, out, err = main_in_process(monkeypatch, capsys, "plan", "--until", UNTIL.isoformat(), "--home", str(home),
                                     "--now", NOW.isoformat(), "--no-notes", *bank_args, "--json")
    assert code == 0, err
    doc = json.loads(out)
    saved = json.loads((home / "plan.json").read_text(encoding="utf-8"))
    assert doc["path"] == str(home / "plan.json") and saved["days"] == doc["days"] and saved["until"] == "2027-01-15"
    assert "0.85" in saved["rule"] and "0.95" in saved["rule"]
    today = todays_plan(home, NOW)
    for seed in (1, 2, 3):  # the plan's order, whatever the seed shuffles
        shuffled = plan_quiz(home, NOW, due_only=True, banks=banks, notes=False, seed=seed)
        assert [c.id for c in shuffled.cards] == today["cards"][:today["due"] + today["new"]]
    followed = plan_quiz(home, NOW, due_only=True, banks=banks, notes=False)
    assert [c.id for c in followed.cards] == today["cards"][:today["due"] + today["new"]]
    assert [c.id for c in followed.cards][:2] == [ids["opt_failed"], ids["norm_failed"]]
    assert followed.retention == RETENTION_BASE and followed.planned_topics[:2] == ["optimizers", "normalization"]
    with ReviewStore(home, NOW.date()) as store:
        state = fsrs.Card.from_dict(store.schedule()[ids["opt_failed"]]["fsrs"])
    answered = run_quiz(followed, lambda card, n, total: card.answer.en if n == 1 else None, lambda: NOW)
    first = answered.answered[0]
    assert first.card.id == ids["opt_failed"] and first.grade.rating in ("good", "easy")
    at_plan = scheduler(RETENTION_BASE).review_card(state, fsrs.Rating[first.grade.rating.capitalize()], NOW)[0].due
    at_default = scheduler().review_card(state, fsrs.Rating[first.grade.rating.capitalize()], NOW)[0].due
    assert first.due == at_plan > at_default  # scheduled at the plan's lower retention: a longer interval
    assert plan_quiz(home, NOW, banks=banks, notes=False).retention == 0.9  # quiz does not follow the plan

    assert todays_plan(home, datetime(2027, 1, 15, 9, tzinfo=timezone.utc)) is None  # the day itself: not planned
    after = plan_quiz(home, NOW + timedelta(days=30), due_only=True, banks=banks, notes=False)
    assert after.planned_topics == [] and after.retention == 0.9

    code, out, err = main_in_process(monkeypatch, capsys, "plan", "--until", UNTIL.isoformat(), "--home", str(home),
                                     "--now", NOW.isoformat(), "--no-notes", *bank_args)
    assert code == 0, err
    assert "01-01  14d left  retention 0.85  due   1" in out and "rule: desired retention 0.85" in out  # one answered


def test_with_a_plan_no_card_falls_due_after_the_day_before_the_interview(tmp_path: Path, cards: list,
                                                                          monkeypatch, capsys) -> None:
    home = tmp_path / "home"
    banks = [bundled_dir("quizzes") / f"{t}.yaml" for t in TOPICS]
    bank_args = [a for b in banks for a in ("--bank", str(b))]
    later = NOW + timedelta(days=10)  # five days before the interview

    def answer_well(at: datetime) -> list:
        plan = plan_quiz(home, at, limit=4, banks=banks, notes=False)
        return run_quiz(plan, lambda card, n, total: card.answer.en if card.kind == "short" else "B", lambda: at).answered

    free = answer_well(later)  # no plan: FSRS alone
    assert max(a.due for a in free) > datetime(2027, 1, 14, 9, tzinfo=timezone.utc)
    code, out, err = main_in_process(monkeypatch, capsys, "plan", "--until", UNTIL.isoformat(), "--home", str(home),
                                     "--now", later.isoformat(), "--no-notes", *bank_args)
    assert code == 0, err
    planned = answer_well(later + timedelta(minutes=5))
    assert planned and all(a.due <= datetime(2027, 1, 14, 9, 5, tzinfo=timezone.utc) for a in planned)


def test_bad_dates(tmp_path: Path) -> None:
    assert parse_until(" 2027-01-15 ", NOW.date()) == UNTIL
    assert parse_until("2028-01-02", NOW.date()) == date(2028, 1, 2)  # a year and a day ahead: still planned
    for text, needle in (("2026-12-31", "not after today"), ("2027-01-01", "not after today"),
                         ("15/01/2027", "not a date"), ("", "not a date"), ("2028-01-03", "more than 366 days"),
                         ("9999-12-31", "more than 366 days")):
        with pytest.raises(StudybotError, match=needle):
            parse_until(text, NOW.date())
    with pytest.raises(StudybotError, match="--minutes-per-day"):
        plan_until(tmp_path / "home", NOW, "2027-01-15", minutes_per_day=-5)
    assert not (tmp_path / "home").exists()


def test_a_fixed_clock_with_another_offset_is_read_in_utc(tmp_path: Path, monkeypatch, capsys) -> None:
    """--now 2027-01-02T07:30:00+08:00 is 23:30 UTC on January 1st: the day every command counts in (it crashed
    the scheduler, which takes UTC only, and made that day "today" for --until)."""
    from studybot.cli.quiz import clock_from

    moment = clock_from("2027-01-02T07:30:00+08:00")()
    assert moment == datetime(2027, 1, 1, 23, 30, tzinfo=timezone.utc) and moment.utcoffset() == timedelta(0)
    code, out, err = main_in_process(monkeypatch, capsys, "plan", "--until", "2027-01-02", "--home",
                                     str(tmp_path / "home"), "--now", "2027-01-02T07:30:00+08:00", "--no-notes",
                                     "--json")
    assert code == 0, err
    assert [day["date"] for day in json.loads(out)["days"]] == ["2027-01-01"]
