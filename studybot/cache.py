"""Content-addressed caches in SQLite: (namespace, key) -> value, shared by every home.

The embedding cache (namespace: model, key: hash of the embedded text) and the repair cache
(namespace: scorer version, key: hash of the damaged line) are both this table. Keys are
content hashes, so an entry is valid wherever the same content appears, two processes can
fill one cache at once (WAL, a generous busy timeout), and deleting the file loses nothing
but time.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Union

from studybot.errors import StudybotError

Value = Union[bytes, str]
_BATCH = 500  # SQLite's limit on bound parameters is far above this on every build


class ContentCache:
    """One table `entries(namespace, key, value)` in a SQLite file, created if missing."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as db, db:
            db.execute("CREATE TABLE IF NOT EXISTS entries (namespace TEXT, key TEXT, value BLOB, "
                       "PRIMARY KEY (namespace, key))")

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection, closed after use; a damaged file is one line that says it may be deleted."""
        try:
            with closing(sqlite3.connect(self.path, timeout=60)) as db:
                db.execute("PRAGMA journal_mode=WAL")
                yield db
        except sqlite3.OperationalError:  # busy or unopenable: not damage
            raise
        except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
            raise StudybotError(f"the cache file {self.path} is damaged ({exc}): delete it; it holds only what "
                                f"studybot computes again") from None

    def get_many(self, namespace: str, keys: Iterable[str]) -> dict[str, Value]:
        """The stored values of those keys that have one."""
        keys = list(dict.fromkeys(keys))
        found: dict[str, Value] = {}
        with self._connection() as db:
            for start in range(0, len(keys), _BATCH):
                part = keys[start:start + _BATCH]
                rows = db.execute(
                    f"SELECT key, value FROM entries WHERE namespace = ? AND key IN ({','.join('?' * len(part))})",
                    [namespace, *part],
                )
                found.update(rows)
        return found

    def put_many(self, namespace: str, items: dict[str, Value]) -> None:
        """Store key -> value in one transaction; a later write of a key replaces it."""
        if not items:
            return
        with self._connection() as db, db:
            db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)",
                           [(namespace, key, value) for key, value in items.items()])
