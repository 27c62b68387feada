"""Retrieval benchmarks: index build (cold, warm caches, no-op), search latency, cold CLI start.

    python benchmarks/retrieval.py [--corpus ../shared/seeds] [--queries 200]

Times are wall-clock seconds on this machine; each is also given as a ratio to a baseline
measured in the same run (`python -c "import sentence_transformers"`), so figures from
different machines compare.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def wall(cmd: list[str], repeat: int = 3) -> float:
    """Median wall time of a command."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=REPO)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def index_figures(corpus: Path, root: Path, baseline: float) -> str:
    """Build the corpus with empty caches, again into a new home (warm caches), then refresh it (no-op)."""
    from studybot.index.build import build_index

    os.environ["STUDYBOT_CACHE"] = str(root / "cache")  # empty caches: a first run on a new machine
    home = str(root / "home")
    start = time.perf_counter()
    cold = build_index(home, [corpus])
    cold_s = time.perf_counter() - start
    start = time.perf_counter()
    build_index(str(root / "home2"), [corpus])
    warm_s = time.perf_counter() - start
    start = time.perf_counter()
    noop = build_index(home)
    noop_s = time.perf_counter() - start
    print(f"index cold     {cold_s:7.2f} s  = {cold_s / baseline:5.2f} x baseline  "
          f"({cold.files} files, {cold.chunks} chunks, {cold.embedded} embedded, damaged text repaired with Gemma)")
    print(f"index new home {warm_s:7.2f} s  = {warm_s / baseline:5.2f} x baseline  (warm embedding and repair caches)")
    print(f"index no-op    {noop_s:7.2f} s  = {noop_s / baseline:5.2f} x baseline  (unchanged {noop.unchanged})")
    return home


def search_figures(home: str, questions_file: Path, count: int, baseline: float) -> None:
    """Warm search latency in one process (as `chat` runs), by whether the question is translated; cold CLI starts."""
    from studybot.index.search import Index, search

    questions = [json.loads(line)["question"] for line in questions_file.read_text().splitlines() if line.strip()]
    queries = [questions[i % len(questions)] + ("" if i < len(questions) else f" {i}") for i in range(count)]
    index = Index(home)
    search(queries[0], index=index)  # load the embedder and indexes once, as `chat` does
    latencies: dict[bool, list[float]] = {False: [], True: []}  # by whether the question is translated
    for query in queries:
        start = time.perf_counter()
        search(query, k=5, index=index)
        latencies[index.translation_target(query) is not None].append(time.perf_counter() - start)
    for translated, times in latencies.items():
        if not times:
            continue
        times.sort()
        p50, p95 = times[len(times) // 2], times[max(0, int(len(times) * 0.95) - 1)]
        label = "translated into the notes' language (each a new question)" if translated else "in the notes' language"
        print(f"search warm    p50 {p50 * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms over {len(times)} queries {label} "
              f"(p50 = {p50 / baseline:.4f} x baseline)")

    cli = wall([sys.executable, "-m", "studybot", "search", "BatchNorm 和 LayerNorm 有什么区别？", "--home", home, "--json"])
    print(f"search cold    {cli:7.2f} s  = {cli / baseline:5.2f} x baseline  (`studybot search`, new process, "
          f"a question in the notes' language)")
    english = ["Why does the sigmoid saturate?", "What does LoRA train?", "Why do residual connections help?"]
    if index.translation_target(english[0]):
        cli = statistics.median(wall([sys.executable, "-m", "studybot", "search", q, "--home", home, "--json"], repeat=1)
                                for q in english)  # three new questions: each loads Gemma and translates
        print(f"search cold    {cli:7.2f} s  = {cli / baseline:5.2f} x baseline  (the same, a new English question "
              f"over Chinese notes: translated; median of 3)")
    help_s = wall([sys.executable, "-m", "studybot", "--help"])
    print(f"studybot --help {help_s:6.2f} s  = {help_s / baseline:5.2f} x baseline")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "seeds")
    parser.add_argument("--home", type=Path, help="measure search on this home instead of indexing --corpus first")
    parser.add_argument("--questions", type=Path, default=REPO.parent / "shared" / "eval" / "retrieval-dev.jsonl")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    baseline = wall([sys.executable, "-c", "import sentence_transformers"])
    print(f"baseline: python -c 'import sentence_transformers'  {baseline:.2f} s (median of 3)")
    with tempfile.TemporaryDirectory(prefix="studybot-bench-") as root:
        if args.home:
            os.environ["STUDYBOT_CACHE"] = str(Path(root) / "cache")  # no translation cached yet
        home = str(args.home) if args.home else index_figures(args.corpus, Path(root), baseline)
        search_figures(home, args.questions, args.queries, baseline)


if __name__ == "__main__":
    main()
