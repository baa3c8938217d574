"""The record a range run (`--frames A-B`) leaves in its part, so that `vnn join` can check a set of
parts before putting them together: which source they come from, which input frames and which of
the whole run's output frames each holds, and the settings they were made with.

A video part carries it as a global metadata tag (`vnn_part`, JSON): the record travels with the
file, whatever it is renamed to or wherever a render farm copies it, and a sidecar could be lost
or paired with the wrong file. Matroska, MP4 and QuickTime keep such a tag (MP4/MOV with
`use_metadata_tags`), so those are the containers a video part may use. A folder part (numbered
frames) has no file to carry it: the record is `.vnn-part.json` in the folder.
"""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..core.atomic import temp_name
from ..core.errors import InputError, OutputError, SettingsError
from ..video.ffmpeg import ffmpeg_exe, last_line, quote_path, run_ffmpeg

TAG = "vnn_part"
FOLDER_RECORD = ".vnn-part.json"
PART_CONTAINERS = (".mkv", ".mp4", ".mov")  # the containers that keep a custom global tag
_MIB = 1 << 20


@dataclass(frozen=True)
class PartRecord:
    """What one part holds. `frames`: its input frames (inclusive; `last` cut to the clip's end);
    `outputs`: the whole run's output numbers it holds, [first, end); `final`: it holds the clip's
    end; `source`: the source's identity and where it was (`source_identity`); `settings`:
    everything that makes two runs' frames the same, by name (see `job._part_settings`)."""

    source: dict
    frames: tuple[int, int]
    outputs: tuple[int, int]
    final: bool
    settings: dict

    def to_json(self) -> str:
        return json.dumps({"version": 1, "source": self.source, "frames": list(self.frames),
                           "outputs": list(self.outputs), "final": self.final, "settings": self.settings},
                          sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, where: Path) -> "PartRecord":
        try:
            data = json.loads(text)
            return cls(dict(data["source"]), tuple(data["frames"]), tuple(data["outputs"]), bool(data["final"]),
                       dict(data["settings"]))
        except (ValueError, KeyError, TypeError):
            raise InputError(f"{where}: its vnn part record is damaged") from None

    @property
    def same_source(self) -> tuple:
        """What identifies the source's content, not where it was: size and hashes."""
        return self.source.get("size"), self.source.get("hash")


def source_identity(path: Path) -> dict:
    """Who the source is, cheaply and without its name (a farm's machines mount it under other
    paths): a file's size and a hash of its first and last MiB; for an image sequence, a hash of its
    files' names and sizes. `path` and `name` say where it was, for the join and its messages."""
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_file():
        size = path.stat().st_size
        with open(path, "rb") as file:
            digest.update(file.read(_MIB))
            file.seek(max(0, size - _MIB))
            digest.update(file.read(_MIB))
    else:  # a folder of frames, or a numbered pattern in its folder
        folder = path if path.is_dir() else path.parent
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        size = sum(p.stat().st_size for p in files)
        digest.update("\n".join(f"{p.name} {p.stat().st_size}" for p in files).encode())
    return {"name": path.name, "path": str(path.resolve()), "size": size, "hash": digest.hexdigest()[:32]}


def check_part_output(output: Path) -> None:
    """A part is a video in a container that keeps the record, or a folder of frames."""
    output = Path(output)
    if "%" in output.name:
        raise SettingsError(f"--frames writes a video part ({', '.join(PART_CONTAINERS)}) or a folder of frames, "
                            f"not a numbered pattern: {output.name}")
    if output.suffix and output.suffix.lower() not in PART_CONTAINERS:
        raise SettingsError(f"--frames writes parts as {', '.join(PART_CONTAINERS)} (they keep the part's record) "
                            f"or a folder of frames, not {output.suffix}")


def write_record(made: Path, part: Path, record: PartRecord) -> None:
    """Put `record` in the part: a video `made` is copied (no re-encode) into `part` with the tag,
    video only (the join adds the source's audio and metadata); a folder gets the record file."""
    part = Path(part)
    if part.is_dir():
        (part / FOLDER_RECORD).write_text(record.to_json())
        return
    flags = ["-movflags", "+faststart+use_metadata_tags"] if part.suffix.lower() in (".mp4", ".mov") else []
    try:
        run_ffmpeg(["-v", "error", "-y", "-i", quote_path(made), "-map", "0:v:0", "-c", "copy", "-map_metadata", "-1",
                    "-map_chapters", "-1", "-metadata", f"{TAG}={record.to_json()}", *flags, quote_path(part)],
                   OutputError, f"writing the part record into {part.name}")
    finally:
        Path(made).unlink(missing_ok=True)


def read_record(part: Path) -> PartRecord:
    """The record of a part (a video or a folder of frames); a file without one is refused."""
    part = Path(part)
    if part.is_dir():
        record = part / FOLDER_RECORD
        if not record.is_file():
            raise InputError(f"{part} is not a vnn part: no {FOLDER_RECORD} (parts are made with --frames)")
        return PartRecord.from_json(record.read_text(), part)
    if not part.is_file():
        raise InputError(f"{part}: no such file")
    # ffmetadata text, not `ffmpeg -i`'s, which cuts a tag's value at 256 characters
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", quote_path(part), "-f", "ffmetadata", "-"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise InputError(f"{part} is not a vnn part: ffmpeg cannot read it ({last_line(proc.stderr.decode(errors='replace'))})")
    tags = {}
    for line in proc.stdout.decode("utf8", errors="replace").splitlines():
        if line.startswith("["):  # a stream's or a chapter's section: the file's own tags come first
            break
        key, sep, value = line.partition("=")
        if sep and not line.startswith(";"):
            tags[key.lower()] = re.sub(r"\\(.)", r"\1", value)  # ffmetadata escapes = ; # \ with a backslash
    if TAG not in tags:
        raise InputError(f"{part} is not a vnn part: it has no {TAG} record (parts are made with --frames)")
    return PartRecord.from_json(tags[TAG], part)


def part_files(paths: list[Path]) -> list[Path]:
    """The parts named: files, folders of frames with a record, and folders holding parts (their
    videos and part folders, hidden files and temporaries left out)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir() and not (path / FOLDER_RECORD).is_file():
            inside = sorted(p for p in path.iterdir() if not p.name.startswith("."))
            found += [p for p in inside if (p.is_file() and p.suffix.lower() in PART_CONTAINERS)
                      or (p.is_dir() and (p / FOLDER_RECORD).is_file())]
            if not inside:
                raise InputError(f"{path}: no parts in this folder")
        else:
            found.append(path)
    return found


def same_file_content(path: Path, identity: dict) -> bool:
    here = source_identity(path)
    return (here["size"], here["hash"]) == (identity.get("size"), identity.get("hash"))


def unmarked(part: Path) -> Path:
    """Where a video part is encoded before its record goes in: a temporary beside it (swept if the
    run is killed), so that the part appears under its name only with its record."""
    return temp_name(Path(part))
