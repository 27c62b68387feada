"""Quiz and review sessions: pick the cards, ask through a callback, grade, schedule, commit each answer.

The session never reads a terminal: the CLI passes `ask(card, position, total) -> answer | None`
(a prompt, or the next line of an answers file) and a clock, so tests drive whole sessions with
fixed answers and fixed times. Each answer is committed to the review store before the next
question is asked.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from studybot.study.cards import Card, Deck, load_deck, note_print, rivals, select
from studybot.clock import iso
from studybot.content.glossary import load_glossary
from studybot.study.grading import Grade, Grader
from studybot.home import resolve_home
from studybot.study.trends import interview_scores, mastery_by_week, own_notes, syllabus_coverage
from studybot.study.planner import due_before_interview, todays_plan
from studybot.study.reviews import DESIRED_RETENTION, ReviewStore, session_lock

Ask = Callable[[Card, int, int], "str | None"]
Clock = Callable[[], datetime]


@dataclass
class Plan:
    home: Path
    cards: list[Card]  # in asking order
    warnings: list[str] = field(default_factory=list)
    next_due: datetime | None = None  # review: the earliest later due time when nothing is due now
    retention: float = DESIRED_RETENTION  # what answers are scheduled at: today's, when review follows a plan
    planned_topics: list[str] = field(default_factory=list)  # review: today's topics of the plan, asked first
    rivals: dict[str, list[Card]] = field(default_factory=dict)  # by card id: the answers it is told from (grading)
    latest_due: datetime | None = None  # with a current plan: no card is scheduled after the day before the interview


@dataclass
class Answered:
    card: Card
    answer: str
    grade: Grade
    due: datetime

    def to_dict(self) -> dict:
        return {
            **self.card.to_dict(), "answer": self.answer, **self.grade.to_dict(), "due": iso(self.due),
        }


@dataclass
class QuizResult:
    session: str | None  # None: nothing was asked
    planned: list[str]  # card ids in asking order: what an answers file must follow
    answered: list[Answered]
    warnings: list[str]
    interrupted: bool = False  # stopped by Ctrl-C: the answers before it were saved
    plan: Plan | None = None  # what the session followed: today's plan's topics and retention, the next due card

    def to_dict(self) -> dict:
        scores = [a.grade.score for a in self.answered]
        plan = self.plan
        return {
            "session": self.session, "interrupted": self.interrupted,
            "warnings": self.warnings,
            "planned": self.planned,
            # what the text says on stderr ("following today's plan: … first; … 0.85 desired retention", "the next
            # card is due …"), for a script
            "plan_topics": plan.planned_topics if plan else [],
            "retention": plan.retention if plan else DESIRED_RETENTION,
            "next_due": iso(plan.next_due) if plan and plan.next_due else None,
            "questions": [a.to_dict() for a in self.answered],
            "summary": {
                "planned": len(self.planned), "answered": len(scores),
                "mean_score": round(sum(scores) / len(scores), 3) if scores else None,
                "ratings": dict(Counter(a.grade.rating for a in self.answered)),
            },
        }


def _deck(home: Path, banks: list[Path] | None, notes: bool, strict: bool) -> tuple[Deck, object]:
    return load_deck(home, banks, notes=notes, strict=strict), load_glossary(home)


def plan_quiz(
    home: Path | str | None, now: datetime, topic: str | None = None, limit: int | None = None, seed: int = 0,
    due_only: bool = False, banks: list[Path] | None = None, notes: bool = True, strict: bool = False,
) -> Plan:
    """The cards to ask: due ones first (most overdue first), then new ones, then the rest by due date.

    The seed shuffles cards within each group, so two quizzes on a topic do not start alike
    but a scripted quiz (--answers-file) asks in a repeatable order. A review (`due_only`) follows today's
    entry of a saved plan (`studybot plan`): its topics first, its new cards, its desired retention.
    """
    home = resolve_home(home, create=True)
    deck, glossary = _deck(home, banks, notes, strict)
    chosen = select(deck.cards, topic, glossary)
    with ReviewStore(home) as store:
        schedule = store.schedule()
    random.Random(seed).shuffle(chosen)
    due = sorted((c for c in chosen if c.id in schedule and schedule[c.id]["due"] <= now),
                 key=lambda c: schedule[c.id]["due"])
    later = sorted((c for c in chosen if c.id in schedule and schedule[c.id]["due"] > now),
                   key=lambda c: schedule[c.id]["due"])
    new = [c for c in chosen if c.id not in schedule]
    today = todays_plan(home, now) if due_only else None  # review follows the plan; quiz asks as it always does
    if today is not None:
        due = _follow(today, due, new)
    cards = due if due_only else due + new + later
    next_due = schedule[later[0].id]["due"] if due_only and not due and later else None
    return Plan(home=home, cards=cards[:limit] if limit else cards, warnings=deck.warnings, next_due=next_due,
                retention=today["retention"] if today else DESIRED_RETENTION,
                planned_topics=[t["topic"] for t in today["topics"]] if today else [], rivals=rivals(deck.cards),
                latest_due=due_before_interview(home, now))


def _follow(today: dict, due: list[Card], new: list[Card]) -> list[Card]:
    """A review that follows today's plan: the due cards of its topics first, in its order (weakest first), then
    the other due cards, then the new cards it planned for today, in its order (each topic's basics first)."""
    order = {t["topic"]: n for n, t in enumerate(today["topics"])}
    planned = {cid: n for n, cid in enumerate(today["cards"])}
    ranked = sorted(due, key=lambda c: order.get(c.topic, len(order)))  # stable: most overdue first within a topic
    return ranked + sorted((c for c in new if c.id in planned), key=lambda c: planned[c.id])  # the plan's order


def run_quiz(
    plan: Plan, ask: Ask, clock: Clock, on_answer: Callable[[Answered], None] | None = None,
    grader: Grader | None = None,
) -> QuizResult:
    """Ask every planned card until `ask` returns None; each answer is graded, scheduled and committed at once.
    Ctrl-C ends the session like the end of the answers (`interrupted`): what was answered before it is the result.
    A plan of no cards ("nothing is due") is no session: its result has none, nothing planned and the next due time."""
    if not plan.cards:
        return QuizResult(session=None, planned=[], answered=[], warnings=plan.warnings, plan=plan)
    grader = grader or Grader(load_glossary(plan.home))
    session = uuid.uuid4().hex[:12]
    answered: list[Answered] = []
    interrupted = False
    with ReviewStore(plan.home) as store, session_lock(plan.home):
        try:
            for position, card in enumerate(plan.cards, start=1):
                grader.prepare(card, plan.rivals.get(card.id, ()))
                answer = ask(card, position, len(plan.cards))
                if answer is None:
                    break
                grade = grader.grade(card, answer, plan.rivals.get(card.id, ()))
                due = store.record(card.id, card.topic, grade.rating, clock(), answer=answer, score=grade.score,
                                   covered=grade.covered, missed=grade.missed, session=session,
                                   retention=plan.retention, latest_due=plan.latest_due, fingerprint=note_print(card))
                answered.append(Answered(card=card, answer=answer, grade=grade, due=due))
                if on_answer:
                    on_answer(answered[-1])
        except KeyboardInterrupt:  # store.record commits one answer in one transaction: none is half saved
            interrupted = True
    return QuizResult(session=session, planned=[c.id for c in plan.cards], answered=answered, warnings=plan.warnings,
                      interrupted=interrupted, plan=plan)


def review_stats(
    home: Path | str | None, now: datetime, topic: str | None = None, banks: list[Path] | None = None,
    notes: bool = True, strict: bool = False,
) -> dict:
    """`studybot stats`: due counts, retention, per-topic mastery and reviews per day, and progress over time:
    mastery by week, interview scores by session and the syllabus topics the user's own notes cover (plain data)."""
    home = resolve_home(home, create=True)
    deck, glossary = _deck(home, banks, notes, strict)
    cards = select(deck.cards, topic, glossary)
    with ReviewStore(home, reads_only=True) as store:
        result = store.stats(cards, now, only_these=topic is not None)
        result["away"] = store.away(deck.cards) if notes and topic is None else 0  # of every topic: a card gone has none
        weekly = mastery_by_week(cards, store.reviews(), now)
        interviews = interview_scores(store.past_interviews(""))
    own = own_notes(home)
    return {**result, "mastery_by_week": weekly, "interviews": interviews,
            "coverage": {"own_notes": len(own), "topics": syllabus_coverage(own, glossary)}, "warnings": deck.warnings}


def export_anki(
    home: Path | str | None, path: Path, topic: str | None = None, banks: list[Path] | None = None,
    notes: bool = True, strict: bool = False,
) -> dict:
    """`studybot export anki`: the same cards as the quiz, as an Anki package."""
    from studybot.study.anki import write_apkg

    home = resolve_home(home, create=True)
    deck, glossary = _deck(home, banks, notes, strict)
    # every note card, not only the topic's: one left out would read as gone, and a copy of it as that card renamed
    prints = {card.id: fp for card in deck.cards if (fp := note_print(card))}
    names: dict[str, str] = {}
    if prints:
        with ReviewStore(home) as store:
            names = store.anki_names(prints)
    return {**write_apkg(select(deck.cards, topic, glossary), Path(path), names), "warnings": deck.warnings}
