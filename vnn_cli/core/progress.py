"""How long loops report how far they are: a callback the caller renders (the CLI with rich), so the
library never prints."""
from __future__ import annotations

from typing import Callable

Progress = Callable[[int, int | None], None]  # (items done, items expected or None)


def no_progress(done: int, total: int | None) -> None:
    """The callback for a caller that shows nothing."""
