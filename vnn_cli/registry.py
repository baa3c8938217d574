"""Two tables, name -> plugin, for models and losses, and the one loader that fills them.

Built-in plugins (the files in `plugins/`), installed packages' entry points (group `vnn.plugins`)
and files or folders a user names all pass through `load_plugins`, so there is one loading path.
Plugin files are imported by path under private module names: a top-level package called
`plugins` would collide with other packages in site-packages.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import sys
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TypeVar

from .errors import PluginError, UnknownNameError

ENTRY_POINT_GROUP = "vnn.plugins"

T = TypeVar("T")


@dataclass(frozen=True)
class PluginEntry:
    name: str
    kind: str  # "model" or "loss"
    factory: Callable[..., Any]
    source: str  # "built-in", "entry point", "file" or "python"
    origin: str  # the file path or the entry point that registered it


@dataclass(frozen=True)
class PluginFailure:
    origin: str
    message: str


_MODELS: dict[str, PluginEntry] = {}
_LOSSES: dict[str, PluginEntry] = {}
_TABLES = {"model": _MODELS, "loss": _LOSSES}
_loaded_origins: set[str] = set()
_loading_from: ContextVar[tuple[str, str]] = ContextVar("_loading_from", default=("python", "<python code>"))


def _register(kind: str, name: str, factory: T) -> T:
    table = _TABLES[kind]
    source, origin = _loading_from.get()
    previous = table.get(name)
    if previous is not None and previous.origin != origin:
        raise PluginError(f"two plugins register the {kind} '{name}': {previous.origin} and {origin}")
    table[name] = PluginEntry(name, kind, factory, source, origin)
    return factory


def register_model(name: str) -> Callable[[T], T]:
    """Class decorator: make a `FrameInterpolator` subclass available as `--model NAME`."""
    return lambda factory: _register("model", name, factory)


def register_loss(name: str) -> Callable[[T], T]:
    """Decorator for a loss factory: `factory() -> callable(prediction, target) -> scalar tensor`."""
    return lambda factory: _register("loss", name, factory)


def builtin_plugin_dir() -> Path:
    packaged = Path(__file__).parent / "_plugins"  # inside an installed wheel
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "plugins"  # a source checkout


@contextlib.contextmanager
def _source(source: str, origin: str) -> Iterator[None]:
    token = _loading_from.set((source, origin))
    try:
        yield
    finally:
        _loading_from.reset(token)


def _plugin_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*.py") if not p.name.startswith("_"))
    return [path]


def _import_file(path: Path, source: str) -> None:
    origin = str(path.resolve())
    if origin in _loaded_origins:
        return
    digest = hashlib.sha1(origin.encode()).hexdigest()[:10]
    module_name = f"_vnn_plugin_{digest}_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"cannot load plugin {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    _loaded_origins.add(origin)
    with _source(source, origin):
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(module_name, None)
            _loaded_origins.discard(origin)
            _forget(origin)
            raise


def _forget(origin: str) -> None:
    """Drop what a plugin registered before it failed, so a broken file leaves no half of itself."""
    for table in _TABLES.values():
        for name in [n for n, e in table.items() if e.origin == origin]:
            del table[name]


def _describe(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, PluginError) else f"{type(exc).__name__}: {exc}"


def load_plugins(paths: Iterable[Path | str] = (), *, entry_points: bool = True, strict: bool = True) -> list[PluginFailure]:
    """Load the built-ins, then installed entry points, then `paths` (files or folders).

    Every plugin that can load does; failures are collected. With `strict`, the first failure is
    raised as a `PluginError` naming its file once all the others have loaded.
    """
    failures: list[PluginFailure] = []

    def attempt(origin: str, load: Callable[[], None]) -> None:
        try:
            load()
        except Exception as exc:  # a plugin is foreign code: any error is reported, none is fatal here
            failures.append(PluginFailure(origin, _describe(exc)))

    for file in _plugin_files(builtin_plugin_dir()):
        attempt(str(file), lambda f=file: _import_file(f, "built-in"))
    if entry_points:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            origin = f"entry point {ep.name} = {ep.value}"
            if origin in _loaded_origins:
                continue

            def load_entry_point(ep=ep, origin=origin) -> None:
                with _source("entry point", origin):
                    ep.load()
                _loaded_origins.add(origin)

            attempt(origin, load_entry_point)
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            failures.append(PluginFailure(str(path), "no such file or folder"))
            continue
        for file in _plugin_files(path):
            attempt(str(file), lambda f=file: _import_file(f, "file"))
    if strict and failures:
        first = failures[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        raise PluginError(f"plugin {first.origin} failed to load: {first.message}{more}")
    return failures


def models() -> dict[str, PluginEntry]:
    return dict(sorted(_MODELS.items()))


def losses() -> dict[str, PluginEntry]:
    return dict(sorted(_LOSSES.items()))


def get_model(name: str) -> PluginEntry:
    try:
        return _MODELS[name]
    except KeyError:
        raise UnknownNameError("model", name, _MODELS) from None


def get_loss(name: str) -> PluginEntry:
    try:
        return _LOSSES[name]
    except KeyError:
        raise UnknownNameError("loss", name, _LOSSES) from None
