"""`studybot plan`: a day-by-day plan up to the interview, which `review` follows."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from studybot.cli.common import HomeOption, JsonOption, app, console, print_json, report_warning
from studybot.cli.quiz import BankOption, NotesOption, NowOption, clock_from


@app.command()
def plan(
    until: Annotated[str, typer.Option("--until", help="The interview date, YYYY-MM-DD (after today).",
                                       show_default=False)],
    minutes_per_day: Annotated[float, typer.Option("--minutes-per-day", help="Study minutes a day.")] = 30,
    bank: BankOption = None, notes: NotesOption = True, home: HomeOption = None, json_out: JsonOption = False,
    now: NowOption = None,
) -> None:
    """Plan each day up to the interview (cards due, weakest topics first, new topics, mock interviews) and
    save it, so `review` asks today's planned topics first."""
    from studybot.study.planner import plan_until

    result = plan_until(home, clock_from(now)(), until, minutes_per_day, banks=bank, notes=notes)
    if json_out:
        print_json(result)
        return
    for warning in result["warnings"]:
        report_warning(warning)
    _render_plan(result)


def _render_plan(result: dict[str, Any]) -> None:
    """One line a day: the date, days left, desired retention, cards due and new, minutes, topics, mock interview."""
    from rich.text import Text

    out = console()
    out.print(f"plan until the interview on {result['until']} ({result['minutes_per_day']:g} minutes a day)")
    for day in result["days"]:
        topics = ", ".join(t["topic"] + (f" (+{t['new']} new)" if t["new"] else "") for t in day["topics"])
        mock = day["mock_interview"]
        over = " over budget" if day["minutes"] > result["minutes_per_day"] else ""
        line = (f"{day['date'][5:]} {day['days_left']:>3}d left  retention {day['retention']:.2f}  due {day['due']:>3}"
                f"  new {day['new']:>3}  {day['minutes']:>4g} min{over}"
                + (f"  mock interview: {', '.join(mock['topics']) or 'any topic'}" if mock else "")
                + (f"\n      {topics}" if topics else ""))
        out.print(Text(line))
    out.print(f"rule: {result['rule']}")
    if result["unplanned_new"] and result["new_per_day"] == 0:  # no rate: "at most 0 new cards a day" said one
        out.print(f"{result['unplanned_new']} new cards did not fit before the interview: the reviews already due "
                  "leave no room on the days a new card would come back; raise --minutes-per-day")
    elif result["unplanned_new"] and result["new_per_day"] is not None:
        out.print(f"{result['unplanned_new']} new cards did not fit before the interview: at most "
                  f"{result['new_per_day']} new cards a day, so that the reviews they bring back fit "
                  f"{result['minutes_per_day']:g} minutes on the later days; raise --minutes-per-day")
    elif result["unplanned_new"]:
        out.print(f"{result['unplanned_new']} new cards did not fit before the interview: raise --minutes-per-day")
    out.print(f"saved to {result['path']}; `studybot review` asks today's planned topics first")
