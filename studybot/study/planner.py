"""`studybot plan`: a day-by-day plan up to an interview date, kept in <home>/plan.json for `review` to follow.

Each day lists the cards due that day, their topics weakest first, new cards from the syllabus and,
every MOCK_EVERY days and on the day before the interview, a mock interview on the two topics answered worst
so far. Due dates are projected with FSRS from the review store: every card due on a day is assumed answered
"good" that day (at the plan's time of day, again while its learning steps keep it due the same day), scheduled
at that day's desired retention. The desired retention is RETENTION_BASE until the last RAMP_DAYS days, then rises
in equal steps to RETENTION_FINAL on the day before the interview, so reviews crowd in as the date nears.
New cards are spread evenly over the days before the last REVIEW_ONLY_DAYS (review only; an interview that close
leaves the first day to learn on, or nothing new could be learned at all), within the
minutes a day allows after the due cards and the mock interview, at one steady rate low enough that
the reviews they bring later fit each later day's minutes too: the easiest cards of every syllabus
topic, in syllabus order, before any topic's harder ones. While the plan is current, a card answered in
a quiz or review is due no later than the day before the interview (`due_before_interview`).
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

from studybot.clock import iso
from studybot.errors import StudybotError
from studybot.files import write_atomic
from studybot.home import resolve_home
from studybot.study.cards import Card, load_deck
from studybot.study.interview import UNRATED_LEVEL
from studybot.study.reviews import ReviewStore, scheduler
from studybot.study.trends import syllabus

FILE = "plan.json"
VERSION = 1
RETENTION_BASE = 0.85
RETENTION_FINAL = 0.95
RAMP_DAYS = 7
MOCK_EVERY = 3  # days between mock interviews (and one on the day before the interview)
MOCK_MINUTES = 20
MINUTES_PER_CARD = 1.5
REVIEW_ONLY_DAYS = 2
RULE = (f"desired retention {RETENTION_BASE:.2f} until the last {RAMP_DAYS} days, then rising in equal steps to "
        f"{RETENTION_FINAL:.2f} on the day before the interview; a mock interview every {MOCK_EVERY} days and on the "
        f"day before; new cards spread over all but the last {REVIEW_ONLY_DAYS} days (on the first day alone when no "
        f"more days are left)")


MAX_DAYS = 366  # a plan is a day-by-day list: 9999-12-31 took minutes to write and overflowed the calendar


def parse_until(text: str, today: date) -> date:
    """The interview date of `--until`: an ISO date after today, within MAX_DAYS."""
    try:
        until = date.fromisoformat(text.strip())
    except ValueError:
        raise StudybotError(f"--until {text!r} is not a date like 2027-01-15") from None
    if until <= today:
        raise StudybotError(f"--until {until} is not after today ({today}): give the date of the interview to come")
    if (until - today).days > MAX_DAYS:
        raise StudybotError(f"--until {until} is more than {MAX_DAYS} days away: plan for an interview within a year "
                            "(before that, `studybot review` keeps every card on schedule)")
    return until


def retention_on(day: date, until: date) -> float:
    """The desired retention of a day of the plan (see the module's rule)."""
    left = (until - day).days  # 1: the day before the interview
    if left > RAMP_DAYS:
        return RETENTION_BASE
    return round(RETENTION_BASE + (RETENTION_FINAL - RETENTION_BASE) * (RAMP_DAYS + 1 - left) / RAMP_DAYS, 3)


def _project(state, day_at: datetime, retention: float):
    """A card's FSRS state after being answered "good" whenever it falls due on that day (learning steps included)."""
    import fsrs

    review_at = max(state.due, day_at)
    end = datetime.combine(day_at.date() + timedelta(days=1), datetime.min.time(), tzinfo=day_at.tzinfo)
    while review_at < end:
        state, _ = scheduler(retention).review_card(state, fsrs.Rating.Good, review_at)
        review_at = max(state.due, review_at)
    return state


def make_plan(cards: list[Card], schedule: dict[str, dict], now: datetime, until: date,
              minutes_per_day: float = 30) -> dict:
    """The plan as plain data: one entry per day from today to the day before `until`.

    New cards come in at a steady rate, the highest at which no day's cards take longer than the minutes a day
    allows (or than the reviews already scheduled take that day; a mock interview comes on top): filling the
    first days' room brought those cards back together days later, over the minutes (39 of 30 the day before).
    `new_per_day` is that rate when it held cards back, else None: a day of "new 17  25.5 min" of 30 beside
    "146 new cards did not fit" read as minutes wasted.
    """
    def planned(cap: int | None) -> tuple[list[dict], int]:
        return _days(cards, schedule, now, until, minutes_per_day, cap)

    def fits(days: list[dict]) -> bool:
        return all((d["due"] + d["new"]) * MINUTES_PER_CARD <= limit + 1e-9 for d, limit in zip(days, floor))

    reviews_only = planned(0)
    floor = [max(minutes_per_day, d["due"] * MINUTES_PER_CARD) for d in reviews_only[0]]
    best, cap = planned(None), None
    if not fits(best[0]):
        low, high, best, cap = 0, max(d["new"] for d in best[0]) - 1, reviews_only, 0
        while low < high:  # the largest cap whose days fit
            middle = (low + high + 1) // 2
            tried = planned(middle)
            if fits(tried[0]):
                best, low, cap = tried, middle, middle
            else:
                high = middle - 1
    plan_days, unplanned = best
    return {"version": VERSION, "created_at": iso(now), "until": until.isoformat(), "minutes_per_day": minutes_per_day,
            "rule": RULE, "unplanned_new": unplanned, "new_per_day": cap, "days": plan_days}


def _days(cards: list[Card], schedule: dict[str, dict], now: datetime, until: date, minutes_per_day: float,
          cap: int | None) -> tuple[list[dict], int]:
    """The plan's days with at most `cap` new cards a day (None: as many as the day's room), and the number of
    new cards left unplanned."""
    import fsrs

    by_id = {card.id: card for card in cards}
    states = {cid: fsrs.Card.from_dict(s["fsrs"]) for cid, s in schedule.items() if cid in by_id}
    scores = {cid: s["last_score"] or 0 for cid, s in schedule.items() if cid in by_id}
    size = Counter(card.topic for card in cards)
    rank = {meta.topic: n for n, meta in enumerate(syllabus())}
    fresh = sorted((c for c in cards if c.id not in states),  # every topic's basics before any topic's harder cards
                   key=lambda c: (c.difficulty or UNRATED_LEVEL, rank.get(c.topic, len(rank)), c.topic, c.id))
    days = [now.date() + timedelta(days=n) for n in range((until - now.date()).days)]
    learning_days = max(1, len(days) - REVIEW_ONLY_DAYS)
    introduced = {by_id[cid].topic for cid in states}  # topics already studied are not new
    answered: dict[str, list[int]] = defaultdict(list)
    for cid, score in scores.items():
        answered[by_id[cid].topic].append(score)
    answered_so_far = {t: sum(v) / (5 * len(v)) for t, v in answered.items()}  # how well the studied cards went
    plan_days = []
    for n, day in enumerate(days):
        day_at = now + timedelta(days=n)
        retention = retention_on(day, until)
        sums: Counter = Counter()
        for cid, score in scores.items():
            sums[by_id[cid].topic] += score
        mastery = {t: sums[t] / (5 * size[t]) for t in size}
        due = sorted((cid for cid, state in states.items() if state.due.date() <= day),
                     key=lambda cid: (mastery[by_id[cid].topic], states[cid].due, cid))
        mock = (n % MOCK_EVERY == MOCK_EVERY - 1 and n < len(days) - 2) or n == len(days) - 1
        room = minutes_per_day - len(due) * MINUTES_PER_CARD - (MOCK_MINUTES if mock else 0)
        pace = math.ceil(len(fresh) / max(1, learning_days - n)) if n < learning_days else 0
        most = min(pace, max(0, int(room // MINUTES_PER_CARD)), len(fresh))
        new = [fresh.pop(0).id for _ in range(most if cap is None else min(most, cap))]
        topics: dict[str, dict] = defaultdict(lambda: {"due": 0, "new": 0})
        for cid in due:
            topics[by_id[cid].topic]["due"] += 1
        for cid in new:
            topics[by_id[cid].topic]["new"] += 1
        ordered = sorted(topics, key=lambda t: (mastery[t], -topics[t]["due"], t))
        studied = {by_id[cid].topic for cid in states} | {by_id[cid].topic for cid in new}
        # the topics answered worst so far (projected mastery assumes every due card answered well, which put a topic
        # failed all week above the rest), then the ones only this plan starts
        weakest = sorted(studied, key=lambda t: (answered_so_far.get(t, mastery[t]), t))[:2]
        plan_days.append({
            "date": day.isoformat(), "days_left": (until - day).days, "retention": retention,
            "topics": [{"topic": t, "mastery": round(mastery[t], 3), **topics[t]} for t in ordered],
            "due": len(due), "new": len(new),
            "new_topics": [t for t in dict.fromkeys(by_id[cid].topic for cid in new) if t not in introduced],
            "mock_interview": {"minutes": MOCK_MINUTES, "topics": weakest} if mock else None,
            "minutes": round((len(due) + len(new)) * MINUTES_PER_CARD + (MOCK_MINUTES if mock else 0), 1),
            "cards": due + new,
        })
        introduced |= {by_id[cid].topic for cid in new}
        for cid in due:
            states[cid] = _project(states[cid], day_at, retention)
            scores[cid] = max(scores[cid], 4)  # a card answered "good" scores 4 or more
        for cid in new:
            states[cid] = _project(fsrs.Card(due=day_at), day_at, retention)
            scores[cid] = 4
    return plan_days, len(fresh)




def plan_until(home: Path | str | None, now: datetime, until: str, minutes_per_day: float = 30,
               banks: list[Path] | None = None, notes: bool = True) -> dict:
    """`studybot plan`: make the plan from the deck and the review history and save it to <home>/plan.json."""
    day = parse_until(until, now.date())
    if minutes_per_day <= 0:
        raise StudybotError(f"--minutes-per-day {minutes_per_day:g}: give a positive number of minutes")
    home = resolve_home(home, create=True)
    deck = load_deck(home, banks, notes=notes)
    with ReviewStore(home) as store:
        schedule = store.schedule()
    plan = make_plan(deck.cards, schedule, now, day, minutes_per_day)
    path = Path(home) / FILE
    write_atomic(path, json.dumps(plan, ensure_ascii=False, indent=1).encode("utf-8"))
    return {**plan, "path": str(path), "warnings": deck.warnings}


def _current_plan(home: Path, now: datetime) -> tuple[dict, dict] | None:
    """The saved plan and today's entry of it, when there is a plan and it is current (it has an entry for today)."""
    path = Path(home) / FILE
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StudybotError(f"plan {path} is unreadable ({exc}): run `studybot plan --until DATE` again") from None
    if not _is_plan(plan):
        raise StudybotError(f"plan {path} is not a plan this studybot wrote: run `studybot plan --until DATE` again, "
                            "or delete it")
    today = next((d for d in plan["days"] if d["date"] == now.date().isoformat()), None)
    return (plan, today) if today is not None else None


def _is_plan(plan: object) -> bool:
    """Whether `plan` has the shape `make_plan` writes, in all that `review` reads of it: a day without its topics
    (`{"date": "2027-01-07", "cards": 5}`) was a KeyError, and one whose cards were a number a TypeError."""
    if not isinstance(plan, dict) or plan.get("version") != VERSION or not isinstance(plan.get("days"), list):
        return False
    try:
        date.fromisoformat(plan.get("until"))
    except (TypeError, ValueError):
        return False
    return all(
        isinstance(day, dict) and isinstance(day.get("date"), str)
        and type(day.get("retention")) in (int, float) and 0 < day["retention"] < 1
        and isinstance(day.get("topics"), list)
        and all(isinstance(t, dict) and isinstance(t.get("topic"), str) for t in day["topics"])
        and isinstance(day.get("cards"), list) and all(isinstance(c, str) for c in day["cards"])
        for day in plan["days"])


def todays_plan(home: Path, now: datetime) -> dict | None:
    """Today's entry of the saved plan, when there is a plan and it is current (it has an entry for today)."""
    current = _current_plan(home, now)
    return current[1] if current else None


def due_before_interview(home: Path, now: datetime) -> datetime | None:
    """The latest a card may fall due while a plan is current: the day before its interview, at this time of day
    (None: no plan, or that is not later than now). FSRS alone sent a card answered well a week before the interview
    to three weeks later, so it was never seen again before the day that counts."""
    current = _current_plan(home, now)
    if current is None:
        return None
    latest = datetime.combine(date.fromisoformat(current[0]["until"]) - timedelta(days=1), now.timetz())
    return latest if latest > now else None
