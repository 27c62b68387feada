"""Write quiz cards as an Anki package (.apkg) with genanki.

The model and deck ids are fixed and each note's guid comes from the card's name (its id, or for a card from the notes
the id it was first exported under: `ReviewStore.anki_names`), so importing a newer export into Anki updates the cards
already there instead of adding duplicates, after a note or heading is renamed too.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path

from studybot.study.cards import Card
from studybot.content.schema import Bilingual
from studybot.errors import StudybotError
from studybot.files import replacing
from studybot.ingest.notes import ITALIC, UNDERSCORED, outside_code
from studybot.study.grading import point_label

MODEL_ID = 1_607_392_319  # fixed forever: Anki matches models by id
DECK_ID = 2_059_400_110
DECK_NAME = "studybot"
FIELDS = ["Question", "Answer", "KeyPoints", "Source", "Demos", "CardId"]
_CSS = ".card { font-family: sans-serif; font-size: 18px; text-align: left; } .src { color: #888; font-size: 13px; }"
_BACK = "{{FrontSide}}<hr id=answer>{{Answer}}<p>{{KeyPoints}}</p><p class=src>{{Source}}<br>{{Demos}}</p>"


# Notes write TeX between dollars; Anki's MathJax reads \( \) and \[ \] (a price like "$5 and $10" has no TeX in it)
_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
_INLINE_MATH = re.compile(r"(?<![\\$\w])\$(?=\S)([^$\n]*?[^\s$\\])\$(?![\w$])")


def mathjax(text: str) -> str:
    """Text with its `$…$` and `$$…$$` formulas as MathJax delimiters, which Anki renders."""
    text = _DISPLAY_MATH.sub(lambda m: f"\\[{m.group(1).strip()}\\]", text)
    return _INLINE_MATH.sub(lambda m: f"\\({m.group(1)}\\)", text)


# A list item of a note's text: "- 训练时：…", "1. 梯度直通：…"
_ITEM = re.compile(r"^\s*(?:(?P<bullet>[-*+])|(?P<number>\d{1,3})[.)])\s+(?P<text>.*)$")


def _text(text: str) -> str:
    """Plain text (a bank's) as HTML, its formulas as MathJax."""
    return html.escape(mathjax(text)).replace("\n", "<br>")


def _inline(text: str) -> str:
    """A line of a note's Markdown as HTML: inline code as code (`List<int>` is no tag), *emphasis* as emphasis (not
    2*3*4 nor __init__: the rules `ask` reads it by), formulas as MathJax."""
    emphasis = lambda part: UNDERSCORED.sub(r"<em>\1</em>", ITALIC.sub(r"<em>\1</em>", part))  # noqa: E731
    return outside_code(text, lambda part: emphasis(_text(part)), code=lambda code: f"<code>{html.escape(code)}</code>")


def _markdown(text: str) -> str:
    """A note's text as Anki shows it: its lines, its list items as a list ("- 训练时：…" reached Anki as typed, with
    `model.eval()` and *inverted dropout*)."""
    html_text, open_list = "", ""
    for line in text.split("\n"):
        item = _ITEM.match(line)
        tag = ("ol" if item.group("number") else "ul") if item else ""
        if open_list and tag != open_list:
            html_text, open_list = html_text + f"</{open_list}>", ""
        if tag and not open_list:  # a numbered list may go on after a paragraph: "2." opens it at 2
            start = item.group("number") or "1"
            html_text, open_list = html_text + (f"<{tag}>" if start == "1" else f"<ol start={start}>"), tag
        elif not tag and html_text and not html_text.endswith(("</ul>", "</ol>")):
            html_text += "<br>"
        html_text += f"<li>{_inline(item.group('text'))}</li>" if tag else _inline(line)
    return html_text + (f"</{open_list}>" if open_list else "")


def _both(text: Bilingual, markdown: bool = False) -> str:
    parts = [text.zh] if text.zh == text.en else [text.zh, text.en]
    return "<br>".join(_markdown(p) if markdown else _text(p) for p in parts)


def _fields(card: Card) -> list[str]:
    notes = card.origin in ("note", "term")  # a note's text is Markdown; a bank's and an interview's are plain
    question = _both(card.question, notes)
    if card.context:  # where a note card's question sits ("怎么缓解？" under "RNN 循环神经网络"), as the quiz shows it
        question = f"<div class=src>{html.escape(card.context)}</div>{question}"
    if card.options:
        question += "<ol type=A>" + "".join(f"<li>{_both(o)}</li>" for o in card.options) + "</ol>"
    answer = _both(card.answer, notes)
    if card.kind == "choice":
        answer = f"<b>{'ABCDE'[card.correct]}</b><br>{answer}"
    elif card.kind == "cloze":
        answer = f"<b>{html.escape(' / '.join(card.accepted))}</b><br>{answer}"
    points = "<ul>" + "".join(f"<li>{html.escape(point_label(p))}</li>" for p in card.key_points) + "</ul>"
    # said once, as `ask` says it: "backed by: studybot demo rnn-vanishing, backed by: studybot demo …" repeated it
    demos = "backed by: " + ", ".join(f"studybot demo {html.escape(d)}" for d in card.demos) if card.demos else ""
    return [question, answer, points, html.escape(card.source), demos, card.id]


def write_apkg(cards: list[Card], path: Path, names: dict[str, str] | None = None) -> dict:
    """One note per card, tagged with its topic and origin, its guid made of its name in `names` (else its id); returns
    what was written."""
    import genanki

    if path.suffix != ".apkg":
        raise StudybotError(f"{path}: an Anki package must end in .apkg")
    model = genanki.Model(
        MODEL_ID, "studybot card", fields=[{"name": f} for f in FIELDS],
        templates=[{"name": "Recall", "qfmt": "{{Question}}", "afmt": _BACK}], css=_CSS,
    )
    deck = genanki.Deck(DECK_ID, DECK_NAME)
    for card in cards:
        deck.add_note(genanki.Note(
            model=model, fields=_fields(card), guid=genanki.guid_for("studybot", (names or {}).get(card.id, card.id)),
            tags=[card.topic.replace(" ", "_"), card.origin, card.kind],
        ))
    created = None if path.parent.is_dir() else str(path.parent)  # said to the user: no folder appears unannounced
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path) as tmp:
            genanki.Package(deck).write_to_file(str(tmp))
    except OSError as exc:
        raise StudybotError(f"cannot write {path} ({exc.strerror}); pick another path") from None
    return {"path": str(path), "notes": len(cards), "topics": dict(Counter(c.topic for c in cards).most_common()),
            "created_folder": created}
