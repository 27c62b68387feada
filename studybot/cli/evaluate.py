"""`studybot eval ...`: measure the pipeline on questions with known answers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from studybot.ingest.repair.scoring import DEFAULT_SCORER
from studybot.cli.common import JsonOption, LlmModelOption, app, console, print_json, progress_bar, report_warning

eval_app = typer.Typer(help="Measure retrieval and answers on question sets with known answers.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


# No $STUDYBOT_HOME here: an evaluation with --corpus must never index its corpus into the user's home.
EvalHomeOption = Annotated[
    Optional[Path],
    typer.Option("--home", help="Evaluate this home (refreshed with --corpus, if given); default with --corpus: a "
                 "throwaway home, without it: $STUDYBOT_HOME, else the platform's user data dir.", show_default=False),
]


@eval_app.command("retrieval")
def retrieval(
    file: Annotated[Optional[Path], typer.Argument(help="JSONL questions: id, question, accept [{source, heading}].",
                                                   show_default=False)] = None,
    corpus: Annotated[Optional[list[Path]], typer.Option("--corpus", help="Notes to index (repeatable).")] = None,
    self_check: Annotated[bool, typer.Option("--self", help="Ask your own notes' section headings instead of FILE.")] = False,
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="Cut-off for recall@k.")] = 5,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, bm25 or dense.")] = "hybrid",
    repair: Annotated[str, typer.Option("--repair", help="Scorer for damaged characters: gemma, ngram or jieba.")] = DEFAULT_SCORER,
    home: EvalHomeOption = None,
    json_out: JsonOption = False,
) -> None:
    """Recall@1, recall@k and MRR, overall and per question language; indexes --corpus into a throwaway home unless --home is given."""
    from studybot.errors import StudybotError
    from studybot.evaluation.retrieval import evaluate_retrieval

    if (file is None) == (not self_check):
        raise StudybotError("give a questions FILE or --self (questions made from your notes' headings)"
                            + (", not both" if self_check else ""))
    with progress_bar(not json_out) as progress:
        result = evaluate_retrieval(file, corpus, k=k, home=home, mode=mode, repair=repair, progress=progress)
    for warning in result["warnings"]:
        report_warning(warning)
    if json_out:
        print_json(result)
        return
    out = console()
    rows = [("all", result)] + list(result["by_language"].items())
    for name, figures in rows:
        out.print(f"{name:>3}: n={figures['n']}  recall@1={figures['recall@1']:.3f}  "
                  f"recall@{k}={figures['recall@k']:.3f}  MRR={figures['mrr']:.3f}  ({mode})")
    if result["missed"]:
        from rich.text import Text

        out.print(f"misses ({len(result['missed'])}):")
        for miss in result["missed"]:
            out.print(Text(f"  {miss['id']}  {miss['question']}  (in {', '.join(miss['in'])})"))


@eval_app.command("answers")
def answers(
    file: Annotated[Path, typer.Argument(help="JSONL questions: id, question, key_points (each a list of alternatives).")],
    corpus: Annotated[Optional[list[Path]], typer.Option("--corpus", help="Notes to index with knowledge/ (repeatable).")] = None,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Extractive answers only.")] = False,
    model: Annotated[Optional[str], typer.Option("--model", help="A GGUF file (default: config, else bundled).")] = None,
    llm_url: Annotated[Optional[str], typer.Option("--llm-url", help="An OpenAI-compatible server (default: config.toml "
                                                   "[llm] url of --home).")] = None,
    llm_model: LlmModelOption = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1, max=4096, help="Most tokens per answer.")] = 320,
    home: EvalHomeOption = None,
    json_out: JsonOption = False,
) -> None:
    """Key-point coverage, citation precision, answer modes and seconds; indexes knowledge/ + --corpus into a throwaway home unless --home is given."""
    from studybot.evaluation.answers import evaluate_answers

    with progress_bar(not json_out) as progress:
        result = evaluate_answers(file, corpus, home=home, use_llm=not no_llm, model=model, llm_url=llm_url,
                                  llm_model=llm_model, progress=progress, max_tokens=max_tokens)
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
