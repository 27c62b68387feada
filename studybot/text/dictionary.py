"""jieba's word counts and part-of-speech tags on disk, read a word at a time.

jieba loads its whole dictionary (half a million words and word prefixes) before it segments
anything: half a second of every cold `studybot search`, to cut a ten-character question that
needs a few hundred of those counts. So the counts are written once per machine into a SQLite
file in the cache folder, and a new process reads only the words it looks up; one that looks up
many (indexing, a long answer) reads them all at once, as jieba would have. Segmentation is
jieba's own, over the same counts, so every token comes out as before. The file keeps each
word's tag too (the dictionary's third column): jieba.posseg reads all 350,000 of them on import,
0.2 s of a cold `ask` that tags the first words of a few sentences.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

from studybot.home import cache_dir

READ_ALL_AFTER = 20_000  # words read one at a time before reading every count at once (~0.15 s of lookups)
_FORMAT = 2  # the file's layout; part of its name (2: with tags)


class WordCounts:
    """A dict-like stand-in for jieba's FREQ (word -> count; 0 for a prefix of a word) that reads from disk.

    Only what jieba's segmentation and add_word use: `in`, `[]`, `get` and assignment. Words
    assigned (domain terms added with add_word) stay in memory and win over the file. `tag` reads
    a word's part-of-speech tag.
    """

    def __init__(self, db: sqlite3.Connection, total: int) -> None:
        self._db = db
        self.total = total
        self._known: dict[str, int | None] = {}  # read or assigned; None: neither a word nor a prefix
        self._reads = 0
        self._all = False
        self._tags: dict[str, str | None] = {}

    def _count(self, word: str) -> int | None:
        if word in self._known:
            return self._known[word]
        if self._all:
            return None
        self._reads += 1
        if self._reads > READ_ALL_AFTER:
            self._read_all()
            return self._known.get(word)
        row = self._db.execute("SELECT count FROM words WHERE word = ?", (word,)).fetchone()
        count = self._known[word] = row[0] if row else None
        return count

    def _read_all(self) -> None:
        counts: dict[str, int | None] = dict(self._db.execute("SELECT word, count FROM words"))
        counts.update((word, count) for word, count in self._known.items() if count is not None)
        self._known, self._all = counts, True

    def read(self, words: set[str]) -> None:
        """Read many words' counts in a few queries (the glossary's terms and their prefixes, ~2,500 words)."""
        wanted = [word for word in words if word not in self._known]
        if self._all or not wanted:
            return
        for start in range(0, len(wanted), 500):
            part = wanted[start:start + 500]
            self._known.update(dict.fromkeys(part))
            self._known.update(self._db.execute(
                f"SELECT word, count FROM words WHERE word IN ({','.join('?' * len(part))})", part))

    def __contains__(self, word: str) -> bool:
        return self._count(word) is not None

    def __getitem__(self, word: str) -> int:
        count = self._count(word)
        if count is None:
            raise KeyError(word)
        return count

    def get(self, word: str, default: int | None = None) -> int | None:
        count = self._count(word)
        return default if count is None else count

    def __setitem__(self, word: str, count: int) -> None:
        self._known[word] = count

    def tag(self, word: str) -> str | None:
        """The dictionary's part-of-speech tag of a word ("v" for 保留), None for a word it lacks."""
        if word not in self._tags:
            row = self._db.execute("SELECT tag FROM words WHERE word = ?", (word,)).fetchone()
            self._tags[word] = row[0] if row else None
        return self._tags[word]


def _dictionary_file(jieba_module) -> Path:
    return Path(jieba_module.__file__).with_name("dict.txt")


def dictionary_tags(jieba_module) -> dict[str, str]:
    """Every word of jieba's dictionary with its part-of-speech tag, as jieba.posseg reads them (lines "word count
    tag"; a word listed twice has its last tag)."""
    with _dictionary_file(jieba_module).open(encoding="utf-8") as lines:
        return {word: tag for word, _, tag in (line.split() for line in lines if line.strip())}


def _path(jieba_module) -> Path:
    """The counts file for this jieba and its dictionary (a reinstall or another version gets its own)."""
    source = _dictionary_file(jieba_module)
    info = source.stat()
    key = f"{jieba_module.__version__}:{source}:{info.st_size}:{info.st_mtime_ns}:{_FORMAT}"
    return cache_dir() / f"jieba-words-{hashlib.sha256(key.encode()).hexdigest()[:16]}.sqlite"


def open_word_counts(jieba_module) -> WordCounts | None:
    """jieba's counts from the cache file, or None when it is missing, unreadable or of another layout (then load
    jieba whole)."""
    try:
        path = _path(jieba_module)
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        total = db.execute("SELECT total FROM meta").fetchone()[0]
        db.execute("SELECT word, count, tag FROM words LIMIT 0")
    except (OSError, sqlite3.Error, TypeError):  # missing, damaged, half-written or stale: rebuilt by save_word_counts
        return None
    return WordCounts(db, total)


def save_word_counts(jieba_module, counts: dict[str, int], total: int) -> None:
    """Write jieba's freshly loaded counts, with the dictionary's tags, for the next process; best effort (the cache
    may be read-only)."""
    try:
        path = _path(jieba_module)
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        tags = dictionary_tags(jieba_module)  # a word prefix has none
        partial.unlink(missing_ok=True)
        with sqlite3.connect(partial) as db:
            db.execute("CREATE TABLE words (word TEXT PRIMARY KEY, count INTEGER NOT NULL, tag TEXT) WITHOUT ROWID")
            db.executemany("INSERT INTO words VALUES (?, ?, ?)",
                           ((word, count, tags.get(word)) for word, count in counts.items()))
            db.execute("CREATE TABLE meta (total INTEGER NOT NULL)")
            db.execute("INSERT INTO meta VALUES (?)", (total,))
        db.close()
        os.replace(partial, path)  # whole or not at all: readers never see a half-written file
    except (OSError, sqlite3.Error):
        partial.unlink(missing_ok=True)
