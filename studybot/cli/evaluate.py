"""`studybot eval ...`: measure the pipeline on questions with known answers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from studybot.ingest.repair.scoring import DEFAULT_SCORER
from studybot.cli.common import HomeOption, JsonOption, app, console, print_json, progress_bar

eval_app = typer.Typer(help="Measure retrieval and answers on question sets with known answers.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


@eval_app.command("retrieval")
def retrieval(
    file: Annotated[Path, typer.Argument(help="JSONL questions: id, question, accept [{source, heading}].")],
    corpus: Annotated[Optional[list[Path]], typer.Option("--corpus", help="Notes to index (repeatable).")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="Cut-off for recall@k.")] = 5,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, bm25 or dense.")] = "hybrid",
    repair: Annotated[str, typer.Option("--repair", help="Scorer for damaged characters: gemma or jieba.")] = DEFAULT_SCORER,
    home: HomeOption = None,
    json_out: JsonOption = False,
) -> None:
    """Recall@1, recall@k and MRR; indexes --corpus into a throwaway home unless --home is given."""
    from studybot.evaluation.retrieval import evaluate_retrieval

    with progress_bar(not json_out) as progress:
        result = evaluate_retrieval(file, corpus, k=k, home=home, mode=mode, repair=repair, progress=progress)
    if json_out:
        print_json(result)
        return
    console().print(
        f"n={result['n']}  recall@1={result['recall@1']:.3f}  recall@{k}={result['recall@k']:.3f}  "
        f"MRR={result['mrr']:.3f}  ({mode})"
    )
    if result["misses"]:
        console().print(f"misses: {', '.join(result['misses'])}")


@eval_app.command("answers")
def answers(
    file: Annotated[Path, typer.Argument(help="JSONL questions: id, question, key_points [[alternatives]].")],
    corpus: Annotated[Optional[list[Path]], typer.Option("--corpus", help="Notes to index with knowledge/ (repeatable).")] = None,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Extractive answers only.")] = False,
    model: Annotated[Optional[str], typer.Option("--model", help="A GGUF file (default: config, else bundled).")] = None,
    llm_url: Annotated[Optional[str], typer.Option("--llm-url", help="An OpenAI-compatible server.")] = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1, max=4096, help="Most tokens per answer.")] = 320,
    home: HomeOption = None,
    json_out: JsonOption = False,
) -> None:
    """Key-point coverage, citation precision, answer modes and seconds; indexes knowledge/ + --corpus into a throwaway home unless --home is given."""
    from studybot.evaluation.answers import evaluate_answers

    with progress_bar(not json_out) as progress:
        result = evaluate_answers(file, corpus, home=home, use_llm=not no_llm, model=model, llm_url=llm_url,
                                  progress=progress, max_tokens=max_tokens)
    if json_out:
        print_json(result)
        return
    precision = "n/a" if result["citation_precision"] is None else f"{result['citation_precision']:.3f}"
    modes = "  ".join(f"{mode}={share:.2f}" for mode, share in result["modes"].items())
    console().print(
        f"n={result['n']}  coverage={result['coverage']:.3f}  citation precision={precision}  {modes}  "
        f"mean {result['mean_seconds']:.2f} s  (model: {result['model'] or 'none'})"
    )
    low = [f"{r['id']} ({r['coverage']:.2f}, {r['mode']})" for r in result["questions"] if r["coverage"] < 1]
    if low:
        console().print(f"not fully covered: {', '.join(low)}")
