"""Outputs appear whole or not at all: written under a temporary name in the same folder, renamed
into place when complete, removed on any failure (an exception, Ctrl-C, SIGTERM, SIGHUP).

The renames that publish an output hold back SIGINT, SIGTERM and SIGHUP until they are done, so a
signal never leaves half a sequence under the final name. A process killed outright (SIGKILL, a
crash) cannot clean up: the next run into the same folder removes what it left (`sweep_stale`).
What may be written at all (not an input, not an existing file unasked) is `guard`'s to say.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import threading
from pathlib import Path
from typing import Iterator, Sequence

from .errors import OutputError

TEMP_MARK = ".vnn-tmp"
# .NAME.vnn-tmp-PID.EXT (a file), .NAME.vnn-tmp-PID (a folder), .NAME.vnn-tmp-old-PID (a folder set aside)
_TEMP_NAME = re.compile(rf"\.(.+?){re.escape(TEMP_MARK)}(-old)?-(\d+)(\.[^.]*)?")
HELD_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def temp_name(final: Path) -> Path:
    # The suffix stays last so that ffmpeg and image writers still pick the format from it.
    return final.with_name(f".{final.stem}{TEMP_MARK}-{os.getpid()}{final.suffix}")


def final_name(path: Path) -> Path:
    """The name a temporary file will be renamed to (any other path as it is): for messages."""
    path = Path(path)
    match = re.fullmatch(rf"\.(.+){re.escape(TEMP_MARK)}-\d+(.*)", path.name)
    return path.with_name(match[1] + match[2]) if match else path


def describe_os_error(exc: OSError, path: Path) -> OutputError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return OutputError(f"no space left on the device while writing {path}")
    if exc.errno == errno.EROFS:
        return OutputError(f"cannot write {path}: read-only file system")
    if exc.errno == errno.EFBIG:
        return OutputError(f"cannot write {path}: file too large for this file system or limit")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return OutputError(f"cannot write {path}: permission denied")
    return OutputError(f"cannot write {path}: {exc.strerror or exc}")


# ---- signals held while an output is published ---------------------------------------------------

@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP that arrive inside are delivered when it ends. Python runs signal
    handlers in the main thread only, so swapping the handlers there holds them whichever thread
    the kernel picked; elsewhere (no handler can be set) it holds nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    previous = {}
    for signum in HELD_SIGNALS:
        handler = signal.getsignal(signum)
        if handler is None or handler == signal.SIG_IGN:  # set outside Python, or ignored: left alone
            continue
        previous[signum] = signal.signal(signum, lambda number, frame: arrived.append(number))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(arrived):
            signal.raise_signal(signum)  # now handled as it would have been: Interrupted, KeyboardInterrupt...


# ---- temporaries of killed runs ------------------------------------------------------------------

def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: another user's live process
        return True
    return True


def sweep_stale(folder: Path) -> list[Path]:
    """Remove from `folder` the temporaries of vnn processes that no longer run (killed by SIGKILL,
    a crash, a power cut). A folder that an unfinished swap had set aside comes back if nothing took
    its place. A live process's temporaries are never touched. Returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for path in entries:
        match = _TEMP_NAME.fullmatch(path.name)
        if not match or _alive(int(match[3])):
            continue
        try:
            if match[2] and not os.path.lexists(path.with_name(match[1])):
                os.rename(path, path.with_name(match[1]))
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
        except OSError:
            pass  # another run may be sweeping the same folder; what is left goes next time
    return removed


# ---- files and folders ---------------------------------------------------------------------------

@contextlib.contextmanager
def atomic_files(finals: Sequence[Path]) -> Iterator[list[Path]]:
    """Yield temporary paths to write, one per final name; when all are written they replace the
    finals together (signals held), and on any failure none appears."""
    finals = [Path(final) for final in finals]
    temps = [temp_name(final) for final in finals]
    try:
        for final in finals:
            final.parent.mkdir(parents=True, exist_ok=True)
        yield temps
        with signals_held():
            for temp, final in zip(temps, finals):
                os.replace(temp, final)
    except OSError as exc:
        failed = final_name(Path(exc.filename)) if exc.filename else finals[0]
        raise describe_os_error(exc, failed if failed in finals else finals[0]) from None
    finally:
        for temp in temps:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()


@contextlib.contextmanager
def atomic_file(final: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `final`."""
    with atomic_files([final]) as (temp,):
        yield temp


@contextlib.contextmanager
def atomic_folder(final: Path, replace: bool = False, owned: re.Pattern | None = None) -> Iterator[Path]:
    """Yield a temporary folder to fill; on success it is published as `final` (see `publish_folder`)."""
    final = Path(final)
    temp = final.with_name(f".{final.name}{TEMP_MARK}-{os.getpid()}")
    try:
        temp.mkdir(parents=True, exist_ok=True)
        yield temp
        publish_folder(temp, final, replace=replace, owned=owned)
    except OSError as exc:
        raise describe_os_error(exc, final) from None
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def publish_folder(new: Path, final: Path, *, replace: bool = False, owned: re.Pattern | None = None) -> None:
    """Put the finished folder `new` in the place of `final`, signals held:
      - no `final` yet: one rename, the whole folder appears at once;
      - `replace`: the old folder goes, all of it;
      - otherwise (--overwrite into a folder that may hold other things): the new files move in, and
        the old ones named like them (`owned`) that the new set lacks go, so no stale frame of a
        longer earlier run stays among the new ones.
    Renames need no space, so a full disk cannot stop it half way."""
    new, final = Path(new), Path(final)
    with signals_held():
        if not final.exists():
            final.parent.mkdir(parents=True, exist_ok=True)
            os.rename(new, final)
        elif replace:
            _swap_folder(new, final)
        else:
            fresh = sorted(item.name for item in new.iterdir())
            if owned is not None:
                keep = set(fresh)
                for old in final.iterdir():
                    if old.name not in keep and owned.fullmatch(old.name) and not old.is_dir():
                        old.unlink()
            for name in fresh:
                os.replace(new / name, final / name)


def _swap_folder(new: Path, final: Path) -> None:
    """Put `new` in the place of the folder `final`. A folder cannot be renamed over a non-empty one,
    so the old one steps aside first, comes back if the new one cannot move in, and goes after
    (killed in between, the next run's `sweep_stale` brings it back)."""
    old = final.with_name(f".{final.name}{TEMP_MARK}-old-{os.getpid()}")
    os.rename(final, old)
    try:
        os.rename(new, final)
    except OSError:
        os.rename(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)
