"""Turn a file on disk into clean text: detect its encoding, refuse binaries, repair export damage."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from studybot.errors import StudybotError
from studybot.repair import DEFAULT_SCORER, RepairReport, repair_text

NOTE_SUFFIXES = (".md", ".markdown", ".txt")


class UnreadableFile(StudybotError):
    """A file that is not text studybot can read (binary, unknown encoding, permission denied)."""


@dataclass
class LoadedText:
    text: str
    encoding: str
    repair: RepairReport


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode note bytes, trying BOMs, then UTF-16 without BOM, UTF-8 and GB18030; raise if binary."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError as exc:
                raise UnreadableFile(f"damaged {name} text ({exc.reason})") from exc
    if len(data) >= 4 and data.count(0) > len(data) // 4:
        # UTF-16 without a BOM: every ASCII character carries a zero byte on one side.
        even_zeros = data[0::2].count(0)
        odd_zeros = data[1::2].count(0)
        name = "utf-16-le" if odd_zeros > even_zeros else "utf-16-be"
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            raise UnreadableFile("binary file") from None
        if "\x00" not in text:
            return text, name
        raise UnreadableFile("binary file")
    if b"\x00" in data:
        raise UnreadableFile("binary file")
    for name in ("utf-8", "gb18030"):
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("not text in UTF-8, UTF-16 or GB18030")


def read_text(path: Path, repair_scorer: str = DEFAULT_SCORER, cache: Path | None = None) -> LoadedText:
    """Read a note file, decoded and repaired; line breaks are normalised to \\n only."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"cannot read {path}: {exc.strerror or exc}") from exc
    text, encoding = decode_bytes(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    report = repair_text(text, repair_scorer, cache)
    return LoadedText(text=report.text, encoding=encoding, repair=report)


def iter_note_files(paths: list[Path]) -> list[Path]:
    """Expand files and folders into the note files under them, sorted, hidden folders skipped."""
    found: set[Path] = set()
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise StudybotError(f"path not found: {path}")
        if path.is_file():
            found.add(path.resolve())
            continue
        for child in path.rglob("*"):
            rel = child.relative_to(path)
            if any(part.startswith(".") for part in rel.parts):
                continue
            if child.is_file() and child.suffix.lower() in NOTE_SUFFIXES:
                found.add(child.resolve())
    return sorted(found)
