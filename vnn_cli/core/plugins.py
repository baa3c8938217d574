"""The one plugin loader. Built-in plugins (the files in `plugins/`), installed packages' entry
points (group `vnn.plugins`) and files or folders a user names all pass through `load_plugins`,
which fills the tables in `registry`.

A plugin folder (and the folder of a plugin file named alone) is imported as a package under a
private name, `_vnn_plugin_<hash of its path>`: a top-level package called `plugins` would collide
with other packages in site-packages, and two folders with same-named files must not collide with
each other. So the files in it import each other relatively (`from .helpers import Block`,
`from ._layers import Conv`) and sys.path is never touched. Every module of such a package, a
plugin or a helper one imports, runs under its own file's name: what it registers is attributed
to that file, and a failure drops exactly what that file registered.

The import hook that does this is installed by the first `load_plugins`, not at import.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.abc
import importlib.machinery
import importlib.metadata
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .errors import PluginError, describe
from . import registry
from .registry import current_source, forget, registering_from

ENTRY_POINT_GROUP = "vnn.plugins"
PACKAGE_PREFIX = "_vnn_plugin_"


@dataclass(frozen=True)
class PluginFailure:
    origin: str
    message: str


_loaded_origins: set[str] = set()


def builtin_plugin_dir() -> Path:
    packaged = Path(__file__).parents[1] / "_plugins"  # inside an installed wheel
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "plugins"  # a source checkout


def _plugin_files(path: Path) -> list[Path]:
    """The plugins in a folder: its .py files, except helpers (`_name.py`) and hidden folders' files."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*.py")
                      if not p.name.startswith("_") and not any(part.startswith(".") for part in p.relative_to(path).parts))
    return [path]


class _PluginLoader(importlib.machinery.SourceFileLoader):
    """Runs one module of a plugin package with its file as the origin of what it registers."""

    def exec_module(self, module) -> None:
        origin = str(Path(self.path).resolve())
        source = current_source()  # a helper comes with the plugin that imports it
        _loaded_origins.add(origin)
        with registering_from(source, origin):
            try:
                super().exec_module(module)
            except BaseException:
                _loaded_origins.discard(origin)
                forget(origin)
                raise


class _PluginFinder(importlib.abc.MetaPathFinder):
    """Finds the modules inside plugin packages (`from .helpers import x`) as Python would, then
    gives the source files a `_PluginLoader`. Names outside the private prefix are not its business."""

    def find_spec(self, name, path, target=None):
        if not name.startswith(PACKAGE_PREFIX) or "." not in name:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or type(spec.loader) is not importlib.machinery.SourceFileLoader:
            return spec  # a namespace folder, a compiled extension: the usual loaders
        return importlib.util.spec_from_file_location(name, spec.origin, loader=_PluginLoader(name, spec.origin),
                                                      submodule_search_locations=spec.submodule_search_locations)


def _install_finder() -> None:
    """Put the finder before the standard ones, which would load the same files without the origin;
    once, and a reload of this module replaces its finder rather than stacking another."""
    if any(type(f) is _PluginFinder for f in sys.meta_path):
        return
    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "_PluginFinder"]
    sys.meta_path.insert(0, _PluginFinder())


def _plugin_package(root: Path) -> str:
    """Import `root` as a package under its private name (once) and return that name."""
    root = root.resolve()  # an absolute __path__: the working folder may change between loads
    name = PACKAGE_PREFIX + hashlib.sha1(str(root).encode()).hexdigest()[:10]
    if name not in sys.modules:
        init = root / "__init__.py"
        if init.is_file():
            spec = importlib.util.spec_from_file_location(name, init, loader=_PluginLoader(name, str(init)),
                                                          submodule_search_locations=[str(root)])
        else:
            spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
            spec.submodule_search_locations = [str(root)]
        package = importlib.util.module_from_spec(spec)
        sys.modules[name] = package
        try:
            if spec.loader is not None:
                spec.loader.exec_module(package)
        except BaseException:
            sys.modules.pop(name, None)
            raise
    return name


