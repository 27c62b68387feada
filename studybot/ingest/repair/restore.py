"""Undo the damage of a bad export: UTF-8 notes read back as Windows-1254 with bytes lost.

Where no byte was lost the text decodes back exactly; where some were, `damage` lists the
characters the lost bytes allow and a language model from `scoring` picks the likeliest given
the whole line. Line breaks are never added or removed, so line numbers stay valid, and text
without the mojibake signature comes back unchanged.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from studybot.errors import StudybotError
from studybot.files import write_atomic
from studybot.ingest.decoding import decode_bytes
from studybot.ingest.repair.cache import RepairCache
from studybot.ingest.repair.damage import Unit, line_units, looks_mojibake
from studybot.ingest.repair.scoring import DEFAULT_SCORER, Scorer, resolve_scorer
from studybot.ingest.repair import gemma as _gemma  # noqa: F401  (registers the "gemma" scorer; loads nothing)

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
    """The repaired text and what it took; `scorer` says which model chose the characters."""

    text: str
    mojibake: bool
    damaged: int = 0
    restored: int = 0
    low_confidence: list[RepairSpot] = field(default_factory=list)
    scorer: str = ""  # the scorer that ran ("" when the text needed none)
    fallback: str = ""  # why the requested scorer could not run here, when it could not
    cached_lines: int = 0  # damaged lines whose repair came from the cache, not the scorer


def _repair_line(units: list[Unit], line: str, score: Scorer) -> dict:
    """One line's repair as plain data (cacheable): text, counts and the spots worth checking."""
    options = [unit.candidates or (line[unit.start:unit.end],) for unit in units]
    posteriors = score(options) if any(len(opts) > 1 for opts in options) else {}
    chosen = [opts[0] for opts in options]
    result = {"text": "", "damaged": 0, "restored": 0, "spots": []}
    for pos, unit in enumerate(units):
        if not unit.damaged:
            continue
        result["damaged"] += 1
        if not unit.candidates:
            continue
        result["restored"] += 1
        probs = posteriors.get(pos, {chosen[pos]: 1.0})
        # Ties go to the lowest code point (candidates are sorted), so the result is deterministic.
        best = max(unit.candidates, key=lambda char: probs.get(char, 0.0))
        chosen[pos] = best
        if probs.get(best, 0.0) < LOW_CONFIDENCE:
            others = sorted((c for c in unit.candidates if c != best and probs.get(c, 0.0) >= 0.01),
                            key=lambda char: -probs[char])
            result["spots"].append([pos + 1, best, others[:3], round(probs.get(best, 0.0), 3)])
    result["text"] = "".join(chosen)
    return result


def repair_text(text: str, scorer_name: str = DEFAULT_SCORER, cache: Path | None = None) -> RepairReport:
    """Return the repaired text, how much was damaged and restored, and the spots worth checking.

    With `cache` (a SQLite file, created if missing) each damaged line is scored once per scorer
    version and read back afterwards, so re-indexing pays for a slow scorer only on new lines.
    A scorer whose model is missing here falls back to jieba; the report says so.
    """
    if not looks_mojibake(text):
        return RepairReport(text=text, mojibake=False)
    choice = resolve_scorer(scorer_name)
    report = RepairReport(text="", mojibake=True, scorer=choice.name, fallback=choice.fallback)
    lines = text.split("\n")
    units = {line: line_units(line) for line in lines}
    damaged = [line for line, found in units.items() if any(unit.damaged for unit in found)]
    store = RepairCache(cache) if cache is not None else None
    repairs = store.get_many(choice.identity, damaged) if store else {}
    report.cached_lines = sum(line in repairs for line in lines)
    fresh = {line: _repair_line(units[line], line, choice.score) for line in damaged if line not in repairs}
    if store:
        store.put_many(choice.identity, fresh)
    repairs.update(fresh)
    out = []
    for number, line in enumerate(lines, start=1):
        repair = repairs.get(line) or _repair_line(units[line], line, choice.score)
        report.damaged += repair["damaged"]
        report.restored += repair["restored"]
        report.low_confidence.extend(RepairSpot(number, *spot) for spot in repair["spots"])
        out.append(repair["text"])
    report.text = "\n".join(out)
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


def repair_file(path: Path, out: Path | None = None, in_place: bool = False,
                scorer_name: str = DEFAULT_SCORER, cache: Path | None = None) -> FileRepair:
    """Repair a note file; write it to `out`, or over itself after a backup when `in_place`.

    The input is never overwritten without `in_place`, and a backup never overwrites another.
    """
    path = Path(path)
    if in_place and out is not None:
        raise StudybotError("give either --in-place or -o OUT, not both")
    if out is not None and Path(out).resolve() == path.resolve():
        raise StudybotError(f"-o would overwrite {path}: use --in-place to repair it with a backup")
    text, encoding = _read(path)
    result = FileRepair(file=str(path), encoding=encoding, report=repair_text(text, scorer_name, cache))
    if in_place:
        backup = _free_backup_name(path)
        shutil.copy2(path, backup)
        write_atomic(path, result.report.text.encode(encoding))
        result.written, result.backup = str(path), str(backup)
    elif out is not None:
        write_atomic(Path(out), result.report.text.encode(encoding))
        result.written = str(out)
    return result
