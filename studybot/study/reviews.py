"""Review history in `<home>/reviews.sqlite`: each card's FSRS state and a log of every answer.

Every answer is one IMMEDIATE transaction (read the card's state, schedule, write state and
log, commit), so Ctrl-C loses at most the answer being typed, and two writers at once
serialise on SQLite's write lock instead of overwriting each other (WAL lets readers go on); a
second session that answers cards is refused while one runs (`session_lock`).
The schema moves forward through the named steps of `migrations.py`. Scheduling is FSRS
through py-fsrs with fuzzing off, so the same answers at the same clock give the same due dates.

The history is the one thing a user cannot rebuild, so it is guarded twice: when the file changed
since studybot last closed it (a sync tool, a restore, a disk fault), `PRAGMA integrity_check` runs
before anything is read or written, and the first open of each UTC day copies it (SQLite's online
backup) to `<home>/backups/reviews-YYYY-MM-DD.sqlite`, keeping the last BACKUPS_KEPT.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter, defaultdict
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Collection, Iterator

from studybot.clock import iso, utc_now
from studybot.errors import StudybotError
from studybot.files import held, replacing
from studybot.study.migrations import MIGRATIONS, migrate, schema_version

if TYPE_CHECKING:
    from studybot.study.cards import Card

FILE = "reviews.sqlite"
STAMP = "reviews.sqlite.stamp"  # size and mtime of the file when studybot last closed it
SESSION_LOCK = "session.lock"  # held by the one session answering cards (`session_lock`)
BACKUP_DIR = "backups"
BACKUPS_KEPT = 7
BUSY_TIMEOUT_MS = 30_000
RETENTION_DAYS = 30
CHART_DAYS = 14
DESIRED_RETENTION = 0.9
# One learning step: a new card answered wrong comes back a minute later, in the same session's next run; answered
# right it is learnt and leaves for days. FSRS's default second step (10 minutes) brought every right answer back
# the next day, as no session asks a card twice.
LEARNING_STEPS = (timedelta(minutes=1),)


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


@lru_cache(maxsize=16)
def scheduler(desired_retention: float = DESIRED_RETENTION):
    """FSRS with its published default weights, 90% desired retention unless a plan asks for another, and no
    random fuzz (repeatable)."""
    import fsrs

    return fsrs.Scheduler(desired_retention=desired_retention, learning_steps=LEARNING_STEPS, enable_fuzzing=False)


def _stamp(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size} {stat.st_mtime_ns}"


INTEGRITY_ROWS = 100  # the most complaints `PRAGMA integrity_check` gives


def integrity_problem(db: sqlite3.Connection) -> str | None:
    """SQLite's own full check of the file: None when sound, else its first complaint and how many more there are
    (SQLite says up to 100, one a line: the error was a hundred lines of "On tree page 14 cell 9: …")."""
    try:
        rows = db.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    if rows[0][0] == "ok":
        return None
    found = [line for (text,) in rows for line in str(text).splitlines() if line and not line.startswith("*** ")]
    more = "more" if len(rows) >= INTEGRITY_ROWS else f"{len(found) - 1} more"  # SQLite stops at its hundredth
    return found[0] + (f" (and {more})" if len(found) > 1 else "")


def backups(home: Path) -> list[Path]:
    """The daily copies of the review history, oldest first."""
    return sorted((Path(home) / BACKUP_DIR).glob("reviews-????-??-??.sqlite"))


def _reviews_in(backup: Path) -> tuple[int, str]:
    """How many reviews a backup holds and the day of the last one; (0, "") when it cannot be read. Opened
    immutable: a backup is never written once made, and a read-only open of a WAL copy left -wal and -shm files."""
    try:
        db = sqlite3.connect(f"{backup.resolve().as_uri()}?immutable=1", uri=True)
        try:
            count, last = db.execute("SELECT COUNT(*), MAX(reviewed_at) FROM reviews").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return 0, ""
    return count, (last or "")[:10]


def best_backup(home: Path) -> tuple[Path, int, str] | None:
    """The backup to restore from, its review count and the day of its last review: the one holding the most reviews,
    the newest of equals (reviews are never deleted, so it is the last good copy; the newest backup may be a copy of an
    empty history, 0 reviews beside 65 the day before); None when none holds a review."""
    best = None
    for backup in backups(home):  # oldest first: the newest of equals wins
        count, last = _reviews_in(backup)
        if count and (best is None or count >= best[1]):
            best = (backup, count, last)
    return best


def _restore(best: tuple[Path, int, str], path: Path) -> str:
    backup, count, last = best
    return f"copy the backup {backup} ({count} review{'s' * (count != 1)}, the last on {last}) to {path}"


def _damaged(path: Path, problem: str) -> StudybotError:
    """One line: the first problem, and what to do with the file first (it may hold reviews no backup has)."""
    best = best_backup(path.parent)
    if best is None:
        stamp = path.parent / STAMP  # else, moved aside, the history is "missing, though studybot kept one"
        return StudybotError(f"review history {path} is damaged ({problem}): move it aside and delete {stamp} to start "
                             "afresh (no backup holds a review)")
    return StudybotError(f"review history {path} is damaged ({problem}): move it aside first, then "
                         f"{_restore(best, path)}")


def lost_history(home: Path) -> StudybotError | None:
    """Why the history must not start afresh: its file is missing or empty (0 bytes) where studybot kept one (its
    stamp is there, or a backup holds reviews). SQLite makes a new empty history of either: `stats` said "0 seen" with
    no warning, and the day's backup of it became the newest beside a good one of 65 reviews, to rotate it out."""
    path, stamp = Path(home) / FILE, Path(home) / STAMP
    if path.exists() and path.stat().st_size:
        return None
    best = best_backup(home)
    if best is None and not stamp.exists():
        return None  # a new home
    lost = f"review history {path} is {'empty (0 bytes)' if path.exists() else 'missing'}, though studybot kept one"
    if best is None:
        return StudybotError(f"{lost} and no backup holds a review: put it back, or delete {stamp} to start afresh")
    aside = f"move {Path(home) / BACKUP_DIR} aside" + (f" and delete {stamp}" if stamp.exists() else "")
    return StudybotError(f"{lost}: {_restore(best, path)}, or {aside} to start afresh")


