"""`studybot demo`: run a small PyTorch experiment that tests a claim from the notes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from studybot.cli.common import JsonOption, app, console, print_json
from studybot.cli.render import render_demo
from studybot.errors import StudybotError

@app.command()
def demo(
    name: Annotated[Optional[str], typer.Argument(help="The demo to run (see --list).", show_default=False)] = None,
    list_all: Annotated[bool, typer.Option("--list", help="List the demos and the claims they test.")] = False,
    device: Annotated[str, typer.Option(help="auto (CUDA when available), cpu or cuda.")] = "auto",
    seed: Annotated[str, typer.Option(metavar="N", help="First seed for data, weights and dropout masks.")] = "0",
    seeds: Annotated[
        Optional[str],
        typer.Option(
            metavar="N", help="How many seeds (seed, seed+1, ...) to measure; default 5, 3 with --quick.",
            show_default=False,
        ),
    ] = None,
    quick: Annotated[bool, typer.Option("--quick", help="A smaller, faster run.")] = False,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Run again even if this demo's result for these seeds is cached.")
    ] = False,
    json_out: JsonOption = False,
    plot: Annotated[
        Optional[Path], typer.Option(help="Also draw the demo's curves into this PNG file.", show_default=False)
    ] = None,
    rank: Annotated[
        Optional[int], typer.Option(help="LoRA rank (lora demo only; default 4).", show_default=False)
    ] = None,
) -> None:
    """Measure what a note claims (e.g. sigmoid saturation, LoRA) over several seeds and say whether the numbers support it."""
    from studybot.demos.runner import list_demos, run_demo, save_plot

    if list_all:
        demos = list_demos()
        if json_out:
            print_json(demos)
        else:
            _render_list(demos)
        return
    if name is None:
        raise StudybotError("name a demo to run, or use --list to see them")
    options = {} if rank is None else {"rank": rank}
    count = None if seeds is None else _whole_number("--seeds", seeds)
    result = run_demo(
        name, device=device, seed=_whole_number("--seed", seed), quick=quick, seeds=count, reuse=not fresh, **options
    )
    if plot is not None:
        save_plot(result, plot)
    if json_out:
        print_json(result)
    else:
        render_demo(result, plot)


def _whole_number(option: str, text: str) -> int:
    """The option's value as an int; taken as text so a typo is our one-line error, not click's usage block."""
    try:
        return int(text)
    except ValueError:
        raise StudybotError(f"{option} {text!r} is not a whole number") from None


def _render_list(demos: list[dict[str, Any]]) -> None:
    out = console()
    if not out.is_terminal:  # plain lines, as doctor and search: the table padded every row to the longest claim
        rows = [(d["name"], ", ".join(d["topics"]), f"~{d['typical_seconds']:g} s") for d in demos]
        widths = [max(map(len, column), default=0) for column in zip(*rows)]
        for (name, topics, seconds), d in zip(rows, demos):
            print(f"{name:<{widths[0]}}  {topics:<{widths[1]}}  {seconds:>{widths[2]}}  {d['claim']}")
        return
    from rich.table import Table

    table = Table(title="studybot demos")
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("topics")
    table.add_column("claim it tests", ratio=1)
    table.add_column("~s on CPU", justify="right")
    for d in demos:
        table.add_row(d["name"], ", ".join(d["topics"]), d["claim"], f"{d['typical_seconds']:g}")
    out.print(table)
