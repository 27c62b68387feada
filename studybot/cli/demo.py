"""`studybot demo`: run a small PyTorch experiment that tests a claim from the notes."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from studybot.cli.common import JsonOption, app, console, print_json
from studybot.errors import StudybotError

SPARK = "▁▂▃▄▅▆▇█"
MAX_POINTS = 60


@app.command()
def demo(
    name: Annotated[Optional[str], typer.Argument(help="The demo to run (see --list).", show_default=False)] = None,
    list_all: Annotated[bool, typer.Option("--list", help="List the demos and the claims they test.")] = False,
    device: Annotated[str, typer.Option(help="auto (CUDA when available), cpu or cuda.")] = "auto",
    seed: Annotated[int, typer.Option(help="Seed for data, weights and dropout masks.")] = 0,
    quick: Annotated[bool, typer.Option("--quick", help="A smaller, faster run.")] = False,
    json_out: JsonOption = False,
    plot: Annotated[
        Optional[Path], typer.Option(help="Also draw the demo's curves into this PNG file.", show_default=False)
    ] = None,
    rank: Annotated[
        Optional[int], typer.Option(help="LoRA rank (lora demo only; default 4).", show_default=False)
    ] = None,
) -> None:
    """Measure what a note claims (e.g. sigmoid saturation, LoRA) and say whether the numbers support it."""
    from studybot.demos import list_demos, run_demo, save_plot

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
    result = run_demo(name, device=device, seed=seed, quick=quick, **options)
    if plot is not None:
        save_plot(result, plot)
    if json_out:
        print_json(result)
    else:
        _render_result(result, plot)


def _render_list(demos: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(title="studybot demos")
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("topics")
    table.add_column("claim it tests", ratio=1)
    table.add_column("~s on CPU", justify="right")
    for d in demos:
        table.add_row(d["name"], ", ".join(d["topics"]), d["claim"], f"{d['typical_seconds']:g}")
    console().print(table)


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _sparkline(values: list[float], lo: float, hi: float) -> str:
    """Unicode bars on a shared [lo, hi] scale, thinned to at most MAX_POINTS columns."""
    step = math.ceil(len(values) / MAX_POINTS)
    span = (hi - lo) or 1.0
    return "".join(SPARK[round((v - lo) / span * (len(SPARK) - 1))] for v in values[::step])


def _render_chart(spec: dict[str, Any]) -> list[str]:
    """A chart as text lines: one sparkline per series, log10-scaled where the chart is log-scaled."""
    from rich.markup import escape

    def scaled(v: float) -> float:
        return math.log10(max(v, 1e-300)) if spec["log_y"] else v

    lines = {label: [scaled(v) for v in ys] for label, ys in spec["lines"].items()}
    finite = [v for ys in lines.values() for v in ys if math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    width = max(len(label) for label in lines)
    x = spec["x"]
    out = [f"[bold]{escape(spec['title'])}[/bold] [dim]({escape(spec['x_label'])} {_fmt(x[0])}..{_fmt(x[-1])}"
           f"{', log scale' if spec['log_y'] else ''})[/dim]"]
    for label, ys in spec["lines"].items():
        clean = [min(max(v, lo), hi) if math.isfinite(v) else lo for v in lines[label]]
        out.append(f"  {escape(label):>{width}} [cyan]{_sparkline(clean, lo, hi)}[/cyan] "
                   f"[dim]{_fmt(ys[0])} → {_fmt(ys[-1])}[/dim]")
    return out


def _render_result(result: dict[str, Any], plot: Optional[Path]) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()
    table = Table(
        title=f"studybot demo {result['demo']}",
        caption=f"{result['device']} · seed {result['seed']}{' · quick' if result['quick'] else ''} · "
        f"{result['seconds']:.2f} s",
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result["metrics"].items():
        table.add_row(key, _fmt(value))
    out.print(table)
    for spec in result["series"].values():
        for line in _render_chart(spec):
            out.print(line)
    out.print(f"\n[bold]claim[/bold]: {escape(result['claim'])}")
    for condition, ok in result["checks"].items():
        out.print(f"  {'[green]✓' if ok else '[red]✗'}[/] {escape(condition)}")
    colour = "green" if result["verdict"] == "supported" else "red"
    out.print(f"[bold]verdict[/bold]: [bold {colour}]{result['verdict']}[/]")
    out.print(f"[bold]conclusion[/bold]: {escape(result['conclusion'])}")
    if plot is not None:
        out.print(f"[dim]plot written to {escape(str(plot))}[/dim]")
