"""The stage order holds: every module in ``src/veedor`` imports only packages below its own
(capture → read → verify → store → tally → publish; pipeline, web and cli on top), function-level
imports included, and no two modules import each other round a cycle.

What still breaks the order is listed in ``EXCEPTIONS`` / ``MODULE_CYCLES`` with the reason; the
test fails as soon as one of them no longer happens, so the lists cannot go stale."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = SRC / "veedor"

# Each package's rank: a module may import a package of lower rank (or its own package).
# ``version`` stands for ``from veedor import __version__``; ``veedor/__init__.py`` itself is the
# public face and imports everything lazily (by name, not by import statement).
RANK: dict[str, float] = {
    "version": 0,
    "model": 0,
    "i18n": 0,
    "tlog": 0,
    "forensics": 0,
    "plugins": 0,
    "definitions": 1,
    "capture": 2,
    "read": 3,
    "verify": 4,
    "store": 5,
    "ingest": 5.5,  # importers of tables, registries and bulletins: they write through store
    "tally": 6,
    "publish": 7,
    "pipeline": 8,
    "simulate": 9,
    "web": 9,
    "cli": 10,
    "__main__": 11,
}

# (importing module, imported module): why it is allowed for now.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("veedor.definitions.schema", "veedor.verify.checks"): (
        "the loader refuses a definition naming an unknown check; the check registry lives in verify"
    ),
    ("veedor.definitions.schema", "veedor.read.readers"): (
        "the loader refuses a definition naming an unknown sheet reader; the reader registry lives in read"
    ),
}

# Sets of modules that import each other round a cycle (function-level imports included, imports
# only for type checkers and the EXCEPTIONS above left out: those are explained already).
MODULE_CYCLES: dict[frozenset[str], str] = {
    frozenset({"veedor.read.print.ocr", "veedor.read.print.recognise"}): (
        "ocr builds its default recogniser lazily from recognise, which builds on ocr's types"
    ),
}


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


def _modules() -> dict[str, Path]:
    return {_module_name(p)[0]: p for p in sorted(ROOT.rglob("*.py"))}


def _resolve(name: str, modules: dict[str, Path]) -> str:
    """The deepest module of ``veedor`` that ``name`` names (``veedor.x.y.Thing`` → ``veedor.x.y``)."""
    while name not in modules and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _type_checking_imports(tree: ast.Module) -> set[ast.AST]:
    """Import nodes inside ``if TYPE_CHECKING:`` blocks (never run)."""
    found: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                found.update(n for n in ast.walk(stmt) if isinstance(n, ast.Import | ast.ImportFrom))
    return found


def import_graph(*, runtime_only: bool = False) -> dict[str, set[str]]:
    """Module → the ``veedor`` modules it imports, anywhere in its body (with ``runtime_only``,
    leaving out the imports made only for type checkers)."""
    modules = _modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_imports(tree) if runtime_only else set()
        for node in ast.walk(tree):
            if node in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    module = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                # ``from veedor.x import y`` names the module ``veedor.x.y`` where there is one
                targets = [f"{module}.{alias.name}" for alias in node.names]
            for target in targets:
                if target == "veedor" or target.startswith("veedor."):
                    resolved = _resolve(target, modules)
                    if resolved != name:
                        graph[name].add(resolved)
    return graph


def package(module: str) -> str:
    parts = module.split(".")
    return "version" if len(parts) == 1 else parts[1]


def test_every_package_has_a_rank() -> None:
    packages = {package(m) for m in _modules() if m != "veedor"}
    assert packages <= set(RANK), f"give these packages a place in RANK: {sorted(packages - set(RANK))}"


def _upward_imports() -> set[tuple[str, str]]:
    found = set()
    for module, targets in import_graph().items():
        if module == "veedor":  # the public face, above everything
            continue
        for target in targets:
            src, dst = package(module), package(target)
            if src != dst and RANK[dst] >= RANK[src]:
                found.add((module, target))
    return found


def test_no_import_from_a_lower_stage_to_a_higher_one() -> None:
    upward = _upward_imports()
    unexplained = sorted(upward - set(EXCEPTIONS))
    assert not unexplained, "imports against the stage order:\n" + "\n".join(
        f"{a} → {b}" for a, b in unexplained
    )


def test_exceptions_are_still_needed() -> None:
    gone = sorted(set(EXCEPTIONS) - _upward_imports())
    assert not gone, "these exceptions no longer happen; delete them from EXCEPTIONS: " + repr(gone)


def _cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in list(graph):
        if v not in index:
            visit(v)
    return found


def _module_graph() -> dict[str, set[str]]:
    # a package's __init__ re-exporting its own modules is not a cycle worth naming
    graph = import_graph(runtime_only=True)
    return {
        m: {t for t in ts if not m.startswith(t + ".") and (m, t) not in EXCEPTIONS}
        for m, ts in graph.items()
        if m != "veedor"
    }


def test_no_import_cycle_between_packages() -> None:
    packages: dict[str, set[str]] = defaultdict(set)
    for module, targets in import_graph().items():
        if module == "veedor":
            continue
        for target in targets:
            if (module, target) not in EXCEPTIONS and package(target) != package(module):
                packages[package(module)].add(package(target))
    assert not _cycles(packages)


def test_no_import_cycle_between_modules() -> None:
    cycles = set(_cycles(_module_graph()))
    unexplained = [sorted(c) for c in cycles - set(MODULE_CYCLES)]
    assert not unexplained, f"modules importing each other round a cycle: {unexplained}"
    gone = [sorted(c) for c in set(MODULE_CYCLES) - cycles]
    assert not gone, f"these cycles are gone; delete them from MODULE_CYCLES: {gone}"
