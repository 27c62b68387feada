"""The schema of `<home>/reviews.sqlite`, as an ordered list of named migrations.

The review history is the one thing a user can never rebuild, so its schema only ever moves
forward, one named step at a time, the way simonw/llm keeps its logs database. The number of
steps applied is the file's `PRAGMA user_version`; opening a file runs the steps it lacks in one
transaction, so a crash halfway leaves the file as it was. Append new steps at the end; never
edit or reorder one that has shipped.
"""

from __future__ import annotations

import sqlite3
from typing import Callable

from studybot.errors import StudybotError

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    """Register the next step of the schema."""
    MIGRATIONS.append(fn)
    return fn


def schema_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, path: object = "the review history") -> list[str]:
    """Apply every step the file lacks (in autocommit mode); returns the names of those applied.

    A file written by a newer studybot is refused rather than guessed at.
    """
    db.execute("BEGIN IMMEDIATE")  # read the version under the write lock: two openers cannot both migrate
    try:
        version = schema_version(db)
        if version > len(MIGRATIONS):
            raise StudybotError(f"{path} has schema version {version}, newer than this studybot knows "
                                f"({len(MIGRATIONS)}): upgrade studybot to read it")
        applied = []
        for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
            step(db)
            db.execute(f"PRAGMA user_version = {number}")
            applied.append(step.__name__)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return applied


@migration
def m001_cards_and_reviews(db: sqlite3.Connection) -> None:
    """Each card's FSRS state, and a log of every answer (the schema of studybot 0.1, which set no
    user_version: IF NOT EXISTS adopts such a file as it is)."""
    for statement in (
        "CREATE TABLE IF NOT EXISTS cards (id TEXT PRIMARY KEY, topic TEXT NOT NULL, fsrs TEXT NOT NULL, "
        "due TEXT NOT NULL, reps INTEGER NOT NULL DEFAULT 0, lapses INTEGER NOT NULL DEFAULT 0, last_score INTEGER, "
        "first_review TEXT NOT NULL, last_review TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS cards_due ON cards(due)",
        "CREATE TABLE IF NOT EXISTS reviews (id INTEGER PRIMARY KEY AUTOINCREMENT, card_id TEXT NOT NULL, "
        "topic TEXT NOT NULL, reviewed_at TEXT NOT NULL, answer TEXT NOT NULL, score INTEGER NOT NULL, "
        "rating TEXT NOT NULL, covered TEXT NOT NULL, missed TEXT NOT NULL, due TEXT NOT NULL, session TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS reviews_time ON reviews(reviewed_at)",
    ):
        db.execute(statement)


@migration
def m002_interviews(db: sqlite3.Connection) -> None:
    """Mock interviews: one row per session, one per answered turn (committed as it is answered), and the
    cards made from failed follow-ups, which the review log then schedules like any other card."""
    for statement in (
        "CREATE TABLE interviews (id TEXT PRIMARY KEY, started_at TEXT NOT NULL, ended_at TEXT, topics TEXT NOT NULL, "
        "score REAL, summary TEXT, report_file TEXT)",
        "CREATE TABLE interview_turns (session TEXT NOT NULL, n INTEGER NOT NULL, kind TEXT NOT NULL, "
        "opening INTEGER NOT NULL, card_id TEXT NOT NULL, topic TEXT NOT NULL, question TEXT NOT NULL, "
        "answer TEXT NOT NULL, score INTEGER NOT NULL, covered TEXT NOT NULL, missed TEXT NOT NULL, "
        "seconds REAL NOT NULL, answered_at TEXT NOT NULL, PRIMARY KEY (session, n))",
        "CREATE TABLE interview_cards (id TEXT PRIMARY KEY, topic TEXT NOT NULL, card TEXT NOT NULL, "
        "created_at TEXT NOT NULL)",
    ):
        db.execute(statement)


@migration
def m003_card_prints(db: sqlite3.Connection) -> None:
    """What each note card asks for apart from where it sits (`Card.fingerprint`), so a card whose note or
    heading is renamed (a new id) takes over the history of the old id instead of starting again."""
    db.execute("CREATE TABLE card_prints (id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL)")


@migration
def m004_anki_notes(db: sqlite3.Connection) -> None:
    """What each exported note card's Anki note is named by (its guid is made of the name) and what the card asks for
    (`Card.fingerprint`), so a card whose note or heading is renamed keeps its Anki note, as it keeps its history."""
    db.execute("CREATE TABLE anki_notes (id TEXT PRIMARY KEY, name TEXT NOT NULL, fingerprint TEXT NOT NULL)")
