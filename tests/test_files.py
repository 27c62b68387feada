"""Atomic writes keep a file's permissions, and a failed write leaves the old content."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from studybot.files import replacing, write_atomic
from tests.conftest import run_cli
from tests.test_repair import ROUND_TRIP, mangle


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600, 0o755])
def test_rewriting_keeps_the_mode(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "note.md"
    path.write_text("old")
    os.chmod(path, mode)
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new" and _mode(path) == mode
    assert [p.name for p in tmp_path.iterdir()] == ["note.md"]  # no temporary file left behind


def test_a_new_file_gets_the_umask_default(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "fresh.md", b"x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "fresh.md") == 0o640  # 0666 less the umask, not mkstemp's 0600


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "deck.apkg"
    path.write_bytes(b"old deck")
    with pytest.raises(RuntimeError):
        with replacing(path) as tmp:
            tmp.write_bytes(b"half a dec")
            raise RuntimeError("interrupted")
    assert path.read_bytes() == b"old deck"
    assert [p.name for p in tmp_path.iterdir()] == ["deck.apkg"]


@pytest.mark.parametrize("mode", [0o644, 0o640])
def test_repair_in_place_keeps_the_notes_mode(tmp_path: Path, mode: int) -> None:
    note = tmp_path / "note.md"
    note.write_text(mangle(ROUND_TRIP[0]), encoding="utf-8")
    os.chmod(note, mode)
    result = run_cli("repair", str(note), "--scorer", "jieba", "--in-place")
    assert result.returncode == 0, result.stderr
    assert "面试回答" in note.read_text(encoding="utf-8")
    assert _mode(note) == mode
