"""Whether a model is worth waiting for: its measured pass rate, kept per model in the home.

A generation that fails verification is thrown away and the extractive answer shown instead, so
a model that rarely passes only makes the user wait (the bundled SmolLM2-135M passes none of the
check questions). `studybot models check` answers the bundled check questions with a model and
stores the share of its answers that passed; `ask` runs a model by default only when that share is
at least USEFUL_PASS_RATE, and otherwise answers at once from the notes and says how to get
generated answers. The file is a measurement, not a setting: delete it and re-run the check.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from studybot.answer.backends import Target
from studybot.files import write_atomic
from studybot.home import bundled_dir

CHECKS_FILE = "model-checks.json"
# At 0.6 a generated answer is shown for most questions; below it the wait (seconds to a minute
# on a laptop CPU) mostly ends in the extractive answer the user could have had at once.
USEFUL_PASS_RATE = 0.6


def check_questions() -> Path:
    """The bundled check questions: interview questions over knowledge/, with key points."""
    return bundled_dir("knowledge") / "checks" / "answers.jsonl"


@dataclass
class ModelCheck:
    key: str  # which model: a GGUF by resolved path and size, a server by URL and model name
    name: str
    pass_rate: float  # share of the answers that passed verification
    coverage: float  # key-point coverage of the answers shown (generated or extractive)
    n: int
    seconds_per_answer: float
    checked_utc: str

    @property
    def useful(self) -> bool:
        return self.pass_rate >= USEFUL_PASS_RATE


def model_key(target: Target) -> str:
    """Which model a check is about: a server by URL and model name, a GGUF by resolved path and size
    (a file replaced by another of the same name is checked anew)."""
    if target.kind == "openai":
        return f"server:{target.target.rstrip('/')}:{target.model or ''}"
    path = Path(target.target)
    size = path.stat().st_size if path.exists() else 0
    return f"{target.kind}:{path.resolve()}:{size}"


def read_checks(home: Path) -> dict[str, ModelCheck]:
    """Every stored check; a missing or unreadable file is no checks (it is a cache of measurements)."""
    try:
        stored = json.loads((Path(home) / CHECKS_FILE).read_text(encoding="utf-8"))
        return {key: ModelCheck(**value) for key, value in stored.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def save_check(home: Path, check: ModelCheck) -> None:
    checks = read_checks(home)
    checks[check.key] = check
    data = {key: asdict(value) for key, value in sorted(checks.items())}
    write_atomic(Path(home) / CHECKS_FILE, (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))


def find_check(home: Path | None, key: str) -> ModelCheck | None:
    return read_checks(home).get(key) if home is not None else None
