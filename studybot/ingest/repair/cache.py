"""Repaired lines kept by content hash, so a slow scorer never sees the same damaged line twice.

The key is sha256 of the damaged line, in the namespace of the scorer's identity (name and
version), so a re-index after editing one note re-scores only the lines that changed, and a
new model version never reuses an old answer. Lines are the unit because the scorers read no
context across line breaks beyond the document's character trigrams (ngram.py), which only
settle what jieba was unsure of: a cached line keeps the repair made in the first document
that had it, which is what re-indexing an edited note wants.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from studybot.cache import ContentCache


class RepairCache:
    """(scorer, line) -> the line's repair as plain JSON-able data."""

    def __init__(self, path: Path) -> None:
        self._cache = ContentCache(path)

    @staticmethod
    def key(line: str) -> str:
        return hashlib.sha256(line.encode("utf-8")).hexdigest()

    def get_many(self, scorer: str, lines: list[str]) -> dict[str, dict]:
        """The cached repairs of those lines that have one, by line."""
        by_key = {self.key(line): line for line in lines}
        return {by_key[key]: json.loads(value) for key, value in self._cache.get_many(scorer, by_key).items()}

    def put_many(self, scorer: str, repairs: dict[str, dict]) -> None:
        """Store line -> repair; a later write of the same line replaces it."""
        self._cache.put_many(scorer, {self.key(line): json.dumps(repair, ensure_ascii=False)
                                      for line, repair in repairs.items()})
