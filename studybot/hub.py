"""The Hugging Face hub as studybot meets it: whether it can be reached now, and whether a model is already here.

Offline, huggingface_hub retries every request with backoff: loading an embedding model that is not downloaded took
75 s and 37 lines of retries before its one-line error. A socket opened with a short timeout says as much at once.
"""

from __future__ import annotations

import os


def hub_endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the hub can be reached now (never when HF_HUB_OFFLINE is set)."""
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    if any(os.environ.get(name) for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True  # a raw socket cannot tell through a proxy: the download says for itself
    parsed = urlparse(constants.ENDPOINT)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def in_hub_cache(repo: str, filename: str = "config.json") -> bool:
    """Whether a model repository's file was downloaded before (sentence-transformers' short names too)."""
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError

    names = [repo] if "/" in repo else [repo, f"sentence-transformers/{repo}"]
    try:
        return any(isinstance(try_to_load_from_cache(name, filename), str) for name in names)
    except HFValidationError:  # no repository's name ("~/models/x", a folder that is not there)
        return False
