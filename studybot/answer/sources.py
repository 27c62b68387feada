"""Numbered sources: the retrieved passages an answer may cite as [n], and what each [n] points to.

Both answer paths (the model's and the extractive one) cite the same numbered list, so one
function turns any draft into its final form: unknown numbers removed, the rest renumbered
1, 2, 3 in order of first use, each mapped back to a file, heading and line range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable

from studybot.index.search import Hit, Index
from studybot.ingest.notes import closes_fence, fence_opening, note_aliases
from studybot.text.sentences import asks_only, lists_references

# [3], [1, 2], [1][2] and the full-width 【3】 a Chinese answer may use; not an interval a note writes,
# [0, 1] (sources are numbered from 1)
CITATION = re.compile(r"[\[【]\s*([1-9]\d*(?:\s*[,，、]\s*[1-9]\d*)*)\s*[\]】]")
_SPACED_CITATION = re.compile(r"([ \t]*)" + CITATION.pattern)
_LINE_END_CITATION = re.compile(_SPACED_CITATION.pattern + r"(?=[ \t]*$)", re.MULTILINE)


@dataclass
class Source:
    """One retrieved passage, numbered as the model and the reader see it."""

    n: int
    file: str
    heading_path: list[str]
    line_start: int
    line_end: int
    kind: str
    text: str
    score: float
    topics: list[str] = field(default_factory=list)
    own: bool = True  # from the user's own notes, not the bundled knowledge/
    aliases: list[str] = field(default_factory=list)  # the note's other names (front matter), named as its title is

    @property
    def heading(self) -> str:
        return self.heading_path[-1] if self.heading_path else ""

    @property
    def path(self) -> str:
        return " > ".join(self.heading_path)

    def citation(self) -> dict:
        """The JSON contract's citation: where to open the passage, and its heading path as the text output shows it
        ("heading" alone is often just "Interview answer")."""
        return {"n": self.n, "file": self.file, "heading": self.heading, "path": self.path,
                "line_start": self.line_start, "line_end": self.line_end}

    def prompt_block(self) -> str:
        return f"[{self.n}] {self.path}\n{self.text.strip()}"


def make_sources(hits: list[Hit], index: Index) -> list[Source]:
    """Number the hits by rank, 1..k, and attach the topic their note declares (front matter) and whether the note
    is the user's. A list of references or of questions is no source, for the model or the extractive answer: it
    names the question's words and answers none of them (its number goes with it; citations are renumbered)."""
    sources = []
    for n, hit in enumerate(hits, start=1):
        meta = index.metadata(hit.file)
        topics = [str(meta["topic"])] if meta.get("topic") else []
        source = Source(n, hit.file, list(hit.heading_path), hit.line_start, hit.line_end, hit.kind, hit.text,
                        hit.score, topics, own=index.own(hit.file),
                        aliases=note_aliases(meta) if index.own(hit.file) else [])
        if not lists_references(source.heading) and not asks_only(source.text):
            sources.append(source)
    return sources


def pack(sources: list[Source], budget: int, count_tokens: Callable[[str], int]) -> list[Source]:
    """The best sources whose prompt blocks fit in `budget` tokens, renumbered 1..m in rank order.

    A source too long for what is left is skipped, so a shorter, lower-ranked one can still fit.
    """
    kept: list[Source] = []
    used = 0
    for source in sources:
        cost = count_tokens(source.prompt_block()) + 2
        if used + cost <= budget:
            kept.append(replace(source, n=len(kept) + 1))
            used += cost
    return kept


def prose_and_code(text: str) -> list[tuple[bool, str]]:
    """The text cut into (is code, piece) runs of lines: `outputs[1]` in a code block cites nothing."""
    pieces: list[tuple[bool, str]] = []
    fence: str | None = None
    for line in text.splitlines(keepends=True):
        if fence is None:
            fence = fence_opening(line)
            code = fence is not None
        else:
            code, fence = True, None if closes_fence(line, fence) else fence
        if pieces and pieces[-1][0] == code:
            pieces[-1] = (code, pieces[-1][1] + line)
        else:
            pieces.append((code, line))
    return pieces


def resolve_citations(text: str, sources: Iterable[Source], at_line_ends: bool = False) -> tuple[str, list[Source]]:
    """Drop citations to sources that do not exist, renumber the rest by first use (outside code blocks).

    `at_line_ends`: only a citation that ends its line is one, as the extractive answer writes them; a bracketed
    number inside a quoted sentence ("R[1] 是输入", "Train on [2, 3]") is the note's own and stays as written.
    Returns the rewritten text and the cited sources, each carrying its new number.
    """
    by_n = {s.n: s for s in sources}
    order: dict[int, int] = {}

    def rewrite(match: re.Match[str]) -> str:
        numbers = [int(x) for x in re.split(r"[,，、]", match.group(2))]
        kept = []
        for old in numbers:
            if old in by_n and old not in kept:
                kept.append(old)
                order.setdefault(old, len(order) + 1)
        return match.group(1) + "".join(f"[{order[old]}]" for old in kept) if kept else ""

    pattern = _LINE_END_CITATION if at_line_ends else _SPACED_CITATION
    rewritten = "".join(piece if code else pattern.sub(rewrite, piece) for code, piece in prose_and_code(text))
    cited = [replace(by_n[old], n=new) for old, new in sorted(order.items(), key=lambda item: item[1])]
    return rewritten.strip(), cited
