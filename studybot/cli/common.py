"""Shared pieces of the CLI: the Typer app, common options, JSON and progress rendering."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Iterator, Optional

import typer

from studybot import __version__
from studybot.progress import ProgressFn


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"studybot {__version__}")
        raise typer.Exit()


app = typer.Typer(
    help="An interview coach over your own deep-learning notes: index, search, ask, quiz, demo.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """studybot: index your notes, search them, and practise for ML interviews."""


HomeOption = Annotated[
    Optional[Path],
    typer.Option(
        "--home",
        envvar="STUDYBOT_HOME",
        help="Data directory (default: $STUDYBOT_HOME, else the platform's user data dir).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]


def print_json(obj: Any) -> None:
    """Write one JSON document to stdout, keeping Chinese readable."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def report_error(message: str) -> None:
    """One line on stderr, never a traceback."""
    sys.stderr.write(f"studybot: error: {message}\n")


def report_warning(message: str) -> None:
    sys.stderr.write(f"studybot: warning: {message}\n")


def console(stderr: bool = False):
    """A rich console; imported lazily so plain commands never pay for it."""
    from rich.console import Console

    return Console(stderr=stderr)


@contextmanager
def progress_bar(enabled: bool) -> Iterator[ProgressFn | None]:
    """A rich progress bar on stderr when it is a terminal (and not --json); otherwise nothing.

    Library code reports progress through a plain callback `(task, done, total)`.
    """
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    tasks: dict[str, int] = {}
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console(stderr=True), transient=True,
    ) as bar:

        def update(task: str, done: int, total: int) -> None:
            if task not in tasks:
                tasks[task] = bar.add_task(task, total=total)
            bar.update(tasks[task], completed=done, total=total)

        yield update


# --- the model options shared by ask and chat -------------------------------------------------

ModelOption = Annotated[
    Optional[str],
    typer.Option("--model", help="A GGUF file (or a file name in <home>/models/); default: config.toml, else the bundled model.",
                 show_default=False),
]
UrlOption = Annotated[
    Optional[str],
    typer.Option("--llm-url", help="Use an OpenAI-compatible server instead (llama.cpp server, Ollama, vLLM).",
                 show_default=False),
]
NoLlmOption = Annotated[bool, typer.Option("--no-llm", help="Skip the model: answer extractively from the notes.")]
MaxTokensOption = Annotated[int, typer.Option("--max-tokens", min=1, max=4096, help="Most tokens the model may write.")]
