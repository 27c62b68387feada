"""Decoding note files: encodings, binaries, line endings, discovery of note files."""

from __future__ import annotations

import codecs
import json

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
        (codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"), "utf-32"),
        (codecs.BOM_UTF32_BE + TEXT.encode("utf-32-be"), "utf-32"),
    ],
)
def test_decodes_common_encodings(data: bytes, encoding: str) -> None:
    text, found = decode_bytes(data)
    assert text == TEXT
    assert found == encoding


TRADITIONAL = "# Transformer 編碼器與解碼器\n\nEncoder 用自注意力，Decoder 還有交叉注意力和遮罩，訓練時可以並行計算。\n"


def test_big5_is_read_as_big5_and_utf32_as_utf32() -> None:
    """A Big5 note (Taiwan, Hong Kong) was read as GB18030: "Transformer 絪絏竟籔秆絏竟" and private-use characters,
    indexed and quoted without a warning; UTF-32 was read as UTF-16, a NUL between every two characters."""
    from studybot.ingest.decoding import encode_like, encoding_name

    data = TRADITIONAL.encode("big5")
    assert decode_bytes(data) == (TRADITIONAL, "big5") and encode_like(TRADITIONAL, "big5", data) == data
    assert encoding_name("big5", data) == "Big5"
    simplified = "# 编码器与解码器\n\n编码器用自注意力，解码器还有交叉注意力和掩码，训练时可以并行计算。\n"
    assert decode_bytes(simplified.encode("gbk")) == (simplified, "gb18030")  # a GBK note stays GBK
    utf32 = codecs.BOM_UTF32_LE + TRADITIONAL.encode("utf-32-le")
    assert encode_like(TRADITIONAL, "utf-32", utf32) == utf32 and encoding_name("utf-32", utf32) == "UTF-32 LE with BOM"
    with pytest.raises(UnreadableFile):  # NULs behind a BOM are no text
        decode_bytes(codecs.BOM_UTF16_LE + b"a\x00\x00\x00b\x00")


def test_a_utf8_note_with_gbk_lines_pasted_in_is_read_line_by_line(tmp_path) -> None:
    """Text pasted from a GBK file into a UTF-8 note was refused as "not text in UTF-8, UTF-16, GB18030 or Big5",
    the whole note skipped, with no word of where: each line is read as written, and the GBK lines are named."""
    from studybot.ingest.decoding import encode_like, encoding_name

    utf8 = "# 优化方法\n\n动量法可以加速收敛，减少震荡。\n\n"
    gbk = "## 学习率\n\n学习率太大会震荡，太小收敛慢。\n"
    data = utf8.encode("utf-8") + gbk.encode("gbk")
    assert decode_bytes(data) == (utf8 + gbk, "mixed")
    assert encode_like(utf8 + gbk, "mixed", data) == (utf8 + gbk).encode("utf-8")  # written back as UTF-8
    assert encoding_name("mixed", data).startswith("UTF-8")
    path = tmp_path / "mixed.md"
    path.write_bytes(data)
    assert read_text(path).gb18030_lines == [5, 7]
    # a GBK note, a UTF-8 one and a GBK note with one line of English stay as they were
    assert decode_bytes(gbk.encode("gbk")) == (gbk, "gb18030")
    assert decode_bytes(("Adam: adaptive moments\n" + gbk).encode("gbk"))[1] == "gb18030"
    long_note = utf8 * 2000 + gbk  # a few bad bytes in a long note were read as U+FFFD: it is a GBK line still
    assert decode_bytes(long_note.encode("utf-8")[:-len(gbk.encode())] + gbk.encode("gbk"))[1] == "mixed"
    big5 = "## 編碼器\n\n編碼器用自注意力，解碼器還有交叉注意力。\n".encode("big5")
    with pytest.raises(UnreadableFile):  # GB18030 reads Big5 bytes as rare characters: refused, not indexed as garbage
        decode_bytes(utf8.encode() + big5)
    with pytest.raises(UnreadableFile):  # a line that neither encoding reads: refused, as before
        decode_bytes(data.replace("学习率太大".encode("gbk"), b"\xff\xfe\xff\xfe\xff"))


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


