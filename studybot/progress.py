"""The one shape of progress reporting: library code calls `progress(task, done, total)`.

Core modules never draw anything; the CLI passes a callback that moves a rich progress bar
(or nothing, when stderr is not a terminal).
"""

from __future__ import annotations

from typing import Callable

ProgressFn = Callable[[str, int, int], None]
