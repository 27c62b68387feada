"""Cold start, where every command-line user waits: `--help`, `search` and `ask --no-llm` in a new process.

    python benchmarks/cold_start.py [--home DIR] [--runs 7] [--busy]

Each figure is the median wall time of a new process, given as a ratio to `python -c pass`
measured in the same run; the commands take turns, so a burst of load hits all of them alike.
Without --home the seeds (../shared/seeds, when present) and the bundled notes are indexed into
a throwaway home first. --busy adds one competing CPU-bound process, as on a laptop in use.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO.parent / "shared" / "seeds"
QUESTIONS = {
    "search, Chinese question": ["search", "BatchNorm 和 LayerNorm 有什么区别？", "--json"],
    "search, English question": ["search", "Why does the sigmoid saturate?", "--json"],
    "ask --no-llm, Chinese question": ["ask", "--no-llm", "为什么 Transformer 要除以根号 d_k？", "--json"],
    "ask --no-llm, English question": ["ask", "--no-llm", "What does LoRA train?", "--json"],
}


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=REPO)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="an indexed home to measure (default: seeds + bundled notes, indexed now)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--busy", action="store_true", help="with one competing CPU-bound process")
    args = parser.parse_args()

    studybot = [sys.executable, "-m", "studybot"]
    with tempfile.TemporaryDirectory(prefix="studybot-cold-") as root:
        env = {**os.environ, "STUDYBOT_HOME": str(args.home or Path(root) / "home")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's Python keeps compiled modules; measure that case
        if not args.home:
            subprocess.run([*studybot, "index", *([str(SEEDS)] if SEEDS.is_dir() else [])], check=True,
                           capture_output=True, env=env, cwd=REPO)
        commands = {"python -c pass (baseline)": [sys.executable, "-c", "pass"], "studybot --help": [*studybot, "--help"],
                    **{label: [*studybot, *argv] for label, argv in QUESTIONS.items()}}
        for cmd in commands.values():  # warm the file cache, the query translations and jieba's word-count file
            timed(cmd, env)
        busy = subprocess.Popen([sys.executable, "-c", "while 1: pass"]) if args.busy else None
        try:
            times: dict[str, list[float]] = {label: [] for label in commands}
            for _ in range(args.runs):
                for label, cmd in commands.items():
                    times[label].append(timed(cmd, env))
        finally:
            if busy:
                busy.kill()
    medians = {label: statistics.median(values) for label, values in times.items()}
    baseline = medians["python -c pass (baseline)"]
    print(f"cold start, median of {args.runs} new processes{' with one competing CPU-bound process' if args.busy else ''}"
          f" ({os.cpu_count()} cores)")
    for label, seconds in medians.items():
        print(f"  {label:34s} {seconds:6.3f} s = {seconds / baseline:6.1f} x python -c pass")


if __name__ == "__main__":
    main()
