"""The layering of `vnn_cli`, read from the imports (AST only): each subpackage imports only the
layers below it, modules import each other in no circle, and only the CLI imports click or rich.

    cli -> bench, train -> eval -> render -> safeguards -> nn, video -> core

Packages on one level (nn and video, bench and train) do not import each other.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "vnn_cli"

LEVEL = {"core": 0, "nn": 1, "video": 1, "safeguards": 2, "render": 3, "eval": 4, "bench": 5, "train": 5, "cli": 6}
ANYONE_MAY_IMPORT = {"vnn_cli._version"}
CLI_ONLY = ("click", "rich")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path, modules: set[str]) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level) for each import in the file; `from pkg import mod`
    counts as importing pkg.mod."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    top_level = {id(node) for node in tree.body}
    for node in tree.body:  # the body of `if TYPE_CHECKING:` and try/except at module level is module level too
        for child in ast.walk(node):
            if isinstance(child, (ast.If, ast.Try)) and not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                top_level.update(id(n) for n in ast.walk(child) if isinstance(n, (ast.Import, ast.ImportFrom)))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, id(node) in top_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.append((sub if sub in modules else target, node.lineno, id(node) in top_level))
    return found


def check(root: Path) -> list[str]:
    """Every layering violation and import circle under the package folder `root`, one line each."""
    files = sorted(root.rglob("*.py"))
    modules = {module_name(f, root) for f in files}
    top = root.name
    problems = []
    graph: dict[str, set[str]] = {}
    for file in files:
        source = module_name(file, root)
        parts = source.split(".")
        layer = parts[1] if len(parts) > 2 or (len(parts) == 2 and file.name == "__init__.py") else None
        for target, line, module_level in imports(file, root, modules):
            where = f"{file.relative_to(root.parent)}:{line}"
            if target.split(".")[0] in CLI_ONLY and layer != "cli":
                problems.append(f"{where}: {source} imports {target}; only the CLI prints")
            if not target.startswith(top + ".") or target in ANYONE_MAY_IMPORT:
                continue
            if module_level and target != source:
                graph.setdefault(source, set()).add(target)
            target_layer = target.split(".")[1]
            if layer is None or target_layer not in LEVEL or layer == target_layer:
                continue
            if layer not in LEVEL or LEVEL[target_layer] >= LEVEL[layer]:
                problems.append(f"{where}: {source} ({layer}) imports {target} ({target_layer}): a back-edge")
    problems += [f"import circle: {' -> '.join(cycle)}" for cycle in circles(graph)]
    return problems


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One circle per strongly connected group of modules that import each other at module level."""
    found, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    return found


def test_the_library_keeps_its_layers():
    problems = check(PACKAGE)
    assert not problems, "\n".join(problems)


def test_every_subpackage_has_a_layer():
    subpackages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert subpackages == set(LEVEL)


def test_only_a_handful_of_modules_sit_at_the_top():
    assert sorted(p.name for p in PACKAGE.glob("*.py")) == ["__init__.py", "__main__.py", "_version.py"]


@pytest.mark.parametrize("line, expected", [
    ("from ..render.engine import Interpolator\n", "(core) imports vnn_cli.render.engine (render): a back-edge"),
    ("from ..video import media\n", "(core) imports vnn_cli.video.media (video): a back-edge"),
    ("import rich\n", "imports rich; only the CLI prints"),
])
def test_the_check_fails_on_a_back_edge(tmp_path, line, expected):
    """A copy of the package with one bad import added to core is caught, naming the line."""
    import shutil

    copy = tmp_path / "vnn_cli"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    errors = copy / "core" / "errors.py"
    errors.write_text(errors.read_text() + line)
    new = set(check(copy)) - set(check(PACKAGE))
    assert any(expected in p and "core/errors.py" in p for p in new), new


def test_the_check_finds_a_circle(tmp_path):
    import shutil

    copy = tmp_path / "vnn_cli"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    errors = copy / "core" / "errors.py"
    errors.write_text(errors.read_text() + "from . import registry\n")
    new = set(check(copy)) - set(check(PACKAGE))
    assert any(p.startswith("import circle:") and "vnn_cli.core.errors" in p for p in new), new
