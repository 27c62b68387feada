"""A Jupyter notebook (`.ipynb`) read as the note it is: its Markdown cells and its code, not its JSON.

Jupyter, VS Code and Colab write a notebook as indented JSON with each line of a cell's source on a
line of its own, so the note keeps the file's line numbers: every source line is that line's text, a
code cell's `"source": [` and `]` lines become its fence, and everything else (cell metadata, outputs,
images) is a blank line. A citation's `file:line` then opens the notebook at the cell's line. A
notebook written some other way (one JSON line, a cell's source as one string) is read cell by cell
instead, its line numbers the note's own.
"""

from __future__ import annotations

import json
import re

from studybot.ingest.decoding import UnreadableFile

_CELL_TYPE = re.compile(r'^\s*"cell_type"\s*:\s*"(?P<kind>\w+)"')
_SOURCE_OPEN = re.compile(r'^\s*"source"\s*:\s*\[\s*$')
_SOURCE_EMPTY = re.compile(r'^\s*"source"\s*:\s*\[\s*\]\s*,?\s*$')  # an empty cell
_LIST_CLOSE = re.compile(r"^\s*\]\s*,?\s*$")
_READ = ("markdown", "code")  # raw cells are for exporters, not readers


def notebook_text(text: str, name: str = "notebook") -> str:
    """The notebook's Markdown and fenced code, line for line with the file where it can be."""
    try:
        notebook = json.loads(text)
        cells = notebook["cells"]
    except (ValueError, KeyError, TypeError):
        raise UnreadableFile(f"{name} is not a Jupyter notebook (not its JSON, or no cells)") from None
    language = _language(notebook)
    aligned = _aligned(text.split("\n"), language)
    if aligned is not None and aligned[1] == len(cells):  # every cell's source read, one line per line
        return aligned[0]
    return "\n\n".join(_cell(cell, language) for cell in cells if cell.get("cell_type") in _READ)


def _language(notebook: dict) -> str:
    metadata = notebook.get("metadata") or {}
    name = (metadata.get("language_info") or {}).get("name") or (metadata.get("kernelspec") or {}).get("language")
    return name if isinstance(name, str) and name.isidentifier() else "python"


def _aligned(lines: list[str], language: str) -> tuple[str, int] | None:
    """The note line for line with the file and how many sources it read; None where a source line is no
    single JSON string (the notebook is not written one source line per line)."""
    out = [""] * len(lines)
    kind, sources, i = "", 0, 0
    while i < len(lines):
        if cell := _CELL_TYPE.match(lines[i]):
            kind = cell.group("kind")
        if not _SOURCE_OPEN.match(lines[i]):
            sources += bool(_SOURCE_EMPTY.match(lines[i]))
            i += 1
            continue
        start, i = i, i + 1
        while i < len(lines) and not _LIST_CLOSE.match(lines[i]):
            try:
                piece = json.loads(lines[i].strip().removesuffix(","))
            except ValueError:
                return None
            if not isinstance(piece, str) or "\n" in piece.rstrip("\n"):
                return None
            if kind in _READ:
                out[i] = piece.rstrip("\n")
            i += 1
        if kind == "code" and i > start + 1:
            out[start], out[min(i, len(lines) - 1)] = f"```{language}", "```"
        sources += 1
        i += 1
    return "\n".join(out), sources


def _cell(cell: dict, language: str) -> str:
    source = cell.get("source") or ""
    text = "".join(source) if isinstance(source, list) else str(source)
    return f"```{language}\n{text.rstrip()}\n```" if cell.get("cell_type") == "code" and text.strip() else text
