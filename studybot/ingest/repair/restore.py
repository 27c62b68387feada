"""Undo the damage of a bad export: UTF-8 notes read back as Windows-1254 with bytes lost.

Where no byte was lost the text decodes back exactly; where some were, `damage` lists the
characters the lost bytes allow and a language model from `scoring` picks the likeliest given
the whole line. The original is lost, so no pick is verified: the report tells the scorer's
confident picks from its guesses by the scorer's own posterior. Line breaks are never added or
removed, so line numbers stay valid, and text without the mojibake signature comes back unchanged.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import stat
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from studybot.errors import StudybotError
from studybot.files import give_owner, write_atomic
from studybot.ingest.decoding import decode_bytes, encode_like, encoding_name, invalid_utf8
from studybot.ingest.repair.cache import RepairCache
from studybot.ingest.repair.damage import Unit, decoded_chinese, gbk_read_as_latin1, line_units, looks_mojibake
from studybot.ingest.repair.scoring import CONFIDENT, DEFAULT_SCORER, Options, Posteriors, Scorer, resolve_scorer
from studybot.progress import ProgressFn
from studybot.ingest.repair import gemma as _gemma  # noqa: F401  (registers the "gemma" scorer; loads nothing)
from studybot.ingest.repair import ngram as _ngram  # noqa: F401  (registers the "ngram" scorer; loads nothing)

FLUSH_SECONDS = 1.0  # the most scoring work a kill can lose (one commit per line would cost more than jieba's work)
LINES_AT_ONCE = 64  # damaged lines a model scores together (one call for all their spots); a kill loses at most these
# The shape of a cached line's repair and the damage model that made it (3: emoji sequences settled before any
# scorer); part of the cache key, so repairs of another shape or model are never read.
LINE_FORMAT = "lines-3"


@dataclass
class RepairSpot:
    """A damaged character the scorer was unsure of (posterior under CONFIDENT): the user should check it."""

    line: int
    column: int
    chosen: str
    alternatives: list[str] = field(default_factory=list)
    confidence: float = 0.0  # the scorer's posterior of `chosen`, rounded down to 3 decimals


@dataclass
class RepairReport:
    """The repaired text and what it took; `scorer` says which model chose the characters.

    No repaired character is checked against the original, which is lost: `repaired` counts the
    characters given a replacement, and `low_confidence` those the scorer itself was unsure of.
    """

    text: str
    mojibake: bool
    decoded: int = 0  # characters of mojibake decoded exactly: none of their bytes was lost
    damaged: int = 0  # characters that lost bytes in the export
    repaired: int = 0  # damaged characters given a replacement (the scorer's choice)
    low_confidence: list[RepairSpot] = field(default_factory=list)
    scorer: str = ""  # the scorer that ran ("" when the text needed none)
    fallback: str = ""  # why the requested scorer could not run here, when it could not
    cached_lines: int = 0  # damaged lines whose repair came from the cache, not the scorer

    @property
    def confident(self) -> int:
        """Repaired characters the scorer gave at least CONFIDENT of its probability."""
        return self.repaired - len(self.low_confidence)

    @property
    def unrepaired(self) -> int:
        """Damaged characters no character fits (damage of another kind), left as they were found."""
        return self.damaged - self.repaired

    @property
    def lines_to_check(self) -> list[int]:
        return sorted({spot.line for spot in self.low_confidence})

    def as_dict(self) -> dict:
        return {**asdict(self), "confident": self.confident, "unrepaired": self.unrepaired,
                "lines_to_check": self.lines_to_check}


def _options(units: list[Unit], line: str) -> Options:
    """What each character of the line may be; a damaged one no character fits stays as found."""
    return [unit.candidates or (line[unit.start:unit.end],) for unit in units]


def _posteriors(score: Scorer, lines: list[Options]) -> list[Posteriors]:
    """Each line's posteriors (none for a line nothing is uncertain in), the lines scored together where the
    scorer can (`many`: a model judges many lines' spots in one call)."""
    unsure = [options for options in lines if any(len(opts) > 1 for opts in options)]
    many = getattr(score, "many", None)
    scored = iter(many(unsure) if many and unsure else [score(options) for options in unsure])
    return [next(scored) if any(len(opts) > 1 for opts in options) else {} for options in lines]


def _repair_line(units: list[Unit], options: Options, posteriors: Posteriors) -> dict:
    """One line's repair as plain data (cacheable): text, counts and the spots worth checking."""
    chosen = [opts[0] for opts in options]
    result = {"text": "", "decoded": 0, "damaged": 0, "repaired": 0, "spots": []}
    for pos, unit in enumerate(units):
        if not unit.damaged:
            result["decoded"] += unit.end - unit.start > 1  # a whole UTF-8 sequence: its character is certain
            continue
        result["damaged"] += 1
        if not unit.candidates:
            continue
        result["repaired"] += 1
        if len(unit.candidates) == 1:
            continue  # the lost bytes allow one character only: chosen[pos] is known, not guessed
        probs = posteriors.get(pos, {})  # a scorer that gives no posterior gives no confidence either
        # Ties go to the lowest code point (candidates are sorted), so the result is deterministic.
        best = max(unit.candidates, key=lambda char: probs.get(char, 0.0))
        chosen[pos] = best
        confidence = probs.get(best, 0.0)
        if confidence < CONFIDENT:
            others = sorted((c for c in unit.candidates if c != best and probs.get(c, 0.0) >= 0.01),
                            key=lambda char: -probs[char])
            result["spots"].append([pos + 1, best, others[:3], int(confidence * 1000) / 1000])
    result["text"] = "".join(chosen)
    return result


def repair_text(text: str, scorer_name: str = DEFAULT_SCORER, cache: Path | None = None,
                progress: ProgressFn | None = None, clock: Callable[[], float] = time.monotonic) -> RepairReport:
    """Return the repaired text, how much was damaged and repaired, and the spots worth checking.

    With `cache` (a SQLite file, created if missing) each damaged line is scored once per scorer
    version and read back afterwards, so re-indexing pays for a slow scorer only on new lines.
    Repairs reach the cache as they finish (at most FLUSH_SECONDS apart), so a run that is killed
    and started again redoes only the lines it had not finished. `progress` hears ("repairing",
    lines done, lines to score) after each line the scorer works on.
    A scorer that learns from the document (the trigram tier) first reads every line, cached or not,
    so a resumed run repairs exactly as a fresh one.
    A scorer whose model is missing here falls back to jieba; the report says so.
    """
    lines = text.split("\n")
    suspect = set(lines) if looks_mojibake(text) else _damaged_paragraphs(text)
    if not suspect:
        # a GBK note read as Latin-1 ("²ÎÊý³õÊ¼»¯" for 参数初始化) lost no byte either: it comes back exactly
        if (decoded := gbk_read_as_latin1(text)) is not None:
            return RepairReport(text=decoded, mojibake=True, decoded=sum(not char.isascii() for char in decoded))
        return RepairReport(text=text, mojibake=False)
    choice = resolve_scorer(scorer_name)
    report = RepairReport(text="", mojibake=True, scorer=choice.name, fallback=choice.fallback)
    units = {line: line_units(line) for line in lines}
    damaged = [line for line, found in units.items() if line in suspect and any(unit.damaged for unit in found)]
    store = RepairCache(cache) if cache is not None else None
    namespace = f"{choice.identity}/{LINE_FORMAT}"
    repairs = store.get_many(namespace, damaged) if store else {}
    report.cached_lines = sum(line in repairs for line in lines)
    todo = [line for line in damaged if line not in repairs]
    score = choice.score
    if todo and hasattr(score, "for_document"):  # it learns from the whole text: every line, cached or not
        score = score.for_document([_options(units[line], line) for line in lines])
    pending: dict[str, dict] = {}
    flushed = clock()
    at_once = LINES_AT_ONCE if hasattr(score, "many") else 1
    for start in range(0, len(todo), at_once):
        group = todo[start:start + at_once]
        options = [_options(units[line], line) for line in group]
        for line, opts, posteriors in zip(group, options, _posteriors(score, options)):
            pending[line] = _repair_line(units[line], opts, posteriors)
        done = start + len(group)
        if store and (done == len(todo) or clock() - flushed >= FLUSH_SECONDS):
            store.put_many(namespace, pending)
            repairs.update(pending)
            pending, flushed = {}, clock()
        if progress:
            progress("repairing", done, len(todo))
    repairs.update(pending)
    out = []
    for number, line in enumerate(lines, start=1):
        if line not in suspect:  # a clean paragraph of a note damaged in part: "café" is no lead byte
            out.append(line)
            continue
        if line not in repairs:  # undamaged: nothing is uncertain, nothing is scored
            options = _options(units[line], line)
            repairs[line] = _repair_line(units[line], options, _posteriors(score, [options])[0])
        repair = repairs[line]
        report.decoded += repair["decoded"]
        report.damaged += repair["damaged"]
        report.repaired += repair["repaired"]
        report.low_confidence.extend(RepairSpot(number, *spot) for spot in repair["spots"])
        out.append(repair["text"])
    report.text = "\n".join(out)
    return report


MIN_DAMAGED_CHINESE = 3  # characters a paragraph of a note damaged in part decodes to Chinese (a quoted "cafÃ©" is none)


def _damaged_paragraphs(text: str) -> set[str]:
    """The lines of the paragraphs that look damaged, where the whole text does not: a note whose damaged half follows
    a longer clean one was left unrepaired, and nothing said so. (Not every paragraph of a damaged note: a short one,
    a heading whose characters lost most of their bytes, looks clean alone.)"""
    return {line for paragraph in re.split(r"\n\s*\n", text)
            if looks_mojibake(paragraph) and decoded_chinese(paragraph) >= MIN_DAMAGED_CHINESE
            for line in paragraph.split("\n")}


@dataclass
class FileRepair:
    """The repair of one file: the bytes it comes to and where they went (None: the caller prints them).

    When the repair changed nothing, `data` is the file's own bytes; otherwise the repaired text in
    the encoding the file was read in (`encoding_name` says which, BOM and byte order included).
    """

    file: str
    encoding: str
    encoding_name: str
    report: RepairReport
    data: bytes
    changed: bool
    invalid_bytes: int = 0  # bytes that were not valid UTF-8 and that `data` holds as U+FFFD, when changed
    written: str | None = None
    backup: str | None = None

    def as_dict(self) -> dict:
        return {"file": self.file, "encoding": self.encoding, "encoding_name": self.encoding_name,
                "changed": self.changed, "invalid_bytes": self.invalid_bytes, "written": self.written,
                "backup": self.backup, **self.report.as_dict()}


def _read(path: Path) -> bytes:
    """The file's bytes, kept: an unchanged repair gives them back and a backup holds exactly them."""
    if not path.exists():
        raise StudybotError(f"file not found: {path}")
    if path.is_dir():
        raise StudybotError(f"{path} is a directory: give one note file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise StudybotError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _backup(path: Path, data: bytes) -> Path:
    """Keep `data` (the original) as FILE.bak, or .bak1, ...: created exclusively, so no backup is ever
    overwritten; with the file's mode, times and (where allowed) owner; on disk before FILE is replaced."""
    info = path.stat()
    names = (path.with_name(f"{path.name}.bak{n or ''}") for n in itertools.count())
    while True:
        backup = next(names)
        try:
            fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IMODE(info.st_mode))
        except FileExistsError:
            continue
        break
    with open(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    shutil.copystat(path, backup)
    give_owner(backup, info.st_uid, info.st_gid)
    return backup


def repair_file(path: Path, out: Path | None = None, in_place: bool = False,
                scorer_name: str = DEFAULT_SCORER, cache: Path | None = None,
                progress: ProgressFn | None = None) -> FileRepair:
    """Repair a note file; write it to `out`, or over itself after a backup when `in_place`.

    The input is never overwritten without `in_place`, a backup never overwrites another, and a
    file the repair leaves unchanged is never rewritten: `in_place` writes nothing, `out` gets its bytes.
    Line endings are kept: the text is repaired line by line as it was decoded.
    """
    path = Path(path)
    if in_place and out is not None:
        raise StudybotError("give either --in-place or -o OUT, not both")
    if out is not None and Path(out).resolve() == path.resolve():
        raise StudybotError(f"-o would overwrite {path}: use --in-place to repair it with a backup")
    original = _read(path)
    try:
        text, encoding = decode_bytes(original)
    except StudybotError as exc:
        raise StudybotError(f"{path}: {exc}") from exc
    report = repair_text(text, scorer_name, cache, progress)
    # a UTF-8 note with GBK lines is written back whole in UTF-8 though no character of it changes (`index` asks for
    # that: "lines 9, 10 are GBK (GB18030) in a UTF-8 note ... save the note as UTF-8", and repair said "unchanged")
    changed = report.text != text or encoding == "mixed"
    result = FileRepair(file=str(path), encoding=encoding, encoding_name=encoding_name(encoding, original),
                        report=report, changed=changed,
                        data=encode_like(report.text, encoding, original) if changed else original,
                        invalid_bytes=len(invalid_utf8(original)) if changed and encoding == "utf-8" else 0)
    if in_place and changed:
        try:
            result.backup = str(_backup(path, original))
        except OSError as exc:
            raise StudybotError(f"cannot keep a backup of {path} ({exc.strerror or exc}): nothing written") from exc
    target = (path if changed else None) if in_place else out
    if target is None:
        return result
    try:
        write_atomic(Path(target), result.data)
    except OSError as exc:
        raise StudybotError(f"cannot write {target}: {exc.strerror or exc}") from exc
    result.written = str(target)
    return result
