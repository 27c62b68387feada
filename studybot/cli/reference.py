"""The README's command reference, generated from the commands themselves so it cannot drift.

`cog -r README.md` rewrites the reference between its cog markers; a test fails when the README
and the commands disagree. Only click's own attributes are read (names, types, help, defaults),
not a rendered help screen, so the text does not change with the terminal or typer's styling.
Typer's commands are read by duck typing: recent typer ships its own copy of click.
"""

from __future__ import annotations

from typing import Any, Iterator


def _is_argument(param: Any) -> bool:
    return param.param_type_name == "argument"


def _is_group(command: Any) -> bool:
    return hasattr(command, "list_commands")


def _usage(command: Any, path: str) -> str:
    pieces = [path]
    if any(not _is_argument(p) and not p.hidden for p in command.params):
        pieces.append("[OPTIONS]")
    if _is_group(command):
        pieces.append("COMMAND")
    for param in command.params:
        if _is_argument(param):
            name = param.name.upper() + ("..." if param.nargs == -1 else "")
            pieces.append(name if param.required else f"[{name}]")
    return " ".join(pieces)


def _markdown(text: str) -> str:
    """Help text as Markdown shows it literally: <home> is not an HTML tag."""
    return text.replace("<", "\\<")


def _cell(text: str) -> str:
    return _markdown(" ".join(text.split())).replace("|", "\\|")


def _row(param: Any) -> tuple[str, str] | None:
    """(names, meaning) of one argument or option; None for hidden ones and --help."""
    if _is_argument(param):
        return param.name.upper() + ("..." if param.nargs == -1 else ""), getattr(param, "help", "") or ""
    if param.hidden or "--help" in param.opts:
        return None
    names = ", ".join(sorted(param.opts, key=len, reverse=True))
    if param.secondary_opts:
        names += " / " + ", ".join(param.secondary_opts)
    if not param.is_flag:
        names += f" {param.metavar or param.name.upper()}"
    meaning = param.help or ""
    if not param.is_flag and param.default is not None and param.show_default is not False:
        default = param.default if not isinstance(param.default, (list, tuple)) else " ".join(map(str, param.default))
        meaning += f" Default: {default}."
    if param.envvar:
        meaning += f" Env: `${param.envvar}`."
    return names, meaning


def _section(command: Any, path: str, out: list[str]) -> None:
    out += [f"### `{_usage(command, path)}`", "", _markdown((command.help or "").strip()), ""]
    rows = [row for row in map(_row, command.params) if row]
    if rows:
        out += ["| argument or option | meaning |", "| --- | --- |"]
        out += [f"| `{names}` | {_cell(meaning)} |" for names, meaning in rows]
        out.append("")
    if _is_group(command):
        for sub, sub_path in _subcommands(command, path):
            _section(sub, sub_path, out)


def _subcommands(group: Any, path: str) -> Iterator[tuple[Any, str]]:
    """A group's visible commands and their full paths, in registration order."""
    ctx = group.context_class(group, info_name=path)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is not None and not command.hidden:
            yield command, f"{path} {name}"


def command_reference() -> str:
    """Markdown: usage, purpose and every argument and option of every command, in the order of `--help`."""
    import typer

    from studybot.cli.main import app

    out: list[str] = []
    for command, path in _subcommands(typer.main.get_command(app), "studybot"):
        _section(command, path, out)
    return "\n".join(out).rstrip() + "\n"
