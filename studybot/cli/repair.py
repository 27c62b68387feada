"""`studybot repair`: restore notes damaged by a bad export (UTF-8 read back as Windows-1254)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from studybot.ingest.repair.scoring import CONFIDENT, DEFAULT_SCORER
from studybot.cli.common import JsonOption, app, print_json, progress_bar, report_warning

if TYPE_CHECKING:
    from studybot.ingest.repair.restore import FileRepair

MAX_LINES = 8  # line numbers named in the summary; every spot is listed below it


@app.command()
def repair(
    file: Annotated[Path, typer.Argument(help="The damaged note file.", show_default=False)],
    out: Annotated[
        Optional[Path], typer.Option("-o", "--output", help="Write the repaired text here instead of stdout.")
    ] = None,
    in_place: Annotated[
        bool, typer.Option("--in-place", help="Overwrite FILE when the repair changes it, keeping the original as "
                          "FILE.bak (or .bak1, ...).")
    ] = False,
    scorer: Annotated[
        str, typer.Option("--scorer", help="gemma: jieba, then the document's character trigrams, then a small LLM "
                          "on the spots both are unsure of (cached per line; falls back to jieba if not installed); "
                          "ngram: jieba and the trigrams only; jieba: word lattice only, instant.")
    ] = DEFAULT_SCORER,
    json_out: JsonOption = False,
) -> None:
    """Repair mojibake with lost bytes; print the text and report the spots worth checking."""
    from studybot.home import cache_dir
    from studybot.ingest.repair.restore import repair_file

    with progress_bar(not json_out) as progress:  # on stderr, so it never mixes with the text on stdout
        result = repair_file(file, out=out, in_place=in_place, scorer_name=scorer, cache=cache_dir() / "repairs.sqlite",
                             progress=progress)
    if json_out:
        print_json(result.as_dict())
        return
    to_stdout = out is None and not in_place
    if to_stdout:  # the bytes -o would write, so a redirect is as faithful as -o
        sys.stdout.buffer.write(result.data)
        sys.stdout.buffer.flush()
    if result.report.fallback:
        report_warning(f"{result.report.fallback}; repaired with {result.report.scorer}")
    sys.stderr.write("".join(f"{line}\n" for line in summary(result, to_stdout)))


def summary(result: FileRepair, to_stdout: bool) -> list[str]:
    """What the repair did, in words that claim no more than the scorer knows; one line when unchanged."""
    report, file = result.report, result.file
    if not result.changed:
        where = "the same bytes on stdout" if to_stdout else \
            f"the same bytes written to {result.written}" if result.written else "nothing written"
        return [f"{file}: no export damage found; unchanged ({where})"]
    if report.damaged:
        counts = (f"{file}: {report.confident} of {report.damaged} damaged characters repaired with confidence "
                  f"({report.scorer} \u2265 {CONFIDENT:.0%}), {len(report.low_confidence)} guessed"
                  f"{_check(report.lines_to_check)}, {report.unrepaired} left as found; "
                  f"{report.decoded} more decoded exactly")
    elif report.mojibake:
        counts = f"{file}: no damaged characters; {report.decoded} decoded exactly"
    else:  # changed without mojibake: the GBK lines of a UTF-8 note, converted
        counts = f"{file}: no export damage found; its GBK (GB18030) lines are now UTF-8"
    spots = [f"  line {spot.line}, column {spot.column}: {spot.chosen} "
             f"({int(spot.confidence * 100)}%; or {', '.join(spot.alternatives) or '-'})"
             for spot in report.low_confidence]
    own = "its own encoding" if result.written == file else f"the encoding of {file}"
    written = f"{'text on stdout' if to_stdout else f'wrote {result.written}'} in {result.encoding_name}, {own}"
    if result.invalid_bytes:
        written += f"; {result.invalid_bytes} byte(s) that were not valid UTF-8 are now U+FFFD"
    if result.backup:
        written += f"; original kept as {result.backup}"
    return [counts, *spots, written]


def _check(lines: list[int]) -> str:
    """" (check lines 3, 9 and 2 more)": where the guesses are, before the full list."""
    if not lines:
        return ""
    more = f" and {len(lines) - MAX_LINES} more" if len(lines) > MAX_LINES else ""
    return f" (check line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines[:MAX_LINES]))}{more})"
