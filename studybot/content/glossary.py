"""The bilingual glossary that bridges Chinese notes and English questions (and back).

Each entry is one concept with English and Chinese aliases. Matching a text against the
glossary yields the concepts it mentions; their aliases expand queries and chunks, so that
`梯度消失` finds notes that say `vanishing gradient` and the English-only embedder sees
English words for Chinese text. Extend it by dropping YAML files into `<home>/glossary/`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable, Protocol

from studybot.home import bundled_dir
from studybot.text.language import has_cjk


class Entry(Protocol):
    id: str
    topic: str
    en: list[str]
    zh: list[str]
    cased: list[str]


def _name_parts(words: frozenset[str]) -> frozenset[str]:
    """Of the segmenter's words of a Chinese name, those it is made of: a word its parts spell is those parts
    ("梯度消失": 梯度 + 消失); one they do not spell stays whole ("去噪自编码器": its parts 自编, 编码, 码器 leave
    out 去噪 and would name every autoencoder), and its parts are then no words of their own."""
    def spelled(word: str) -> bool:
        parts = [p for p in words if p != word and p in word]
        return bool(parts) and set(word) <= set("".join(parts))

    whole = {w for w in words if not spelled(w)}
    return frozenset(w for w in whole if not any(w != o and w in o for o in whole))


def concept_topics(entries: Iterable[Entry]) -> list[str]:
    """The bundled topics of concepts, in their order, less the concepts no bundled note covers (topic "")."""
    return [entry.topic for entry in entries if entry.topic]


def mention(entry: Entry, text: str) -> re.Match | None:
    """Where a text names a concept, by the longest of its aliases that occurs there (case aside): the words a cloze
    blanks, and those a chat follow-up's new subject replaces."""
    aliases = sorted(entry.aliases, key=len, reverse=True)
    return next((found for alias in aliases if (found := re.search(re.escape(alias), text, re.IGNORECASE))), None)


def glossary_dirs(home: Path | None) -> list[Path]:
    """The bundled glossary folder, then the user's own."""
    dirs = [bundled_dir("knowledge") / "glossary"]
    if home is not None:
        dirs.append(Path(home) / "glossary")
    return [d for d in dirs if d.is_dir()]


_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
# Chinese text leaves out the space between Latin letters and Chinese ("L2正则化", "He初始化"): an alias
# written with one ("L2 正则化") matches without it too
_GAP = re.compile(r"(?<=[a-z0-9])\s+(?=[\u3400-\u9fff])|(?<=[\u3400-\u9fff])\s+(?=[a-z0-9])")
# letters and digits NFKC spells in ASCII: full-width, ligatures (ﬁne-tuning), mathematical (𝐇𝐨𝐰)
_STYLED = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\ufb00-\ufb06\U0001d400-\U0001d7ff]")
_INLINE_MATH = "$"  # "$1\\times1$卷积" names a 1x1 convolution as "1x1 卷积" does
_FIND_CACHE = 8192  # chunks are matched up to three times while indexing (tokens, headings, English names)


def _plain(text: str) -> str:
    """The text with one spelling of what a term may be typed several ways, so that it matches however a note
    typed it: traditional characters as simplified (卷積 is 卷积), full-width and styled letters (ＢＮ, 𝐇𝐨𝐰) in
    ASCII, sizes as the tokenizer spells them, inline math
    without its dollar signs. (NFKC only where it changes a letter: most Chinese text has full-width
    punctuation, and normalizing all of it would cost a fifth of the match.)"""
    from studybot.text.tokens import sizes
    from studybot.text.variants import simplified

    text = simplified(text)
    if _STYLED.search(text):
        text = unicodedata.normalize("NFKC", text)
    return sizes(text).replace(_INLINE_MATH, " ")


