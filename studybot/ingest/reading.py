"""Turn a file on disk into clean text: decode it, repair export damage, find the notes under a folder."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from studybot.errors import StudybotError
from studybot.ingest.decoding import UnreadableFile, decode_bytes, invalid_utf8
from studybot.ingest.notebooks import notebook_text
from studybot.ingest.repair.restore import RepairReport, repair_text
from studybot.ingest.repair.scoring import DEFAULT_SCORER
from studybot.progress import ProgressFn
from studybot.text.variants import without_radicals

NOTE_SUFFIXES = (".md", ".markdown", ".txt", ".ipynb", ".qmd", ".rmd")  # Quarto's and R Markdown's notes too


@dataclass
class LoadedText:
    text: str
    encoding: str
    repair: RepairReport
    invalid: list[tuple[int, int]] = field(default_factory=list)  # (line, byte offset) of bytes replaced by U+FFFD
    gb18030_lines: list[int] = field(default_factory=list)  # 1-based lines read as GB18030 in a note otherwise UTF-8


def read_text(path: Path, repair_scorer: str = DEFAULT_SCORER, cache: Path | None = None,
              progress: ProgressFn | None = None) -> LoadedText:
    """Read a note file, decoded and repaired (`progress` hears the repair's lines); line breaks are
    normalised to \\n only, and radicals a PDF wrote for characters are the characters."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"cannot read {path}: {exc.strerror or exc}") from exc
    text, encoding = decode_bytes(data)
    invalid, gb18030_lines = encoding_flaws(data, encoding)
    text = without_radicals(text.replace("\r\n", "\n").replace("\r", "\n"))
    if Path(path).suffix.lower() == ".ipynb":
        text = notebook_text(text, Path(path).name)
    report = repair_text(text, repair_scorer, cache, progress)
    return LoadedText(text=report.text, encoding=encoding, repair=report, invalid=invalid, gb18030_lines=gb18030_lines)


def encoding_flaws(data: bytes, encoding: str) -> tuple[list[tuple[int, int]], list[int]]:
    """What reading a note's bytes as `encoding` (`decode_bytes`'s answer) did not keep as written: the (line, byte
    offset) of each byte of a UTF-8 note that is not UTF-8 (read as U+FFFD), and the 1-based lines of a UTF-8 note
    that are GB18030. From the bytes alone, so a note indexed before and unchanged since is reported again."""
    if encoding not in ("utf-8", "mixed"):
        return [], []
    found = _with_lines(data, invalid_utf8(data))
    return (found, []) if encoding == "utf-8" else ([], sorted({line for line, _ in found}))


def _with_lines(data: bytes, offsets: list[int]) -> list[tuple[int, int]]:
    """(1-based line, offset) of each byte offset, ascending: newlines counted once, not from the start for each."""
    found, line, last = [], 1, 0
    for offset in offsets:
        line += data.count(b"\n", last, offset)
        found.append((line, offset))
        last = offset
    return found


def _in_app_folder(root: Path, rel: Path) -> bool:
    """Whether a file lies in a Logseq graph's own folder (`logseq/` beside its config.edn): copies of pages kept
    as backups (bak/) or deleted (.recycle/), not notes."""
    return any(part == "logseq" and root.joinpath(*rel.parts[:i + 1], "config.edn").is_file()
               for i, part in enumerate(rel.parts[:-1]))


# Where Obsidian keeps the folder of note templates (core Templates plugin; the Templater plugin), relative to the vault
_TEMPLATE_SETTINGS = ((".obsidian/templates.json", "folder"),
                      (".obsidian/plugins/templater-obsidian/data.json", "templates_folder"))


def template_folders(folder: Path) -> set[Path]:
    """The template folders of the Obsidian vaults in or around a folder: their notes are `{{title}}` placeholders,
    not notes (a template's "{{title}} > 定义" was answered and listed as a heading to write)."""
    vaults = [p for p in (folder, *folder.parents) if (p / ".obsidian").is_dir()]
    vaults += [p.parent for p in folder.rglob(".obsidian") if p.is_dir() and p.parent != folder]
    found: set[Path] = set()
    for vault in vaults:
        for name, key in _TEMPLATE_SETTINGS:
            try:
                setting = json.loads((vault / name).read_text(encoding="utf-8")).get(key)
            except (OSError, ValueError, AttributeError):
                continue
            if isinstance(setting, str) and setting.strip(" /"):
                found.add((vault / setting.strip(" /")).resolve())
    return found


def is_note_file(path: Path) -> bool:
    """Whether a file's name makes it a note: a note suffix, and no sync tool's copy of a conflict
    ("Adam.sync-conflict-20240503-101010-ABCDEF.md", "Adam (conflicted copy 2024-05-03).md"), whose older text
    was cited before the note's own."""
    return path.suffix.lower() in NOTE_SUFFIXES and not _CONFLICT_COPY.search(path.name)


_CONFLICT_COPY = re.compile(r"\.sync-conflict-\d{8}-\d{6}|\(conflicted copy\b|\(.*?'s conflicted copy\b", re.IGNORECASE)


def _files_under(folder: Path) -> Iterator[Path]:
    """Every file under a folder, its symlinked folders followed as Obsidian follows them (a vault's shared folder
    was skipped without a word), each real folder once (a link back up the tree is no loop); hidden folders not
    entered."""
    seen: set[str] = set()
    top = os.path.realpath(folder)
    for root, folders, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            folders[:] = []
            continue
        seen.add(real)
        # a link to a folder above (`up -> ..`, `home -> ~`) would walk out of the folder given
        folders[:] = [name for name in folders if not name.startswith(".")
                      and not (top + os.sep).startswith(os.path.realpath(os.path.join(root, name)) + os.sep)]
        yield from (Path(root) / name for name in files)


def iter_note_files(paths: list[Path], on_broken: Callable[[Path], None] | None = None) -> list[Path]:
    """Expand files and folders into the note files under them, sorted; hidden folders, a Logseq graph's own
    folder and an Obsidian vault's templates folder skipped, and a file that is no note (`is_note_file`) even
    when named. `on_broken` hears of each link that points nowhere (a linked folder moved: its notes left in silence)."""
    found: set[Path] = set()
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise StudybotError(f"path not found: {path}")
        if path.is_file():
            if is_note_file(path):
                found.add(path.resolve())
            continue
        templates = template_folders(path.resolve())
        for child in _files_under(path):
            if walk_skips(path, child, templates):
                continue
            if on_broken and child.is_symlink() and not child.exists():
                on_broken(child)
            elif is_note_file(child) and child.is_file():
                found.add(child.resolve())
    return sorted(found)


def walk_skips(folder: Path, child: Path, templates: set[Path] | None = None) -> bool:
    """Whether indexing `folder` passes over `child` (a path under it): a hidden folder or file, a
    Logseq graph's own folder, an Obsidian vault's templates folder (`templates`: found when not given)."""
    rel = child.relative_to(folder)
    if any(part.startswith(".") for part in rel.parts) or _in_app_folder(folder, rel):
        return True
    templates = template_folders(folder.resolve()) if templates is None else templates
    return any(t == child.resolve() or t in child.resolve().parents for t in templates)
