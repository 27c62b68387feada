"""The review history survives upgrades: named migrations over PRAGMA user_version."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from studybot.errors import StudybotError
from studybot.study import migrations
from studybot.study.reviews import FILE, ReviewStore, _switch_to_wal, backups
from tests.conftest import REPO

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)

# What studybot 0.1.0 wrote: this schema by executescript, no user_version, rows from ReviewStore.record.
SCHEMA_0_1 = """
CREATE TABLE IF NOT EXISTS cards (
    id TEXT PRIMARY KEY, topic TEXT NOT NULL, fsrs TEXT NOT NULL, due TEXT NOT NULL,
    reps INTEGER NOT NULL DEFAULT 0, lapses INTEGER NOT NULL DEFAULT 0, last_score INTEGER,
    first_review TEXT NOT NULL, last_review TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cards_due ON cards(due);
CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT, card_id TEXT NOT NULL, topic TEXT NOT NULL, reviewed_at TEXT NOT NULL,
    answer TEXT NOT NULL, score INTEGER NOT NULL, rating TEXT NOT NULL, covered TEXT NOT NULL, missed TEXT NOT NULL,
    due TEXT NOT NULL, session TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reviews_time ON reviews(reviewed_at);
"""
FSRS_0_1 = ('{"card_id": 1, "state": 2, "step": null, "stability": 3.17, "difficulty": 5.28, '
            '"due": "2026-11-04T09:00:00+00:00", "last_review": "2026-11-01T09:00:00+00:00"}')


def _old_file(home: Path) -> Path:
    path = home / FILE
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_0_1)
    db.execute("INSERT INTO cards VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               ("rnn-001", "rnn", FSRS_0_1, "2026-11-04T09:00:00.000000+00:00", 2, 0, 4,
                "2026-10-30T09:00:00.000000+00:00", "2026-11-01T09:00:00.000000+00:00"))
    for day, score in ((30, 3), (1, 4)):
        db.execute("INSERT INTO reviews (card_id, topic, reviewed_at, answer, score, rating, covered, missed, due, session)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   ("rnn-001", "rnn", f"2026-{10 if day == 30 else 11}-{day:02d}T09:00:00.000000+00:00", "梯度消失",
                    score, "good", '["梯度"]', "[]", "2026-11-04T09:00:00.000000+00:00", "s1"))
    db.commit()
    db.close()
    return path


def test_a_file_of_the_first_release_keeps_every_row_and_takes_new_answers(tmp_path: Path) -> None:
    path = _old_file(tmp_path)
    with ReviewStore(tmp_path) as store:
        assert migrations.schema_version(store.db) == len(migrations.MIGRATIONS) >= 1
        schedule = store.schedule()
        assert list(schedule) == ["rnn-001"]
        assert schedule["rnn-001"]["reps"] == 2 and schedule["rnn-001"]["last_score"] == 4
        assert [r["score"] for r in store.reviews()] == [3, 4]
        due = store.record("rnn-001", "rnn", "good", NOW + timedelta(days=3), answer="LSTM 的门", score=5)
        assert due > NOW + timedelta(days=3)
        assert [r["score"] for r in store.reviews()] == [3, 4, 5]
        assert store.schedule()["rnn-001"]["reps"] == 3
    with ReviewStore(tmp_path) as again:  # opening a current file applies nothing and changes nothing
        assert len(again.reviews()) == 3
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == len(migrations.MIGRATIONS)


def test_a_file_from_a_newer_studybot_is_refused_untouched(tmp_path: Path) -> None:
    path = _old_file(tmp_path)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(migrations.MIGRATIONS) + 5}")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(StudybotError, match="newer than this studybot"):
        ReviewStore(tmp_path)
    assert path.read_bytes() == before


def test_a_failing_step_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    with ReviewStore(tmp_path) as store:
        store.record("c1", "rnn", "good", NOW, answer="x", score=3)

    @migrations.migration
    def m999_broken(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE reviews ADD COLUMN seconds REAL")
        raise RuntimeError("disk on fire")

    try:
        with pytest.raises(RuntimeError, match="disk on fire"):
            ReviewStore(tmp_path)
        db = sqlite3.connect(tmp_path / FILE)
        columns = [row[1] for row in db.execute("PRAGMA table_info(reviews)")]
        assert "seconds" not in columns
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(migrations.MIGRATIONS) - 1
        assert db.execute("SELECT count(*) FROM reviews").fetchone()[0] == 1
        db.close()
    finally:
        migrations.MIGRATIONS.remove(m999_broken)


# --- guarding the history: integrity check and daily backups ----------------------------------

def _answer(home: Path, day: date) -> None:
    with ReviewStore(home, today=day) as store:
        store.record("card-1", "t", "good", datetime(day.year, day.month, day.day, 9, tzinfo=timezone.utc))


def test_each_day_keeps_one_backup_and_the_last_seven_days(tmp_path: Path) -> None:
    first = date(2026, 12, 1)
    for i in range(9):
        _answer(tmp_path, first + timedelta(days=i))
        _answer(tmp_path, first + timedelta(days=i))  # a second session the same day copies nothing more
    names = [p.name for p in backups(tmp_path)]
    assert names == [f"reviews-{first + timedelta(days=i)}.sqlite" for i in range(2, 9)]
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == names  # no temporary copy left behind
    newest = sqlite3.connect(backups(tmp_path)[-1])
    assert newest.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert newest.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 16  # as it was at that day's first open


def test_a_file_damaged_outside_studybot_is_caught_before_use_and_left_as_it_is(tmp_path: Path) -> None:
    for i in range(30):
        with ReviewStore(tmp_path, today=date(2026, 12, 1 + i // 15)) as store:  # 12-02's backup holds 15 reviews
            store.record(f"card-{i}", "t", "good", datetime(2026, 12, 1, 9, tzinfo=timezone.utc), answer="x" * 500)
    path = tmp_path / "reviews.sqlite"
    data = bytearray(path.read_bytes())
    page = 4096
    data[2 * page: 2 * page + 600] = b"\xff" * 600  # another program scribbles over a page and its header
    path.write_bytes(bytes(data))
    damaged = path.read_bytes()
    with pytest.raises(StudybotError) as info:
        ReviewStore(tmp_path, today=date(2026, 12, 3))
    message = str(info.value)
    assert "is damaged" in message and "reviews-2026-12-02.sqlite" in message and "\n" not in message
    assert path.read_bytes() == damaged  # nothing written, not even today's backup of a broken file
    assert [p.name for p in backups(tmp_path)] == ["reviews-2026-12-01.sqlite", "reviews-2026-12-02.sqlite"]


def test_a_damaged_file_is_one_line_naming_the_backup_with_reviews_and_to_keep_the_file(tmp_path: Path) -> None:
    """SQLite's check of a file scribbled over on many pages is a hundred lines ("On tree page 14 cell 9: Offset
    34547 out of range …"), and the newest backup may hold no review (a copy of an empty history) while the damaged
    file holds many: the error is its first problem, to move the file aside first, and the backup that has reviews."""
    for day in (1, 2):
        with ReviewStore(tmp_path, today=date(2026, 12, day)) as store:
            for i in range(40):
                store.record(f"card-{day}-{i}", "t", "good", datetime(2026, 12, day, 9, tzinfo=timezone.utc),
                             answer="x" * 1000)
    shutil.copy(backups(tmp_path)[0], tmp_path / "backups" / "reviews-2026-12-03.sqlite")  # 0 reviews, the newest
    path = tmp_path / FILE
    data = bytearray(path.read_bytes())
    for page in range(2, 22):  # cell pointers of twenty pages scribbled over
        data[page * 4096 + 8: page * 4096 + 60] = bytes((page * 7 + i * 13) % 256 for i in range(52))
    path.write_bytes(bytes(data))
    with pytest.raises(StudybotError) as info:
        ReviewStore(tmp_path, today=date(2026, 12, 4))
    message = str(info.value)
    assert "\n" not in message and "more)" in message, message
    assert "move it aside first, then copy the backup" in message, message
    assert "reviews-2026-12-02.sqlite (40 reviews, the last on 2026-12-01)" in message, message
    assert "reviews-2026-12-03" not in message
    from studybot.diagnostics import diagnose

    assert diagnose(tmp_path)["reviews"] == f"unusable: {message}"  # doctor says the same line


def test_a_damaged_history_no_backup_holds_a_review_of_starts_afresh_as_its_message_says(tmp_path: Path) -> None:
    """With no backup holding a review, "move it aside to start afresh" led straight to "missing, though studybot kept
    one": the message names the stamp to delete too, and doing what it says opens a new history."""
    with ReviewStore(tmp_path, today=date(2026, 12, 1)) as store:  # the day's backup is taken before any answer
        for i in range(40):
            store.record(f"card-{i}", "t", "good", datetime(2026, 12, 1, 9, tzinfo=timezone.utc), answer="x" * 1000)
    path = tmp_path / FILE
    data = bytearray(path.read_bytes())
    for page in range(2, 8):
        data[page * 4096 + 8: page * 4096 + 60] = bytes((page * 7 + i * 13) % 256 for i in range(52))
    path.write_bytes(bytes(data))
    with pytest.raises(StudybotError) as info:
        ReviewStore(tmp_path, today=date(2026, 12, 2))
    stamp = tmp_path / "reviews.sqlite.stamp"
    assert f"move it aside and delete {stamp} to start afresh" in str(info.value), str(info.value)
    path.rename(tmp_path / "reviews.damaged")
    stamp.unlink()
    with ReviewStore(tmp_path, today=date(2026, 12, 2)) as store:
        assert store.schedule() == {}


def test_a_file_whose_header_was_overwritten_names_the_backup_not_starting_afresh(tmp_path: Path) -> None:
    """SQLite calls a file whose first page was overwritten "not a database" before any check runs: the history
    is still in the day's backup, so the message says to copy it back, never to move the history away."""
    _answer(tmp_path, date(2026, 12, 1))
    _answer(tmp_path, date(2026, 12, 2))  # its backup holds 12-01's answer
    path = tmp_path / "reviews.sqlite"
    path.write_bytes(b"junk" * 64 + path.read_bytes()[256:])
    with pytest.raises(StudybotError) as info:
        ReviewStore(tmp_path, today=date(2026, 12, 3))
    message = str(info.value)
    assert "copy the backup" in message and "reviews-2026-12-02.sqlite (1 review," in message
    assert "afresh" not in message and "\n" not in message


@pytest.mark.parametrize("loss", ["deleted", "emptied", "deleted with its stamp"])
def test_a_lost_history_is_an_error_naming_the_backup_with_reviews_never_a_new_empty_one(tmp_path: Path,
                                                                                          loss: str) -> None:
    """A history deleted (`rm reviews.sqlite*` takes the stamp too) or cut to 0 bytes became a new empty one: stats
    said "0 seen", doctor "reviews 0", and the day's backup of it sat beside the good one, to push it out in a week."""
    for day in (1, 2):
        _answer(tmp_path, date(2026, 12, day))  # 12-02's backup holds 12-01's answer
    path = tmp_path / FILE
    if loss == "emptied":
        path.write_bytes(b"")
    else:
        path.unlink()
    if loss.endswith("stamp"):
        (tmp_path / "reviews.sqlite.stamp").unlink()
    with pytest.raises(StudybotError) as info:
        ReviewStore(tmp_path, today=date(2026, 12, 3))
    message = str(info.value)
    assert "\n" not in message and ("is missing" if loss.startswith("deleted") else "is empty (0 bytes)") in message
    assert f"copy the backup {tmp_path / 'backups' / 'reviews-2026-12-02.sqlite'} (1 review, the last on 2026-12-01)" \
        f" to {path}" in message, message
    assert "start afresh" in message  # and how to, on purpose
    assert path.exists() == (loss == "emptied") and (not path.exists() or path.stat().st_size == 0)  # nothing made
    assert [p.name for p in backups(tmp_path)] == ["reviews-2026-12-01.sqlite", "reviews-2026-12-02.sqlite"]
    from studybot.diagnostics import diagnose

    assert diagnose(tmp_path)["reviews"] == f"unusable: {message}"  # doctor said "integrity ok, cards 0, reviews 0"


def test_an_empty_history_in_place_of_one_a_backup_holds_is_an_error_naming_that_backup(tmp_path: Path) -> None:
    """A history an earlier studybot made anew of a deleted file (a home of 65 reviews said "0 seen", its backup beside
    it) opened in silence, `lost_history` seeing a file: it is one line naming the backup to copy back, no copy of it
    is made, and doing what the line says brings the reviews back."""
    for day in (1, 2):
        _answer(tmp_path, date(2026, 12, day))  # 12-02's backup holds 12-01's answer
    (tmp_path / "new").mkdir()
    with ReviewStore(tmp_path / "new", today=date(2026, 12, 2)):  # what an earlier studybot made of no file
        pass
    shutil.copyfile(tmp_path / "new" / FILE, tmp_path / FILE)
    with pytest.raises(StudybotError) as info:
        ReviewStore(tmp_path, today=date(2026, 12, 3))
    message = str(info.value)
    backup = tmp_path / "backups" / "reviews-2026-12-02.sqlite"
    assert "\n" not in message and f"review history {tmp_path / FILE} holds no review" in message, message
    assert f"copy the backup {backup} (1 review, the last on 2026-12-01) to {tmp_path / FILE}" in message, message
    assert [p.name for p in backups(tmp_path)] == ["reviews-2026-12-01.sqlite", "reviews-2026-12-02.sqlite"]
    from studybot.diagnostics import diagnose

    assert diagnose(tmp_path)["reviews"] == f"unusable: {message}"  # doctor said "integrity ok, cards 0, reviews 0"
    shutil.copyfile(backup, tmp_path / FILE)
    with ReviewStore(tmp_path, today=date(2026, 12, 3)) as store:
        assert len(store.reviews()) == 1


def test_the_last_good_backup_outlives_a_week_of_copies_of_an_emptier_history(tmp_path: Path) -> None:
    """A history replaced by an older copy (fewer reviews than a backup): a week of daily copies of it never rotates
    out the last copy holding the most reviews."""
    for day in (1, 2, 3):
        _answer(tmp_path, date(2026, 12, day))  # 12-03's backup holds two answers
    shutil.copyfile(backups(tmp_path)[1], tmp_path / FILE)  # 12-02's, of one
    for day in range(4, 14):
        with ReviewStore(tmp_path, today=date(2026, 12, day)):
            pass
    names = [p.name for p in backups(tmp_path)]
    assert names == ["reviews-2026-12-03.sqlite"] + [f"reviews-2026-12-{day:02d}.sqlite" for day in range(7, 14)]


def test_a_backup_keeps_the_mode_of_a_private_history(tmp_path: Path) -> None:
    """A history made private (chmod 600: it holds every answer) is copied private: its backup was -rw-r--r--."""
    _answer(tmp_path, date(2026, 12, 1))
    (tmp_path / FILE).chmod(0o600)
    _answer(tmp_path, date(2026, 12, 2))
    assert oct(stat.S_IMODE(backups(tmp_path)[-1].stat().st_mode)) == "0o600"


@pytest.mark.skipif(not shutil.which("setpriv"), reason="needs setpriv to drop root's permission override")
def test_a_read_only_home_is_one_line_about_permissions_and_keeps_the_history(tmp_path: Path, tiny_home: Path) -> None:
    """A home the user cannot write (copied from a read-only disk, chmod'ed by a backup tool): every command that
    writes says in one line what cannot be written and to make it writable, the history untouched; none says to move
    it away. `stats` and `doctor` only read it, and do (stats refused: "cannot be written")."""
    home = tmp_path / "home"
    shutil.copytree(tiny_home, home)
    _answer(home, date(2026, 12, 1))
    before = (home / FILE).read_bytes()
    for path in [home, *home.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", sys.executable, "-m", "studybot"]
    try:
        env = {k: v for k, v in os.environ.items() if k != "STUDYBOT_HOME"}
        now = ["--now", "2026-12-02T09:00:00+00:00"]
        for args in (["index", "--no-bundled"], ["review", "--answers-file", os.devnull, *now],
                     ["plan", "--until", "2026-12-20", *now]):
            done = subprocess.run([*drop, *args, "--home", str(home)], capture_output=True, text=True, timeout=300,
                                  cwd=REPO, env=env)
            assert done.returncode == 1, (args, done.stderr)
            assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr, (args, done.stderr)
            assert "writ" in done.stderr and "afresh" not in done.stderr, (args, done.stderr)
        for args in (["stats", "--json", *now], ["doctor", "--json"]):
            done = subprocess.run([*drop, *args, "--home", str(home)], capture_output=True, text=True, timeout=300,
                                  cwd=REPO, env=env)
            assert done.returncode == 0 and "Traceback" not in done.stderr, (args, done.stderr)
            doc = json.loads(done.stdout)
            assert doc["reviews_total"] == 1 if args[0] == "stats" else doc["reviews"]["reviews"] == 1, (args, doc)
        # chat answers all the same, and says once that it cannot keep its history
        done = subprocess.run([*drop, "chat", "--home", str(home)], input="BatchNorm 和 LayerNorm 有什么区别？\n" * 2,
                              capture_output=True, text=True, timeout=300, cwd=REPO, env=env)
        assert done.returncode == 0 and done.stdout.count("LayerNorm") >= 2, done.stderr
        assert done.stderr.count("chat history not kept") == 1 and "Traceback" not in done.stderr
    finally:
        for path in [home, *home.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
    assert (home / FILE).read_bytes() == before


def test_doctor_reports_the_review_history_and_its_backups(tmp_path: Path) -> None:
    from studybot.diagnostics import diagnose

    assert diagnose(tmp_path)["reviews"] == "no review history yet"
    _answer(tmp_path, date(2026, 12, 1))
    report = diagnose(tmp_path)["reviews"]
    assert report["integrity"] == "ok" and (report["cards"], report["reviews"]) == (1, 1)
    assert report["backups"] >= 1 and report["newest_backup"].endswith(".sqlite")


def test_opening_waits_for_another_session_that_is_migrating(tmp_path: Path) -> None:
    """SQLite refuses the switch to WAL at once, without its busy timeout, while another connection holds the
    write lock (as a session opening the file at the same moment does while it migrates): the switch waits."""
    path = tmp_path / "reviews.sqlite"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("CREATE TABLE t (x)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    opening = sqlite3.connect(path, isolation_level=None, timeout=5, check_same_thread=False)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        opening.execute("PRAGMA journal_mode=WAL")  # what the store did before: refused at once
    result: list[object] = []
    worker = threading.Thread(target=lambda: result.append(_switch_to_wal(opening) or "switched"))
    worker.start()
    time.sleep(0.3)
    assert worker.is_alive()  # still waiting for the other session
    other.execute("COMMIT")
    worker.join(5)
    assert result == ["switched"]
    assert opening.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
