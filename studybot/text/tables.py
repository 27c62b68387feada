"""Markdown tables read as a person reads them aloud: each row with the names of its columns.

Notes put comparisons in tables (BatchNorm against LayerNorm, LDA against PCA), so a table is
often the very passage that answers "what is the difference"; its rows must be quotable sentences.
"""

from __future__ import annotations

import re

from studybot.text.language import has_cjk

_RULE_CELL = re.compile(r"^:?-*:?$")  # the line under the header: |---|:-:|; an empty row reads the same
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_NUMBER = re.compile(r"^\d{1,3}[.)、]?$")
_ASKED = re.compile(r"[?？]$")
_BORDER = re.compile(r"(?<!\\)\|")  # a pipe between cells: not `\|`, a pipe the cell writes


def row_cells(line: str) -> list[str] | None:
    """The cells of a table row (`| a | b |`), stripped; None for any other line. A pipe escaped as `\\|` is one
    written in its cell, as GitHub and Obsidian show it ("| L1 | $\\|x\\|_1$ | 稀疏 |" is three cells, the second
    $|x|_1$: split at every pipe, it was five, and 稀疏 was read under no column's name)."""
    text = line.strip()
    if not text.startswith("|"):
        return None
    closed = len(text) > 1 and text.endswith("|") and not text.endswith("\\|")
    text = text[1:-1] if closed else text[1:]  # one pipe each side: `||x|` opens empty
    return [cell.strip().replace("\\|", "|") for cell in _BORDER.split(text)]


def is_rule(cells: list[str]) -> bool:
    """Whether a row is the rule under a table's header (or has nothing in it)."""
    return all(_RULE_CELL.match(cell) for cell in cells)


def row_sentences(header: list[str], rows: list[list[str]], cjk: bool) -> list[tuple[str, str]]:
    """Each body row as (one sentence: its first cell, then every other cell after its column's name;
    what only the row says: those other cells, without the names every row repeats).

    `| 统计维度 | batch 维度 | 特征维度 |` under `| | BatchNorm | LayerNorm |` reads
    "统计维度：BatchNorm batch 维度；LayerNorm 特征维度". A two-column table is a list of terms and
    what they mean, so its column name is left out. A row whose first cell is empty continues the
    row above (a merged cell) and takes its label; a row with only its second cell filled is one
    cell merged across the columns ("相同点 | 两者均可降维"), which no column's name belongs to. A first column of
    step numbers ("| 1 | Forward pass | …") is left out, the step's name labels its row, and a column named by a
    question ("What does it do?") is read without its name.
    """
    return [read for read in _read_rows(header, rows, cjk) if read is not None]


def _read_rows(header: list[str], rows: list[list[str]], cjk: bool) -> list[tuple[str, str] | None]:
    """`row_sentences` row by row: None for a rule between rows and for a row that says nothing."""
    body = [cells for cells in rows if not is_rule(cells)]  # a grid table's rules between its rows (pandoc)
    if len(header) > 2 and body and all(_NUMBER.match(cells[0]) for cells in body):  # a column of step numbers
        header, rows = header[1:], [cells[1:] for cells in rows]
    header = ["" if _ASKED.search(name) else name for name in header]  # "What does it do?" names nothing
    colon, semicolon = ("：", "；") if cjk else (": ", "; ")
    named = len(header) > 2
    out: list[tuple[str, str] | None] = []
    label = ""
    for cells in rows:
        if is_rule(cells):
            out.append(None)
            continue
        cells = [_BREAK.sub(" ", cell).strip().rstrip(";；,，") for cell in cells]
        label = cells[0] or label
        merged = not any(cells[2:])  # one cell under all the columns: what they share, named by none
        said = [f"{name} {cell}".strip() if named and not merged else cell
                for name, cell in zip(header[1:] + [""] * len(cells), cells[1:]) if cell]
        if not said:
            out.append(None)
            continue
        said = [cell.rstrip(".。") for cell in said[:-1]] + said[-1:]  # a cell's stop before the next cell's name
        sentence = f"{label}{colon}{semicolon.join(said)}" if label else semicolon.join(said)
        out.append((sentence, " ".join(cell for cell in cells[1:] if cell)))
    return out


def column_names(text: str) -> list[str]:
    """The names of the columns of every table in a text (each line over a rule): what labels its rows, as a heading
    labels its section ("similar to source" was a key point, blanked in every row of a card's table)."""
    lines = [row_cells(line) for line in text.splitlines()]
    return [name for above, rule in zip(lines, lines[1:]) if above and rule and is_rule(rule) for name in above if name]


def row_names(text: str) -> list[str]:
    """The first cell of each body row of every table in a text: what the row is about, as a heading names what its
    section is about ("| BLEU | n-gram 精确率的几何平均 × 长度惩罚 | 机器翻译 |" is BLEU's entry in a table of metrics)."""
    names: list[str] = []
    body = False  # below a table's rule
    for line in text.splitlines():
        cells = row_cells(line)
        body = cells is not None and (body or is_rule(cells))
        if body and cells[0] and not is_rule(cells):
            names.append(cells[0])
    return names


def read_tables(lines: list[str]) -> list[str]:
    """Each line as it is read aloud, one text a line: a table's body row as `row_sentences` reads it, its cells after
    their columns' names, and its header and rule "" (every row says the names); lines of cells with no rule under the
    first, their cells read across; other lines as they are. A card joined "| target data | similar to source |
    different from source |" and its rows into one line, so an interview asked "similar to ____; different from ____
    small; freeze backbone, …", and cited its points at the heading."""
    out: list[str] = []
    table: list[list[str]] = []  # the cells of the table lines being read
    for line in [*lines, None]:
        if line is not None and (cells := row_cells(line)) is not None:
            table.append(cells)
            continue
        cjk = has_cjk(" ".join(map(" ".join, table)))
        if len(table) > 1 and is_rule(table[1]):
            out += ["", "", *(read[0] if read else "" for read in _read_rows(table[0], table[2:], cjk))]
        else:
            out += ["" if is_rule(cells) else ("；" if cjk else "; ").join(c for c in cells if c) for cells in table]
        table.clear()
        if line is not None:
            out.append(line)
    return out