def _cannot_write(exc: sqlite3.DatabaseError) -> bool:
    """Whether SQLite refused because the home or the file cannot be written (not because the file is damaged)."""
    return isinstance(exc, sqlite3.OperationalError) and ("readonly" in str(exc) or "unable to open" in str(exc))


def _unreadable(path: Path, exc: sqlite3.DatabaseError) -> StudybotError:
    """What to do about a history SQLite refuses: a home the user cannot write is fixed by its permissions (the
    history is sound: never advise moving it away); a damaged file by the backup with reviews, if there is one."""
    if _cannot_write(exc):
        return StudybotError(f"review history {path} cannot be written ({exc}): make {path.parent} and the file "
                             "writable, then try again")
    return _damaged(path, str(exc))


def interview_cards(home: Path) -> list[dict]:
    """The cards interviews made from failed follow-ups (Card.to_record data), oldest first.

    Read-only, without opening a ReviewStore: building a deck (a quiz on an unknown topic, an export)
    must not migrate, back up or re-stamp the history. A file too old for interviews has none.
    """
    path = Path(home) / FILE
    if not path.exists():
        return []
    try:
        db = read_only(path)
        try:
            rows = db.execute("SELECT card FROM interview_cards ORDER BY created_at, id").fetchall()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        if "no such table" in str(exc):  # written before interviews existed
            return []
        raise _unreadable(path, exc) from None
    return [json.loads(card) for (card,) in rows]


