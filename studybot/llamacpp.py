"""How studybot runs llama.cpp: threads, how they wait, and the weight layout this CPU survives.

Both users of llama.cpp (the answer backend and the repair's Gemma scorer) load their models
through `load_llama`, so the policy lives in one place.
"""

from __future__ import annotations

import atexit
import os
import weakref
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator


def llama_threads(cores: int | None = None, loadavg: str | None = None) -> int:
    """Threads for llama.cpp: the cores no other process is running on right now, waiting passively.

    llama.cpp's threads meet at a barrier after every layer, so one thread that shares its core
    with another busy process stalls all of them: with both cores and one competing CPU-bound
    process, the repair's Gemma pass over 3,000 characters took 83.5 s, against 9.3 s on one thread
    (5.4 s on both cores when quiet). The runnable count of /proc/loadavg (this process included)
    says how many cores are taken now. OpenMP threads also spin while they wait, so the wait policy
    is passive; it is read when llama.cpp loads, so this runs before the import.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    cores = cores or os.cpu_count() or 1
    if loadavg is None:
        try:
            loadavg = Path("/proc/loadavg").read_text()
        except OSError:
            return cores
    try:
        others = int(loadavg.split()[3].split("/")[0]) - 1  # "0.52 0.58 0.59 2/411 12345": 2 runnable, this one too
    except (IndexError, ValueError):
        return cores
    return max(1, min(cores, cores - others))


@lru_cache(maxsize=1)
def cpu_has_amx() -> bool:
    """Whether llama.cpp sees Intel AMX on this CPU (Sapphire Rapids and later servers)."""
    import llama_cpp

    return "AMX_INT8 = 1" in llama_cpp.llama_print_system_info().decode("utf-8", errors="replace")


@contextmanager
def without_weight_repacking() -> Iterator[None]:
    """Load models with `use_extra_bufts = False`, which the Python binding does not expose.

    llama.cpp repacks weights into extra buffer types for AMX; with llama-cpp-python 0.3.36 any
    decode of more than one token then crashes the process (ggml-org/llama.cpp#20824). The binding
    builds its model parameters from `llama_model_default_params()`, so that is the one place to
    change them; the original is restored at once.
    """
    import llama_cpp.llama_cpp as low

    default = low.llama_model_default_params

    def params() -> Any:
        p = default()
        p.use_extra_bufts = False
        return p

    low.llama_model_default_params = params
    try:
        yield
    finally:
        low.llama_model_default_params = default


_OPEN: list[weakref.ref] = []  # llama.cpp objects still to close at exit, in the order they were made


def close_at_exit(resource: Any) -> None:
    """Close `resource` (anything with `close()`) when the interpreter exits, if it is still alive then.

    Left to `__del__` at exit, a model is freed after Python has torn down llama_cpp's module
    globals, and the user sees "Exception ignored in Llama.__del__" with a traceback. The latest
    is closed first, so a context goes before the model it was made from.
    """
    if not _OPEN:
        atexit.register(_close_open)
    _OPEN.append(weakref.ref(resource))


def _close_open() -> None:
    for ref in reversed(_OPEN):
        resource = ref()
        if resource is not None:
            resource.close()


def load_llama(model_path: str, **options: Any) -> Any:
    """A `llama_cpp.Llama` on the cores free now (`llama_threads`), waiting passively, without weight repacking on AMX CPUs."""
    threads = llama_threads()
    import llama_cpp

    options = {"n_threads": threads, "n_threads_batch": threads, "verbose": False, **options}
    if cpu_has_amx():
        with without_weight_repacking():
            llm = llama_cpp.Llama(model_path=model_path, **options)
    else:
        llm = llama_cpp.Llama(model_path=model_path, **options)
    close_at_exit(llm)
    return llm
