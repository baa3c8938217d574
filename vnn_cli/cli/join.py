"""`vnn join`: the parts of one run made with --frames, put together."""
from __future__ import annotations

from pathlib import Path

import click

from ..render.join import join_parts
from .common import command
from .render import console


@command("join", "vnn join parts/ -o out.mp4")
@click.argument("parts", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="The joined video (or a folder, for parts that are folders of frames).")
@click.option("--source", type=click.Path(path_type=Path), default=None,
              help="The source video, where it is not at the path the parts recorded (another machine's mount).")
@click.option("--overwrite/--no-overwrite", default=False, help="Replace an existing output.")
@click.option("-v", "--verbose", is_flag=True, default=False, help="Show tracebacks on errors.")
def join_command(parts: tuple[Path, ...], output: Path, source: Path | None, overwrite: bool, verbose: bool) -> None:
    """Put together the parts of one run made with --frames, in order, into the whole run's output.

    PARTS are part files or folders holding them. A set with a gap, an overlap, mixed settings or
    parts of another source is refused. Video parts are joined without re-encoding, and the
    source's audio (re-timed for slowmo), subtitles, metadata and chapters are added.
    """
    if verbose:
        from .common import state

        state["verbose"] = True
    result = join_parts(list(parts), output, source=source, overwrite=overwrite)
    console.print(f"{result.output}: {len(result.parts)} parts, {result.frames} frames")


COMMANDS = [join_command]