def read_only(path: Path) -> sqlite3.Connection:
    """The history opened for reading only. A history in WAL mode needs its -shm file, which SQLite cannot make in a
    home it cannot write ("attempt to write a readonly database"): there, with no -wal file holding answers not yet
    in the file, the file is all there is to read, and it is opened immutable."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError as exc:
        db.close()
        if not _cannot_write(exc) or Path(f"{path}-wal").exists():
            raise
    return sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True)


def _switch_to_wal(db: sqlite3.Connection) -> None:
    """WAL journaling, waiting out another session that opens the file at the same moment: the switch reads
    the file and then needs it alone, and SQLite answers "locked" at once, without waiting, when the other
    session is migrating (each would wait for the other)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def session_lock(home: Path) -> AbstractContextManager[None]:
    """Held while a session asks and records answers (quiz, review, mock interview): two `review`s at once both asked
    the same due cards and recorded both answers (reps 3 -> 5 in one minute). Another is refused at once, in one line."""
    busy = (f"another studybot session (quiz, review or interview) is answering cards in {home}: finish it (:q) "
            "before starting this one")
    return held(Path(home) / SESSION_LOCK, 0, None, ("", busy))


def renamed(known: dict[str, str], current: dict[str, str], kept: Collection[str]) -> list[tuple[str, str]]:
    """(old id, new id) of each card of `known` gone from `current` (both id: fingerprint) whose fingerprint is that of
    exactly one card of `current` not in `kept`, and of no other gone card: a note or heading renamed. A fingerprint two
    cards share (a note copied) moves nothing."""
    gone: dict[str, list[str]] = defaultdict(list)
    fresh: dict[str, list[str]] = defaultdict(list)
    for cid, fingerprint in known.items():
        if cid not in current:
            gone[fingerprint].append(cid)
    for cid, fingerprint in current.items():
        if cid not in kept:
            fresh[fingerprint].append(cid)
    return [(old[0], fresh[fp][0]) for fp, old in gone.items() if len(old) == 1 and len(fresh.get(fp, ())) == 1]


