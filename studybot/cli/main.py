"""The command line: parse arguments, call one library function, render its plain-data result.

Each command lives in a module of this package and registers itself on `app`. Nothing here
imports torch, sentence_transformers, faiss or llama_cpp at module level, so `--help` stays fast.
"""

from __future__ import annotations

import gc
import sys

from studybot.cli.common import app, report_error
from studybot.errors import StudybotError

# Command modules register themselves on `app` when imported (one line each, below).
from studybot.cli import index as _index  # noqa: E402,F401
from studybot.cli import search as _search  # noqa: E402,F401
from studybot.cli import ask as _ask  # noqa: E402,F401
from studybot.cli import chat as _chat  # noqa: E402,F401
from studybot.cli import quiz as _quiz  # noqa: E402,F401
from studybot.cli import interview as _interview  # noqa: E402,F401
from studybot.cli import plan as _plan  # noqa: E402,F401
from studybot.cli import demo as _demo  # noqa: E402,F401
from studybot.cli import repair as _repair  # noqa: E402,F401
from studybot.cli import evaluate as _evaluate  # noqa: E402,F401
from studybot.cli import doctor as _doctor  # noqa: E402,F401
from studybot.cli import models as _models  # noqa: E402,F401


def main() -> None:
    """Console-script entry point: user errors become one line on stderr and a non-zero exit."""
    import typer

    try:
        from typer._click import exceptions as click  # typer 0.28 carries its own click
    except ImportError:
        from click import exceptions as click

    try:
        code = app(standalone_mode=False)  # click's usage errors come here, not as its three-line usage block
    except click.NoArgsIsHelpError as exc:  # a command group named alone (`studybot export`): its help
        sys.stderr.write(exc.format_message() + "\n")
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "studybot"
        report_error(f"{_sentence(exc.format_message())} (see `{command} --help`)")
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        report_error(_sentence(exc.format_message()))
        sys.exit(exc.exit_code)
    except typer.Abort:  # end of input at a prompt
        report_error("interrupted")
        sys.exit(1)
    except StudybotError as exc:
        report_error(str(exc))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        report_error("interrupted")
        sys.exit(130)
    except OSError as exc:
        if not exc.filename:
            raise
        # a home, folder or file the command must write (or read) that the system refuses: a read-only home, a
        # full disk; nothing was changed, and only the user can fix it
        report_error(f"{exc.strerror or exc}: {exc.filename}: check that it (and its folder) can be read and written")
        sys.exit(1)
    except Exception as exc:
        import sqlite3

        if not isinstance(exc, sqlite3.DatabaseError):
            raise
        if isinstance(exc, sqlite3.OperationalError):  # locked, unopenable, read-only: no damage
            report_error(f"a database studybot keeps cannot be used ({exc}): check that your home and cache folders "
                         "can be written, and that no other studybot holds them")
        else:  # a page of the index's catalog damaged inside, which SQLite finds only when it reads it
            report_error(f"the index is damaged ({exc}): run `studybot index`, which rebuilds it from your notes")
        sys.exit(1)
    else:  # typer.Exit(code) and --help's Exit(0) are returned in this mode; a command's own return is no code
        if code == 130:  # typer's Ctrl-C, returned as a code: it was silent
            report_error("interrupted")
        sys.exit(code if type(code) is int else 0)


def _sentence(message: str) -> str:
    """Click's message as one line without its closing full stop (it is followed by what to do)."""
    return " ".join(message.split()).rstrip(".")


def run() -> None:
    """The console script and `python -m studybot`: `main`, then the process exits without Python's last
    collections walking everything the command built (0.05-0.1 s of every command: an eighth of an incremental
    `index`); the command has closed its files and databases, and the operating system frees the memory."""
    try:
        main()
    finally:
        gc.freeze()
