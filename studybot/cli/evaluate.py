"""`studybot eval ...`: measure the pipeline on questions with known answers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from studybot.cli.common import HomeOption, JsonOption, app, console, print_json, progress_bar

eval_app = typer.Typer(help="Measure retrieval (and later answers) on question sets.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


@eval_app.command("retrieval")
def retrieval(
    file: Annotated[Path, typer.Argument(help="JSONL questions: id, question, accept [{source, heading}].")],
    corpus: Annotated[Optional[list[Path]], typer.Option("--corpus", help="Notes to index (repeatable).")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="Cut-off for recall@k.")] = 5,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, bm25 or dense.")] = "hybrid",
    home: HomeOption = None,
    json_out: JsonOption = False,
) -> None:
    """Recall@1, recall@k and MRR; indexes --corpus into a throwaway home unless --home is given."""
    from studybot.evaluation import evaluate_retrieval

    with progress_bar(not json_out) as progress:
        result = evaluate_retrieval(file, corpus, k=k, home=home, mode=mode, progress=progress)
    if json_out:
        print_json(result)
        return
    console().print(
        f"n={result['n']}  recall@1={result['recall@1']:.3f}  recall@{k}={result['recall@k']:.3f}  "
        f"MRR={result['mrr']:.3f}  ({mode})"
    )
    if result["misses"]:
        console().print(f"misses: {', '.join(result['misses'])}")
