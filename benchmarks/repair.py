"""How much of a bad export the repair undoes, next to ftfy and the plain byte decode.

Clean Chinese notes written for this benchmark (benchmarks/data/, not the source of any model
the repair uses) are damaged exactly as the user's notes were, then repaired; every damaged
character is checked against the original. `repair_dev_zh.md` is the text the scorer's few
constants were tuned on; `repair_heldout_zh.md` was not looked at while tuning.

    python benchmarks/repair.py
"""

from __future__ import annotations

import difflib
import importlib.util
import re
import sys
import time
from pathlib import Path

import ftfy

from studybot.repair import repair_text
from studybot.repair.damage import LOST_BYTES, MOJIBAKE_CODEC
from studybot.repair.scoring import get_scorer

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


def main() -> None:
    mangle = load_mangle()
    started = time.perf_counter()
    get_scorer("jieba")
    print(f"scorer load: {time.perf_counter() - started:.2f} s (once per process)")
    for name, path in TEXTS.items():
        clean = path.read_text(encoding="utf-8")
        damaged_at = [any(b in LOST_BYTES for b in ch.encode("utf-8")) for ch in clean]
        broken = mangle(clean)
        started = time.perf_counter()
        report = repair_text(broken)
        seconds = time.perf_counter() - started
        total = sum(damaged_at)
        print(f"\n{name}: {path.name}, {len(clean)} characters, {total} damaged "
              f"(report says {report.damaged}), {len(report.low_confidence)} flagged low-confidence")
        rows = {"byte decode (baseline)": byte_decode(broken), "ftfy.fix_text": ftfy.fix_text(broken),
                "studybot repair": report.text}
        shares = {}
        for label, text in rows.items():
            restored, changed = score(clean, damaged_at, text)
            shares[label] = restored / total
            intact = len(clean) - total
            print(f"  {label:24s} damaged restored {restored:4d}/{total} = {restored / total:.3f}   "
                  f"undamaged right {intact - changed:4d}/{intact} = {1 - changed / intact:.3f} (changed {changed})")
        ftfy_share = shares["ftfy.fix_text"]
        ratio = f"{shares['studybot repair'] / ftfy_share:.1f}x ftfy" if ftfy_share else "ftfy restores none"
        print(f"  repair vs ftfy: {ratio}; {seconds / len(broken) * 10_000:.3f} s per 10k characters")
        wrong = [i for i, (a, b) in enumerate(zip(clean, report.text)) if a != b]
        flagged_wrong = sum(1 for i in wrong if any(
            spot.line == clean.count("\n", 0, i) + 1 and spot.column == i - clean.rfind("\n", 0, i)
            for spot in report.low_confidence))
        print(f"  wrong characters flagged low-confidence: {flagged_wrong}/{len(wrong)}")

    seeds = sorted((SHARED / "seeds").glob("*.txt"))
    if not seeds:
        print("\n../shared/seeds not present: seed figures skipped")
        return
    print(f"\nseeds: damaged characters, seconds, known headings found ({', '.join(HEADINGS)}) by ftfy / repair")
    for path in seeds:
        text = path.read_text(encoding="utf-8")
        started = time.perf_counter()
        report = repair_text(text)
        seconds = time.perf_counter() - started
        fixed = ftfy.fix_text(text)
        found = " ".join(f"{h}:{fixed.count(h)}/{report.text.count(h)}" for h in HEADINGS)
        print(f"  {path.name} {len(text.encode('utf-8')) // 1024:3d} KB damaged {report.damaged:5d} "
              f"flagged {len(report.low_confidence):4d} {seconds:5.2f} s  {found}")


if __name__ == "__main__":
    sys.exit(main())
