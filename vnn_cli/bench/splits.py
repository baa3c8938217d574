"""The tuning / validation split of the bench's clips, by whole clip.

Every constant is chosen on the tuning clips; the validation clips (`bench.validation`, file
names or stems) are only reported. A clip of a run that is not listed is a tuning clip, but only
when at least one listed clip is in the run: a run without any has no split, only its overall mean.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

TUNING = "tuning"
VALIDATION = "validation"
SPLITS = (TUNING, VALIDATION)
# How each split is named wherever a report shows it.
LABELS = {TUNING: "tuning", VALIDATION: "validation: never tuned on"}


def is_listed(clip: str, listed: Sequence[str]) -> bool:
    """`clip` (a file name) is named in `listed`, by its whole name or by its stem."""
    return clip in listed or Path(clip).stem in listed


def label_clips(clips: Sequence[str], listed: Sequence[str]) -> dict[str, str | None]:
    """Each clip's split; every clip None when no listed clip is among them."""
    if not any(is_listed(clip, listed) for clip in clips):
        return {clip: None for clip in clips}
    return {clip: VALIDATION if is_listed(clip, listed) else TUNING for clip in clips}


def not_found(clips: Sequence[str], listed: Sequence[str]) -> list[str]:
    """The listed names that match no clip of the run."""
    return [name for name in listed if not any(is_listed(clip, [name]) for clip in clips)]
