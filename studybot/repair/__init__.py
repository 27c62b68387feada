"""Undo the damage of a bad export: UTF-8 notes read back as Windows-1254 with bytes lost.

Where no byte was lost the text decodes back exactly; where some were, `damage` lists the
characters the lost bytes allow and a language model from `scoring` picks the likeliest given
the whole line. Line breaks are never added or removed, so line numbers stay valid, and text
without the mojibake signature comes back unchanged.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from studybot.errors import StudybotError
from studybot.repair.damage import Unit, line_units, looks_mojibake
from studybot.repair.scoring import SCORERS, get_scorer, scorer

__all__ = [
    "DEFAULT_SCORER", "FileRepair", "RepairReport", "RepairSpot", "SCORERS", "looks_mojibake", "repair_file",
    "repair_text", "scorer",
]

DEFAULT_SCORER = "jieba"
LOW_CONFIDENCE = 0.9  # below this posterior a restored character is shown to the user to check


@dataclass
class RepairSpot:
    """A place where the repair had to guess; shown to the user so they can check it."""

    line: int
    column: int
    chosen: str
    alternatives: list[str] = field(default_factory=list)
    confidence: float = 0.0


@dataclass
class RepairReport:
    text: str
    mojibake: bool
    damaged: int = 0
    restored: int = 0
    low_confidence: list[RepairSpot] = field(default_factory=list)


def _repair_line(line: str, number: int, score, report: RepairReport) -> str:
    units: list[Unit] = line_units(line)
    options = [unit.candidates or (line[unit.start:unit.end],) for unit in units]
    posteriors = score(options) if any(len(opts) > 1 for opts in options) else {}
    chosen = [opts[0] for opts in options]
    for pos, unit in enumerate(units):
        if not unit.damaged:
            continue
        report.damaged += 1
        if not unit.candidates:
            continue
        report.restored += 1
        probs = posteriors.get(pos, {chosen[pos]: 1.0})
        # Ties go to the lowest code point (candidates are sorted), so the result is deterministic.
        best = max(unit.candidates, key=lambda char: probs.get(char, 0.0))
        chosen[pos] = best
        if probs.get(best, 0.0) < LOW_CONFIDENCE:
            others = sorted((c for c in unit.candidates if c != best and probs.get(c, 0.0) >= 0.01),
                            key=lambda char: -probs[char])
            report.low_confidence.append(
                RepairSpot(number, pos + 1, best, others[:3], round(probs.get(best, 0.0), 3))
            )
    return "".join(chosen)


def repair_text(text: str, scorer_name: str = DEFAULT_SCORER) -> RepairReport:
    """Return the repaired text, how much was damaged and restored, and the spots worth checking."""
    if not looks_mojibake(text):
        return RepairReport(text=text, mojibake=False)
    score = get_scorer(scorer_name)
    report = RepairReport(text="", mojibake=True)
    lines = [_repair_line(line, number, score, report) for number, line in enumerate(text.split("\n"), start=1)]
    report.text = "\n".join(lines)
    return report


@dataclass
class FileRepair:
    """The repair of one file and where its result went (None: the caller prints it)."""

    file: str
    encoding: str
    report: RepairReport
    written: str | None = None
    backup: str | None = None

    def as_dict(self) -> dict:
        return {"file": self.file, "encoding": self.encoding, "written": self.written, "backup": self.backup,
                **asdict(self.report)}


def _read(path: Path) -> tuple[str, str]:
    """Decode a note file as the indexer does, keeping its line endings for writing it back."""
    from studybot.reading import decode_bytes

    if not path.exists():
        raise StudybotError(f"file not found: {path}")
    if path.is_dir():
        raise StudybotError(f"{path} is a directory: give one note file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StudybotError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return decode_bytes(data)
    except StudybotError as exc:
        raise StudybotError(f"{path}: {exc}") from exc


def _free_backup_name(path: Path) -> Path:
    candidate, n = path.with_name(path.name + ".bak"), 1
    while candidate.exists():
        candidate, n = path.with_name(f"{path.name}.bak{n}"), n + 1
    return candidate


def _write(path: Path, text: str, encoding: str) -> None:
    """Write through a temporary file in the same folder, so a crash never leaves half a note."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def repair_file(path: Path, out: Path | None = None, in_place: bool = False,
                scorer_name: str = DEFAULT_SCORER) -> FileRepair:
    """Repair a note file; write it to `out`, or over itself after a backup when `in_place`.

    The input is never overwritten without `in_place`, and a backup never overwrites another.
    """
    path = Path(path)
    if in_place and out is not None:
        raise StudybotError("give either --in-place or -o OUT, not both")
    if out is not None and Path(out).resolve() == path.resolve():
        raise StudybotError(f"-o would overwrite {path}: use --in-place to repair it with a backup")
    text, encoding = _read(path)
    result = FileRepair(file=str(path), encoding=encoding, report=repair_text(text, scorer_name))
    if in_place:
        backup = _free_backup_name(path)
        shutil.copy2(path, backup)
        _write(path, result.report.text, encoding)
        result.written, result.backup = str(path), str(backup)
    elif out is not None:
        _write(Path(out), result.report.text, encoding)
        result.written = str(out)
    return result
