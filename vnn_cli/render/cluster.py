"""One job across many machines with Ray (`--cluster`): the clip is cut into frame ranges, each range
runs as a task on a worker (a Ray actor that loads the model once), and the parts are joined.

    auto            the Ray cluster this machine belongs to (`ray start --head` / `--address`)
    ray://HOST:PORT a cluster's Ray client server
    local:N         a Ray instance started here, with N workers (one CPU each)

Storage: the input, the output and the parts folder must be on a filesystem every node sees (NFS,
a cluster filesystem). Each worker checks that before any work, and a node that cannot read the
input or write the parts fails the job in one line naming the node.

Parts live in a hidden folder beside the output, `.NAME.vnn-parts/`, one file per range. A part is
written under a temporary name and renamed when complete, so a worker killed mid-range leaves no
part under a final name: Ray restarts the worker (the model loaded again) and runs the range again,
and the next run of the same job skips every part already there. Ctrl-C on the driver kills the
workers and keeps the finished parts.

Ray is an optional extra (`pip install 'vnn[cluster]'`), imported here only, when a job asks for it.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import socket
import time
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable

from ..core.errors import InputError, Interrupted, OutputError, SettingsError, VnnError
from ..core.progress import Progress, no_progress

INSTALL_HINT = "--cluster needs Ray, an optional extra: pip install 'vnn[cluster]'"
STATE = "job.json"  # in the parts folder: which job its parts belong to
_REPORT_EVERY = 0.5  # seconds between a worker's progress reports: often enough for a bar, cheap for Ray


def import_ray():
    """Ray, or one line saying how to install it."""
    try:
        import ray
    except ImportError:
        raise SettingsError(INSTALL_HINT) from None
    return ray


# ---- where to run ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClusterAddress:
    """`--cluster`: a Ray address to connect to, or `local` workers to start here."""

    address: str | None  # None: start a local instance
    local_workers: int = 0

    @classmethod
    def parse(cls, text: str) -> "ClusterAddress":
        text = str(text).strip()
        match = re.fullmatch(r"local:(\d+)", text)
        if match:
            if not 1 <= int(match[1]) <= 1024:
                raise SettingsError(f"--cluster {text}: local:N takes 1 to 1024 workers")
            return cls(None, int(match[1]))
        if text == "auto" or re.fullmatch(r"(ray://)?[\w.\-]+:\d+", text):
            return cls(text)
        raise SettingsError(f"--cluster {text}: use auto, ray://HOST:PORT or local:N")


def connect(where: ClusterAddress):
    """Join the cluster, or start a local one; returns the ray module and whether this call
    connected (and so disconnects: `shutdown`). A program that connected already keeps its
    connection (a notebook, a test's Ray instance)."""
    ray = import_ray()
    if ray.is_initialized():
        return ray, False
    import logging

    # Ray's own INFO lines would land on the user's stderr beside vnn's; its workers' output stays in
    # Ray's logs (/tmp/ray), and their errors come back as exceptions.
    options: dict[str, Any] = dict(logging_level=logging.ERROR, log_to_driver=False)
    # A job stopped by one failed task leaves the others' results unread: vnn has said what failed.
    os.environ.setdefault("RAY_IGNORE_UNHANDLED_ERRORS", "1")
    try:
        if where.address is None:
            ray.init(num_cpus=where.local_workers, include_dashboard=False, **options)
        else:
            ray.init(address=where.address, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise VnnError(f"cannot reach the Ray cluster at {where.address}: {reason}") from None
    return ray, True


def worker_count(ray, where: ClusterAddress, workers: int | None, gpu: bool) -> int:
    """`workers` as asked; else local:N's N, one per GPU of the cluster, or one per node."""
    if workers:
        return workers
    if where.local_workers:
        return where.local_workers
    if gpu:
        return max(1, int(ray.cluster_resources().get("GPU", 0)))
    return max(1, sum(1 for node in ray.nodes() if node.get("Alive")))


# ---- ranges ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Range:
    """Input frames `first` to `last` (inclusive). The last range of a clip is open (`last` None):
    a frame count read from the container that is a little short loses no frames."""

    first: int
    last: int | None

    @property
    def name(self) -> str:
        return f"part_{self.first:08d}.mkv"

    def __str__(self) -> str:
        return f"{self.first}-{'' if self.last is None else self.last}"


_SLACK = 0.1  # how far (a share of a range's length) a boundary moves to reach a scene cut


def plan_ranges(n_frames: int, range_frames: int | None, workers: int = 1, cuts: Iterable[int] = (),
                slack: float = _SLACK) -> list[Range]:
    """Ranges of about `range_frames` input frames (None: one range per worker; fewer frames when
    the clip would not keep every worker busy), each boundary moved to a scene cut within `slack`
    of a range's length where there is one:
    `cuts` holds the first frame of each new shot. A range starts on a cut, so a cluster's part
    boundary never falls in the middle of a shot's motion (the frames are the same either way: a
    range decides every pair as the whole run does)."""
    if n_frames <= 0:
        return [Range(0, None)]
    size = max(1, math.ceil(n_frames / max(1, workers)))
    if range_frames:
        size = min(size, range_frames)
    reach = int(size * slack)
    cuts = sorted(set(c for c in cuts if 0 < c < n_frames))
    starts = [0]
    boundary = size
    while boundary < n_frames:
        near = [c for c in cuts if abs(c - boundary) <= reach and c > starts[-1]]
        start = min(near, key=lambda c: abs(c - boundary)) if near else boundary
        if n_frames - start < max(2, size // 4):  # a sliver at the end joins the last range
            break
        starts.append(start)
        boundary = start + size
    ends = [s - 1 for s in starts[1:]] + [None]
    return [Range(first, last) for first, last in zip(starts, ends)]


# ---- storage --------------------------------------------------------------------------------------

def parts_folder(output: Path) -> Path:
    """Where a cluster job keeps its parts: hidden, beside the output, on the same filesystem."""
    output = Path(output).absolute()
    return output.with_name(f".{output.name}.vnn-parts")


def check_storage(input_path: Path, folder: Path, node: str) -> None:
    """What a worker on `node` needs: the input readable and the parts folder writable."""
    try:
        if Path(input_path).is_dir():
            os.listdir(input_path)
        else:
            with open(input_path, "rb") as file:
                file.read(1)
    except OSError as exc:
        raise InputError(f"node {node} cannot read {input_path} ({exc.strerror or exc}): the input must be on "
                         f"storage every node sees") from None
    probe = Path(folder) / f".probe-{socket.gethostname()}-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"node {node} cannot write {folder} ({exc.strerror or exc}): the output must be on "
                          f"storage every node sees") from None


def _clear_temporaries(folder: Path) -> None:
    """Temporaries of an earlier run's killed workers: hidden files in the parts folder. None of this
    job's workers runs yet, so none of them is in use."""
    for path in Path(folder).iterdir():
        if path.name.startswith(".") and path.name != STATE:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def _load_state(folder: Path, key: str) -> tuple[list[Range] | None, dict[str, int]]:
    """The plan and the finished parts' output counts, if the folder holds this job's parts (a
    resume keeps its plan, whatever the cluster's size now); else the folder is emptied: parts of
    another job (another input, other settings) cannot be joined with these."""
    try:
        state = json.loads((folder / STATE).read_text())
        if state.get("key") == key:
            return ([Range(first, last) for first, last in state["plan"]],
                    {k: int(v) for k, v in state.get("done", {}).items()})
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        pass
    for path in folder.iterdir():
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    return None, {}


def _save_state(folder: Path, key: str, plan: list[Range], done: dict[str, int]) -> None:
    temporary = folder / f".{STATE}.{os.getpid()}"
    temporary.write_text(json.dumps({"key": key, "plan": [[r.first, r.last] for r in plan], "done": done},
                                    sort_keys=True))
    os.replace(temporary, folder / STATE)


# ---- the workers ----------------------------------------------------------------------------------

def node_name() -> str:
    """How a message names this machine: its host name and address."""
    try:
        address = socket.gethostbyname(socket.gethostname())
    except OSError:
        address = "?"
    return f"{socket.gethostname()} ({address})"


class _Tally:
    """Every task's progress as its worker reports it (a Ray actor): the driver reads the sum, and
    which worker processes ran each task (more than one: its worker died and it ran again)."""

    def __init__(self):
        self.tasks: dict[str, tuple[int, int | None]] = {}
        self.pids: dict[str, set[int]] = {}

    def report(self, key: str, done: int, total: int | None, pid: int) -> None:
        self.tasks[key] = (done, total)
        self.pids.setdefault(key, set()).add(pid)

    def read(self) -> tuple[dict[str, tuple[int, int | None]], int]:
        return dict(self.tasks), sum(1 for pids in self.pids.values() if len(pids) > 1)


class RangeWorker:
    """One model, loaded once, running range after range (a Ray actor)."""

    def __init__(self, build: Callable[[], Any], threads: int | None):
        if threads:
            import torch

            torch.set_num_threads(threads)  # the CPUs Ray gave this worker, not the whole machine's
        self.node = node_name()
        self.failed: VnnError | None = None
        try:
            self.interpolator = build()
        except VnnError as exc:  # raised by `check`: Ray hands back a task's exception, not a constructor's
            self.failed = exc

    def check(self, input_path: str, folder: str) -> str:
        if self.failed is not None:
            raise type(self.failed)(f"on node {self.node}: {self.failed}")
        check_storage(Path(input_path), Path(folder), self.node)
        return self.node

    def call(self, function: Callable, args: tuple) -> Any:
        return function(*args)

    def run(self, task: Callable, args: tuple, final: str, tally, key: str) -> int:
        """`task(interpolator, *args, path, progress)` writes a temporary, renamed to `final` once
        complete: a worker killed before that leaves no file under the final name. Returns the
        frames written."""
        final_path = Path(final)
        # Hidden, and no dot but the final's own suffix: a folder part stays a folder (no suffix).
        host = socket.gethostname().replace(".", "-")
        temporary = final_path.with_name(f".{final_path.stem}-{host}-{os.getpid()}{final_path.suffix}")
        last = [0.0]

        def progress(done: int, total: int | None) -> None:
            now = time.monotonic()
            if now - last[0] >= _REPORT_EVERY:
                last[0] = now
                tally.report.remote(key, done, total, os.getpid())

        try:
            result = task(self.interpolator, *args, temporary, progress)
            os.replace(temporary, final_path)
        except VnnError as exc:  # one line back to the driver, naming where it happened
            raise type(exc)(f"on node {self.node}: {exc}") from None
        finally:
            if temporary.is_dir():
                shutil.rmtree(temporary, ignore_errors=True)
            else:
                temporary.unlink(missing_ok=True)
        frames = int(getattr(result, "frames_out", 0))
        tally.report.remote(key, frames, frames, os.getpid())
        return frames


# ---- the driver -----------------------------------------------------------------------------------

@dataclass
class ClusterResult:
    output: Path
    frames_out: int = 0
    parts: int = 0
    resumed: int = 0  # parts a previous run had finished, not redone
    workers: int = 0
    nodes: list[str] = field(default_factory=list)
    retried: int = 0  # ranges that ran more than once (a worker died under them)
    startup_seconds: float = 0.0  # connecting, starting the workers, loading their models
    seconds: float = 0.0
    joined: Any = None  # what `join` returned


@dataclass(frozen=True)
class Executor:
    """How to reach the cluster and size its work (`[cluster]` in vnn.toml)."""

    where: ClusterAddress
    workers: int | None = None  # None: local:N's N, one per GPU, or one per node
    # None: one range per worker. Each range reads the clip from its first frame (see `ranges`), so
    # more ranges than workers cost decoding; smaller ranges lose less to a dead worker or a Ctrl-C.
    range_frames: int | None = None
    gpu: bool = False  # one GPU per worker (`--device cuda`)


def _as_vnn_error(exc: BaseException, what: str) -> VnnError:
    """The worker's own VnnError inside Ray's wrapper (one line, naming the node), or one line for
    what Ray says (a worker that died more often than it is restarted)."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, VnnError):
        return cause
    first = next((line.strip() for line in str(cause or exc).splitlines() if line.strip()), type(exc).__name__)
    return VnnError(f"{what} failed on the cluster: {first}")


def _start_workers(ray, executor: Executor, build: Callable[[], Any], count: int) -> list:
    """`count` workers, spread over the nodes, each loading the model once; on CPUs each gets its
    share of the cluster's cores (local:N: one each), and torch as many threads."""
    cpus = ray.cluster_resources().get("CPU", 1)
    per_worker = 1 if executor.where.local_workers else max(1, int(cpus // count))
    resources: dict[str, Any] = {"num_cpus": per_worker}
    if executor.gpu:
        resources["num_gpus"] = 1
    # A worker that dies (a crash, a kill, a lost node) is restarted and its task run again.
    Worker = ray.remote(max_restarts=3, max_task_retries=3, **resources)(RangeWorker)
    return [Worker.options(scheduling_strategy="SPREAD").remote(build, None if executor.gpu else per_worker)
            for _ in range(count)]


class Pool:
    """The cluster's workers for one job: started and checked on entry (each worker confirms the
    storage, and that its model loaded, before any work), killed on exit."""

    def __init__(self, ray, executor: Executor, build: Callable[[], Any], count: int, check_inputs: list[Path],
                 check_folders: list[Path]):
        self.ray, self.executor, self.build, self.count = ray, executor, build, count
        self.checks = list(zip(check_inputs, check_folders))
        self.actors: list = []
        self.running: dict[Any, tuple[Any, str]] = {}  # a task's result -> (its worker, its key)
        self.nodes: list[str] = []
        self.startup_seconds = 0.0

    def __enter__(self) -> "Pool":
        started = time.perf_counter()
        self.actors = _start_workers(self.ray, self.executor, self.build, self.count)
        try:
            self.nodes = sorted(set(self._gather([actor.check.remote(str(path), str(folder))
                                                  for actor in self.actors for path, folder in self.checks],
                                                 "starting a worker")))
        except BaseException:
            self.__exit__()
            raise
        self.startup_seconds = time.perf_counter() - started
        return self

    def __exit__(self, *exc) -> None:
        # Done, or stopped (Ctrl-C, SIGTERM, a failed range): the workers go, their running tasks
        # with them (a running actor task cannot be cancelled, its process can be killed); the
        # finished parts stay for a resume, the killed ones' temporaries are cleared by the next run.
        for ref in self.running:  # cancelled first, so that Ray does not line them up for a retry
            try:
                self.ray.cancel(ref)
            except Exception:  # finished meanwhile
                pass
        for actor in self.actors:
            try:
                self.ray.kill(actor, no_restart=True)
            except Exception:  # already gone
                pass

    def _gather(self, refs: list, what: str) -> list:
        """Every answer, in order; the first failure raised once all are in, so that none is left
        for Ray to print."""
        answers, failure = [], None
        for ref in refs:
            try:
                answers.append(self.ray.get(ref))
            except Exception as exc:
                failure = failure or _as_vnn_error(exc, what)
        if failure is not None:
            raise failure
        return answers

    def map(self, function: Callable, calls: list[tuple], what: str) -> list:
        """`function(*args)` for each of `calls`, spread over the workers (small jobs: a scan)."""
        refs = [self.actors[i % len(self.actors)].call.remote(function, args) for i, args in enumerate(calls)]
        return self._gather(refs, what)

    def run(self, tasks: list[tuple[str, Callable, tuple, Path]], progress: Progress = no_progress,
            expected: Callable[[dict[str, tuple[int, int | None]]], int | None] | None = None,
            on_done: Callable[[str, int], None] | None = None) -> ClusterResult:
        """Run `tasks` (key, function, args, final path), each worker pulling the next when it
        finishes one. `progress(done, total)` sums every task's frames; `expected(reports)`
        estimates the total from what the tasks reported so far; `on_done(key, frames)` is called as
        each task finishes (the resume record)."""
        ray = self.ray
        started = time.perf_counter()
        result = ClusterResult(output=Path("."), workers=len(self.actors), nodes=self.nodes,
                               startup_seconds=self.startup_seconds)
        tally = ray.remote(num_cpus=0)(_Tally).remote()
        queue = list(tasks)
        running = self.running
        finished: dict[str, int] = {}

        def submit(actor) -> None:
            key, function, args, final = queue.pop(0)
            running[actor.run.remote(function, args, str(final), tally, key)] = (actor, key)

        for actor in self.actors:
            if queue:
                submit(actor)
        while running:
            ready, _ = ray.wait(list(running), num_returns=1, timeout=_REPORT_EVERY)
            for ref in ready:
                actor, key = running.pop(ref)
                try:
                    frames = ray.get(ref)
                except Exception as exc:
                    raise _as_vnn_error(exc, key) from None
                finished[key] = frames
                if on_done:
                    on_done(key, frames)
                if queue:
                    submit(actor)
            reports, result.retried = ray.get(tally.read.remote())
            reports.update({key: (frames, frames) for key, frames in finished.items()})
            progress(sum(done for done, _ in reports.values()), expected(reports) if expected else None)
        ray.kill(tally)
        result.frames_out = sum(finished.values())
        result.parts = len(finished)
        result.seconds = time.perf_counter() - started
        return result


def shutdown(ray, owned: bool) -> None:
    if owned and ray.is_initialized():
        ray.shutdown()


# ---- a clip in ranges -----------------------------------------------------------------------------

_TO_THE_END = 10**9  # the open last range's `last`: a range past the clip's end reaches the end


def _build(runtime, section):
    """A worker's interpolator, as a local run builds it (imported here: the workers import it)."""
    from .pipeline import build_interpolator

    return build_interpolator(runtime, section, section.batch_size).configure(section.scale, section.tile,
                                                                                section.tile_overlap)


def _run_range(interpolator, input_path: Path, first: int, last: int | None, part: Path, progress: Progress, **job):
    from .ranges import FrameRange, run_range

    frames = FrameRange(first, _TO_THE_END if last is None else last)
    return run_range(input_path, part, interpolator, frames, progress=progress, **job)


def scene_cuts_near(input_path: Path, boundaries: list[int], reach: int, threshold: float) -> list[int]:
    """The scene cuts (the safeguards' rule) within `reach` frames of each boundary: the frames
    around each are decoded on the driver (a seek each), not the whole clip. Returns the first
    frame of each new shot."""
    from ..safeguards.scenes import is_scene_cut
    from ..video.reader import VideoReader

    if threshold <= 0 or reach < 1 or not Path(input_path).is_file():
        return []
    fps = VideoReader(input_path).fps
    cuts = []
    for boundary in boundaries:
        first = max(0, boundary - reach - 1)
        reader = VideoReader(input_path, start=float(first / fps), end=float((boundary + reach + 1) / fps))
        previous = None
        for index, frame in enumerate(reader, first):
            if previous is not None and is_scene_cut(previous, frame, threshold):
                cuts.append(index)
            previous = frame
    return cuts


def job_key(input_path: Path, settings: str) -> str:
    """What makes a rerun the same job: the input (where, size, time) and the settings."""
    stat = Path(input_path).stat()
    facts = [str(Path(input_path).resolve()), stat.st_size, stat.st_mtime_ns, settings]
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()


def run_clip(executor: Executor, input_path: Path, output: Path, runtime, section, *, command: str = "interpolate",
             options, workflow, audio: str = "stretch", progress: Progress = no_progress,
             expected_total: int | None = None) -> ClusterResult:
    """`command` (interpolate or slowmo) on one clip in ranges across the cluster, then the parts
    joined into `output` (see the module's text). `runtime` and `section` are the command's
    settings: each worker builds its model from them. `expected_total`: the output frames the whole
    run makes, for the progress (None: estimated as the parts report)."""
    from ..video.containers import choose_codec
    from ..video.media import is_pattern, is_sequence_output, open_source
    from .join import join_parts

    started = time.perf_counter()
    input_path, output = Path(input_path).absolute(), Path(output).absolute()
    if is_pattern(output):
        raise SettingsError(f"--cluster writes a video or a folder of frames, not a numbered pattern: {output.name}")
    if output.exists() and not options.overwrite:
        raise OutputError(f"{output} exists: --overwrite replaces it")
    folder_output = is_sequence_output(output)
    if not folder_output:  # the parts hold the output's own codec: the join copies, never re-encodes
        options = replace(options, codec=choose_codec(output, options.codec)[1])
    source = open_source(input_path, section.image_fps)
    n_frames = source.n_frames
    if expected_total is None and n_frames > 1:  # for the progress's ETA; the parts say the real count
        rate = section.fps if command == "interpolate" else (section.fps or source.fps) * section.factor
        expected_total = (n_frames - 1) * section.factor + 1 if rate is None else round(n_frames / source.fps * rate)
    settings = json.dumps([command, audio, repr(replace(options, overwrite=False)), repr(workflow),
                           section.model_dump_json(), runtime.device, runtime.half, [str(p) for p in runtime.plugins]])
    key = job_key(input_path, settings)
    folder = parts_folder(output)
    folder.mkdir(parents=True, exist_ok=True)
    ranges, recorded = _load_state(folder, key)
    _clear_temporaries(folder)
    suffix = "" if folder_output else ".mkv"
    job = dict(command=command, factor=section.factor, fps=section.fps, audio=audio,
               options=replace(options, overwrite=False), image_fps=section.image_fps, workflow=workflow)
    ray, owned = connect(executor.where)
    try:
        count = worker_count(ray, executor.where, executor.workers, executor.gpu)
        result = ClusterResult(output=output)
        with Pool(ray, executor, partial(_build, runtime, section), count, [input_path], [folder]) as pool:
            if ranges is None:  # a new job: its plan, kept for a resume
                ranges = plan_ranges(n_frames, executor.range_frames, count)
                if len(ranges) > 1:  # the workers look for cuts near the boundaries, side by side
                    reach = int((ranges[0].last + 1) * _SLACK)
                    calls = [(input_path, [r.first], reach, workflow.scene_threshold) for r in ranges[1:]]
                    cuts = [cut for found in pool.map(scene_cuts_near, calls, "looking for scene cuts") for cut in found]
                    ranges = plan_ranges(n_frames, executor.range_frames, count, cuts)
                _save_state(folder, key, ranges, {})
            parts = [folder / (Path(r.name).stem + suffix) for r in ranges]
            # A part under its final name is complete (renamed into place when done), so it is kept
            # even if the driver stopped before recording it.
            kept = {part.name: recorded.get(part.name, 0) for part in parts if part.exists()}
            todo = [(part.name, partial(_run_range, **job), (input_path, r.first, r.last), part)
                    for r, part in zip(ranges, parts) if part.name not in kept]
            resumed = sum(kept.values())

            def on_done(name: str, frames: int) -> None:
                kept[name] = frames
                _save_state(folder, key, ranges, kept)

            if todo:
                result = pool.run(todo, lambda done, total: progress(done + resumed, total),
                                  lambda reports: expected_total, on_done)
        result.output, result.parts, result.resumed = output, len(ranges), len(ranges) - len(todo)
        result.joined = join_parts(parts, output, source=input_path, overwrite=options.overwrite)
        result.frames_out = result.joined.frames
        progress(result.frames_out, result.frames_out)
        shutil.rmtree(folder, ignore_errors=True)  # joined: the parts have served
        result.seconds = time.perf_counter() - started
        return result
    except (KeyboardInterrupt, Interrupted) as exc:  # the user stopping: say what the same command resumes from
        finished = [path for path in folder.iterdir() if path.name != STATE]
        if not finished:
            shutil.rmtree(folder, ignore_errors=True)
        signal_name = exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"
        kept = f"{len(finished)} finished part(s) kept in {folder}; the same command resumes" if finished else ""
        raise Interrupted(signal_name, kept) from None
    except BaseException:
        if not any(path.name != STATE for path in folder.iterdir()):  # nothing finished to resume from
            shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        shutdown(ray, owned)


def _run_file(interpolator, input_path: Path, output: Path, progress: Progress, **job):
    from .job import interpolate_video, slowmo_video

    if job.pop("command") == "slowmo":
        return slowmo_video(input_path, output, interpolator, progress=progress, **job)
    job.pop("audio", None)
    return interpolate_video(input_path, output, interpolator, progress=progress, **job)


def run_files(executor: Executor, jobs: list[tuple[Path, Path]], runtime, section, *, command: str = "interpolate",
              options, workflow_for: Callable[[Path], Any], audio: str = "stretch",
              progress: Progress = no_progress) -> ClusterResult:
    """A folder batch: one task per file, each output written whole by a worker (under a
    temporary name, renamed when complete). Outputs already there are skipped (as a local batch
    does), unless `options.overwrite`."""
    ray, owned = connect(executor.where)
    try:
        todo = [(Path(p).absolute(), Path(o).absolute()) for p, o in jobs if options.overwrite or not Path(o).exists()]
        tasks = [(str(out), partial(_run_file, command=command, factor=section.factor, fps=section.fps, audio=audio,
                                    options=options, image_fps=section.image_fps, workflow=workflow_for(path)),
                  (path,), out) for path, out in todo]
        if not tasks:
            return ClusterResult(output=Path("."), resumed=len(jobs))
        for _, out in todo:
            out.parent.mkdir(parents=True, exist_ok=True)
        count = min(worker_count(ray, executor.where, executor.workers, executor.gpu), len(tasks))
        # Each worker checks each folder the batch reads and writes (not each file: a batch may hold thousands).
        folders = sorted({(p.parent, o.parent) for p, o in todo})
        with Pool(ray, executor, partial(_build, runtime, section), count, [p for p, _ in folders],
                  [o for _, o in folders]) as pool:
            result = pool.run(tasks, progress)
        result.resumed = len(jobs) - len(todo)
        return result
    finally:
        shutdown(ray, owned)
