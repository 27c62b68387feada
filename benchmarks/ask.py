"""Benchmark `studybot ask`: cold start, time to first token, warm (chat) latency, tokens/s, relevance.

Cold figures are ratios to `python -c "import sentence_transformers"` measured in the same run,
so they mean the same on a fast or a busy machine. Warm figures come from one in-process chat
session (index, embedder and model loaded once), as `studybot chat` runs.

    python benchmarks/ask.py                    # index knowledge/ + ../shared/seeds into a temp home
    python benchmarks/ask.py --home DIR         # use an existing index
    python benchmarks/ask.py --no-llm           # skip the model
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

from question_sets import REPO, questions

SHARED = REPO.parent / "shared"
OFF_TOPIC = [q["question"] for q in questions("offtopic", "dev")]


def wall(cmd: list[str], repeat: int) -> tuple[float, list[subprocess.CompletedProcess]]:
    """Median wall seconds of a command over `repeat` runs, and the runs."""
    times, runs = [], []
    env = {k: v for k, v in os.environ.items() if k != "STUDYBOT_HOME"}
    for _ in range(repeat):
        started = time.perf_counter()
        runs.append(subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env))
        times.append(time.perf_counter() - started)
    return statistics.median(times), runs


def shared_questions() -> list[str]:
    found = []
    for name in ("answers-dev.jsonl", "retrieval-dev.jsonl"):
        path = SHARED / "eval" / name
        if path.is_file():
            found += [q["question"] for q in questions(path)]
    return found or ["BatchNorm 和 LayerNorm 有什么区别？", "Why does the sigmoid function saturate?"]


class TimedGenerator:
    """Wraps a generator to measure the seconds spent generating, so the rest can be reported apart."""

    def __init__(self, inner) -> None:
        self.inner, self.seconds = inner, 0.0
        self.name, self.context_tokens, self.count_tokens = inner.name, inner.context_tokens, inner.count_tokens

    def stream(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            yield from self.inner.stream(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started


def warm(home: Path, asked: list[str], generator, max_tokens: int) -> dict:
    from studybot.answer.pipeline import NothingFound
    from studybot.answer.chat import ChatSession
    from studybot.index.search import Index

    timed = TimedGenerator(generator) if generator else None
    session = ChatSession(Index(home), timed, max_tokens=max_tokens)
    session.warm_up()
    totals, beyond, first, speed, modes = [], [], [], [], []
    for question in asked:
        session.last = None  # each question on its own, not as a follow-up
        before = timed.seconds if timed else 0.0
        started = time.perf_counter()
        try:
            answer = session.ask(question)
        except NothingFound:
            continue
        total = time.perf_counter() - started
        totals.append(total)
        beyond.append(total - ((timed.seconds - before) if timed else 0.0))
        modes.append(answer.mode)
        if generator:
            first.append(answer.timings["first_token_s"])
            if answer.timings["tokens_per_s"]:
                speed.append(answer.timings["tokens_per_s"])
    out = {"questions": len(totals), "mean_s": statistics.mean(totals), "p50_s": statistics.median(totals),
           "max_s": max(totals), "beyond_generation_mean_s": statistics.mean(beyond),
           "beyond_generation_max_s": max(beyond), "llm_share": modes.count("llm") / len(modes)}
    if generator:
        out |= {"first_token_mean_s": statistics.mean(first), "tokens_per_s_mean": statistics.mean(speed) if speed else None}
    return out


def relevance(home: Path, asked: list[str]) -> dict:
    """The relevance signals on real questions and on off-topic ones (where the thresholds come from)."""
    from studybot.answer.pipeline import RELEVANCE_TOP, dense_similarity, heading_similarity, word_coverage
    from studybot.index.expansion import embed_query
    from studybot.index.search import Index, search
    from studybot.text.language import language

    index = Index(home)
    table: dict[str, dict[str, list[float]]] = {}
    for label, group in (("on", asked), ("off", OFF_TOPIC)):
        for question in group:
            hits = search(question, k=RELEVANCE_TOP, index=index)
            lang = language(question)
            row = table.setdefault(f"{label}_{lang}", {"coverage": [], "dense": [], "headings": []})
            row["coverage"].append(word_coverage(question, hits, index))
            row["headings"].append(heading_similarity(question, hits, index))
            row["dense"].append(dense_similarity(embed_query(question, index.glossary), hits, index))
    return {key: {signal: [round(min(v), 3), round(max(v), 3)] for signal, v in row.items()} for key, row in table.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, help="an existing studybot home (default: a temp index of knowledge/ + seeds)")
    parser.add_argument("--no-llm", action="store_true", help="skip the model")
    parser.add_argument("--repeat", type=int, default=3, help="runs per cold measurement (median)")
    parser.add_argument("--max-tokens", type=int, default=320)
    args = parser.parse_args()

    tmp = None
    home = args.home
    if home is None:
        from studybot.index.build import build_index

        tmp = tempfile.TemporaryDirectory(prefix="studybot-bench-")
        home = Path(tmp.name)
        seeds = SHARED / "seeds"
        started = time.perf_counter()
        build_index(home, [seeds] if seeds.is_dir() else None, bundled=True)
        print(f"index built in {time.perf_counter() - started:.1f} s: {home}")

    question = "BatchNorm 和 LayerNorm 有什么区别？"
    base, _ = wall([sys.executable, "-c", "import sentence_transformers"], args.repeat)
    print(f"baseline: python -c 'import sentence_transformers'  {base:.2f} s")
    ask = [sys.executable, "-m", "studybot", "ask", question, "--home", str(home), "--json"]
    cold, _ = wall(ask + ["--no-llm"], args.repeat)
    print(f"cold ask --no-llm: {cold:.2f} s = {cold / base:.2f} x baseline")
    default, runs = wall(ask, args.repeat)
    mode = json.loads(runs[0].stdout)["mode"] if runs[0].returncode == 0 else runs[0].stderr.strip()
    print(f"cold ask (default: the model only when `models check` found it useful): {default:.2f} s = "
          f"{default / cold:.2f} x ask --no-llm (mode: {mode})")
    imports = subprocess.run([sys.executable, "-c", (
        "import sys\nfrom studybot.cli.main import main\n"
        f"sys.argv = ['studybot', 'ask', {question!r}, '--no-llm', '--json', '--home', {str(home)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', [m for m in ('torch', 'sentence_transformers', 'llama_cpp') if m in sys.modules])")],
        capture_output=True, text=True, cwd=REPO)
    print(f"heavy modules imported by ask --no-llm: {imports.stdout.strip().splitlines()[-1]}")

    generator = None
    if not args.no_llm:
        from studybot.answer.backends import open_generator

        cold_llm, runs = wall(ask + ["--llm", "--max-tokens", str(args.max_tokens)], args.repeat)
        docs = [json.loads(r.stdout) for r in runs if r.returncode == 0]
        if docs:
            # from process start: the wall time less what came after the first token
            after_first = statistics.median(d["timings"]["total_s"] - d["timings"]["first_token_s"] for d in docs)
            first = cold_llm - after_first
            print(f"cold ask --llm (model {docs[0]['model']}): {cold_llm:.2f} s = {cold_llm / base:.2f} x baseline; "
                  f"first token at {first:.2f} s = {first / base:.2f} x baseline (mode: {docs[0]['mode']})")
        else:
            print(f"cold ask with the model failed: {runs[0].stderr.strip()}")
        generator = open_generator(home)

    asked = shared_questions()
    print(f"warm --no-llm ({len(asked)} questions): " + json.dumps({k: round(v, 3) if isinstance(v, float) else v
                                                                    for k, v in warm(home, asked, None, args.max_tokens).items()}))
    if generator:
        result = warm(home, asked[:8], generator, args.max_tokens)
        print(f"warm with {generator.name} (8 questions): " + json.dumps({k: round(v, 3) if isinstance(v, float) else v
                                                                          for k, v in result.items()}))
    print("relevance signals [min, max]: " + json.dumps(relevance(home, asked)))
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