def test_a_logseq_graphs_own_folder_holds_no_notes(tmp_path) -> None:
    """A Logseq graph keeps backups of its pages in logseq/bak/ beside its config.edn: copies, not notes. A
    folder of notes that happens to be called logseq is read."""
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "Dropout.md").write_text("- Zero random activations.")
    (tmp_path / "logseq" / "bak" / "pages" / "Dropout").mkdir(parents=True)
    (tmp_path / "logseq" / "bak" / "pages" / "Dropout" / "2024-01-01T10_00_00.000Z.Desktop.md").write_text("- old")
    (tmp_path / "logseq" / "config.edn").write_text("{:meta/version 1}")
    assert [p.name for p in iter_note_files([tmp_path])] == ["Dropout.md"]
    (tmp_path / "logseq" / "config.edn").unlink()
    assert len(iter_note_files([tmp_path])) == 2


def test_an_obsidian_vaults_templates_folder_holds_no_notes(tmp_path) -> None:
    """Its notes are `{{title}}` placeholders (the core Templates plugin's folder, or Templater's), found in the
    vault indexed, a folder inside it, or a folder holding the vault."""
    vault = tmp_path / "vault"
    for name in ("Attention.md", "Meta/Templates/Concept.md", "Extra/Tpl/Question.md", "Meta/Other.md"):
        (vault / name).parent.mkdir(parents=True, exist_ok=True)
        (vault / name).write_text("# {{title}}\n\n## 定义\n")
    (vault / ".obsidian" / "plugins" / "templater-obsidian").mkdir(parents=True)
    (vault / ".obsidian" / "templates.json").write_text('{"folder": "Meta/Templates", "dateFormat": "YYYY-MM-DD"}')
    (vault / ".obsidian" / "plugins" / "templater-obsidian" / "data.json").write_text('{"templates_folder": "Extra/Tpl"}')
    for indexed in (vault, vault / "Meta", tmp_path):
        assert {p.name for p in iter_note_files([indexed])} <= {"Attention.md", "Other.md"}, indexed
    assert "Other.md" in {p.name for p in iter_note_files([vault])}
    (vault / ".obsidian" / "templates.json").write_text("not json")  # a broken setting: that folder is read
    assert "Concept.md" in {p.name for p in iter_note_files([vault])}


def test_iter_note_files_missing_path(tmp_path) -> None:
    with pytest.raises(StudybotError, match="path not found"):
        iter_note_files([tmp_path / "nope"])


def test_a_few_invalid_bytes_in_utf8_keep_the_note() -> None:
    from studybot.ingest.decoding import invalid_utf8

    data = "第一行\n批归一化 BN\n".encode() + b"\xff\xfe" + " 后面的文字 LayerNorm\n".encode()
    text, encoding = decode_bytes(data)
    assert encoding == "utf-8" and text.count("\ufffd") == 2 and text.endswith("后面的文字 LayerNorm\n")
    assert invalid_utf8(data) == [data.index(b"\xff"), data.index(b"\xff") + 1]
    # a GBK note is invalid UTF-8 all through: it still reads as GB18030, even when mostly English
    assert decode_bytes("Mostly English, GBK: 注意力 ok".encode("gbk")) == ("Mostly English, GBK: 注意力 ok", "gb18030")
    assert decode_bytes(b"English only\n\xff\xfe bad\n") == ("English only\n\ufffd\ufffd bad\n", "utf-8")


def test_a_note_with_invalid_bytes_is_indexed_with_a_warning_naming_line_and_byte(tmp_path: Path) -> None:
    from studybot.index.build import build_index
    from studybot.index.search import search

    notes = tmp_path / "notes"
    notes.mkdir()
    head = "# 归一化\n\n## BatchNorm 和 LayerNorm\n\n".encode()
    (notes / "broken.md").write_bytes(head + b"\xc3(" + "LayerNorm 对每个样本的特征做归一化，不依赖 batch size。\n".encode())
    warnings: list[str] = []
    summary = build_index(tmp_path / "home", [notes], bundled=False, repair="jieba", warn=warnings.append)
    assert summary.files == 1 and summary.skipped == []
    (warning,) = [w for w in warnings if "broken.md" in w]
    assert "line 5" in warning and f"byte offset {len(head)}" in warning and "1 byte" in warning
    hits = search("LayerNorm 依赖 batch size 吗？", k=1, home=tmp_path / "home")
    assert hits[0].file.endswith("broken.md") and "不依赖 batch size" in hits[0].text


