"""Thread counts for the CPU-bound engines, decided in one place.

Both users of llama.cpp (the answer backend and the repair's Gemma scorer) take their thread
count and wait policy from here.
"""

from __future__ import annotations

import os


def llama_threads() -> int:
    """Threads for llama.cpp: every core, waiting passively.

    OpenMP threads spin while they wait; on a shared or busy CPU that stalls every thread
    (measured here: 6 tokens after a 291-token prompt took 15-70 s spinning, 4 s passive;
    the repair's Gemma pass on seed 002 took 22.3 s with 2 spinning threads, 10.7 s passive).
    The policy is read when llama.cpp loads, so this runs before the import.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return os.cpu_count() or 1