def _module_name(path: Path, root: Path) -> str:
    """`<package>.sub.stem`: the name Python gives the file when a sibling imports it relatively."""
    folders = path.parent.relative_to(root).parts
    for folder in folders:
        if "." in folder:
            raise PluginError(f"cannot load plugin {path}: its folder name '{folder}' has a dot, "
                              "which cannot be part of a module name")
    parent = _plugin_package(root)
    for folder in folders:  # subfolders are subpackages, so `from ..helpers import x` works too
        parent = importlib.import_module(f"{parent}.{folder}").__name__
    return f"{parent}.{path.stem.replace('.', '_')}"


def _missing_module_error(exc: ModuleNotFoundError, path: Path, root: Path) -> PluginError | None:
    """Say which plugin-folder module is missing, without the private package name, and how to
    import a file that is there beside the plugin (`import helpers` instead of `from .helpers ...`)."""
    missing = exc.name or ""
    if missing.startswith(PACKAGE_PREFIX) and "." in missing:
        inside = missing.partition(".")[2]
        return PluginError(f"No module named '{inside}' in the plugin folder {root}")
    top = missing.partition(".")[0]
    if top and ((path.parent / f"{top}.py").is_file() or (path.parent / top).is_dir()):
        return PluginError(f"No module named '{top}': a plugin imports the files beside it relatively, "
                           f"from .{top} import ...")
    return None


def _import_file(path: Path, source: str, root: Path | None = None) -> None:
    """Import one plugin file as a module of the package of `root` (the folder named, else its own)."""
    origin = str(path.resolve())
    if origin in _loaded_origins:
        return
    if path.suffix != ".py":
        raise PluginError(f"cannot load plugin {path}: not a Python file")
    path = Path(os.path.abspath(path))
    root = path.parent if root is None else Path(os.path.abspath(root))
    with registering_from(source, origin):
        module_name = _module_name(path, root)
        spec = importlib.util.spec_from_file_location(module_name, path, loader=_PluginLoader(module_name, str(path)))
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # replaces a copy left from a forgotten load: this file runs afresh
        try:
            spec.loader.exec_module(module)
        except ModuleNotFoundError as exc:
            sys.modules.pop(module_name, None)
            clearer = _missing_module_error(exc, path, root)
            if clearer is None:
                raise
            raise clearer from exc
        except BaseException:
            sys.modules.pop(module_name, None)
            raise


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"it called sys.exit({exc.code!r})" if exc.code is not None else "it called sys.exit()"
    return describe(exc)


def load_plugins(paths: Iterable[Path | str] = (), *, entry_points: bool = True, strict: bool = True) -> list[PluginFailure]:
    """Load the built-ins, then installed entry points, then `paths` (files or folders).

    Every plugin that can load does; failures are collected. With `strict`, the first failure is
    raised as a `PluginError` naming its file once all the others have loaded.
    """
    failures: list[PluginFailure] = []
    _install_finder()
    importlib.invalidate_caches()  # files added to a plugin folder since the last load are found

    def attempt(origin: str, load: Callable[[], None]) -> None:
        try:
            load()
        except (Exception, SystemExit) as exc:  # foreign code: any error, sys.exit() too, is reported, none is fatal here
            failures.append(PluginFailure(origin, _describe(exc)))

    builtin = builtin_plugin_dir()
    for file in _plugin_files(builtin):
        attempt(str(file), lambda f=file: _import_file(f, "built-in", builtin))
    if entry_points:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            origin = f"entry point {ep.name} = {ep.value}"
            if origin in _loaded_origins:
                continue

            def load_entry_point(ep=ep, origin=origin) -> None:
                with registering_from("entry point", origin):
                    ep.load()
                _loaded_origins.add(origin)

            attempt(origin, load_entry_point)
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            failures.append(PluginFailure(str(path), "no such file or folder"))
            continue
        root = path if path.is_dir() else None
        for file in _plugin_files(path):
            attempt(str(file), lambda f=file, r=root: _import_file(f, "file", r))
    if strict and failures:
        first = failures[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        raise PluginError(f"plugin {first.origin} failed to load: {first.message}{more}")
    return failures




@contextlib.contextmanager
def snapshot() -> Iterator[None]:
    """The registry and the set of loaded plugin files come back on exit as they were: what loads or
    registers inside (a test's plugin) is gone, and a file loaded inside loads afresh next time."""
    saved = set(_loaded_origins)
    with registry.snapshot():
        try:
            yield
        finally:
            _loaded_origins.clear()
            _loaded_origins.update(saved)
