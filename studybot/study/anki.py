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


def _both(text: Bilingual) -> str:
    parts = [text.zh] if text.zh == text.en else [text.zh, text.en]
    return "<br>".join(html.escape(mathjax(p)).replace("\n", "<br>") for p in parts)


def _fields(card: Card) -> list[str]:
    question = _both(card.question)
    if card.context:  # where a note card's question sits ("怎么缓解？" under "RNN 循环神经网络"), as the quiz shows it
        question = f"<div class=src>{html.escape(card.context)}</div>{question}"
    if card.options:
        question += "<ol type=A>" + "".join(f"<li>{_both(o)}</li>" for o in card.options) + "</ol>"
    answer = _both(card.answer)
    if card.kind == "choice":
        answer = f"<b>{'ABCDE'[card.correct]}</b><br>{answer}"
    elif card.kind == "cloze":
        answer = f"<b>{html.escape(' / '.join(card.accepted))}</b><br>{answer}"
    points = "<ul>" + "".join(f"<li>{html.escape(point_label(p))}</li>" for p in card.key_points) + "</ul>"
    demos = ", ".join(f"backed by: studybot demo {html.escape(d)}" for d in card.demos)
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
