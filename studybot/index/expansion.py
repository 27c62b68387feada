"""Glossary expansion: what the embedder and BM25 read for a chunk or a query.

The same expansion runs when a chunk is indexed and when a question is asked, so both sides
meet in the same words: English names for the English-only embedder, every alias in both
languages for BM25.
"""

from __future__ import annotations

from studybot.content.glossary import Glossary
from studybot.ingest.chunking import Chunk
from studybot.text.tokens import tokenize

CONCEPT_TOKEN = "§"  # a glossary concept among BM25 tokens: no word starts with it


def embed_text(chunk: Chunk, glossary: Glossary) -> str:
    """What the embedder reads: heading path, English names of the concepts, then the text.

    The English names come first because the default embedder reads English only and
    truncates long inputs; a Chinese section about 批归一化 is then embedded as "batch normalization".
    """
    english = glossary.english(f"{chunk.heading}\n{chunk.text}")
    return f"{chunk.heading}\n{english}\n{chunk.text}" if english else f"{chunk.heading}\n{chunk.text}"


def embed_query(query: str, glossary: Glossary) -> str:
    """A question as the embedder should read it: the question plus the English names it mentions."""
    english = glossary.english(query)
    return f"{query}\n{english}" if english else query


def lexical_tokens(text: str, glossary: Glossary, named: str | None = None) -> list[str]:
    """BM25 tokens of a text, the words of every alias of the concepts it mentions, and one token per concept.

    A question (`named`: the question as asked, whose concepts are looked up; `text` may add its translation)
    adds each alias word once, and none it already has: "XGBoost 和 LightGBM 的区别" read the eleven words of
    boosting's aliases (提升 five times) and found passages on boosting, not the one comparing the two."""
    found = glossary.find(text if named is None else named)
    concepts = [CONCEPT_TOKEN + entry.id for entry in found]
    if named is None:
        return tokenize(f"{text}\n{glossary.expansion(text)}") + concepts
    own = tokenize(text)
    seen = set(own)
    return own + [t for t in dict.fromkeys(tokenize(glossary.expansion(named))) if t not in seen] + concepts
