"""Large tensors on transparent huge pages (2 MiB), for the `vnn` process.

Every large CPU tensor torch allocates is a fresh mapping from the kernel (glibc hands blocks of
more than a few MiB back on free and maps them again on the next allocation), faulted in and
zeroed 4 KiB page by page. RIFE's IFNet makes and frees hundreds of such tensors a pair: on
hand-held 1280×720 footage the default's job spent about 8 s of kernel time in 4.8 million page
faults for 40 frames. torch can ask the kernel for 2 MiB pages on its allocations of 2 MiB and more
(`THP_MEM_ALLOC_ENABLE`, read when torch loads): the same job then takes about half a million
faults and 3 s of kernel time, and runs 1.07-1.22× faster (two rounds), with the same frames and
the same peak memory (docs/speed.md). Keeping freed memory in glibc's heap instead (`MALLOC_MMAP_THRESHOLD_`)
saved more time but raised the 1920×1080 peak past 2 GiB, so it is not done.

The kernel must allow it (`always` or `madvise` in /sys/kernel/mm/transparent_hugepage/enabled);
elsewhere the setting changes nothing. A user's own `THP_MEM_ALLOC_ENABLE=0` stands.
"""
from __future__ import annotations

import os
from pathlib import Path

ENV = "THP_MEM_ALLOC_ENABLE"
KERNEL_SETTING = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def enable_for_this_process() -> None:
    """Before torch loads (the CLI's first step): torch reads the setting once, when it loads."""
    os.environ.setdefault(ENV, "1")


def kernel_mode() -> str | None:
    """The kernel's transparent huge page mode (`always`, `madvise`, `never`); None: not Linux."""
    try:
        text = KERNEL_SETTING.read_text()
    except OSError:
        return None
    chosen = [word[1:-1] for word in text.split() if word.startswith("[")]
    return chosen[0] if chosen else None


def describe() -> str:
    """One line for `vnn devices`."""
    mode = kernel_mode()
    if os.environ.get(ENV) != "1":
        return f"large tensors on 4 KiB pages ({ENV} is not 1)"
    if mode in ("always", "madvise"):
        return f"large tensors on 2 MiB pages (transparent huge pages: {mode})"
    return f"large tensors on 4 KiB pages (the kernel's transparent huge pages: {mode or 'not available'})"