@dataclass
class Glossary:
    """The concepts of the glossary and a matcher that finds their aliases in any text.

    Matching scans the text once, left to right: at each position the longest alias that starts
    there wins (case ignored), and an alias that begins or ends with a letter or digit must not
    touch another one (so "bn" is not found in "bnb"). Two exceptions keep everyday words out: an
    entry's `cased` aliases match only as written (ZeRO, not "zero"; ReAct, not "React"), and a
    word right after a backslash is a TeX command (`\\ln`, `\\rm`, `\\lambda`), not a term.
    Candidates are looked up by the first two characters, so a chunk costs one dictionary probe
    per character however large the glossary.
    """

    entries: list
    _by_alias: dict[str, object]
    _by_start: dict[str, list[str]]  # first two characters (one, for one-character aliases) -> aliases, longest first
    _cased: dict[str, str]  # lowercased alias -> the only spelling it matches
    _found: dict[str, list] = field(default_factory=dict, repr=False)
    _name_words: dict[str, list[frozenset[str]]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_entries(cls, entries: Iterable[Entry]) -> "Glossary":
        entries = list(entries)
        by_alias: dict[str, object] = {}
        cased: dict[str, str] = {}
        for entry in entries:
            for name in [*entry.en, *entry.zh]:
                alias = _plain(name)  # "1×1 卷积" is matched as the text is, "1x1 卷积"
                if alias.strip() and by_alias.setdefault(alias.lower(), entry) is entry and name in entry.cased:
                    cased[alias.lower()] = alias
                if (joined := _GAP.sub("", alias.lower())) != alias.lower():
                    by_alias.setdefault(joined, entry)
        by_start: dict[str, list[str]] = {}
        for alias in sorted(by_alias, key=len, reverse=True):
            by_start.setdefault(alias[:2], []).append(alias)
        return cls(entries, by_alias, by_start, cased)

    def _match_at(self, text: str, low: str, i: int) -> str | None:
        """The longest alias that starts at `low[i]` and respects word boundaries, if any."""
        if i > 0 and low[i - 1] == "\\" and low[i] in _WORD_CHARS:
            return None
        for key in (low[i:i + 2], low[i]):
            for alias in self._by_start.get(key, ()):
                if not low.startswith(alias, i) or (alias in self._cased and not text.startswith(self._cased[alias], i)):
                    continue
                end = i + len(alias)
                if alias[0] in _WORD_CHARS and i > 0 and low[i - 1] in _WORD_CHARS:
                    continue
                if alias[-1] in _WORD_CHARS and end < len(low) and low[end] in _WORD_CHARS:
                    continue
                return alias
        return None

    def typed_in_lowercase(self, text: str) -> list:
        """Concepts a text names by a name that matches only as written ("CRF", `cased`) typed in lower case, where
        that word is no everyday English: a user types "crf" and "gmm" and means them; "map" and "zero" stay words."""
        from studybot.study.keypoints import specificity

        typed = set(re.findall(r"(?<![A-Za-z0-9])[a-z0-9]+(?![A-Za-z0-9])", _plain(text)))
        return [self._by_alias[alias] for alias in self._cased if alias in typed and specificity(alias) >= 1.0]

    def find(self, text: str) -> list:
        """Concepts mentioned in text, in order of first mention, each once."""
        found = self._found.get(text)
        if found is not None:
            return found
        plain = _plain(text)
        low, seen, i = plain.lower(), {}, 0
        while i < len(low):
            alias = self._match_at(plain, low, i) if self._by_start else None
            if alias is None:
                i += 1
                continue
            entry = self._by_alias[alias]
            seen.setdefault(entry.id, entry)
            i += len(alias)
        if len(self._found) >= _FIND_CACHE:
            self._found.clear()
        found = self._found[text] = list(seen.values())
        return found

    @cached_property
    def _names_by_word(self) -> dict[str, list[tuple[frozenset[str], object]]]:
        """The word keys of each English alias of two words or more, filed under one of them."""
        return self._file_names(lambda entry: entry.en)

    @cached_property
    def _chinese_names_by_word(self) -> dict[str, list[tuple[frozenset[str], object]]]:
        """The same of the Chinese aliases, filed apart: segmenting them costs a segmenter's 80 ms, which only a
        process that reads Chinese pays anyway."""
        return self._file_names(lambda entry: entry.zh)

    def _file_names(self, names: Callable[[Entry], list[str]]) -> dict[str, list[tuple[frozenset[str], object]]]:
        from studybot.text.tokens import word_keys

        filed: dict[str, list[tuple[frozenset[str], object]]] = {}
        for entry in self.entries:
            for alias in names(entry):
                words = word_keys(alias)
                if has_cjk(alias):  # a Chinese name is also a word of its own ("梯度消失"): its parts name it
                    words = _name_parts(words)
                if len(words) > 1:
                    filed.setdefault(min(words), []).append((words, entry))
        return filed

    def find_words(self, words: frozenset[str]) -> list:
        """Concepts a text names in its own order and forms: every word of one of their names of two words or more
        is among `words` (the text's word keys). "Why do gradients vanish?" and "梯度为什么会消失？" speak of
        vanishing gradients."""
        filed = [self._names_by_word]
        if any(map(has_cjk, words)):  # Chinese names need the segmenter: only for Chinese text
            filed.append(self._chinese_names_by_word)
        found = {entry.id: entry for names_by_word in filed for word in words
                 for names, entry in names_by_word.get(word, ()) if names <= words}
        return list(found.values())

    def name_words(self, entry, said: frozenset[str] | None = None) -> frozenset[str]:
        """The word keys of a concept's names, in both languages: of the names a text says when `said` (its word
        keys) holds every word of one ("Gradient Clipping > By norm" says "gradient clipping", not its alias "clip
        by norm": its "norm" is a word of its own), else of all of them (read once: texts name the same concepts)."""
        from studybot.text.tokens import word_keys

        names = self._name_words.get(entry.id)
        if names is None:
            names = self._name_words[entry.id] = [word_keys(a) for a in [*entry.en, *entry.zh]]
        spoken = [name for name in names if said is not None and name and name <= said]
        return frozenset().union(*(spoken or names))

    def expansion(self, text: str) -> str:
        """Every alias, both languages, of the concepts text mentions: extra words for BM25."""
        return " ".join(alias for entry in self.find(text) for alias in [*entry.en, *entry.zh])

    def english(self, text: str) -> str:
        """The main English name of each concept text mentions: extra words for the embedder."""
        return ", ".join(entry.en[0] for entry in self.find(text) if entry.en)

    def aliases(self) -> list[str]:
        return list(self._by_alias)


def glossary_files_digest(home: Path | None = None) -> str:
    """A digest of the glossary files' names and bytes: the same digest, the same glossary (`load_glossary`)."""
    import hashlib

    from studybot.content.schema import yaml_files

    digest = hashlib.sha256()
    for path in yaml_files(glossary_dirs(home)):
        digest.update(f"{path}\0{path.stat().st_size}\0".encode() + path.read_bytes())
    return digest.hexdigest()


def glossary_from_json(text: str) -> Glossary:
    """A glossary saved as a JSON list of its entries (an index's glossary.json): a few milliseconds, where
    reading and checking the YAML files takes 30-80 ms. ValueError or TypeError when it is not one."""
    from studybot.content.schema import GlossaryEntry

    return Glossary.from_entries(GlossaryEntry(**entry) for entry in json.loads(text))


def load_glossary(home: Path | None = None) -> Glossary:
    """The bundled glossary merged with the user's; user entries with the same id win."""
    from studybot.content.schema import read_glossary_entries

    entries = {}
    for folder in glossary_dirs(home):
        for entry in read_glossary_entries([folder]):
            entries[entry.id] = entry
    return Glossary.from_entries(entries.values())
