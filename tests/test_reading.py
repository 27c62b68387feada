"""Decoding note files: encodings, binaries, line endings, discovery of note files."""

from __future__ import annotations

import codecs

import pytest

from studybot.errors import StudybotError
from studybot.ingest.decoding import UnreadableFile, decode_bytes
from studybot.ingest.reading import iter_note_files, read_text

TEXT = "# 标题\n梯度消失 vanishing gradient\n"


@pytest.mark.parametrize(
    "data, encoding",
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
        (TEXT.encode("utf-16-le"), "utf-16-le"),
        (TEXT.encode("gbk"), "gb18030"),
    ],
)
def test_decodes_common_encodings(data: bytes, encoding: str) -> None:
    text, found = decode_bytes(data)
    assert text == TEXT
    assert found == encoding


def test_binary_file_is_refused() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256))
    with pytest.raises(UnreadableFile):
        decode_bytes(png)


def test_read_text_normalises_line_endings(tmp_path) -> None:
    path = tmp_path / "a.md"
    path.write_bytes(b"a\r\nb\rc\n")
    assert read_text(path).text == "a\nb\nc\n"


def test_iter_note_files_filters_suffixes_and_hidden(tmp_path) -> None:
    (tmp_path / "a.md").write_text("x")
    (tmp_path / "b.markdown").write_text("x")
    (tmp_path / "c.txt").write_text("x")
    (tmp_path / "d.png").write_bytes(b"\x89PNG")
    (tmp_path / ".obsidian").mkdir()
    (tmp_path / ".obsidian" / "e.md").write_text("x")
    names = [p.name for p in iter_note_files([tmp_path])]
    assert names == ["a.md", "b.markdown", "c.txt"]


def test_iter_note_files_missing_path(tmp_path) -> None:
    with pytest.raises(StudybotError, match="path not found"):
        iter_note_files([tmp_path / "nope"])
