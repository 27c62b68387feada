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
            print(f"{key:<{width}}  {value}")
        return
    from rich.table import Table

    table = Table(show_header=False, box=None)
    for key, value in info.items():
        table.add_row(f"[bold]{key}[/bold]", str(value))
    out.print(table)
