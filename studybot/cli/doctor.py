"""`studybot doctor`: what is installed, where things are, how big the index is."""

from __future__ import annotations

from studybot.cli.common import HomeOption, JsonOption, app, console, print_json


@app.command()
def doctor(home: HomeOption = None, json_out: JsonOption = False) -> None:
    """Show versions, device, embedding model, index location and size."""
    from studybot.diagnostics import diagnose

    info = diagnose(home)
    if json_out:
        print_json(info)
        return
    out = console()
    if not out.is_terminal:  # plain lines: a table pads every line to its widest (190 columns of trailing spaces)
        width = max(map(len, info), default=0)
        for key, value in info.items():
            print(f"{key:<{width}}  {_shown(value)}")
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_header=False, box=None)
    for key, value in info.items():
        table.add_row(f"[bold]{key}[/bold]", escape(_shown(value)))
    out.print(table)


def _shown(value) -> str:
    """A value as a person reads it: a list's items and a mapping's keys and values, not Python's reprs."""
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{key} {_shown(item)}" for key, item in value.items())
    return str(value)
