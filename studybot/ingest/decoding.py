"""Note bytes to text: BOMs, UTF-16 without a BOM, UTF-8 and GB18030; binaries refused."""

from __future__ import annotations

import codecs

from studybot.errors import StudybotError


class UnreadableFile(StudybotError):
    """A file that is not text studybot can read (binary, unknown encoding, permission denied)."""


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
