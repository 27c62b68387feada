"""`studybot index`: build or refresh the search index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from studybot.errors import StudybotError
from studybot.cli.common import HomeOption, JsonOption, app, console, print_json, progress_bar, report_warning


@app.command()
def index(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Note files or folders (remembered for next time).")] = None,
    embed_model: Annotated[
        Optional[str], typer.Option("--embed-model", help="sentence-transformers model name or local folder.")
    ] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Start over instead of updating.")] = False,
    bundled: Annotated[
        Optional[bool], typer.Option("--bundled/--no-bundled", help="Include the bundled knowledge/ (remembered).")
    ] = None,
    repair: Annotated[
        Optional[str], typer.Option("--repair", help="Scorer for damaged characters: gemma (jieba + trigrams + a small "
                                    "LLM where unsure, cached), ngram (jieba + trigrams) or jieba (instant). Remembered; "
                                    "at first gemma.")
    ] = None,
    forget: Annotated[
        Optional[list[Path]], typer.Option("--forget", help="Stop remembering this path (repeatable): its notes leave "
                                           "the index.")
    ] = None,
    home: HomeOption = None,
    json_out: JsonOption = False,
) -> None:
    """Index the bundled knowledge/ and your notes (.md, .markdown, .txt, .qmd, .Rmd, .ipynb), incrementally."""
    from studybot.index.build import build_index

    try:
        with progress_bar(not json_out) as progress:
            summary = build_index(home, paths, embed_model=embed_model, rebuild=rebuild, bundled=bundled, repair=repair,
                                  progress=progress, warn=report_warning, forget=forget)
    except KeyboardInterrupt:  # the new generation is never made live half written
        raise StudybotError("interrupted: the index is as it was before this run; run the same command again to "
                            "finish it", exit_code=130) from None
    if json_out:
        print_json(summary.to_dict())
        return
    out = console()
    if summary.recovered:
        out.print(f"[bold]repaired the index[/bold]: {summary.recovered}, so it was rebuilt from your notes", soft_wrap=True)
    out.print(
        f"[bold]indexed[/bold] {summary.files} file{'s' * (summary.files != 1)}, {summary.chunks} chunks in "
        f"{summary.seconds:.1f} s "
        f"(new {summary.new}, changed {summary.changed}, removed {summary.removed}, unchanged {summary.unchanged}, "
        f"skipped {len(summary.skipped)}; embedded {summary.embedded}"
        f"{f', {summary.cached} from cache' if summary.cached else ''}{', rebuilt' if summary.rebuilt else ''})"
    )
    for item in summary.repaired:
        if not item["damaged"]:  # mojibake that lost no byte (UTF-8 read as Latin-1): read back exactly
            out.print(f"  {item['path']}: garbled text read back exactly ({item['decoded']} characters; "
                      "`studybot repair FILE --in-place` fixes the file itself)")
            continue
        guessed = f", {item['guessed']} guessed (check them: `studybot repair FILE`)" if item["guessed"] else ""
        out.print(f"  {item['path']}: {item['confident']} of {item['damaged']} damaged characters repaired with "
                  f"confidence{guessed}")
    if summary.unwritten:
        out.print(f"  {summary.unwritten} heading(s) of your notes have no text yet: `studybot ask` names them when "
                  "asked about")
    out.print(f"  index: {summary.home}/index (generation {summary.generation}, model {summary.embed_model})")
