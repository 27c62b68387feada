"""Repaired lines kept by content hash, so a slow scorer never sees the same damaged line twice.

The key is sha256 of the scorer's identity (name and version) and the damaged line, so a
re-index after editing one note re-scores only the lines that changed, and a new model version
never reuses an old answer. Lines are the unit because the scorers read no context across line
breaks: a cached line repairs the same wherever it appears.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from pathlib import Path


class RepairCache:
    """A SQLite table of (scorer, line hash) -> the line's repair as JSON."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS lines (scorer TEXT, hash TEXT, repair TEXT, PRIMARY KEY (scorer, hash))"
            )

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    @staticmethod
    def key(line: str) -> str:
        return hashlib.sha256(line.encode("utf-8")).hexdigest()

    def get_many(self, scorer: str, lines: list[str]) -> dict[str, dict]:
        """The cached repairs of those lines that have one, by line."""
        keys = {self.key(line): line for line in lines}
        found: dict[str, dict] = {}
        with closing(self._connect()) as db:
            hashes = list(keys)
            for start in range(0, len(hashes), 500):
                part = hashes[start:start + 500]
                rows = db.execute(
                    f"SELECT hash, repair FROM lines WHERE scorer = ? AND hash IN ({','.join('?' * len(part))})",
                    [scorer, *part],
                )
                for digest, repair in rows:
                    found[keys[digest]] = json.loads(repair)
        return found

    def put_many(self, scorer: str, repairs: dict[str, dict]) -> None:
        """Store line -> repair (plain JSON-able data); a later write of the same key replaces it."""
        if not repairs:
            return
        with closing(self._connect()) as db, db:
            db.executemany(
                "INSERT OR REPLACE INTO lines VALUES (?, ?, ?)",
                [(scorer, self.key(line), json.dumps(repair, ensure_ascii=False)) for line, repair in repairs.items()],
            )
