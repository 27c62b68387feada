"""Undo the damage of a bad export: UTF-8 notes read back as Windows-1254 (cp1254/cp1252 style).

Baseline: map the text back to its bytes and decode them as UTF-8; characters whose bytes
were lost become U+FFFD. Line breaks are never touched, so line numbers stay valid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

REPLACEMENT = "\ufffd"
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


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


def _to_bytes(run: str) -> bytes | None:
    try:
        return run.encode("cp1254")
    except UnicodeEncodeError:
        return None


def looks_mojibake(text: str) -> bool:
    """True when the non-ASCII text is UTF-8 bytes shown through cp1254: most runs decode back."""
    runs = _NON_ASCII_RUN.findall(text)
    if not runs:
        return False
    data = _to_bytes("".join(runs))
    if data is None:
        return False
    decoded = data.decode("utf-8", errors="replace")
    good = sum(1 for ch in decoded if ch != REPLACEMENT and ord(ch) > 0x7F)
    return good >= 0.5 * len(decoded)


def repair_text(text: str) -> RepairReport:
    """Return the repaired text and how much was damaged; clean text comes back unchanged."""
    if not looks_mojibake(text):
        return RepairReport(text=text, mojibake=False)
    damaged = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal damaged
        decoded = _to_bytes(match.group(0)).decode("utf-8", errors="replace")
        damaged += len(re.findall(f"{REPLACEMENT}+", decoded))
        return decoded

    repaired = _NON_ASCII_RUN.sub(fix, text)
    return RepairReport(text=repaired, mojibake=True, damaged=damaged, restored=0)
