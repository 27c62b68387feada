"""The bilingual glossary that bridges Chinese notes and English questions (and back).

Each entry is one concept with English and Chinese aliases. Matching a text against the
glossary yields the concepts it mentions; their aliases expand queries and chunks, so that
`梯度消失` finds notes that say `vanishing gradient` and the English-only embedder sees
English words for Chinese text. Extend it by dropping YAML files into `<home>/glossary/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Protocol

from studybot.home import bundled_dir


class Entry(Protocol):
    id: str
    topic: str
    en: list[str]
    zh: list[str]


def glossary_dirs(home: Path | None) -> list[Path]:
    """The bundled glossary folder, then the user's own."""
    dirs = [bundled_dir("knowledge") / "glossary"]
    if home is not None:
        dirs.append(Path(home) / "glossary")
    return [d for d in dirs if d.is_dir()]


@dataclass
class Glossary:
    entries: list
    _pattern: re.Pattern[str] | None
    _by_alias: dict[str, object]

    @classmethod
    def from_entries(cls, entries: Iterable[Entry]) -> "Glossary":
        entries = list(entries)
        by_alias: dict[str, object] = {}
        for entry in entries:
            for alias in [*entry.en, *entry.zh]:
                by_alias.setdefault(alias.lower(), entry)
        if not by_alias:
            return cls(entries, None, {})
        alternatives = []
        for alias in sorted(by_alias, key=len, reverse=True):
            escaped = re.escape(alias)
            if re.match(r"[a-z0-9]", alias):
                escaped = r"(?<![a-z0-9])" + escaped
            if re.search(r"[a-z0-9]$", alias):
                escaped += r"(?![a-z0-9])"
            alternatives.append(escaped)
        return cls(entries, re.compile("|".join(alternatives), re.IGNORECASE), by_alias)

    def find(self, text: str) -> list:
        """Concepts mentioned in text, in order of first mention, each once."""
        if self._pattern is None:
            return []
        seen: dict[str, object] = {}
        for match in self._pattern.finditer(text):
            entry = self._by_alias[match.group(0).lower()]
            seen.setdefault(entry.id, entry)
        return list(seen.values())

    def expansion(self, text: str) -> str:
        """Every alias, both languages, of the concepts text mentions: extra words for BM25."""
        return " ".join(alias for entry in self.find(text) for alias in [*entry.en, *entry.zh])

    def english(self, text: str) -> str:
        """The main English name of each concept text mentions: extra words for the embedder."""
        return ", ".join(entry.en[0] for entry in self.find(text) if entry.en)

    def aliases(self) -> list[str]:
        return list(self._by_alias)


def load_glossary(home: Path | None = None) -> Glossary:
    """The bundled glossary merged with the user's; user entries with the same id win."""
    from studybot.content.schema import read_glossary_entries

    entries = {}
    for folder in glossary_dirs(home):
        for entry in read_glossary_entries([folder]):
            entries[entry.id] = entry
    return Glossary.from_entries(entries.values())
