"""The one check every output passes before any work is done (interpolate, slowmo, extract, bench
--json/--csv/--markdown/--plot/--examples, train --export):

  - it is none of the inputs, under any spelling: a symlink, a relative path, a numbered pattern
    whose frames are the input's frames, a folder that holds an input it would replace;
  - it replaces nothing that exists without --overwrite;
  - its folder can be written.

On the way, the temporaries that killed runs left beside it are removed (`atomic.sweep_stale`).
The writing itself is atomic (`atomic`).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

from ..core.atomic import sweep_stale
from ..core.errors import OutputError
from .images import is_image
from .media import _pattern_regex, is_pattern, is_video


def numbered(pattern: str, suffix: str) -> re.Pattern:
    """The names a numbered sequence (`%06d` + `.png`) writes: what it owns in a folder."""
    return _pattern_regex(f"{pattern}{suffix}")


def input_files(inputs: Iterable[Path | str]) -> set[str]:
    """The real paths (symlinks followed) of all the inputs name: a file; a folder and the videos and
    images in it (a report or crops left there earlier are not inputs); the frames a numbered
    pattern matches."""
    found: set[str] = set()
    for path in map(Path, inputs):
        if is_pattern(path):
            regex = _pattern_regex(path.name)
            members = [entry for entry in _entries(path.parent) if regex.match(entry.name)]
        else:
            inside = [entry for entry in _entries(path) if is_video(entry) or is_image(entry)]
            members = [path, *inside]
        found.update(os.path.realpath(member) for member in members)
    return found


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []


def check_output(output: Path, overwrite: bool, inputs: Iterable[Path | str] = (), *,
                 owned: re.Pattern | None = None) -> None:
    """Refuse, before any work, an output that would destroy an input or an earlier result.

    `output` is a file, a folder, or a numbered pattern (frame_%04d.png: its frames in its folder).
    A folder is one whole output unless `owned` names the files the output writes in it (frames
    beside a user's other files): then only those count as clashing with an input."""
    output = Path(output)
    folder = output
    if is_pattern(output):
        folder, owned = output.parent, _pattern_regex(output.name)
    for beside in (folder.parent, folder):  # a file's or folder's temporaries are its siblings; triplets' inside it
        if beside.is_dir():
            sweep_stale(beside)
    _refuse_inputs(output, folder, owned, input_files(inputs))
    if is_pattern(output):
        if any(owned.match(entry.name) for entry in _entries(folder)) and not overwrite:
            raise OutputError(f"output {output}: frames of this pattern exist in {folder}; use --overwrite to replace them")
    elif output.is_dir():
        if any(output.iterdir()) and not overwrite:
            raise OutputError(f"output {output} exists and is not empty; use --overwrite to replace it")
    elif output.exists() and not overwrite:
        raise OutputError(f"output {output} exists; use --overwrite to replace it")
    _check_folder(output, _nearest_existing(folder if is_pattern(output) else output.parent))


def _refuse_inputs(output: Path, folder: Path, owned: re.Pattern | None, sources: set[str]) -> None:
    real = os.path.realpath(folder)
    if not is_pattern(output) and real in sources:
        raise OutputError(f"output {output} is the input: choose another output")
    for source in sorted(sources):
        parent, name = os.path.split(source)
        if owned is not None:
            clash = parent == real and owned.fullmatch(name)
        else:  # the whole folder is replaced: nothing in it may be an input
            clash = source.startswith(real.rstrip(os.sep) + os.sep)
        if clash:
            raise OutputError(f"output {output} would overwrite the input {source}: choose another output")


def _nearest_existing(folder: Path) -> Path:
    """The folder itself, or the closest parent that exists (the one a mkdir would write into)."""
    folder = Path(os.path.abspath(folder))
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _check_folder(output: Path, folder: Path) -> None:
    if not folder.is_dir():
        raise OutputError(f"cannot write {output}: {folder} is a file, not a folder")
    if _read_only(folder):
        raise OutputError(f"cannot write to {folder}: read-only file system")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"cannot write to {folder}: permission denied")


def _read_only(folder: Path) -> bool:
    # os.access ignores a read-only mount for root; statvfs does not.
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False
