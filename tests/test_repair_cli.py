"""`studybot repair` on real files: counts that claim no more than the scorer knows, bytes kept, modes kept.

Damaged input is made the way the user's notes were damaged, by ../shared/tools/mangle.py run on
clean Chinese written here; every command runs the jieba scorer (instant), as a user would type it.
"""

from __future__ import annotations

import codecs
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SHARED
from tests.test_repair import is_damaged

MANGLE = SHARED / "tools" / "mangle.py"
# jieba picks wrongly twice here: 与 becomes 不 in line 1, unsure (flagged); 步 becomes 来 in line 2,
# sure of itself. Nothing the scorer knows tells the second from a right answer, so the words must not
# claim it is right.
CLEAN = "## 三、过拟合与正则化\nwarmup：前若干步线性增大学习率\n损失函数的梯度指向上升最快的方向。\n"
FLAGGED_WRONG = (1, 9, "与", "不")
CONFIDENT_WRONG = (2, 11, "步", "来")
LONG_AGO = 1_700_000_000  # an mtime a rewrite could not keep by accident


def mangled(text: str) -> str:
    """The export's damage, by the shared tool itself (stdin to stdout)."""
    result = subprocess.run([sys.executable, str(MANGLE)], input=text.encode("utf-8"), capture_output=True,
                            env={**os.environ, "PYTHONIOENCODING": "utf-8"}, check=True)
    return result.stdout.decode("utf-8")


def repair(*args: str) -> subprocess.CompletedProcess:
    """`studybot repair ARGS --scorer jieba`, stdout as bytes (it carries the file's own encoding)."""
    env = {key: value for key, value in os.environ.items() if key != "STUDYBOT_HOME"}
    return subprocess.run([sys.executable, "-m", "studybot", "repair", *args, "--scorer", "jieba"],
                          capture_output=True, cwd=REPO, env=env, timeout=300)


def stderr_lines(result: subprocess.CompletedProcess) -> list[str]:
    text = result.stderr.decode("utf-8")
    assert "Traceback" not in text, text
    return text.strip().splitlines()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def damaged_text() -> str:
    text = mangled(CLEAN)
    assert text != CLEAN and "与" not in text
    return text


