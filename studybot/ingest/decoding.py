"""Note bytes to text: BOMs (UTF-8, UTF-16, UTF-32), UTF-16 without a BOM, UTF-8, GB18030 and Big5, UTF-8 with GBK
lines pasted in; binaries refused; and back."""

from __future__ import annotations

import codecs
import re

from studybot.errors import StudybotError


_ESCAPED = re.compile("[\udc80-\udcff]+")  # bytes that surrogateescape could not decode


class UnreadableFile(StudybotError):
    """A file that is not text studybot can read (binary, unknown encoding, permission denied)."""


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode note bytes, trying BOMs, then UTF-16 without BOM, UTF-8 and GB18030 (or Big5); raise if binary."""
    # UTF-32's little-endian BOM begins with UTF-16's: read as UTF-16, every other character was a NUL
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                      (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                text = data.decode(name)
            except UnicodeDecodeError as exc:
                raise UnreadableFile(f"damaged {name} text ({exc.reason})") from exc
            if "\x00" in text:
                raise UnreadableFile(f"binary file behind a {_NAMES.get(name, name)} mark")
            return text, name
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
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # A few broken bytes in a UTF-8 note (a bad copy, a cut multi-byte character) keep the note: each
    # becomes U+FFFD (`invalid_utf8` says where, for the warning). A note whose other non-ASCII text is
    # valid UTF-8 is UTF-8; otherwise GB18030 gets its chance first (a GBK note is invalid UTF-8 throughout).
    broken = len(invalid_utf8(data, limit=_few(data) + 1))
    if (mixed := _line_by_line(data)) is not None:  # before the few broken bytes: a GBK line in a long note is a few
        return mixed, "mixed"
    if broken <= _few(data):
        text = data.decode("utf-8", errors="replace")
        if sum(ord(c) > 127 and c != "\ufffd" for c in text) >= 4 * broken:
            return text, "utf-8"
    try:
        text = data.decode("gb18030")
        return (big5, "big5") if (big5 := _big5_instead(data, text)) else (text, "gb18030")
    except UnicodeDecodeError:
        if broken <= _few(data):
            return data.decode("utf-8", errors="replace"), "utf-8"
        raise UnreadableFile("not text in UTF-8, UTF-16, GB18030 or Big5: save it as UTF-8") from None


_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE",
          "utf-16": "UTF-16", "utf-32": "UTF-32", "gb18030": "GB18030", "big5": "Big5",
          "mixed": "UTF-8 (its GB18030 lines converted)"}
_CJK = re.compile("[\u4e00-\u9fff]")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def _line_by_line(data: bytes) -> str | None:
    """A UTF-8 note with GBK lines pasted in (or the reverse), each line read as written, else None. Read whole
    as GB18030 its UTF-8 lines came out as rare characters; read as UTF-8 it was refused. The UTF-8 lines must
    hold Chinese that is common (`common_share`): a GBK line that happens to be valid UTF-8 reads as rare characters."""
    lines, utf8_chinese, others = [], [], 0
    for line in data.splitlines(keepends=True):  # no GB18030 byte is a line break
        try:
            lines.append(line.decode("utf-8"))
            utf8_chinese.extend(_CJK.findall(lines[-1]))
        except UnicodeDecodeError:
            try:
                lines.append(line.decode("gb18030"))
            except UnicodeDecodeError:
                return None
            # GB18030 reads almost any bytes: a Big5 line, or a cut UTF-8 character, comes out rare or private-use
            if _PRIVATE_USE.search(lines[-1]) or common_share(lines[-1]) < 0.8:
                return None
            others += 1
    if not others or len(utf8_chinese) < 4 or common_share("".join(utf8_chinese)) < 0.8:
        return None
    return "".join(lines)


def _big5_instead(data: bytes, gb18030: str) -> str:
    """The text as Big5 (Taiwan's and Hong Kong's encoding), where GB18030 read it as rare characters and private-use
    ones ("Transformer 絪絏竟籔秆絏竟"), else "". A GBK note's characters are nearly all common ones (GB2312's)."""
    if common_share(gb18030) >= 0.6 and not _PRIVATE_USE.search(gb18030):
        return ""
    try:
        text = data.decode("big5")
    except UnicodeDecodeError:
        return ""
    return "" if _PRIVATE_USE.search(text) else text


def common_share(text: str) -> float:
    """The share of Chinese characters that GB2312, the common simplified set, holds (1.0 with none): GB2312 writes
    each in two bytes, and drops the others when told to ignore them."""
    chinese = "".join(_CJK.findall(text))
    return len(chinese.encode("gb2312", errors="ignore")) / (2 * len(chinese)) if chinese else 1.0


def _utf16_order(data: bytes) -> tuple[bytes, str]:
    """The BOM and codec of UTF-16 read with a BOM: Python's "utf-16" would write the machine's order."""
    if data.startswith(codecs.BOM_UTF16_BE):
        return codecs.BOM_UTF16_BE, "utf-16-be"
    return codecs.BOM_UTF16_LE, "utf-16-le"


def _utf32_order(data: bytes) -> tuple[bytes, str]:
    if data.startswith(codecs.BOM_UTF32_BE):
        return codecs.BOM_UTF32_BE, "utf-32-be"
    return codecs.BOM_UTF32_LE, "utf-32-le"


def encode_like(text: str, encoding: str, original: bytes) -> bytes:
    """`text` encoded as `decode_bytes` found `original` encoded, BOM and byte order included, so a
    file written back differs only where its text does. Every such encoding can encode any character."""
    if encoding == "utf-16":
        bom, codec = _utf16_order(original)
        return bom + text.encode(codec)
    if encoding == "utf-32":
        bom, codec = _utf32_order(original)
        return bom + text.encode(codec)
    if encoding == "mixed":  # written back whole in UTF-8
        return text.encode("utf-8")
    try:
        return text.encode(encoding)
    except UnicodeEncodeError as exc:  # Big5 alone cannot hold every character
        raise StudybotError(f"the repaired text has {exc.object[exc.start:exc.end]!r}, which {_NAMES[encoding]} cannot "
                            "hold: write it elsewhere with -o after converting the note to UTF-8") from None


def encoding_name(encoding: str, original: bytes) -> str:
    """How to tell a user which encoding `encode_like` writes: "UTF-8", "UTF-16 BE with BOM", "GB18030"."""
    if encoding == "utf-16":
        return f"{_NAMES[_utf16_order(original)[1]]} with BOM"
    if encoding == "utf-32":
        return f"UTF-32 {'BE' if _utf32_order(original)[1].endswith('be') else 'LE'} with BOM"
    return _NAMES.get(encoding, encoding)


def _few(data: bytes) -> int:
    """How many invalid bytes still make a UTF-8 note rather than another encoding: 1 in 1000, at least 8."""
    return max(8, len(data) // 1000)


def invalid_utf8(data: bytes, limit: int | None = None) -> list[int]:
    """Offsets of the bytes that are not valid UTF-8 (at most `limit` of them).

    One decoding pass: surrogateescape turns each invalid byte into one lone surrogate, which
    valid UTF-8 never yields; restarting the decoder after each bad byte was quadratic in a
    large note with many.
    """
    text = data.decode("utf-8", errors="surrogateescape")
    offsets: list[int] = []
    position, last = 0, 0
    for match in _ESCAPED.finditer(text):
        if limit is not None and len(offsets) >= limit:
            break
        position += len(text[last:match.start()].encode("utf-8"))
        offsets.extend(range(position, position + match.end() - match.start()))
        position, last = position + match.end() - match.start(), match.end()
    return offsets if limit is None else offsets[:limit]
