"""Chinese written in traditional characters, read as simplified: notes from Taiwan or Hong Kong meet questions,
glossary names and the segmenter's dictionary, which are simplified."""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from studybot.text.language import has_cjk

# A PDF made with some common Chinese fonts (Chrome on macOS, the Chinese "Dive into Deep Learning") writes
# characters as the radicals that look the same: 一 as ⼀ (KANGXI RADICAL ONE), 门 as ⻔ (CJK RADICAL
# C-SIMPLIFIED GATE). Copied into notes they are no words to the segmenter or the glossary ("遗忘⻔" is no
# forget gate). NFKC turns the Kangxi radicals back; the supplement's simplified radicals have no decomposition,
# so those that stand for a whole character are named here, each as its Unicode name says (C-SIMPLIFIED GATE: 门).
_RADICAL = re.compile("[\u2e80-\u2fdf]")
_RADICALS = str.maketrans({
    **{chr(c): unicodedata.normalize("NFKC", chr(c)) for c in range(0x2F00, 0x2FD6)},
    **dict(zip("⺟⺠⻄⻅⻆⻉⻋⻓⻔⻗⻘⻙⻚⻛⻜⻝⻢⻥⻦⻧⻨⻩⻪⻬⻮⻰⻳",
               "母民西见角贝车长门雨青韦页风飞食马鱼鸟卤麦黄黾齐齿龙龟")),
})
TRADITIONAL = 1  # what OpenCC's zho_check says of a text written in traditional characters
CONVERSION = "t2s"  # characters and common phrases; not Taiwan's words (its 向量 would become 矢量)


@lru_cache(maxsize=1)
def _converter():
    from opencc_purepy import OpenCC

    return OpenCC(CONVERSION)


@lru_cache(maxsize=1)
def _traditional_characters() -> frozenset[str] | None:
    """The characters only traditional Chinese writes (in OpenCC's table, none of their own simplified forms),
    read from the package's file without importing it: a simplified question then costs no converter (0.1 s
    to load). None when the file is not there, and every Chinese text goes to the converter's check."""
    spec = importlib.util.find_spec("opencc_purepy")
    table = Path(next(iter(spec.submodule_search_locations or []), "")) / "dicts" / "TSCharacters.txt" if spec else None
    if table is None or not table.is_file():
        return None
    rows = (line.split("\t", 1) for line in table.read_text(encoding="utf-8").splitlines() if "\t" in line)
    return frozenset(key for key, forms in rows if key not in forms.split())


def without_radicals(text: str) -> str:
    """The text with each radical a PDF wrote for a character (⼀ for 一, ⻔ for 门) as that character."""
    return text.translate(_RADICALS) if _RADICAL.search(text) else text


def simplified(text: str) -> str:
    """The text in simplified characters when it is written in traditional ones (卷積神經網路 as 卷积神经网路);
    any other text as it is: a simplified note keeps its words (OpenCC's Taiwan conversion would turn its
    向量 into 矢量), and one with a character simplified Chinese also writes (显著) stays simplified."""
    if not has_cjk(text):
        return text
    marks = _traditional_characters()
    if marks is not None and marks.isdisjoint(text):
        return text
    converter = _converter()
    return converter.convert(text) if converter.zho_check(text) == TRADITIONAL else text
