"""`studybot quiz`, `review`, `stats` and `export anki`: graded practice with spaced repetition."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from studybot.cli.common import HomeOption, JsonOption, app, console, print_json, report_warning
from studybot.cli.render import measured_lines
from studybot.errors import StudybotError

TopicOption = Annotated[Optional[str], typer.Option(
    "--topic", "-t", help="A quiz topic, a note's topic or tag, or any glossary alias (rnn, 循环神经网络).",
    show_default=False)]
BankOption = Annotated[Optional[list[Path]], typer.Option(
    "--bank", help="Quiz bank files or folders to use instead of the bundled ones and <home>/quizzes.",
    show_default=False)]
NotesOption = Annotated[bool, typer.Option(
    "--notes/--no-notes", help="Also ask the indexed notes' questions (question headings, Q/A pairs, answer blocks).")]
NowOption = Annotated[Optional[str], typer.Option("--now", hidden=True, help="Fixed UTC clock (ISO), for scripts.")]
LimitOption = Annotated[Optional[int], typer.Option("--limit", "-n", min=1, help="Ask at most N questions.")]
LangOption = Annotated[Optional[str], typer.Option("--lang", help="Show only zh or en text (default: both).")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed for the question order.")]
StrictOption = Annotated[bool, typer.Option(
    "--strict", help="Fail on a quiz bank with problems instead of skipping it with a warning.")]
AnswersOption = Annotated[Optional[Path], typer.Option(
    "--answers-file", help="Answers, one per line in question order, instead of asking.", show_default=False)]

export_app = typer.Typer(help="Write the quiz cards for other tools.", no_args_is_help=True)
app.add_typer(export_app, name="export")


def clock_from(now: str | None):
    """The session clock: the system's UTC time, or the fixed --now a script passes."""
    if now is None:
        return lambda: datetime.now(timezone.utc)
    try:
        fixed = datetime.fromisoformat(now)
    except ValueError:
        raise StudybotError(f"--now {now!r} is not an ISO date-time like 2025-01-31T09:00:00+00:00") from None
    fixed = fixed.astimezone(timezone.utc) if fixed.tzinfo else fixed.replace(tzinfo=timezone.utc)  # +08:00 too
    return lambda: fixed


def read_answers(path: Path | None) -> list[str] | None:
    """The lines of an --answers-file (None without one)."""
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise StudybotError(f"cannot read answers file {path} ({exc}); pass a UTF-8 text file") from None


def next_answer(out, answers: list[str] | None, position: int) -> str | None:
    """The answer to the position-th question: that line of the answers file, else a line typed on stdin;
    None (stop) at `:q` (or the full-width `：q` a Chinese input method types), at the end of the file or of stdin (Ctrl-D)."""
    if answers is not None:
        line = answers[position - 1] if position <= len(answers) else None
    else:
        out.print("[dim]answer (Enter to submit, :q to stop)[/dim] > ", end="")
        line = sys.stdin.readline() or None
    return None if line is None or line.strip().lower() in (":q", "：q") else line.rstrip("\n")  # a Chinese IME types ：q


def _session(due_only: bool, topic, limit, seed, answers_file, lang, bank, notes, strict, home, json_out, now) -> None:
    from studybot.study.quiz import plan_quiz, run_quiz

    if lang not in (None, "zh", "en"):
        raise StudybotError(f"--lang {lang!r}: use zh or en")
    clock = clock_from(now)
    answers = read_answers(answers_file)
    plan = plan_quiz(home, clock(), topic=topic, limit=limit, seed=seed, due_only=due_only, banks=bank, notes=notes,
                     strict=strict)
    out = console(stderr=json_out)
    for warning in plan.warnings:
        report_warning(warning)
    if plan.planned_topics:
        out.print(f"[dim]following today's plan: {', '.join(plan.planned_topics)} first; "
                  f"answers scheduled at {plan.retention:.2f} desired retention[/dim]")
    # grading by meaning takes a second at most, one in the other language than the note a few (a translation)
    grading = out.status("grading…") if out.is_terminal else None

    def ask(card, position: int, total: int) -> str | None:
        _render_question(out, card.to_dict(), position, total, lang)
        answer = next_answer(out, answers, position)
        if grading is not None and answer is not None:
            grading.start()
        return answer

    def answered(a) -> None:
        if grading is not None:
            grading.stop()
        _render_feedback(out, a.to_dict(), lang)

    result = run_quiz(plan, ask, clock, on_answer=answered)
    if result.session is None:  # nothing to ask
        when = f"; the next card is due {plan.next_due:%Y-%m-%d %H:%M} UTC" if plan.next_due else ""
        message = f"nothing is due{when}: run `studybot quiz` to learn new cards"
        if json_out:  # the shape of a session's document, nothing asked
            print_json({**result.to_dict(), "message": message})
        else:
            out.print(message)
        return
    if result.interrupted:  # each answer was committed as it was graded: say so, and exit as Ctrl-C does
        if grading is not None:
            grading.stop()
        saved = len(result.answered)
        if json_out:  # the one document still comes: what was answered, "interrupted": true
            print_json(result.to_dict())
        sys.stderr.write(f"\nstudybot: stopped: {saved} answer{'s' * (saved != 1)} saved; "
                         "`studybot review` asks the rest when they are due\n")
        sys.exit(130)  # as Ctrl-C exits, with its own line said above
    if json_out:
        print_json(result.to_dict())
    else:
        summary = result.to_dict()["summary"]
        mean = "-" if summary["mean_score"] is None else f"{summary['mean_score']:.1f}"
        out.print(f"\n[bold]{summary['answered']} of {summary['planned']} answered[/bold], mean score {mean}/5")


