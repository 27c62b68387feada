"""Drawing the library's plain data on a terminal: answers, live drafts and demo results.

Shared by the commands that show the same things (ask and chat show answers; demo, ask and chat
show demo results). Everything here imports rich lazily.
"""

from __future__ import annotations

import math
import re
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from studybot.cli.common import console, report_warning

SPARK = "▁▂▃▄▅▆▇█"
MAX_POINTS = 60


def escape(text: str) -> str:
    """Text made safe for rich markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


@contextmanager
def live_draft(enabled: bool) -> Iterator[Callable[[str], None] | None]:
    """While a model writes: a spinner with the seconds gone and the draft so far, dimmed and labelled as
    a draft, since verification decides whether it becomes the answer. Cleared when done."""
    if not enabled or not sys.stdout.isatty():
        yield None
        return
    from rich.console import Group
    from rich.live import Live
    from rich.spinner import Spinner
    from rich.text import Text

    pieces: list[str] = []
    started = time.monotonic()
    spinner = Spinner("dots", style="cyan")

    def view() -> Group:
        state = "writing a draft" if pieces else "reading your notes"
        spinner.update(text=Text(f" {state} · {time.monotonic() - started:.1f} s · shown only if it passes the checks",
                                 style="dim"))
        return Group(spinner, Text("".join(pieces), style="dim italic"))

    with Live(get_renderable=view, console=console(), refresh_per_second=8, transient=True):
        yield pieces.append


def unwritten_line(unwritten: list[dict]) -> str:
    """One line naming the user's headings on the question that have no text yet."""
    named = "; ".join(f"{u['path']}:{u['line']} {u['heading']}" for u in unwritten)
    return f"not written up in your notes yet: {named}"


def changed_line(files: list[str]) -> str:
    """One line naming the cited notes edited since the last index: their line numbers may be stale."""
    return f"notes changed since the last index ({', '.join(Path(f).name for f in files)}): run `studybot index`"


def moved_line(root: str) -> str:
    """One line saying the bundled notes are no longer where the index read them."""
    return f"the bundled notes moved since the last index (they were in {root}): run `studybot index`"


def _line_breaks(text: str) -> str:
    """An answer as Markdown with each line of a paragraph kept on its own: the quoted sentences of one source
    would otherwise run together as one line (a soft break). Code is left as it is."""
    from studybot.answer.sources import prose_and_code

    return "".join(piece if code else re.sub(r"(?<=\S)\n(?=\S)", "  \n", piece) for code, piece in prose_and_code(text))


def render_answer(answer) -> None:
    """The verified answer, its citations, the demos behind it and the timings."""
    if not sys.stdout.isatty():
        if answer.fallback_reason:
            print(f"[extractive answer: {answer.fallback_reason}]")
        if answer.model_note:  # a hint for the person, not part of the answer a pipe reads
            sys.stderr.write(f"studybot: {answer.model_note}\n")
        print(answer.answer)
        print()
        for s in answer.citations:
            print(f"[{s.n}] {s.file}:{s.line_start}-{s.line_end}  {s.path}")
        if answer.demos:
            print("backed by: " + ", ".join(f"studybot demo {d}" for d in answer.demos))
            for line in measured_lines(answer.demos):
                print(line)
        if answer.unwritten:
            print(unwritten_line(answer.unwritten))
        if answer.changed:
            sys.stderr.write(f"studybot: {changed_line(answer.changed)}\n")
        if answer.moved:
            sys.stderr.write(f"studybot: {moved_line(answer.moved)}\n")
        return
    from rich.markdown import Markdown

    out = console()
    if answer.fallback_reason:
        out.print(f"[yellow]The model's answer was not shown: {escape(answer.fallback_reason)}. "
                  "Here is the answer taken from your notes.[/yellow]")
    out.print(Markdown(_line_breaks(answer.answer)))
    out.print()
    for s in answer.citations:
        out.print(f"[bold]\\[{s.n}][/bold] [cyan]{escape(s.file)}:{s.line_start}-{s.line_end}[/cyan]  {escape(s.path)}")
    if answer.demos:
        out.print("backed by: " + ", ".join(f"[green]studybot demo {d}[/green]" for d in answer.demos))
        for line in measured_lines(answer.demos):
            out.print(f"[dim]{escape(line)}[/dim]")
    if answer.unwritten:
        out.print(f"[yellow]{escape(unwritten_line(answer.unwritten))}[/yellow]")
    if answer.changed:
        out.print(f"[yellow]{escape(changed_line(answer.changed))}[/yellow]")
    if answer.moved:
        out.print(f"[yellow]{escape(moved_line(answer.moved))}[/yellow]")
    if answer.model_note:
        out.print(f"[dim]{escape(answer.model_note)}[/dim]")
    t = answer.timings
    speed = f", {t['tokens_per_s']:.1f} tokens/s" if t.get("tokens_per_s") else ""
    out.print(f"[dim]{answer.mode} · {answer.model or 'no model'} · retrieval {t['retrieve_s']:.2f} s · "
              f"first token {t['first_token_s']:.2f} s · total {t['total_s']:.2f} s{speed}[/dim]")


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _sparkline(values: list[float], lo: float, hi: float) -> str:
    """Unicode bars on a shared [lo, hi] scale, thinned to at most MAX_POINTS columns."""
    step = math.ceil(len(values) / MAX_POINTS)
    span = (hi - lo) or 1.0
    return "".join(SPARK[round((v - lo) / span * (len(SPARK) - 1))] for v in values[::step])


