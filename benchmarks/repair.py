"""How much of a bad export the repair undoes, and how fast, next to ftfy and the plain byte decode.

Clean Chinese notes written for this benchmark (benchmarks/data/, not the source of any model
the repair uses) or given with --texts are damaged exactly as the user's notes were, then
repaired with an empty cache; every damaged character is checked against the original. Each
scorer is timed in a fresh process twice: on its own, and with one competing CPU-bound process
that the benchmark starts before it and stops after (a model picks its thread count when it
loads, so it must load under the load it will meet). `repair_dev_zh.md` and `repair_dev2_zh.md`
are texts the scorers' constants were tuned on; `repair_heldout_zh.md` was not looked at while tuning.

    python benchmarks/repair.py              # jieba, ngram, and gemma over both where they are unsure
    python benchmarks/repair.py --no-gemma   # jieba and ngram only (seconds)
    python benchmarks/repair.py --no-seeds   # the benchmark texts only, not ../shared/seeds
    python benchmarks/repair.py --no-seeds --texts chapter.md ...   # outside clean texts instead
    python benchmarks/repair.py --no-seeds --texts ... --against OLD  # and OLD's gemma repair beside this one's

--against OLD (another checkout, e.g. `git worktree add OLD 83f2ff5`, the code the speed work began
from) measures OLD's gemma repair of the same damaged texts in the same run, quiet and loaded, and
prints this checkout's speed-up over it.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ftfy

# This checkout's studybot, not an installed one; a `--measure` run for --against imports OLD's (`--code OLD`).
CODE = Path(sys.argv[sys.argv.index("--code") + 1]) if "--code" in sys.argv else Path(__file__).resolve().parents[1]
sys.path.insert(0, str(CODE))
from studybot.ingest.repair.restore import repair_text  # noqa: E402
from studybot.ingest.repair.damage import LOST_BYTES, MOJIBAKE_CODEC  # noqa: E402
from studybot.ingest.repair.scoring import resolve_scorer  # noqa: E402

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared"
TEXTS = [HERE / "data" / "repair_heldout_zh.md", HERE / "data" / "repair_dev_zh.md", HERE / "data" / "repair_dev2_zh.md"]
COMPETITOR = "while 1: pass"  # one CPU-bound process, as a busy machine has
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


def flagged_wrong(clean: str, text: str, spots: set[tuple[int, int]]) -> tuple[int, int]:
    """(wrong characters at a flagged spot, wrong characters): how well the flags point at mistakes."""
    wrong = [i for i, (a, b) in enumerate(zip(clean, text)) if a != b]
    hits = sum((clean.count("\n", 0, i) + 1, i - clean.rfind("\n", 0, i)) in spots for i in wrong)
    return hits, len(wrong)


def timed_repair(text: str, scorer: str, cache: Path | None = None):
    started = time.perf_counter()
    report = repair_text(text, scorer, cache)
    return report, time.perf_counter() - started


def measure(path: Path, scorer: str) -> dict:
    """One repair of the damaged text with an empty cache, in this process: seconds and what it gave."""
    broken = load_mangle()(path.read_text(encoding="utf-8"))
    choice = resolve_scorer(scorer)  # loaded before the clock starts
    with tempfile.TemporaryDirectory() as tmp:
        report, seconds = timed_repair(broken, scorer, Path(tmp) / "repairs.sqlite")
    return {"seconds": seconds, "text": report.text, "scorer": choice.name, "fallback": choice.fallback,
            "spots": [[spot.line, spot.column] for spot in report.low_confidence]}


def measure_apart(path: Path, scorer: str, loaded: bool, code: Path | None = None) -> dict:
    """`measure` in a fresh process (of `code`'s studybot when given); with `loaded`, one CPU-bound
    process runs beside it throughout."""
    competitor = subprocess.Popen([sys.executable, "-c", COMPETITOR]) if loaded else None
    try:
        if competitor:
            time.sleep(0.5)  # running before the scorer counts the free cores
        command = [sys.executable, __file__, "--measure", scorer, str(path), *(["--code", str(code)] if code else [])]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    finally:
        if competitor:
            competitor.kill()
            competitor.wait()
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_text(path: Path, mangle, scorers: list[str], against: Path | None = None) -> None:
    clean = path.read_text(encoding="utf-8")
    damaged_at = [any(b in LOST_BYTES for b in ch.encode("utf-8")) for ch in clean]
    broken = mangle(clean)
    total, intact = sum(damaged_at), len(clean) - sum(damaged_at)
    print(f"\n{path.name}: {len(clean)} characters, {total} damaged")
    for label, text in (("byte decode (baseline)", byte_decode(broken)), ("ftfy.fix_text", ftfy.fix_text(broken))):
        restored, changed = score(clean, damaged_at, text)
        print(f"  {label:24s} restored {restored / total:.3f}  changed {changed}/{intact}")
    for scorer in scorers:
        quiet, loaded = measure_apart(path, scorer, False), measure_apart(path, scorer, True)
        restored, changed = score(clean, damaged_at, quiet["text"])
        hits, wrong = flagged_wrong(clean, quiet["text"], {tuple(spot) for spot in quiet["spots"]})
        label = f"repair, {quiet['scorer']}" + (" (fallback)" if quiet["fallback"] else "")
        print(f"  {label:24s} restored {restored / total:.3f}  changed {changed}/{intact}  "
              f"damaged chars/s quiet {total / quiet['seconds']:7.1f}, loaded {total / loaded['seconds']:7.1f} "
              f"(loaded/quiet time {loaded['seconds'] / quiet['seconds']:.2f}x); "
              f"{len(quiet['spots'])} flagged, wrong among them {hits}/{wrong}"
              + ("" if loaded["text"] == quiet["text"] else "; LOADED RUN GAVE ANOTHER TEXT"))
        if scorer == "gemma" and against:
            old_quiet, old_loaded = measure_apart(path, scorer, False, against), measure_apart(path, scorer, True, against)
            restored, changed = score(clean, damaged_at, old_quiet["text"])
            print(f"  {'gemma in ' + against.name:24s} restored {restored / total:.3f}  changed {changed}/{intact}  "
                  f"damaged chars/s quiet {total / old_quiet['seconds']:7.1f}, loaded {total / old_loaded['seconds']:7.1f}; "
                  f"this checkout {old_quiet['seconds'] / quiet['seconds']:.1f}x as fast quiet, "
                  f"{old_loaded['seconds'] / loaded['seconds']:.1f}x loaded")


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
    parser.add_argument("--no-gemma", action="store_true", help="measure the jieba and ngram scorers only")
    parser.add_argument("--no-seeds", action="store_true", help="skip ../shared/seeds (minutes with a cold Gemma cache)")
    parser.add_argument("--texts", nargs="+", type=Path, metavar="FILE",
                        help="clean texts to damage and repair instead of benchmarks/data's")
    parser.add_argument("--against", type=Path, metavar="OLD",
                        help="another checkout whose gemma repair is measured beside this one's")
    parser.add_argument("--measure", nargs=2, metavar=("SCORER", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--code", type=Path, help=argparse.SUPPRESS)  # read before the imports, above
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure[1]), args.measure[0]), ensure_ascii=False))
        return
    scorers = ["jieba", "ngram"] + ([] if args.no_gemma else ["gemma"])
    for path in args.texts or TEXTS:
        bench_text(path, load_mangle(), scorers, args.against)
    if args.no_seeds:
        return
    seeds = sorted((SHARED / "seeds").glob("*.txt"))
    if not seeds:
        print("\n../shared/seeds not present: seed figures skipped")
        return
    bench_seeds(seeds, not args.no_gemma)


if __name__ == "__main__":
    sys.exit(main())
