"""`studybot stats` over time: mastery by week from the review log, interview scores by session, syllabus coverage."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from studybot.content.glossary import load_glossary
from studybot.study.cards import load_deck
from studybot.study.quiz import review_stats
from studybot.study.reviews import ReviewStore
from studybot.study.trends import interview_scores, syllabus_coverage, week_start
from tests.conftest import main_in_process

NOW = datetime(2026, 1, 14, 9, 0, tzinfo=timezone.utc)  # a Wednesday: the current week began Monday 01-12


def _turn(n: int, topic: str, score: int) -> dict:
    return {"n": n, "kind": "opening", "opening": n, "card": f"{topic}-001", "topic": topic, "question": "q",
            "answer": "a", "score": score, "covered": [], "missed": [], "seconds": 1.0}


def _history(home: Path) -> list[str]:
    """Three normalization reviews over three weeks, and two interviews; gives the reviewed card ids."""
    a, b = sorted(c.id for c in load_deck(None).cards if c.topic == "normalization")[:2]
    home.mkdir()
    with ReviewStore(home, NOW.date()) as store:
        store.record(a, "normalization", "easy", datetime(2025, 12, 30, 10, tzinfo=timezone.utc), score=5)
        store.record(b, "normalization", "hard", datetime(2026, 1, 6, 10, tzinfo=timezone.utc), score=3)
        store.record(a, "normalization", "again", datetime(2026, 1, 13, 10, tzinfo=timezone.utc), score=1)
        for day, scores in ((7, {"normalization": 2, "optimizers": 4}), (13, {"normalization": 4})):
            start = datetime(2026, 1, day, 8, tzinfo=timezone.utc)
            store.start_interview(f"s{day}", start, list(scores))
            for n, (topic, score) in enumerate(scores.items(), start=1):
                store.record_turn(f"s{day}", _turn(n, topic, score), start + timedelta(minutes=n))
            store.finish_interview(f"s{day}", start + timedelta(minutes=9), None, {}, "")
    return [a, b]


def test_mastery_by_week_replays_the_review_log_and_ends_at_todays_mastery(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _history(home)
    stats = review_stats(home, NOW, notes=False)
    weekly = stats["mastery_by_week"]
    assert weekly["weeks"][-3:] == ["2025-12-29", "2026-01-05", "2026-01-12"] and len(weekly["weeks"]) == 8
    size = next(t["cards"] for t in stats["topics"] if t["topic"] == "normalization")
    assert list(weekly["topics"]) == ["normalization"]
    assert weekly["topics"]["normalization"] == [0.0] * 5 + [round(x / (5 * size), 3) for x in (5, 8, 4)]
    assert weekly["topics"]["normalization"][-1] == next(t["mastery"] for t in stats["topics"]
                                                         if t["topic"] == "normalization")
    before = review_stats(home, datetime(2026, 1, 6, 12, tzinfo=timezone.utc), notes=False)["mastery_by_week"]
    assert before["weeks"][-1] == "2026-01-05" and before["topics"]["normalization"][-2:] == [
        round(5 / (5 * size), 3), round(8 / (5 * size), 3)]  # a review after the clock does not count
    assert week_start(NOW.date()).isoformat() == "2026-01-12"


def test_interview_scores_by_session_oldest_first(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _history(home)
    sessions = review_stats(home, NOW, notes=False)["interviews"]
    assert [(s["session"], s["score"], s["answers"], s["by_topic"]) for s in sessions] == [
        ("s7", 3.0, 2, {"normalization": 2.0, "optimizers": 4.0}), ("s13", 4.0, 1, {"normalization": 4.0})]
    assert interview_scores([]) == []


def test_coverage_matches_front_matter_aliases_and_glossary_concepts() -> None:
    notes = [("mine/bn.md", {"topic": "归一化"}, "一些笔记"),
             ("mine/opt.txt", {}, "Adam keeps per-parameter rates; momentum smooths the steps."),
             ("mine/one.txt", {}, "只提到一次 LoRA 的随笔。")]
    coverage = {c["topic"]: c for c in syllabus_coverage(notes, load_glossary(None))}
    assert len(coverage) == 17 and coverage["normalization"]["notes"] == ["mine/bn.md"]
    assert coverage["optimizers"]["notes"] == ["mine/opt.txt"]
    assert coverage["lora"]["covered"] is True  # one concept is the note's commonest topic, as cards pick it
    assert sorted(t for t, c in coverage.items() if c["covered"]) == ["lora", "normalization", "optimizers"]
    assert not any(c["covered"] for c in syllabus_coverage([], load_glossary(None)))


def test_a_topic_a_note_mentions_in_passing_is_not_covered_by_it() -> None:
    """A note on attention that names FlashAttention and 显存 once covered "cuda"; a note on GPU memory still does."""
    attention = ("自注意力用 query 和 key 的点积算权重，缩放点积注意力除以根号 d_k；多头注意力把 Q、K、V 投影到多个子空间，"
                 "位置编码给出顺序，RoPE 是相对位置编码，因果掩码挡住未来的 token，交叉注意力连接编码器和解码器，"
                 "稀疏注意力只看局部，长序列时 FlashAttention 少读写 HBM，节省显存带宽。")
    gpu = "CUDA 的共享内存比全局内存快得多；显存带宽决定了 roofline 的斜线，kernel 融合减少访存。"
    coverage = {c["topic"]: c for c in syllabus_coverage([("mine/attn.md", {}, attention), ("mine/gpu.md", {}, gpu)],
                                                         load_glossary(None))}
    assert coverage["transformer"]["notes"] == ["mine/attn.md"]
    assert coverage["cuda"]["notes"] == ["mine/gpu.md"]
    # one file of a whole book names many concepts of its main topic: a few of another still cover it
    book = attention + "优化器：SGD 加动量，Adam 的一阶矩和二阶矩，学习率预热，权重衰减。"
    assert "mine/book.md" in {c["topic"]: c for c in syllabus_coverage([("mine/book.md", {}, book)],
                                                                       load_glossary(None))}["optimizers"]["notes"]


def test_stats_cli_draws_progress_keeps_old_keys_and_writes_a_png(tmp_path: Path, monkeypatch, capsys) -> None:
    home = tmp_path / "home"
    _history(home)
    args = ["stats", "--home", str(home), "--no-notes", "--now", NOW.isoformat()]
    code, out, err = main_in_process(monkeypatch, capsys, *args, "--json", "--plot", str(tmp_path / "p.png"))
    assert code == 0, err
    doc = json.loads(out)
    assert {"cards", "seen", "due_now", "retention", "topics", "per_day", "mastery_by_week", "interviews",
            "coverage"} <= set(doc)
    assert doc["coverage"]["own_notes"] == 0 and len(doc["coverage"]["topics"]) == 17
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, out, err = main_in_process(monkeypatch, capsys, *args)
    assert code == 0, err
    assert "normalization ▁▁▁▁▁" in out and "mock interviews (2, one bar a session, 0-5)" in out
    assert "last 4.0, best 4.0" in out and "0 of 17 bundled topics have a note of yours" in out
    code, out, err = main_in_process(monkeypatch, capsys, *args, "--plot", str(tmp_path / "p.jpg"))
    assert code != 0 and "ending in .png" in err


def test_a_chart_of_many_topics_gives_each_its_colour_and_sessions_whole_ticks() -> None:
    """Eleven topics drew two in the same blue (the ten default colours came round again), and three interview
    sessions were ticked 1.0, 1.2, 1.4 ...: each line has a colour of its own and counts have whole ticks."""
    import matplotlib.pyplot as plt

    from studybot.charts import figure

    topics = {f"topic {i}": [0.1 * i, 0.1 * i + 0.05] for i in range(11)}
    fig = figure([{"title": "mastery", "x": ["11-23", "11-30"], "x_label": "week", "y_label": "mastery",
                   "log_y": False, "lines": topics},
                  {"title": "interviews", "x": [1, 2, 3], "x_label": "session", "y_label": "score", "log_y": False,
                   "lines": {"score": [2.0, 3.5, 4.0]}}], "stats")
    mastery, sessions = fig.axes
    assert len({tuple(line.get_color()) if not isinstance(line.get_color(), str) else line.get_color()
                for line in mastery.lines}) == 11
    ticks = [t for t in sessions.get_xticks() if 1 <= t <= 3]
    assert ticks and all(float(t).is_integer() for t in ticks)
    plt.close(fig)