def _render_chart(spec: dict[str, Any]) -> list[str]:
    """A chart as text lines: one sparkline per series, log10-scaled where the chart is log-scaled."""
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


def _measured(demos: list[str]) -> dict[str, dict[str, Any]]:
    """The latest stored result of each demo behind an answer that has one."""
    from studybot.demos.results import measured

    found = {name: measured(name) for name in demos}
    return {name: result for name, result in found.items() if result is not None}


def measured_lines(demos: list[str]) -> list[str]:
    """'studybot demo X measured: ...' for each demo behind an answer that has a cached result."""
    from studybot.demos.results import summary

    return [f"studybot demo {name} {summary(result)}" for name, result in _measured(demos).items()]


_MEASURED_KEYS = ("verdict", "device", "seeds", "quick", "options", "claim", "checks", "metrics", "intervals")


def measured_json(demos: list[str]) -> dict[str, dict[str, Any]]:
    """What `measured_lines` says, for --json: each demo's last result without its curves (`ask --json` had only
    "demos": ["lora"] where the text said "studybot demo lora measured: supported over 3 seeds ...")."""
    return {name: {key: result[key] for key in _MEASURED_KEYS} for name, result in _measured(demos).items()}


def render_demo(result: dict[str, Any], plot: Optional[Path]) -> None:
    """The means with their 95% intervals, the charts, each claimed effect's verdict and the overall verdict."""
    from rich.table import Table

    out = console()
    seeds = result["seeds"]
    table = Table(
        title=f"studybot demo {result['demo']}",
        caption=f"{result['device']} · {len(seeds)} seeds ({seeds[0]}..{seeds[-1]}){' · quick' if result['quick'] else ''}"
        f" · {result['seconds']:.2f} s{' · cached result (--fresh reruns)' if result['cached'] else ''}",
    )
    table.add_column("metric")
    table.add_column("mean ± 95% half-width", justify="right")
    table.add_column("95% interval", justify="right")
    geometric = set(result.get("geometric", ()))  # the metrics averaged on a log scale, as the demo measured them
    for key, value in result["metrics"].items():
        low, high = result["intervals"][key]
        table.add_row(key, _fmt_mean(value, low, high, key in geometric), f"{_fmt(low)} .. {_fmt(high)}")
    out.print(table)
    for spec in result["series"].values():
        for line in _render_chart(spec):
            out.print(line)
    out.print(f"\n[bold]claim[/bold]: {escape(result['claim'])}")
    for condition, verdict in result["checks"].items():
        out.print(f"  {_VERDICT_MARKS[verdict]}[/] {escape(condition)}")
    colour = {"supported": "green", "not supported": "red"}.get(result["verdict"], "yellow")
    out.print(f"[bold]verdict[/bold]: [bold {colour}]{result['verdict']}[/]")
    out.print(f"[bold]conclusion[/bold]: {escape(result['conclusion'])}")
    if plot is not None:
        out.print(f"[dim]plot written to {escape(str(plot))}[/dim]")


_VERDICT_MARKS = {"supported": "[green]✓", "not supported": "[red]✗", "inconclusive": "[yellow]?"}


def _fmt_mean(mean: float, low: float, high: float, geometric: bool) -> str:
    """mean ± half-width, or for a geometric mean (an interval symmetric on a log scale) mean ×/÷ factor.

    The scale is the demo's, not read off the interval's shape: an arithmetic interval cut at 0 is lopsided too, and
    "0.1809 ×/÷ 2.28" stood beside "0 .. 0.4129". Its upper half is never cut, so it gives the half-width.
    """
    if not math.isfinite(low) or not math.isfinite(high):
        return f"{_fmt(mean)} ± ?"
    if low == high:
        return _fmt(mean)
    return f"{_fmt(mean)} ×/÷ {high / mean:.3g}" if geometric else f"{_fmt(mean)} ± {_fmt(high - mean)}"


def run_and_render(name: str | None, json_out: bool) -> dict[str, Any] | None:
    """Run the first demo behind an answer (ask --run-demo, chat's /demo), drawn as `studybot demo` draws it."""
    if name is None:
        report_warning("no demo backs this answer")
        return None
    from studybot.demos.runner import run_demo

    result = run_demo(name, reuse=True)
    if not json_out:
        render_demo(result, None)
    return result
