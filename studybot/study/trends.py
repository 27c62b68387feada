"""Progress over time for `studybot stats`: mastery per topic by week, interview scores by session, and which
bundled syllabus topics the user's own notes cover. Plain data; the CLI draws it.

Weekly mastery is the stats mastery (each card's last score out of 5, summed over the topic's cards)
replayed from the review log as it stood at the end of each week, so the last week's figure is the
mastery `stats` shows now and an earlier one is what it would have shown then.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from studybot.content.glossary import Glossary
from studybot.content.schema import KnowledgeMeta, load_knowledge_meta
from studybot.home import bundled_dir

if TYPE_CHECKING:
    from studybot.study.cards import Card

WEEKS = 8
MIN_CONCEPTS = 2  # distinct glossary concepts of a topic that make a note about it ...
MAIN_SHARE = 0.25  # ... or this share of those of the topic it names most, when more (a note on attention naming
IN_DEPTH = 3  # FlashAttention and 显存 in passing covered "cuda"), but never more than these (one file of a whole book)


def week_start(day: date) -> date:
    """The Monday of a day's ISO week."""
    return day - timedelta(days=day.weekday())


def mastery_by_week(cards: list["Card"], reviews: list[dict], now: datetime, weeks: int = WEEKS) -> dict:
    """Each reviewed topic's mastery at the end of each of the last `weeks` weeks (the current one ends at `now`);
    `reviews` is the review log (ReviewStore.reviews), oldest first."""
    topic_of = {card.id: card.topic for card in cards}
    size = Counter(topic_of.values())
    starts = [week_start(now.date()) - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    ends = [datetime.combine(s + timedelta(weeks=1), time(), tzinfo=now.tzinfo) for s in starts[:-1]]
    ends.append(now + timedelta(microseconds=1))  # the current week: everything up to now
    logged = [r for r in reviews if r["card_id"] in topic_of]
    last: dict[str, int] = {}
    series: dict[str, list[float]] = defaultdict(list)
    position = 0
    for end in ends:
        while position < len(logged) and logged[position]["reviewed_at"] < end:
            last[logged[position]["card_id"]] = logged[position]["score"]
            position += 1
        sums: Counter = Counter()
        for card_id, score in last.items():
            sums[topic_of[card_id]] += score
        for topic in size:
            series[topic].append(round(sums[topic] / (5 * size[topic]), 3))
    reviewed = {topic_of[card_id] for card_id in last}
    return {"weeks": [s.isoformat() for s in starts],
            "topics": {topic: series[topic] for topic in sorted(reviewed)}}


def interview_scores(past: list[dict]) -> list[dict]:
    """Each interview session's mean score, overall and per topic (ReviewStore.past_interviews), oldest first."""
    return [{"session": p["session"], "started_at": p["started_at"], "score": round(p["score"], 2),
             "answers": p["turns"], "by_topic": {t: round(s, 2) for t, s in sorted(p["by_topic"].items())}}
            for p in past]


def syllabus() -> list[KnowledgeMeta]:
    """The bundled knowledge topics (each knowledge/*.md's front matter), in file order: the syllabus."""
    return [load_knowledge_meta(path) for path in sorted(bundled_dir("knowledge").glob("*.md"))]


def topic_names(meta: KnowledgeMeta) -> set[str]:
    """What a note may call a syllabus topic, lower-cased: its name and its aliases."""
    return {meta.topic.lower(), *(alias.lower() for alias in meta.aliases)}


def own_notes(home: Path) -> list[tuple[str, dict, str]]:
    """The user's own indexed notes (not the bundled ones) as (path, front matter, text); none without an index."""
    from studybot.index import store

    if store.current_generation(Path(home)) is None:
        return []
    from studybot.index.search import Index

    index = Index(home)
    texts: dict[str, list[str]] = defaultdict(list)
    for path, text in index.catalog.execute("SELECT path, text FROM chunks ORDER BY path, ordinal"):
        if index.own(path):
            texts[path].append(text)
    return [(path, index.metadata(path), "\n".join(parts)) for path, parts in sorted(texts.items())]


def _bar(concepts: Counter) -> float:
    """How many distinct concepts of a topic make a note about it, given how many of each topic it names."""
    return max(MIN_CONCEPTS, min(MAIN_SHARE * max(concepts.values(), default=0), IN_DEPTH))


def syllabus_coverage(notes: list[tuple[str, dict, str]], glossary: Glossary) -> list[dict]:
    """Each bundled knowledge topic and the user's notes about it: a note is about a topic when the topic (or one
    of its aliases) is among the note's topics as cards pick them (front-matter topic and tags, the commonest
    glossary topic), or when it names enough distinct glossary concepts of the topic (`_bar`)."""
    from studybot.study.cards import note_topics

    about: list[tuple[str, set[str], Counter]] = []
    for path, metadata, text in notes:
        found = glossary.find(text)
        labels = {label.lower() for label in note_topics(metadata, found)}
        concepts = Counter(entry.topic for entry in {e.id: e for e in found}.values())
        about.append((path, labels, concepts))
    coverage = []
    for meta in syllabus():
        names = topic_names(meta)
        found = [path for path, labels, concepts in about
                 if labels & names or concepts[meta.topic] >= _bar(concepts)]
        coverage.append({"topic": meta.topic, "title": meta.title, "covered": bool(found), "notes": found})
    return coverage
