"""The damage model: UTF-8 bytes shown through Windows-1254, its undefined bytes dropped.

The export decoded UTF-8 as cp1254, silently dropped the bytes that code page lacks and stripped
soft hyphens. Every lost byte is a UTF-8 continuation byte, so lead bytes (and ASCII) always
survive: each character still starts where it did, and a damaged one is a lead byte followed by
too few continuation bytes. Enumerating the ways to put the lost bytes back gives the few
characters it could have been; choosing among them is the scorer's job.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from studybot.ingest.decoding import common_share

LOST_BYTES = bytes((0x81, 0x8D, 0x8E, 0x8F, 0x90, 0x9D, 0x9E, 0xAD))
MOJIBAKE_CODEC = "cp1254"
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
# Unassigned, private-use, surrogate and C0/C1 control code points never appear in notes.
_IMPOSSIBLE = frozenset({"Cn", "Co", "Cs", "Cc"})


@dataclass(frozen=True)
class Unit:
    """One character of a line: its span in the damaged text and what it may have been.

    Undamaged characters have one candidate; a damaged one has those its lost bytes allow.
    """

    start: int
    end: int
    candidates: tuple[str, ...]
    damaged: bool


def _length(lead: int) -> int:
    return 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4


@lru_cache(maxsize=None)
def candidates(seq: bytes) -> tuple[str, ...]:
    """Characters whose UTF-8 bytes reduce to `seq` when the lost bytes are dropped, by code point."""
    need = _length(seq[0]) - 1
    present = seq[1:]
    missing = need - len(present)
    found = set()
    for slots in itertools.combinations(range(need), missing):
        for fill in itertools.product(LOST_BYTES, repeat=missing):
            kept, lost = iter(present), iter(fill)
            data = bytes([seq[0], *(next(lost) if k in slots else next(kept) for k in range(need))])
            try:
                char = data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if unicodedata.category(char) not in _IMPOSSIBLE:
                found.add(char)
    return tuple(sorted(found))


def _sequences(data: bytes) -> list[tuple[int, int]]:
    """Split bytes into characters: a lead byte and the continuation bytes after it (at most 3)."""
    spans, i = [], 0
    while i < len(data):
        j = i + 1
        if data[i] >= 0xC0:
            limit = i + _length(data[i])
            while j < min(limit, len(data)) and 0x80 <= data[j] < 0xC0:
                j += 1
        spans.append((i, j))
        i = j
    return spans


def mojibake_bytes(run: str) -> bytes | None:
    """The bytes a run of non-ASCII characters showed, read back through cp1254, else cp1252, else Latin-1
    (whose C1 control characters U+0080-U+009F are the bytes 0x80-0x9F: an export that read UTF-8 as
    ISO-8859-1 lost no byte, "深度" came out "æ·±åº¦" with two invisible controls); None when a character
    is none of these code pages' (CJK, emoji: clean text)."""
    try:  # the damage studybot was built for, whole runs in one call: the rest is read a character at a time
        return run.encode(MOJIBAKE_CODEC)
    except UnicodeEncodeError:
        pass
    data = bytearray()
    for char in run:
        for codec in (MOJIBAKE_CODEC, "cp1252", "latin-1"):
            try:
                data += char.encode(codec)
                break
            except UnicodeEncodeError:
                continue
        else:
            return None
    return bytes(data)


def run_units(run: str, offset: int) -> list[Unit] | None:
    """The characters of one non-ASCII run, or None when the run is not mojibake at all."""
    data = mojibake_bytes(run)
    if data is None or len(data) != len(run):
        return None
    units = []
    for i, j in _sequences(data):
        seq = data[i:j]
        start, end = offset + i, offset + j
        if seq[0] >= 0xC0 and len(seq) < _length(seq[0]):
            # No candidate at all means damage of another kind: counted, but left as it is.
            units.append(Unit(start, end, candidates(seq), True))
            continue
        try:
            units.append(Unit(start, end, (seq.decode("utf-8"),), False))
        except UnicodeDecodeError:  # not this damage: keep the characters as they are
            units.extend(Unit(start + k, start + k + 1, (run[i + k],), False) for k in range(j - i))
    return units


def line_units(line: str) -> list[Unit]:
    """Every character of a line, ASCII and foreign text kept as they are, mojibake decoded."""
    units, pos = [], 0
    for match in _NON_ASCII_RUN.finditer(line):
        units.extend(Unit(k, k + 1, (line[k],), False) for k in range(pos, match.start()))
        decoded = run_units(match.group(0), match.start())
        if decoded is None:
            decoded = [Unit(k, k + 1, (line[k],), False) for k in range(match.start(), match.end())]
        units.extend(decoded)
        pos = match.end()
    units.extend(Unit(k, k + 1, (line[k],), False) for k in range(pos, len(line)))
    return [_in_emoji_sequence(units, i) for i in range(len(units))]