def test_invalid_bytes_all_through_a_large_note_are_placed_on_their_lines(tmp_path) -> None:
    line = ("梯度消失 vanishing gradient " * 40).encode()  # 1.3 KB: one bad byte a line is under 1 in 1000
    data = b"".join(line[:9] + b"\xff" + line[9:] + b"\n" for _ in range(1500))
    (tmp_path / "n.md").write_bytes(data)
    loaded = read_text(tmp_path / "n.md", "jieba")
    assert loaded.encoding == "utf-8"
    assert [n for n, _ in loaded.invalid] == list(range(1, 1501))
    assert [offset for _, offset in loaded.invalid] == [i * (len(line) + 2) + 9 for i in range(1500)]


def _notebook(cells: list[dict]) -> dict:
    return {"cells": cells, "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}


def test_a_jupyter_notebook_is_read_as_its_cells_line_for_line(tmp_path) -> None:
    """A notebook is Markdown cells and code, not JSON: its outputs and raw cells are not read, a code cell is
    fenced, and every line keeps the file's line number, so a citation opens the notebook at the cell."""
    from studybot.ingest.chunking import chunk_note
    from studybot.ingest.notes import parse_note

    cells = [{"cell_type": "markdown", "id": "a1", "metadata": {},
              "source": ["# Dropout\n", "\n", "Dropout zeroes random units while training.\n", "It is off at inference."]},
             {"cell_type": "code", "execution_count": 1, "id": "b2", "metadata": {},
              "outputs": [{"name": "stdout", "output_type": "stream", "text": ["printed by the cell\n"]}],
              "source": ["import torch\n", "layer = torch.nn.Dropout(p=0.5)"]},
             {"cell_type": "raw", "id": "c3", "metadata": {}, "source": ["exporter settings\n"]},
             {"cell_type": "code", "execution_count": None, "id": "d4", "metadata": {}, "outputs": [], "source": []}]
    raw = json.dumps(_notebook(cells), sort_keys=True, indent=1, ensure_ascii=False) + "\n"  # as Jupyter writes it
    path = tmp_path / "regularization.ipynb"
    path.write_text(raw, encoding="utf-8")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "regularization-checkpoint.ipynb").write_text(raw, encoding="utf-8")
    assert iter_note_files([tmp_path]) == [path.resolve()]
    text = read_text(path, "jieba").text
    file_lines = raw.split("\n")
    assert len(text.split("\n")) == len(file_lines)
    assert "printed by the cell" not in text and "exporter settings" not in text and '"cell_type"' not in text
    (chunk,) = chunk_note(parse_note(text, str(path)))
    assert chunk.heading_path == ["Dropout"]
    assert "Dropout zeroes random units while training.\nIt is off at inference." in chunk.text
    assert "```python\nimport torch\nlayer = torch.nn.Dropout(p=0.5)\n```" in chunk.text
    heading_line = next(n for n, line in enumerate(file_lines, start=1) if '"# Dropout\\n"' in line)
    assert chunk.line_start == heading_line


def test_a_notebook_written_on_one_line_is_read_cell_by_cell_and_a_broken_one_is_refused(tmp_path) -> None:
    minified = tmp_path / "compact.ipynb"
    minified.write_text(json.dumps(_notebook([{"cell_type": "markdown", "metadata": {},
                                               "source": "## Attention\nWeights values by query-key match."}])))
    assert read_text(minified, "jieba").text == "## Attention\nWeights values by query-key match."
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [')
    with pytest.raises(UnreadableFile, match="broken.ipynb is not a Jupyter notebook"):
        read_text(broken, "jieba")


def test_quarto_and_r_markdown_notes_are_found_in_a_folder(tmp_path) -> None:
    """Quarto (`.qmd`) and R Markdown (`.Rmd`) files are Markdown notes: a folder of them is read, not passed over."""
    (tmp_path / "ch1").mkdir()
    (tmp_path / "ch1" / "attention.qmd").write_text("# Attention\n")
    (tmp_path / "ch1" / "regression.Rmd").write_text("# Regression\n")
    (tmp_path / "slides.pdf").write_bytes(b"%PDF-1.4")
    assert [p.name for p in iter_note_files([tmp_path])] == ["attention.qmd", "regression.Rmd"]
