"""Run llama-cpp-python's OpenAI-compatible server under studybot's llama.cpp policy.

On AMX CPUs the server must load its model without weight repacking, or its first multi-token
decode crashes (see studybot/llamacpp.py); the arguments are the server's own.
"""

from __future__ import annotations

import runpy
from contextlib import nullcontext

from studybot.llamacpp import cpu_has_amx, without_weight_repacking

if __name__ == "__main__":
    with without_weight_repacking() if cpu_has_amx() else nullcontext():
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