def _render_question(out, card: dict, position: int, total: int, lang: str | None) -> None:
    from rich.text import Text

    from studybot.content.schema import Bilingual

    out.print(Text.assemble((f"\n[{position}/{total}] ", "bold"), (card["topic"], "cyan"), f"  {card['id']}"))
    if card["context"]:  # a note's heading may not name its subject: "How It Works (Pipeline)" in P-Tuning
        out.print(Text(f"({card['context']})", style="dim"))
    out.print(Text(Bilingual(**card["question"]).text(lang)))
    for letter, option in zip("ABCDE", card["options"]):
        out.print(Text(f"  {letter}. {Bilingual(**option).text(lang).replace(chr(10), ' / ')}"))  # one line an option


def _render_feedback(out, answered: dict, lang: str | None) -> None:
    from rich.text import Text

    from studybot.study.grading import label_in
    from studybot.content.schema import Bilingual

    style = {"again": "red", "hard": "yellow", "good": "green", "easy": "bold green"}[answered["rating"]]
    out.print(Text.assemble(("score ", "bold"), (f"{answered['score']}/5 {answered['rating']}", style),
                            f"  next review {answered['due'][:16].replace('T', ' ')} UTC"))
    for mark, key, colour in (("✓", "covered", "green"), ("✗", "missed", "red")):
        for point in answered[key]:
            out.print(Text(f"  {mark} {label_in(point, lang)}", style=colour))
    out.print(Text(Bilingual(**answered["reference"]).text(lang), style="dim"))
    out.print(Text(f"source: {answered['source']}", style="dim"))
    for demo in answered["demos"]:
        out.print(Text(f"backed by: studybot demo {demo}", style="dim"))
    for line in measured_lines(answered["demos"]):
        out.print(Text(line, style="dim"))


@app.command()
def quiz(
    topic: TopicOption = None, limit: LimitOption = 10, seed: SeedOption = 0, answers_file: AnswersOption = None,
    lang: LangOption = None, bank: BankOption = None, notes: NotesOption = True, strict: StrictOption = False,
    home: HomeOption = None, json_out: JsonOption = False, now: NowOption = None,
) -> None:
    """Ask questions, grade the answers by key points, and schedule each card's next review (FSRS)."""
    _session(False, topic, limit, seed, answers_file, lang, bank, notes, strict, home, json_out, now)


@app.command()
def review(
    topic: TopicOption = None, limit: LimitOption = None, seed: SeedOption = 0, answers_file: AnswersOption = None,
    lang: LangOption = None, bank: BankOption = None, notes: NotesOption = True, strict: StrictOption = False,
    home: HomeOption = None, json_out: JsonOption = False, now: NowOption = None,
) -> None:
    """Ask the cards that are due, most overdue first."""
    _session(True, topic, limit, seed, answers_file, lang, bank, notes, strict, home, json_out, now)


@app.command()
def stats(
    topic: TopicOption = None, bank: BankOption = None, notes: NotesOption = True, strict: StrictOption = False,
    plot: Annotated[Optional[Path], typer.Option(
        help="Also draw mastery by week and interview scores by session into this PNG file.", show_default=False)] = None,
    home: HomeOption = None, json_out: JsonOption = False, now: NowOption = None,
) -> None:
    """Due counts, retention, mastery per topic, reviews per day, progress over time and syllabus coverage."""
    from studybot.study.quiz import review_stats

    result = review_stats(home, clock_from(now)(), topic=topic, banks=bank, notes=notes, strict=strict)
    if plot is not None:
        from studybot.charts import save_charts

        save_charts(progress_charts(result), f"studybot stats ({result['now'][:10]})", plot)
    if json_out:
        print_json(result)
        return
    for warning in result["warnings"]:
        report_warning(warning)
    _render_stats(result)
    _render_progress(result)
    if plot is not None:
        console().print(f"plot written to {plot}")


