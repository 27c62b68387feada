"""Shared pieces of the CLI: the Typer app, common options, JSON and progress rendering."""

from __future__ import annotations

import json
import math
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Callable, Iterator, Optional

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
    rich_markup_mode=None,  # plain click help: rich would cost --help about 0.15 s of imports and drawing
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
    """Write one JSON document to stdout, keeping Chinese readable; a number that is not finite (a demo's
    interval over an underflowed metric) is null, since NaN and Infinity are not JSON."""
    sys.stdout.write(json.dumps(_finite(obj), ensure_ascii=False, indent=2, allow_nan=False) + "\n")


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {key: _finite(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(value) for value in obj]
    return obj


def report_error(message: str) -> None:
    """One line on stderr, never a traceback."""
    sys.stderr.write(f"studybot: error: {message}\n")


def report_warning(message: str) -> None:
    sys.stderr.write(f"studybot: warning: {message}\n")


PIPED_WIDTH = 10_000  # no terminal: nothing to fit, and a line cut or wrapped at 80 columns breaks grep and copy


def console(stderr: bool = False):
    """A rich console; imported lazily so plain commands never pay for it. Into a pipe or file, lines are written
    whole (rich would wrap and cut tables at 80 columns: `doctor | cat` lost the end of every path)."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=PIPED_WIDTH, soft_wrap=True)


@contextmanager
def progress_bar(enabled: bool) -> Iterator[ProgressFn | None]:
    """A rich progress bar on stderr when it is a terminal (and not --json); into a pipe or a file, a plain line for
    a stage that goes on for PLAIN_EVERY seconds, and then as often (`index | cat` said nothing for minutes);
    with --json nothing.

    Library code reports progress through a plain callback `(task, done, total)`.
    """
    if not enabled:
        yield None
        return
    if not sys.stderr.isatty():
        yield _plain_progress(time.monotonic)
        return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    tasks: dict[str, int] = {}
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("ETA"), TimeRemainingColumn(),
        console=console(stderr=True), transient=True,
    ) as bar:

        def update(task: str, done: int, total: int) -> None:
            if task not in tasks:
                tasks[task] = bar.add_task(task, total=total)
            bar.update(tasks[task], completed=done, total=total)

        yield update


PLAIN_EVERY = 10.0  # seconds between two plain progress lines of one stage


def _plain_progress(clock: Callable[[], float]) -> ProgressFn:
    """Progress as plain lines on stderr: "embedding 1200/6489, about 0:05:10 left", every PLAIN_EVERY seconds.

    The time left is the stage's, at its own rate since it started (a stage that says `done` 0 first starts then):
    counted from its first report, its first batch's time was left out of the rate. Once the run has gone on for
    PLAIN_EVERY seconds, a stage says so when it starts: between two passes of an index nothing was said for up to
    40 s.
    """
    began = clock()
    started: dict[str, tuple[float, int, float]] = {}  # stage -> (when it started, done then, when it last said something)

    def update(task: str, done: int, total: int) -> None:
        now = clock()
        if task not in started:
            started[task] = (now, done, now)
            if now - began >= PLAIN_EVERY and done < total:
                print(f"{task} {done}/{total}", file=sys.stderr, flush=True)
            return
        start, first, said = started[task]
        if now - said < PLAIN_EVERY or not first < done < total:
            return
        started[task] = (start, first, now)
        left = int((now - start) * (total - done) / (done - first))
        print(f"{task} {done}/{total}, about {left // 3600}:{left // 60 % 60:02d}:{left % 60:02d} left",
              file=sys.stderr, flush=True)

    return update


# --- the model options shared by ask and chat -------------------------------------------------

ModelOption = Annotated[
    Optional[str],
    typer.Option("--model", help="A GGUF file (or a file name in <home>/models/); default: config.toml [llm] model, else "
                 "the bundled model. It beats a config.toml [llm] url, not --llm-url.", show_default=False),
]
UrlOption = Annotated[
    Optional[str],
    typer.Option("--llm-url", help="Use an OpenAI-compatible server instead (llama.cpp server, Ollama, vLLM, hosted "
                 "APIs); default: config.toml [llm] url. API key: $STUDYBOT_LLM_API_KEY, else $OPENAI_API_KEY. "
                 "If the server fails, the answer is the extractive one.", show_default=False),
]
LlmModelOption = Annotated[
    Optional[str],
    typer.Option("--llm-model", help="The model name the server serves; default: config.toml [llm] server_model, "
                 "else the first model of the server's /v1/models.", show_default=False),
]
LlmOption = Annotated[
    Optional[bool],
    typer.Option("--llm/--no-llm", help="--llm: use the model even if `studybot models check` found it weak or never "
                 "ran; --no-llm: answer from the notes only. Default: a model named by --model/--llm-url, else the "
                 "default model when its check passed.", show_default=False),
]
MaxTokensOption = Annotated[int, typer.Option("--max-tokens", min=1, max=4096, help="Most tokens the model may write.")]
