"""How studybot runs llama.cpp: threads, how they wait, and the weight layout this CPU survives.

Both users of llama.cpp (the answer backend and the repair's Gemma scorer) load their models
through `load_llama`, so the policy lives in one place.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Iterator


def llama_threads() -> int:
    """Threads for llama.cpp: every core, waiting passively.

    OpenMP threads spin while they wait; on a shared or busy CPU that stalls every thread
    (measured here: 6 tokens after a 291-token prompt took 15-70 s spinning, 4 s passive;
    the repair's Gemma pass on seed 002 took 22.3 s with 2 spinning threads, 10.7 s passive).
    The policy is read when llama.cpp loads, so this runs before the import.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return os.cpu_count() or 1


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


def load_llama(model_path: str, **options: Any) -> Any:
    """A `llama_cpp.Llama` on every core with passive waiting, without weight repacking on AMX CPUs."""
    threads = llama_threads()
    import llama_cpp

    options = {"n_threads": threads, "n_threads_batch": threads, "verbose": False, **options}
    if cpu_has_amx():
        with without_weight_repacking():
            return llama_cpp.Llama(model_path=model_path, **options)
    return llama_cpp.Llama(model_path=model_path, **options)
