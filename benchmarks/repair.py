"""How much of a bad export the repair undoes, next to ftfy and the plain byte decode.

Clean Chinese notes written for this benchmark (benchmarks/data/, not the source of any model
the repair uses) are damaged exactly as the user's notes were, then repaired; every damaged
character is checked against the original. `repair_dev_zh.md` is the text the scorer's few
constants were tuned on; `repair_heldout_zh.md` was not looked at while tuning.

    python benchmarks/repair.py              # jieba, and gemma over jieba where it is unsure
    python benchmarks/repair.py --no-gemma   # jieba only (seconds)
    python benchmarks/repair.py --no-seeds   # the benchmark texts only, not ../shared/seeds
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import re
import sys
import tempfile
import time
from pathlib import Path

import ftfy

from studybot.ingest.repair.restore import repair_text
from studybot.ingest.repair.damage import LOST_BYTES, MOJIBAKE_CODEC
from studybot.ingest.repair.scoring import resolve_scorer

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared"
TEXTS = {"heldout": HERE / "data" / "repair_heldout_zh.md", "dev (tuned on)": HERE / "data" / "repair_dev_zh.md"}
HEADINGS = ("面试回答", "反向传播", "原因", "神经网络")


def load_mangle():
    """The damage, from ../shared/tools/mangle.py when present, else the same one-liner."""
    path = SHARED / "tools" / "mangle.py"
    if path.exists():
        spec = importlib.util.spec_from_file_location("mangle", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.mangle
    return lambda text: text.encode("utf-8").decode(MOJIBAKE_CODEC, errors="ignore").replace("\xad", "")


def byte_decode(text: str) -> str:
    """The old baseline: back to bytes, decode as UTF-8, lost characters become U+FFFD."""
    return re.sub(r"[^\x00-\x7f]+", lambda m: m.group(0).encode(MOJIBAKE_CODEC).decode("utf-8", "replace"), text)


def score(clean: str, damaged_at: list[bool], repaired: str) -> tuple[int, int]:
    """(damaged characters restored exactly, undamaged characters not as in the original), by alignment."""
    kept = [False] * len(clean)
    matcher = difflib.SequenceMatcher(None, clean, repaired, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.a, block.a + block.size):
            kept[k] = True
    restored = sum(1 for hit, bad in zip(kept, damaged_at) if hit and bad)
    changed = sum(1 for hit, bad in zip(kept, damaged_at) if not hit and not bad)
    return restored, changed


def flagged_wrong(clean: str, report) -> tuple[int, int]:
    """(wrong characters at a flagged spot, wrong characters): how well the flags point at mistakes."""
    spots = {(spot.line, spot.column) for spot in report.low_confidence}
    wrong = [i for i, (a, b) in enumerate(zip(clean, report.text)) if a != b]
    hits = sum((clean.count("\n", 0, i) + 1, i - clean.rfind("\n", 0, i)) in spots for i in wrong)
    return hits, len(wrong)


def timed_repair(text: str, scorer: str, cache: Path | None = None):
    started = time.perf_counter()
    report = repair_text(text, scorer, cache)
    return report, time.perf_counter() - started


def bench_text(name: str, path: Path, mangle, gemma: bool) -> None:
    clean = path.read_text(encoding="utf-8")
    damaged_at = [any(b in LOST_BYTES for b in ch.encode("utf-8")) for ch in clean]
    broken = mangle(clean)
    jieba, jieba_s = timed_repair(broken, "jieba")
    total, intact = sum(damaged_at), len(clean) - sum(damaged_at)
    print(f"\n{name}: {path.name}, {len(clean)} characters, {total} damaged "
          f"(report says {jieba.damaged}), {len(jieba.low_confidence)} flagged low-confidence by jieba")
    rows = {"byte decode (baseline)": (byte_decode(broken), None), "ftfy.fix_text": (ftfy.fix_text(broken), None),
            "repair, jieba": (jieba.text, jieba_s)}
    reports = {"repair, jieba": jieba}
    if gemma:
        report, seconds = timed_repair(broken, "gemma")
        label = f"repair, {report.scorer}" + (" (fallback)" if report.fallback else " over jieba")
        rows[label], reports[label] = (report.text, seconds), report
    for label, (text, seconds) in rows.items():
        restored, changed = score(clean, damaged_at, text)
        timing = "" if seconds is None else \
            f"  {seconds:6.2f} s ({seconds / jieba_s:5.1f}x jieba, {total / seconds:7.1f} damaged chars/s)"
        print(f"  {label:24s} damaged restored {restored:4d}/{total} = {restored / total:.3f}   "
              f"undamaged changed {changed}/{intact}{timing}")
    for label, report in reports.items():
        hits, wrong = flagged_wrong(clean, report)
        print(f"  {label}: {len(report.low_confidence)} flagged; wrong characters among them {hits}/{wrong}")
    if gemma and reports.keys() - {"repair, jieba"}:
        seconds = rows[label][1]
        print(f"  gemma stage: {(seconds - jieba_s) / max(1, len(jieba.low_confidence)):.3f} s per jieba-flagged spot")


def bench_seeds(seeds: list[Path], gemma: bool) -> None:
    """Seconds to repair the user's notes: jieba, gemma with a cold cache, gemma with a warm one."""
    print(f"\nseeds: damaged, flagged by jieba, seconds; known headings ({', '.join(HEADINGS)}) by ftfy / repair")
    texts = {path.name: path.read_text(encoding="utf-8") for path in seeds}
    totals = {"jieba": 0.0, "gemma cold": 0.0, "gemma warm": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "repairs.sqlite"
        for name, text in texts.items():
            report, seconds = timed_repair(text, "jieba")
            totals["jieba"] += seconds
            fixed = ftfy.fix_text(text)
            found = " ".join(f"{h}:{fixed.count(h)}/{report.text.count(h)}" for h in HEADINGS)
            line = f"  {name} {len(text.encode('utf-8')) // 1024:3d} KB damaged {report.damaged:5d} " \
                   f"flagged {len(report.low_confidence):4d}  jieba {seconds:5.2f} s"
            if gemma:
                cold, cold_s = timed_repair(text, "gemma", cache)
                warm, warm_s = timed_repair(text, "gemma", cache)
                totals["gemma cold"] += cold_s
                totals["gemma warm"] += warm_s
                changed = sum(a != b for a, b in zip(report.text, cold.text))
                line += (f"  {cold.scorer} cold {cold_s:6.2f} s warm {warm_s:5.2f} s "
                         f"(cached lines {warm.cached_lines}); chars differing from jieba {changed}; "
                         f"still flagged {len(cold.low_confidence)}")
            print(line + "  " + found)
    jieba_s = totals.pop("jieba")
    print(f"  all seeds: jieba {jieba_s:.2f} s" + "".join(
        f"; {label} {seconds:.2f} s ({seconds / jieba_s:.1f}x jieba)" for label, seconds in totals.items() if gemma))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-gemma", action="store_true", help="measure the jieba scorer only")
    parser.add_argument("--no-seeds", action="store_true", help="skip ../shared/seeds (minutes with a cold Gemma cache)")
    args = parser.parse_args()
    mangle = load_mangle()
    for name in ("jieba", "gemma")[:1 if args.no_gemma else 2]:
        started = time.perf_counter()
        choice = resolve_scorer(name)
        print(f"scorer {name} load: {time.perf_counter() - started:.2f} s -> {choice.name} {choice.fallback}")
    gemma = not args.no_gemma
    for name, path in TEXTS.items():
        bench_text(name, path, mangle, gemma)
    seeds = [] if args.no_seeds else sorted((SHARED / "seeds").glob("*.txt"))
    if args.no_seeds:
        return
    if not seeds:
        print("\n../shared/seeds not present: seed figures skipped")
        return
    bench_seeds(seeds, gemma)


if __name__ == "__main__":
    sys.exit(main())
