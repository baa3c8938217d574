"""Two tables, name -> plugin, for models and losses. The plugin loader (`plugins`) fills them;
everything else looks names up here."""
from __future__ import annotations

import contextlib
import inspect
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable, Iterator, TypeVar

from .errors import PluginError, UnknownNameError

T = TypeVar("T")


@dataclass(frozen=True)
class PluginEntry:
    name: str
    kind: str  # "model" or "loss"
    factory: Callable[..., Any]
    source: str  # "built-in", "entry point", "file" or "python"
    origin: str  # the file path or the entry point that registered it


_MODELS: dict[str, PluginEntry] = {}
_LOSSES: dict[str, PluginEntry] = {}
_TABLES = {"model": _MODELS, "loss": _LOSSES}
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


@contextlib.contextmanager
def registering_from(source: str, origin: str) -> Iterator[None]:
    """What registers inside is attributed to `origin` (a plugin file or entry point)."""
    token = _loading_from.set((source, origin))
    try:
        yield
    finally:
        _loading_from.reset(token)


def current_source() -> str:
    return _loading_from.get()[0]


def forget(origin: str) -> None:
    """Drop what a plugin registered before it failed, so a broken file leaves no half of itself."""
    for table in _TABLES.values():
        for name in [n for n, e in table.items() if e.origin == origin]:
            del table[name]


@contextlib.contextmanager
def snapshot() -> Iterator[None]:
    """Both tables as they are now come back on exit: what registers inside (a test's model) is gone."""
    saved = {kind: dict(table) for kind, table in _TABLES.items()}
    try:
        yield
    finally:
        for kind, table in _TABLES.items():
            table.clear()
            table.update(saved[kind])


def list_models() -> dict[str, PluginEntry]:
    return dict(sorted(_MODELS.items()))


def list_losses() -> dict[str, PluginEntry]:
    return dict(sorted(_LOSSES.items()))


def get_model(name: str) -> PluginEntry:
    try:
        return _MODELS[name]
    except KeyError:
        raise UnknownNameError("model", name, _MODELS) from None


def model_origin(model_cls: type) -> str:
    """`model 'NAME' (FILE)` for a model class, to name the plugin in an error about it."""
    for entry in _MODELS.values():
        if entry.factory is model_cls:
            return f"model '{entry.name}' ({entry.origin})"
    try:  # built in Python, never registered
        where = inspect.getsourcefile(model_cls) or model_cls.__module__
    except TypeError:
        where = model_cls.__module__
    return f"model {model_cls.__name__} ({where})"


def get_loss(name: str) -> PluginEntry:
    try:
        return _LOSSES[name]
    except KeyError:
        raise UnknownNameError("loss", name, _LOSSES) from None