def progress_charts(result: dict[str, Any]) -> list[dict]:
    """The stats' progress as charts (the shape `save_charts` draws): mastery by week, interview score by session."""
    weekly, sessions = result["mastery_by_week"], result["interviews"]
    lines = {"overall": [s["score"] for s in sessions]} if sessions else {}
    for topic in sorted({t for s in sessions for t in s["by_topic"]}):
        lines[topic] = [s["by_topic"].get(topic) for s in sessions]
    return [
        {"title": "mastery per topic by week", "x": [w[5:] for w in weekly["weeks"]], "x_label": "week from",
         "y_label": "mastery", "log_y": False, "y_range": (0, 1), "lines": weekly["topics"]},
        {"title": "mock interview score by session", "x": list(range(1, len(sessions) + 1)), "x_label": "session",
         "y_label": "mean score (0-5)", "log_y": False, "y_range": (0, 5), "lines": lines},
    ]


def _render_progress(result: dict[str, Any]) -> None:
    """Progress as sparklines (one bar a week, or a session) and the syllabus coverage map, in a few lines."""
    from studybot.cli.render import _sparkline, escape

    out = console()
    weekly = result["mastery_by_week"]
    if weekly["topics"]:
        width = max(len(topic) for topic in weekly["topics"])
        out.print(f"mastery by week ({weekly['weeks'][0][5:]} to {weekly['weeks'][-1][5:]}, one bar a week, 0-100%):")
        for topic, values in weekly["topics"].items():
            out.print(f"  {escape(topic):<{width}} {_sparkline(values, 0, 1)} {_percent(values[-1])}")
    sessions = result["interviews"]
    if sessions:
        scores = [s["score"] for s in sessions]
        out.print(f"mock interviews ({len(sessions)}, one bar a session, 0-5): {_sparkline(scores, 0, 5)} "
                  f"last {scores[-1]:.1f}, best {max(scores):.1f}")
    coverage = result["coverage"]["topics"]
    covered = [c["topic"] for c in coverage if c["covered"]]
    missing = [c["topic"] for c in coverage if not c["covered"]]
    out.print(f"syllabus coverage: {len(covered)} of {len(coverage)} bundled topics have a note of yours "
              f"({result['coverage']['own_notes']} notes indexed)")
    if covered:
        out.print(f"  covered: {escape(', '.join(covered))}")
    if missing:
        out.print(f"  no note of yours yet: {escape(', '.join(missing))}")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _render_stats(result: dict[str, Any]) -> None:
    from rich.table import Table

    out = console()
    retention = result["retention"]
    out.print(f"[bold]{result['cards']}[/bold] cards: {result['seen']} seen, {result['new']} new; "
              f"due now [bold]{result['due_now']}[/bold], within 24 h {result['due_24h']}, within 7 days {result['due_7d']}")
    if result.get("away"):
        out.print(f"{result['away']} card{'s' if result['away'] > 1 else ''} you reviewed {'are' if result['away'] > 1 else 'is'}"
                  " no longer in your notes (a note or heading removed): the history is kept and comes back with it")
    out.print(f"retention (last {retention['days']} days, {retention['repeat_reviews']} repeat reviews): "
              f"{_percent(retention['passed'])} passed; FSRS predicted recall now {_percent(retention['predicted_now'])}")
    table = Table(title="mastery per topic")
    for column in ("topic", "cards", "seen", "due", "mastery"):
        table.add_column(column, justify="left" if column == "topic" else "right")
    for t in result["topics"]:
        table.add_row(t["topic"], str(t["cards"]), str(t["seen"]), str(t["due"]), _percent(t["mastery"]))
    out.print(table)
    peak = max((d["reviews"] for d in result["per_day"]), default=0) or 1
    out.print("reviews per day:")
    for day in result["per_day"]:
        out.print(f"  {day['date'][5:]} {'█' * round(20 * day['reviews'] / peak):<20} {day['reviews']}")


@export_app.command("anki")
def export_anki(
    path: Annotated[Path, typer.Argument(help="The .apkg file to write.")],
    topic: TopicOption = None, bank: BankOption = None, notes: NotesOption = True, strict: StrictOption = False,
    home: HomeOption = None, json_out: JsonOption = False,
) -> None:
    """Write the quiz cards (banks and notes) as an Anki deck."""
    from studybot.study.quiz import export_anki as write

    result = write(home, path, topic=topic, banks=bank, notes=notes, strict=strict)
    if json_out:
        print_json(result)
        return
    for warning in result["warnings"]:
        report_warning(warning)
    if result["created_folder"]:
        console().print(f"created folder {result['created_folder']}")
    console().print(f"wrote {result['notes']} notes to {result['path']}")
