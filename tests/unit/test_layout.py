"""The house rules, read from the source: imports point down, private names stay in their room.

Layers, bottom to top (a module imports from its own room and from rooms below it):

    _config, _lazy < _validate, _files < shapes < kernels < ops < grad < explain | restore | images
            < nn < figures < studies | linter | web < cli

Rooms on one level (``|``) do not import each other.  ``upconv/__init__.py`` and
``upconv/__main__.py`` are the front door: they may import anything; only the
command line, a client of the public API, imports the front door.
"""

from __future__ import annotations

import ast
import importlib
import pathlib
import pkgutil

import pytest

import upconv

SRC = pathlib.Path(upconv.__file__).parent

LEVELS = [
    {"_config", "_lazy"},
    {"_validate", "_files"},
    {"shapes"},
    {"kernels"},
    {"ops"},
    {"grad"},
    {"explain", "restore", "images"},
    {"nn"},
    {"figures"},
    {"studies", "linter", "web"},
    {"cli"},
]
LEVEL = {room: i for i, rooms in enumerate(LEVELS) for room in rooms}
SHARED = {"upconv._validate", "upconv._config", "upconv._files", "upconv._lazy"}  # the vocabulary every room speaks
FRONT = {"upconv", "upconv.__main__"}


def _module(path: pathlib.Path) -> str:
    parts = ("upconv",) + path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _room(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def _imports() -> list[tuple[str, str, str, int]]:
    """(importing module, imported module, imported name or '', line) for every upconv import, lazy ones too."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        mod = _module(path)
        package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [(mod, a.name, "", node.lineno) for a in node.names if a.name.split(".")[0] == "upconv"]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(
                        package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                    )
                if base.split(".")[0] != "upconv":
                    continue
                for a in node.names:
                    target = f"{base}.{a.name}"
                    if (SRC / pathlib.Path(*target.split(".")[1:])).with_suffix(".py").exists() or (
                        SRC / pathlib.Path(*target.split(".")[1:]) / "__init__.py"
                    ).exists():
                        found.append((mod, target, "", node.lineno))  # a module imported by name
                    else:
                        found.append((mod, base, a.name, node.lineno))
    return found


IMPORTS = _imports()


def test_every_room_has_a_level():
    rooms = {_room(_module(p)) for p in SRC.rglob("*.py")} - {"", "__main__"}
    assert rooms <= set(LEVEL), f"rooms without a level in this test: {sorted(rooms - set(LEVEL))}"


def test_imports_point_down():
    wrong = []
    for mod, target, _, line in IMPORTS:
        if mod in FRONT:
            continue
        if target == "upconv":
            if _room(mod) != "cli":  # the command line is a client of the public API; nothing else is
                wrong.append(f"{mod}:{line} imports the package upconv itself")
            continue
        a, b = _room(mod), _room(target)
        if a == b:
            continue
        if LEVEL[b] >= LEVEL[a]:
            wrong.append(f"{mod}:{line} imports {target} ({b!r} is not below {a!r})")
    assert not wrong, "\n".join(wrong)


def test_no_private_name_crosses_rooms():
    wrong = []
    for mod, target, name, line in IMPORTS:
        if mod in FRONT or _room(mod) == _room(target):
            continue
        private = name.startswith("_") or any(p.startswith("_") for p in target.split(".")[1:])
        if private and target not in SHARED:
            wrong.append(f"{mod}:{line} imports {target}{'.' + name if name else ''}")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle():
    graph: dict[str, set[str]] = {}
    for mod, target, _, _ in IMPORTS:
        if mod not in FRONT and target not in FRONT:
            graph.setdefault(mod, set()).add(target)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(t):] + [t]))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def _packages() -> list[str]:
    return sorted(_module(p) for p in SRC.rglob("__init__.py"))


@pytest.mark.parametrize("package", _packages())
def test_no_module_is_shadowed_by_a_function(package):
    pkg = importlib.import_module(package)
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("__"):
            continue
        sub = importlib.import_module(f"{package}.{info.name}")
        attr = getattr(pkg, info.name)
        assert attr is sub, f"{package}.{info.name} is {attr!r}, not the module {sub.__name__}"


def test_rooms_stay_small():
    big = {str(p.relative_to(SRC)): n for p in SRC.rglob("*.py") if (n := len(p.read_text().splitlines())) > 550}
    assert not big, f"library files over 550 lines: {big}"
