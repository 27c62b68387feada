"""`studybot repair`: restore notes damaged by a bad export (UTF-8 read back as Windows-1254)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from studybot.ingest.repair.scoring import DEFAULT_SCORER
from studybot.cli.common import JsonOption, app, print_json, report_warning


@app.command()
def repair(
    file: Annotated[Path, typer.Argument(help="The damaged note file.", show_default=False)],
    out: Annotated[
        Optional[Path], typer.Option("-o", "--output", help="Write the repaired text here instead of stdout.")
    ] = None,
    in_place: Annotated[
        bool, typer.Option("--in-place", help="Overwrite FILE, keeping the original as FILE.bak (or .bak1, ...).")
    ] = False,
    scorer: Annotated[
        str, typer.Option("--scorer", help="gemma: a small LLM rechecks the spots jieba is unsure of (about 0.3 s "
                          "each, cached per line; falls back to jieba if not installed); jieba: word lattice only, "
                          "instant.")
    ] = DEFAULT_SCORER,
    json_out: JsonOption = False,
) -> None:
    """Repair mojibake with lost bytes; print the text and report the spots worth checking."""
    from studybot.home import cache_dir
    from studybot.ingest.repair.restore import repair_file

    result = repair_file(file, out=out, in_place=in_place, scorer_name=scorer, cache=cache_dir() / "repairs.sqlite")
    report = result.report
    if json_out:
        print_json({**result.as_dict(), "low_confidence": [vars(spot) for spot in report.low_confidence]})
        return
    if result.written is None:
        sys.stdout.write(report.text)
    if report.fallback:
        report_warning(f"{report.fallback}; repaired with {report.scorer}")
    err = sys.stderr
    if not report.mojibake:
        err.write(f"{file}: no export damage found; text unchanged\n")
        return
    err.write(f"{file}: restored {report.restored} of {report.damaged} damaged characters")
    err.write(f" ({len(report.low_confidence)} to check)\n" if report.low_confidence else "\n")
    for spot in report.low_confidence:
        others = ", ".join(spot.alternatives) or "-"
        err.write(f"  line {spot.line}, column {spot.column}: {spot.chosen} ({spot.confidence:.0%}; or {others})\n")
    if result.backup:
        err.write(f"wrote {result.written}; original kept as {result.backup}\n")
    elif result.written:
        err.write(f"wrote {result.written}\n")