def test_a_wrong_guess_is_counted_as_a_guess_and_no_repair_is_called_restored(tmp_path, damaged_text) -> None:
    note = tmp_path / "note.md"
    note.write_text(damaged_text, encoding="utf-8")
    result = repair(str(note), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    lines = CLEAN.split("\n")
    repaired = doc["text"].split("\n")
    for line, column, want, got in (FLAGGED_WRONG, CONFIDENT_WRONG):
        assert lines[line - 1][column - 1] == want and repaired[line - 1][column - 1] == got
    spots = {(spot["line"], spot["column"]): spot for spot in doc["low_confidence"]}
    assert spots[FLAGGED_WRONG[:2]]["chosen"] == "不" and "与" in spots[FLAGGED_WRONG[:2]]["alternatives"]
    assert spots[FLAGGED_WRONG[:2]]["confidence"] < 0.9
    assert CONFIDENT_WRONG[:2] not in spots  # the scorer cannot know this one is wrong...
    damaged = sum(map(is_damaged, CLEAN))
    assert doc["damaged"] == damaged == doc["repaired"] and doc["unrepaired"] == 0
    assert doc["confident"] == damaged - len(spots) and doc["lines_to_check"] == [1]
    assert "restored" not in doc

    shown = repair(str(note))
    assert shown.returncode == 0
    assert shown.stdout.decode("utf-8") == doc["text"]
    summary, *details, written = stderr_lines(shown)
    # ...so the count says whose confidence it is, and calls nothing restored
    assert summary == (f"{note}: {damaged - len(spots)} of {damaged} damaged characters repaired with confidence "
                       f"(jieba \u2265 90%), {len(spots)} guessed (check line 1), 0 left as found; "
                       f"{doc['decoded']} more decoded exactly")
    assert "restored" not in shown.stderr.decode("utf-8")
    assert "  line 1, column 9: 不 (46%; or 中, 与)" in details and len(details) == len(spots)
    assert written == f"text on stdout in UTF-8, the encoding of {note}"


CLEAN_FILES = {
    "gbk": "正确解码的 GBK 文本：注意力机制与位置编码\r\n第二行。\r\n".encode("gbk"),
    "gb18030": "残差连接 𠀀 与层归一化\n".encode("gb18030"),
    "utf-16 BOM LE": codecs.BOM_UTF16_LE + "梯度消失\n反向传播\n".encode("utf-16-le"),
    "utf-16 BOM BE": codecs.BOM_UTF16_BE + "梯度消失\n反向传播\n".encode("utf-16-be"),
    "utf-16-le": "no BOM 梯度消失\n".encode("utf-16-le"),
    "utf-8 BOM": codecs.BOM_UTF8 + "自注意力 café\r\n".encode("utf-8"),
    "utf-8": "Plain notes 🚀 and 中文.\n".encode("utf-8"),
}


@pytest.mark.parametrize("kind", CLEAN_FILES)
def test_clean_files_come_back_byte_for_byte(tmp_path, kind: str) -> None:
    note = tmp_path / "note.md"
    note.write_bytes(CLEAN_FILES[kind])
    out = tmp_path / "out.md"
    written = repair(str(note), "-o", str(out))
    assert written.returncode == 0
    assert out.read_bytes() == CLEAN_FILES[kind]
    assert stderr_lines(written) == [f"{note}: no export damage found; unchanged (the same bytes written to {out})"]
    shown = repair(str(note))
    assert shown.returncode == 0 and shown.stdout == CLEAN_FILES[kind]
    assert stderr_lines(shown) == [f"{note}: no export damage found; unchanged (the same bytes on stdout)"]


@pytest.mark.parametrize("kind", ["utf-8", "gbk", "utf-16 BOM BE"])
def test_a_clean_file_in_place_is_not_touched(tmp_path, kind: str) -> None:
    note = tmp_path / "note.md"
    note.write_bytes(CLEAN_FILES[kind])
    os.chmod(note, 0o640)
    os.utime(note, (LONG_AGO, LONG_AGO))
    before = note.stat()
    result = repair(str(note), "--in-place")
    assert result.returncode == 0 and result.stdout == b""
    assert stderr_lines(result) == [f"{note}: no export damage found; unchanged (nothing written)"]
    after = note.stat()
    assert [p.name for p in tmp_path.iterdir()] == ["note.md"]  # no backup, no temporary file
    assert note.read_bytes() == CLEAN_FILES[kind]
    assert (after.st_mtime_ns, after.st_ino, _mode(note)) == (before.st_mtime_ns, before.st_ino, 0o640)


ENCODINGS = {  # how a damaged note may be stored, and how the summary names it
    "utf-8": (b"", "utf-8", "UTF-8"),
    "utf-8-sig": (codecs.BOM_UTF8, "utf-8", "UTF-8 with BOM"),
    "utf-16-be": (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE with BOM"),
    "gb18030": (b"", "gb18030", "GB18030"),
}


@pytest.mark.parametrize("kind", ENCODINGS)
def test_a_repaired_file_is_written_in_its_own_encoding_and_says_which(tmp_path, damaged_text, kind: str) -> None:
    bom, codec, name = ENCODINGS[kind]
    note = tmp_path / "note.md"
    note.write_bytes(bom + damaged_text.encode(codec))
    out = tmp_path / "fixed.md"
    result = repair(str(note), "-o", str(out))
    assert result.returncode == 0
    assert stderr_lines(result)[-1] == f"wrote {out} in {name}, the encoding of {note}"
    data = out.read_bytes()
    assert data.startswith(bom)
    assert data[len(bom):].decode(codec) == json.loads(repair(str(note), "--json").stdout)["text"]


def test_invalid_utf8_bytes_are_counted_when_the_file_is_rewritten(tmp_path, damaged_text) -> None:
    note = tmp_path / "note.md"
    note.write_bytes(damaged_text.encode("utf-8") + b"tail \xff\n")
    result = repair(str(note), "--json")
    assert result.returncode == 0
    doc = json.loads(result.stdout)
    assert doc["invalid_bytes"] == 1 and doc["text"].endswith("tail \ufffd\n")
    shown = repair(str(note), "-o", str(tmp_path / "fixed.md"))
    assert stderr_lines(shown)[-1].endswith("; 1 byte(s) that were not valid UTF-8 are now U+FFFD")


def test_mojibake_without_lost_bytes_is_decoded_and_says_so(tmp_path) -> None:
    clean = "常用方法包括梯度下的自适应方法，目标是让函数最优化。\n"
    assert not any(map(is_damaged, clean))
    note = tmp_path / "note.md"
    note.write_text(mangled(clean), encoding="utf-8")
    result = repair(str(note), "-o", str(tmp_path / "fixed.md"))
    assert result.returncode == 0
    assert (tmp_path / "fixed.md").read_text(encoding="utf-8") == clean
    assert stderr_lines(result)[0] == f"{note}: no damaged characters; {len(clean) - 1} decoded exactly"


def test_a_utf8_note_with_gbk_lines_is_written_back_whole_in_utf8(tmp_path) -> None:
    utf8, gbk = "# 激活函数\n\nReLU 在负半轴梯度为 0。\n", "GELU 更平滑。\nSwish 是 x·sigmoid(x)。\n"
    note = tmp_path / "note.md"
    note.write_bytes(utf8.encode("utf-8") + gbk.encode("gbk"))
    doc = json.loads(repair(str(note), "--json").stdout)
    assert doc["changed"] is True and doc["text"] == utf8 + gbk
    out = tmp_path / "out.md"
    result = repair(str(note), "-o", str(out))
    assert result.returncode == 0
    assert out.read_bytes() == (utf8 + gbk).encode("utf-8")
    assert stderr_lines(result) == [f"{note}: no export damage found; its GBK (GB18030) lines are now UTF-8",
                                    f"wrote {out} in UTF-8 (its GB18030 lines converted), the encoding of {note}"]
    original = note.read_bytes()
    assert repair(str(note), "--in-place").returncode == 0
    assert note.read_bytes() == (utf8 + gbk).encode("utf-8") and note.with_name("note.md.bak").read_bytes() == original


@pytest.mark.parametrize("mode", [0o640, 0o644])
def test_in_place_keeps_mode_and_owner_on_the_file_and_its_backup(tmp_path, damaged_text, mode: int) -> None:
    note = tmp_path / "note.md"
    note.write_text(damaged_text, encoding="utf-8")
    os.chmod(note, mode)
    owner = (4242, 4243) if os.getuid() == 0 else (os.getuid(), os.getgid())  # root can give the note away
    os.chown(note, *owner)
    original = note.read_bytes()
    result = repair(str(note), "--in-place")
    assert result.returncode == 0 and result.stdout == b""
    backup = note.with_name("note.md.bak")
    assert stderr_lines(result)[-1] == f"wrote {note} in UTF-8, its own encoding; original kept as {backup}"
    assert backup.read_bytes() == original and note.read_bytes() != original
    for path in (note, backup):
        assert _mode(path) == mode, path
        assert (path.stat().st_uid, path.stat().st_gid) == owner, path


@pytest.mark.parametrize("case", ["output folder missing", "output under a file", "both destinations"])
def test_a_destination_that_cannot_be_written_is_one_line(tmp_path, damaged_text, case: str) -> None:
    note = tmp_path / "note.md"
    note.write_text(damaged_text, encoding="utf-8")
    args = {"output folder missing": ["-o", str(tmp_path / "missing" / "fixed.md")],
            "output under a file": ["-o", str(note / "fixed.md")],
            "both destinations": ["-o", str(tmp_path / "fixed.md"), "--in-place"]}[case]
    result = repair(str(note), *args)
    assert result.returncode != 0 and result.stdout == b""
    (line,) = stderr_lines(result)
    assert line.startswith("studybot: error: ")
    assert note.read_text(encoding="utf-8") == damaged_text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["note.md"]



@pytest.mark.slow
def test_a_killed_repair_keeps_the_lines_it_finished_and_redoes_only_the_rest(tmp_path: Path) -> None:
    import re
    import signal
    import sqlite3
    import time

    from studybot.ingest.repair.restore import repair_text

    lines = [line for note in sorted((REPO / "knowledge").glob("*.md")) for line in note.read_text("utf-8").splitlines()
             if re.search(r"[\u4e00-\u9fff]{6}", line)]
    clean = "\n".join(f"{line} ({copy})" for copy in range(3) for line in lines)  # thousands of distinct lines
    note = tmp_path / "big.md"
    note.write_text(mangled(clean), encoding="utf-8")
    cache = tmp_path / "cache"
    env = {**os.environ, "STUDYBOT_CACHE": str(cache)}
    command = [sys.executable, "-m", "studybot", "repair", "--scorer", "jieba", str(note), "-o", str(tmp_path / "out.md")]
    proc = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stored, deadline = 0, time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:  # kill it once its first lines are kept
        if (cache / "repairs.sqlite").exists():
            try:
                with sqlite3.connect(cache / "repairs.sqlite", timeout=1) as db:
                    stored = db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
            except sqlite3.OperationalError:  # the table is not there yet
                stored = 0
            if stored:
                proc.send_signal(signal.SIGKILL)
                break
        time.sleep(0.05)
    assert proc.wait(timeout=30) == -signal.SIGKILL, "the repair ended before it could be killed"
    with sqlite3.connect(cache / "repairs.sqlite") as db:
        kept = db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
    damaged_lines = len(clean.splitlines())
    assert 0 < kept < damaged_lines
    again = subprocess.run([*command, "--json"], env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    doc = json.loads(again.stdout)
    assert doc["cached_lines"] == kept  # only the unfinished lines were scored again
    assert (tmp_path / "out.md").read_text("utf-8") == repair_text(mangled(clean), "jieba").text
