"""`studybot search`: the best passages for a question."""

from __future__ import annotations

import sys
import textwrap
from typing import Annotated

import typer

from studybot.cli.common import HomeOption, JsonOption, app, console, print_json
from studybot.cli.render import changed_line, escape, moved_line


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="A question or keywords, Chinese or English.")],
    k: Annotated[int, typer.Option("-k", "--top", min=1, max=100, help="How many passages.")] = 5,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, bm25 or dense.")] = "hybrid",
    home: HomeOption = None,
    json_out: JsonOption = False,
) -> None:
    """Hybrid (BM25 + embeddings) search over the indexed notes."""
    from studybot.index.search import Index, search as run_search

    index = Index(home)
    hits = run_search(query, k=k, index=index, mode=mode)
    changed = sorted(path for path, deleted in index.changed_notes(h.file for h in hits).items() if not deleted)
    if json_out:
        keys = ("rank", "score", "file", "path", "heading", "line_start", "line_end", "text")
        print_json({"query": query, "results": [{key: h.to_dict()[key] for key in keys} for h in hits],
                    "changed_since_index": changed, "bundled_moved_from": index.bundled_moved})
        return
    from rich.panel import Panel
    from rich.text import Text

    from studybot.ingest.notes import shown

    out = console()
    for hit in hits:
        title = Text.assemble((f"{hit.rank}. ", "bold"), (hit.path or "(no heading)", "bold cyan"))
        # no score: the user's own passages are moved above better-scored bundled ones, so scores need not fall
        # with the rank ("2. … 0.27" above "3. … 0.37" read as a bug); --json keeps it
        where = f"{hit.file}:{hit.line_start}-{hit.line_end}"
        text = shown(hit.text)
        body = text if len(text) <= 600 else text[:600] + " …"
        if not out.is_terminal:  # into a pipe or file: plain lines, no box as wide as the longest line
            out.print(title, Text(where, style="dim"), sep="  ")
            # the passage indented under its result line, as the box holds it on a terminal: a note's own list
            # ("1. Define the metric") read as the ranks ("1. A/B Testing > Setup  ab_testing.md:3-8")
            out.print(Text(textwrap.indent(body, "    ")), "", sep="\n")
            continue
        out.print(Panel(Text(body), title=title, title_align="left", subtitle=where, subtitle_align="right"))
    hints = ([changed_line(changed)] if changed else []) + ([moved_line(index.bundled_moved)] if index.bundled_moved else [])
    for hint in hints:
        if out.is_terminal:
            out.print(f"[yellow]{escape(hint)}[/yellow]")
        else:  # a hint for the person, not part of the results a pipe reads
            sys.stderr.write(f"studybot: {hint}\n")