_EMOJI_SELECTOR = "\ufe0f"  # VARIATION SELECTOR-16: "show the character before me as an emoji"
_JOINER = "\u200d"  # ZERO WIDTH JOINER: glues emoji into one (🙆 + ♀ = 🙆‍♀)
_KEYCAP = "\u20e3"  # COMBINING ENCLOSING KEYCAP


def _in_emoji_sequence(units: list[Unit], i: int) -> Unit:
    """Unit i, fixed to the invisible character an emoji sequence requires where Unicode leaves no other choice.

    Their bytes (0x8F, 0x8D) are ones the export drops, so every such emoji comes back damaged, and no
    language model knows these characters: the scorer picked look-alikes (U+FB78, an Arabic letter, in
    "2\ufb78\u20e3"; a closing quote between 🙆 and ♀). A keycap (1️⃣) is digit, selector, U+20E3; after a
    symbol (♀, ⚠) the selector is the emoji's; between two symbols stands the joiner.
    """
    unit = units[i]
    if not unit.damaged or len(unit.candidates) < 2:
        return unit
    before = units[i - 1].candidates if i else ()
    after = units[i + 1].candidates if i + 1 < len(units) else ()
    symbol_before = len(before) == 1 and unicodedata.category(before[0]) == "So"
    if _EMOJI_SELECTOR in unit.candidates and (after == (_KEYCAP,) or symbol_before):
        return Unit(unit.start, unit.end, (_EMOJI_SELECTOR,), True)
    if _JOINER in unit.candidates and symbol_before and len(after) == 1 and unicodedata.category(after[0]) == "So":
        return Unit(unit.start, unit.end, (_JOINER,), True)
    return unit


def looks_mojibake(text: str) -> bool:
    """True when most non-ASCII text is UTF-8 seen through cp1254 (or cp1252, or Latin-1): its byte sequences decode back.

    Clean text in any language fails this: CJK, kana and emoji cannot be encoded as those code pages, and
    accented Latin letters are lone lead bytes that never form a complete UTF-8 sequence.
    """
    complete = total = encodable = foreign = 0
    for run in _NON_ASCII_RUN.findall(text):
        data = mojibake_bytes(run)
        if data is None:
            foreign += len(run)
            continue
        encodable += len(run)
        for i, j in _sequences(data):
            total += 1
            complete += _decodes(data[i:j])
    return complete > 0 and complete >= 0.5 * total and encodable > foreign


def decoded_chinese(text: str) -> int:
    """How many characters of the text's mojibake decode back to Chinese: what a damaged Chinese note is made of,
    where a clean note that quotes one ("opened as Latin-1 it reads cafÃ©") decodes to a Latin letter or two."""
    count = 0
    for run in _NON_ASCII_RUN.findall(text):
        data = mojibake_bytes(run)
        for i, j in _sequences(data) if data is not None else ():
            try:
                count += "\u3400" <= data[i:j].decode("utf-8") <= "\u9fff"
            except UnicodeDecodeError:
                pass
    return count


MIN_GBK_CHINESE = 3  # Chinese characters a GBK note read as Latin-1 decodes back to (a stray "äß" is one)


def gbk_read_as_latin1(text: str) -> str | None:
    """The text of a GBK note that was read as Latin-1 (or cp1252) and saved as UTF-8, else None: "²ÎÊý³õÊ¼»¯" is
    参数初始化, and no byte was lost, so it decodes back whole. Text in a language written in Latin-1 (café, naïve,
    Grüße) does not: its accented letters stand alone or read as GBK as rare characters, never as common Chinese."""
    data, pos = bytearray(), 0
    for match in _NON_ASCII_RUN.finditer(text):
        shown = mojibake_bytes(match.group(0))
        if shown is None or len(shown) != len(match.group(0)):  # CJK, emoji: no Latin-1 showed these
            return None
        data += text[pos:match.start()].encode("ascii") + shown
        pos = match.end()
    try:
        decoded = (data + text[pos:].encode("ascii")).decode("gbk")
    except UnicodeDecodeError:
        return None
    chinese = sum("\u4e00" <= char <= "\u9fff" for char in decoded)
    return decoded if chinese >= MIN_GBK_CHINESE and common_share(decoded) >= 0.8 else None


def _decodes(seq: bytes) -> bool:
    try:
        seq.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