class ReviewStore:
    """The review database of one home; open one per session, close it when done.

    A command that only reads it (`reads_only`: stats, doctor) reads it too where the home cannot be written (a
    read-only copy or snapshot), leaving what it would write only to keep the history safe (WAL mode, the day's
    backup, the stamp) to the next command that can; one that writes it is refused at once, in one line.
    """

    def __init__(self, home: Path, today: date | None = None, reads_only: bool = False) -> None:
        self.path = Path(home) / FILE
        self.stamp = Path(home) / STAMP
        self.writable = True
        if lost := lost_history(home):
            raise lost
        existed = self.path.exists()
        try:
            self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            self.db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except sqlite3.DatabaseError as exc:
            raise _unreadable(self.path, exc) from None
        try:
            migrate(self.db, self.path)  # before WAL: a file this version refuses is left byte for byte
            _switch_to_wal(self.db)
        except sqlite3.DatabaseError as exc:
            self.db.close()
            if not (reads_only and existed and _cannot_write(exc)):
                raise _unreadable(self.path, exc) from None
            self._read_only(exc)
        except BaseException:
            self.db.close()
            raise
        try:
            if existed and not (self.stamp.exists() and self.stamp.read_text(encoding="utf-8") == _stamp(self.path)):
                problem = integrity_problem(self.db)
                if problem:
                    raise _damaged(self.path, problem)
            if emptied := self._emptied():
                raise emptied
            if self.writable:
                self._back_up(today or utc_now().date())
        except BaseException:
            self.db.close()
            raise

    def _read_only(self, refused: sqlite3.DatabaseError) -> None:
        """Read the history of a home that cannot be written: `stats` refused a read-only copy ("cannot be written").
        One of an older schema is refused as before, migrating it being a write."""
        try:
            self.db = read_only(self.path)
        except sqlite3.DatabaseError as exc:
            raise _unreadable(self.path, exc) from None
        self.writable = False
        if schema_version(self.db) != len(MIGRATIONS):
            self.db.close()
            raise _unreadable(self.path, refused)

    def _emptied(self) -> StudybotError | None:
        """Why a history without a review must not be used where a backup holds reviews (reviews are never deleted): an
        empty one replaced it, as studybot made of a deleted or 0-byte file before `lost_history` refused one, and
        "0 seen" went on in silence beside a backup of 65 reviews."""
        if self.db.execute("SELECT EXISTS (SELECT 1 FROM reviews)").fetchone()[0]:
            return None
        best = best_backup(self.path.parent)
        if best is None:
            return None
        return StudybotError(f"review history {self.path} holds no review, though a backup does: "
                             f"{_restore(best, self.path)}, or move {self.path.parent / BACKUP_DIR} aside to start afresh")

    def _back_up(self, today: date) -> None:
        """Today's copy, once a day; the oldest beyond BACKUPS_KEPT are removed, but for the one holding the most
        reviews while it holds more than the history (copies of a history emptied by accident would push out its last
        good copy within a week)."""
        folder = self.path.parent / BACKUP_DIR
        target = folder / f"reviews-{today.isoformat()}.sqlite"
        if target.exists():
            return
        folder.mkdir(exist_ok=True)
        with replacing(target, like=self.path) as partial:  # one temporary file per session: two never mix
            copy = sqlite3.connect(partial)
            try:
                self.db.backup(copy)
            finally:
                copy.close()
        stale = backups(self.path.parent)[:-BACKUPS_KEPT]
        best = best_backup(self.path.parent) if stale else None
        if best and best[1] > self.db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0]:
            stale = [old for old in stale if old != best[0]]
        for old in stale:
            old.unlink()

    def close(self) -> None:
        self.db.close()
        if self.writable and self.path.exists():
            self.stamp.write_text(_stamp(self.path), encoding="utf-8")

    def __enter__(self) -> "ReviewStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One IMMEDIATE transaction: committed whole, or rolled back whole (Ctrl-C included)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def record(self, card_id: str, topic: str, rating: str, now: datetime, *, answer: str = "", score: int = 0,
               covered: list[str] | None = None, missed: list[str] | None = None, session: str = "",
               retention: float = DESIRED_RETENTION, latest_due: datetime | None = None,
               fingerprint: str = "") -> datetime:
        """Schedule one answered card (at a plan's desired retention, due no later than `latest_due`) and log it,
        with a note card's `fingerprint` (`follow_renamed`), committed before returning; gives the next due time."""
        with self._transaction():
            return self._review(card_id, topic, rating, now, answer, score, covered or [], missed or [], session,
                                retention, latest_due, fingerprint)

    def _review(self, card_id: str, topic: str, rating: str, now: datetime, answer: str, score: int,
                covered: list[str], missed: list[str], session: str, retention: float = DESIRED_RETENTION,
                latest_due: datetime | None = None, fingerprint: str = "") -> datetime:
        """Schedule and log one answer inside the caller's transaction."""
        import fsrs

        if fingerprint:
            self.db.execute("INSERT OR REPLACE INTO card_prints VALUES (?, ?)", (card_id, fingerprint))

        row = self.db.execute("SELECT fsrs, reps, lapses, first_review FROM cards WHERE id = ?", (card_id,)).fetchone()
        state = fsrs.Card.from_dict(json.loads(row[0])) if row else fsrs.Card(due=now)
        state, _ = scheduler(retention).review_card(state, fsrs.Rating[rating.capitalize()], now)
        if latest_due is not None and state.due > latest_due:
            state.due = latest_due
        reps, lapses, first = (row[1], row[2], row[3]) if row else (0, 0, iso(now))
        due = iso(state.due)
        self.db.execute(
            "INSERT OR REPLACE INTO cards VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (card_id, topic, json.dumps(state.to_dict()), due, reps + 1, lapses + (rating == "again"), score,
             first, iso(now)),
        )
        self.db.execute(
            "INSERT INTO reviews (card_id, topic, reviewed_at, answer, score, rating, covered, missed, due, session)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (card_id, topic, iso(now), answer, score, rating, json.dumps(covered, ensure_ascii=False),
             json.dumps(missed, ensure_ascii=False), due, session),
        )
        return state.due

    def follow_renamed(self, prints: dict[str, str]) -> list[tuple[str, str]]:
        """Move the history of each reviewed card that is gone from the deck to the one new card that asks for the
        same thing (`prints`: every current note card's id and fingerprint), and keep reviewed cards' prints current
        (each answer records its card's: `record`); gives the (old id, new id) pairs moved. A note card's id is its
        path and heading path: renaming either would otherwise start its schedule again and strand its reviews
        under an id no card has. Nothing is written unless a card moved or a reviewed card's text changed."""
        stored = dict(self.db.execute("SELECT id, fingerprint FROM card_prints").fetchall())
        reviewed = {cid for (cid,) in self.db.execute("SELECT id FROM cards")}
        moves = renamed({cid: fp for cid, fp in stored.items() if cid in reviewed}, prints, reviewed)
        moved = {new for _, new in moves}
        changed = [(cid, fp) for cid, fp in prints.items() if (cid in reviewed or cid in moved) and stored.get(cid) != fp]
        if (not moves and not changed) or not self.writable:
            return []  # nothing renamed or edited, or a home that cannot be written: nothing written (a command
            # refused, stats on a read-only home); the next command that can write moves them
        with self._transaction():
            for old, new in moves:
                self.db.execute("UPDATE cards SET id = ? WHERE id = ?", (new, old))
                self.db.execute("UPDATE reviews SET card_id = ? WHERE card_id = ?", (new, old))
                self.db.execute("UPDATE interview_turns SET card_id = ? WHERE card_id = ?", (new, old))
                self.db.execute("DELETE FROM card_prints WHERE id = ?", (old,))
            self.db.executemany("INSERT OR REPLACE INTO card_prints VALUES (?, ?)", changed)
        return moves

    def anki_names(self, prints: dict[str, str]) -> dict[str, str]:
        """The name of each note card's Anki note, which its guid is made of (`prints`: every note card's id and
        fingerprint): the id it was first exported under, kept across a renamed note or heading by the rule that keeps
        its review history (`renamed`), else its own id. A guid made of the id alone changed with the rename, and
        importing the deck again added the card anew beside its old note and that note's Anki history."""
        stored = {cid: (name, fp) for cid, name, fp in self.db.execute("SELECT id, name, fingerprint FROM anki_notes")}
        moves = renamed({cid: fp for cid, (_, fp) in stored.items()}, prints, stored)
        names = {cid: stored[cid][0] for cid in prints if cid in stored}
        names.update({new: stored[old][0] for old, new in moves})
        taken = {name for name, _ in stored.values()}
        for cid, fingerprint in prints.items():  # a new card whose id a moved card's note is named by: a copy of it
            names.setdefault(cid, cid if cid not in taken else f"{cid}\x1f{fingerprint}")
        changed = [(cid, names[cid], fp) for cid, fp in prints.items() if stored.get(cid) != (names[cid], fp)]
        if moves or changed:  # nothing renamed, new or edited: nothing written
            with self._transaction():
                self.db.executemany("DELETE FROM anki_notes WHERE id = ?", [(old,) for old, _ in moves])
                self.db.executemany("INSERT OR REPLACE INTO anki_notes VALUES (?, ?, ?)", changed)
        return names

    # --- mock interviews ---------------------------------------------------------------------------

    def start_interview(self, session: str, now: datetime, topics: list[str]) -> None:
        with self._transaction():
            self.db.execute("INSERT INTO interviews (id, started_at, topics) VALUES (?, ?, ?)",
                            (session, iso(now), json.dumps(topics, ensure_ascii=False)))

    def record_turn(self, session: str, turn: dict, now: datetime, review: dict | None = None,
                    card: dict | None = None, fingerprint: str = "") -> datetime | None:
        """One answered interview turn, committed with its review (when the turn is a card to review) and the
        card an interview made (a failed follow-up), in one transaction; gives the card's next due time."""
        with self._transaction():
            self.db.execute(
                "INSERT INTO interview_turns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session, turn["n"], turn["kind"], turn["opening"], turn["card"], turn["topic"], turn["question"],
                 turn["answer"], turn["score"], json.dumps(turn["covered"], ensure_ascii=False),
                 json.dumps(turn["missed"], ensure_ascii=False), turn["seconds"], iso(now)),
            )
            if card is not None:
                self.db.execute("INSERT OR IGNORE INTO interview_cards VALUES (?, ?, ?, ?)",
                                (card["id"], card["topic"], json.dumps(card, ensure_ascii=False), iso(now)))
            if review is None:
                return None
            return self._review(turn["card"], turn["topic"], review["rating"], now, turn["answer"], turn["score"],
                                turn["covered"], [m["point"] for m in turn["missed"]], session,
                                fingerprint=fingerprint)

    def finish_interview(self, session: str, now: datetime, score: float | None, summary: dict,
                         report_file: str) -> None:
        with self._transaction():
            self.db.execute("UPDATE interviews SET ended_at = ?, score = ?, summary = ?, report_file = ? WHERE id = ?",
                            (iso(now), score, json.dumps(summary, ensure_ascii=False), report_file, session))

    def interview_turns(self, session: str) -> list[dict]:
        """The turns of one session as recorded, in order."""
        rows = self.db.execute(
            "SELECT n, kind, opening, card_id, topic, question, answer, score, covered, missed, seconds "
            "FROM interview_turns WHERE session = ? ORDER BY n", (session,))
        return [{"n": r[0], "kind": r[1], "opening": r[2], "card": r[3], "topic": r[4], "question": r[5],
                 "answer": r[6], "score": r[7], "covered": json.loads(r[8]), "missed": json.loads(r[9]),
                 "seconds": r[10]} for r in rows]

    def past_interviews(self, before: str) -> list[dict]:
        """Sessions other than `before` that have answers, oldest first, with their per-topic mean scores."""
        rows = self.db.execute(
            "SELECT i.id, i.started_at, avg(t.score), count(t.n) FROM interviews i JOIN interview_turns t "
            "ON t.session = i.id WHERE i.id != ? GROUP BY i.id ORDER BY i.started_at, i.rowid", (before,)).fetchall()
        topics = defaultdict(dict)
        for session, topic, score in self.db.execute(
                "SELECT session, topic, avg(score) FROM interview_turns WHERE session != ? GROUP BY session, topic",
                (before,)):
            topics[session][topic] = score
        return [{"session": r[0], "started_at": r[1], "score": r[2], "turns": r[3], "by_topic": topics[r[0]]}
                for r in rows]

    def health(self) -> dict:
        """What `doctor` reports: the full integrity check, the counts and the backups."""
        cards = self.db.execute("SELECT COUNT(*) FROM cards").fetchone()[0]
        reviews = self.db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0]
        found = backups(self.path.parent)
        return {"path": str(self.path), "integrity": integrity_problem(self.db) or "ok", "cards": cards,
                "reviews": reviews, "backups": len(found), "newest_backup": str(found[-1]) if found else None}

    def due_ids(self, now: datetime) -> list[str]:
        """Cards due at `now`, most overdue first."""
        return [cid for (cid,) in self.db.execute("SELECT id FROM cards WHERE due <= ? ORDER BY due, id", (iso(now),))]

    def schedule(self) -> dict[str, dict]:
        """Every reviewed card: due, reps, lapses, last score and its FSRS state."""
        rows = self.db.execute("SELECT id, topic, fsrs, due, reps, lapses, last_score FROM cards")
        return {r[0]: {"topic": r[1], "fsrs": json.loads(r[2]), "due": parse(r[3]), "reps": r[4], "lapses": r[5],
                       "last_score": r[6]} for r in rows}

    def reviews(self, since: datetime | None = None) -> list[dict]:
        rows = self.db.execute(
            "SELECT id, card_id, topic, reviewed_at, score, rating, due FROM reviews WHERE reviewed_at >= ? ORDER BY id",
            (iso(since) if since else "",),
        )
        return [{"id": r[0], "card_id": r[1], "topic": r[2], "reviewed_at": parse(r[3]), "score": r[4],
                 "rating": r[5], "due": parse(r[6])} for r in rows]

    def away(self, cards: list["Card"]) -> int:
        """Reviewed note cards none of `cards` is: their note or heading is gone, and their history waits for it
        (stats dropped them without a word)."""
        known = {card.id for card in cards}
        return sum(cid not in known for (cid,) in self.db.execute(
            "SELECT id FROM cards WHERE id IN (SELECT id FROM card_prints)"))

    def stats(self, cards: list["Card"], now: datetime, only_these: bool = False) -> dict:
        """Due counts, retention, per-topic mastery and reviews per day, as plain data; the review counts are of
        every card ever answered, or (`only_these`, a topic's stats) of these cards alone."""
        import fsrs

        schedule = self.schedule()
        known = {card.id for card in cards}
        seen = {cid: s for cid, s in schedule.items() if cid in known}
        recent = [r for r in self.reviews(now - timedelta(days=max(RETENTION_DAYS, CHART_DAYS)))
                  if not only_these or r["card_id"] in known]
        first_reviews = dict(self.db.execute("SELECT card_id, min(id) FROM reviews GROUP BY card_id").fetchall())
        cutoff = now - timedelta(days=RETENTION_DAYS)
        repeats = [r for r in recent if r["id"] != first_reviews[r["card_id"]] and r["reviewed_at"] >= cutoff]
        recall = [scheduler().get_card_retrievability(fsrs.Card.from_dict(s["fsrs"]), now) for s in seen.values()]
        topics: dict[str, dict] = defaultdict(lambda: {"cards": 0, "seen": 0, "due": 0, "score_sum": 0})
        for card in cards:
            topic = topics[card.topic]
            topic["cards"] += 1
            if card.id in seen:
                state = seen[card.id]
                topic["seen"] += 1
                topic["due"] += state["due"] <= now
                topic["score_sum"] += state["last_score"] or 0
        per_day = Counter(r["reviewed_at"].date() for r in recent)
        days = [(now - timedelta(days=n)).date() for n in range(CHART_DAYS - 1, -1, -1)]
        return {
            "now": iso(now),
            "cards": len(cards),
            "seen": len(seen),
            "new": len(cards) - len(seen),
            "due_now": sum(s["due"] <= now for s in seen.values()),
            "due_24h": sum(s["due"] <= now + timedelta(days=1) for s in seen.values()),
            "due_7d": sum(s["due"] <= now + timedelta(days=7) for s in seen.values()),
            "reviews_total": sum(n for cid, n in self.db.execute("SELECT card_id, count(*) FROM reviews GROUP BY card_id")
                                 if not only_these or cid in known),

            "retention": {
                "days": RETENTION_DAYS,
                "repeat_reviews": len(repeats),
                "passed": (sum(r["rating"] != "again" for r in repeats) / len(repeats)) if repeats else None,
                "predicted_now": (sum(recall) / len(recall)) if recall else None,
            },
            "topics": [
                {"topic": name, "cards": t["cards"], "seen": t["seen"], "due": t["due"],
                 "mastery": round(t["score_sum"] / (5 * t["cards"]), 3)}
                for name, t in sorted(topics.items())
            ],
            "per_day": [{"date": day.isoformat(), "reviews": per_day.get(day, 0)} for day in days],
        }
