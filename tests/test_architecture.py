"""Architecture rules for the kpsim package, checked on its real import graph.

The import graph comes from grimp, which reads the source without running it
and counts every import, including those inside functions. Each rule is a
small function that returns the offending items as readable strings, so a
failure lists all of them at once. The layering and cycle checks are also
run on a tiny fake package with deliberate faults, so we know they can fail.
"""

from __future__ import annotations

import ast
import importlib.util
import textwrap
from pathlib import Path

import grimp
import networkx as nx
import pytest

PACKAGE = "kpsim"

# Layers, lowest first. A module may import modules of its own layer or of
# any layer below it, never of a layer above. Each name is a room: a module,
# or a sub-package together with everything under it. The top-level package
# name ("kpsim") is the one exception: it stands for kpsim/__init__.py only.
# Adding a room is one line (or one name in an existing line).
LAYERS: list[tuple[str, set[str]]] = [
    ("base", {"kpsim.version", "kpsim.errors", "kpsim.fields", "kpsim.rules", "kpsim.atomic"}),
    ("scenario", {"kpsim.scenario"}),
    ("model", {"kpsim.model"}),
    ("run", {"kpsim.run"}),
    ("analysis", {"kpsim.analysis"}),
    ("output", {"kpsim.output"}),
    ("sweep", {"kpsim.sweep"}),
    ("top", {"kpsim.cli", "kpsim.app", "kpsim.__main__", "kpsim"}),
]

# The only rooms that may import the top-level package (the public API).
MAY_IMPORT_API = {"kpsim.cli", "kpsim.app", "kpsim.__main__"}

MAX_LINES = 500  # per .py file anywhere under kpsim/
MAX_TOP_FILES = 8  # .py files directly in kpsim/
MAX_CYCLES_SHOWN = 50  # enough to act on; the count of all is still given

TESTS_DIR = Path(__file__).resolve().parent


# ---------------------------------------------------------------- helpers


def package_dir(package: str) -> Path:
    """The package's folder, found the same way grimp finds it (via import)."""
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, f"cannot find {package}"
    return Path(next(iter(spec.submodule_search_locations)))


def covers(room: str, module: str) -> bool:
    """A room covers itself and its sub-modules; a top-level package only itself."""
    return module == room or ("." in room and module.startswith(room + "."))


def room_of(module: str, layers) -> tuple[int, str] | None:
    """(layer index, room name) of a module, most specific room first; None if unplaced."""
    matches = [
        (len(room), index, room)
        for index, (_, rooms) in enumerate(layers)
        for room in rooms
        if covers(room, module)
    ]
    if not matches:
        return None
    _, index, room = max(matches)
    return index, room


def edges(graph, exclude_from: str):
    """Every direct import (importer, imported) between the package's modules,
    leaving out those made by `exclude_from` (the top-level __init__, whose
    lazy __getattr__ may import anything: it is the API, above everything)."""
    for importer in sorted(graph.modules):
        if importer == exclude_from:
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            yield importer, imported


def lines_of(graph, importer: str, imported: str) -> str:
    numbers = sorted({d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)})
    return ", ".join(map(str, numbers))


def cycles_in(digraph: nx.DiGraph) -> list[str]:
    """Every simple cycle as 'a -> b -> a', starting at its smallest name, shortest first."""
    found = []
    for cycle in nx.simple_cycles(digraph):
        start = cycle.index(min(cycle))
        cycle = cycle[start:] + cycle[:start]
        found.append(cycle)
    found.sort(key=lambda c: (len(c), c))
    return [" -> ".join(c + c[:1]) for c in found]


def report(title: str, items: list[str], limit: int | None = None) -> str:
    shown = items if limit is None else items[:limit]
    more = len(items) - len(shown)
    text = f"{title} ({len(items)}):\n" + "\n".join(f"  {item}" for item in shown)
    return text + (f"\n  ... and {more} more" if more else "")


# ------------------------------------------------------------ the checks


def import_cycles(graph, root: str) -> list[str]:
    """Cycles between modules, ignoring imports made by the top-level package."""
    digraph = nx.DiGraph()
    digraph.add_nodes_from(graph.modules)
    digraph.add_edges_from(edges(graph, exclude_from=root))
    return cycles_in(digraph)


def room_cycles(graph, layers, root: str) -> list[str]:
    """Cycles between rooms: each sub-package is squashed to one node, so two
    packages that lean on each other through different modules still show."""
    digraph = nx.DiGraph()
    for importer, imported in edges(graph, exclude_from=root):
        a, b = room_of(importer, layers), room_of(imported, layers)
        if a and b and a[1] != b[1]:
            digraph.add_edge(a[1], b[1])
    return cycles_in(digraph)


def upward_imports(graph, layers) -> list[str]:
    """Imports from a module to a module in a higher layer."""
    found = []
    for importer, imported in edges(graph, exclude_from=""):
        a, b = room_of(importer, layers), room_of(imported, layers)
        if a and b and b[0] > a[0]:
            found.append(
                f"{importer} ({layers[a[0]][0]}) -> {imported} ({layers[b[0]][0]})"
                f", line {lines_of(graph, importer, imported)}"
            )
    return found


def unplaced_modules(graph, layers) -> list[str]:
    """Modules that belong to no room, so no layering rule covers them."""
    return sorted(m for m in graph.modules if room_of(m, layers) is None)


def api_importers(graph, root: str, allowed: set[str]) -> list[str]:
    """Modules, other than the allowed rooms, that import the top-level package."""
    return [
        f"{importer}, line {lines_of(graph, importer, root)}"
        for importer in sorted(graph.find_modules_that_directly_import(root))
        if importer != root and not any(covers(room, importer) for room in allowed)
    ]


def files_missing_from_graph(graph, root: str) -> list[str]:
    """.py files grimp does not see (e.g. a folder without __init__.py):
    none of the import rules would look at them."""
    base = package_dir(root)
    missing = []
    for path in sorted(base.rglob("*.py")):
        parts = path.relative_to(base).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join((root, *parts))
        if name not in graph.modules:
            missing.append(f"{root}/{path.relative_to(base)} ({name})")
    return missing


def private_imports(source: str) -> list[str]:
    """`from kpsim... import _x` and `import kpsim.x._y` (dunders are fine)."""

    def private(name: str) -> bool:
        return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))

    def ours(module: str | None) -> bool:
        return module is not None and (module == PACKAGE or module.startswith(PACKAGE + "."))

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and ours(node.module):
            found += [
                f"line {node.lineno}: from {node.module} import {a.name}"
                for a in node.names
                if private(a.name) or any(private(p) for p in node.module.split("."))
            ]
        elif isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: import {a.name}"
                for a in node.names
                if ours(a.name) and any(private(p) for p in a.name.split("."))
            ]
    return found


# ------------------------------------------------- rules on the real package


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(PACKAGE, cache_dir=None)


def test_no_import_cycles(graph):
    """Cycles make import order fragile and modules impossible to understand
    or move alone. Imports inside functions count: they still tie modules."""
    cycles = import_cycles(graph, root=PACKAGE)
    assert not cycles, report("import cycles between modules", cycles, MAX_CYCLES_SHOWN)


def test_only_the_top_imports_the_public_api(graph):
    """kpsim/__init__.py is the public API and sits above everything; a
    module below that imports it (e.g. `from kpsim import x`) turns the
    layering upside down. Import the defining module instead."""
    offenders = api_importers(graph, PACKAGE, MAY_IMPORT_API)
    assert not offenders, report(f"modules importing the top-level package {PACKAGE}", offenders)


def test_every_module_is_in_a_layer(graph):
    """A new module or room must be placed in LAYERS on purpose, or the
    layering rule would silently not apply to it."""
    unplaced = unplaced_modules(graph, LAYERS)
    assert not unplaced, report("modules in no layer (add them to LAYERS in this file)", unplaced)


def test_every_file_is_seen_by_grimp(graph):
    """The import rules only see modules grimp finds; a sub-package without
    __init__.py is invisible to them."""
    missing = files_missing_from_graph(graph, PACKAGE)
    assert not missing, report("files not in the import graph (missing __init__.py?)", missing)


def test_layers_import_downwards_only(graph):
    """Lower layers must not know about higher ones, so each layer can be
    used, tested and changed without the ones above it."""
    upward = upward_imports(graph, LAYERS)
    assert not upward, report("imports from a lower layer to a higher one", upward)


def test_no_cycles_between_rooms(graph):
    """Sub-packages (and rooms sharing a layer, like cli and app) must not
    lean on each other, even through different modules."""
    cycles = room_cycles(graph, LAYERS, root=PACKAGE)
    assert not cycles, report("import cycles between rooms", cycles, MAX_CYCLES_SHOWN)


def test_no_file_is_too_long():
    """Long files hide more than one idea; split them by what they do."""
    base = package_dir(PACKAGE)
    long = [
        f"{PACKAGE}/{path.relative_to(base)}: {n} lines"
        for path in sorted(base.rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert not long, report(f"files over {MAX_LINES} lines", long)


def test_few_files_at_the_top_of_the_package():
    """The top of kpsim/ holds the API and base modules only; everything
    else lives in a room (sub-package)."""
    files = sorted(p.name for p in package_dir(PACKAGE).glob("*.py"))
    assert len(files) <= MAX_TOP_FILES, report(
        f"more than {MAX_TOP_FILES} .py files directly in {PACKAGE}/", files
    )


def test_tests_use_no_private_names():
    """Tests that import private names pin internals, so every refactor breaks
    them; test through public names instead."""
    found = [
        f"tests/{path.relative_to(TESTS_DIR)} {item}"
        for path in sorted(TESTS_DIR.rglob("*.py"))
        if path.resolve() != Path(__file__).resolve()
        for item in private_imports(path.read_text(encoding="utf-8"))
    ]
    assert not found, report("tests importing private names from kpsim", found)


# --------------------------------------- the checks must be able to fail

FAKE = "kparch_fake"

# One of each fault, and some allowed imports that must not be reported.
FAKE_FILES = {
    # lazy API: an import from the top-level package is left out of cycles
    "__init__.py": """
        def __getattr__(name):
            from kparch_fake.top import main
            return main
    """,
    "base.py": "",
    "stray.py": "",  # in no layer
    "low/__init__.py": "",
    "low/one.py": "from kparch_fake.high import two  # upward: low -> high",
    "low/ring_a.py": "from kparch_fake.low import ring_b",
    # the cycle closes inside a function: grimp must still see it
    "low/ring_b.py": """
        def later():
            from kparch_fake.low import ring_a
            return ring_a
    """,
    "low/uses_api.py": "from kparch_fake import __doc__  # below the top, imports the API",
    "high/__init__.py": "",
    "high/two.py": "from kparch_fake import base  # downward: fine",
    "high/three.py": "import kparch_fake.side.s1  # high -> side ...",
    "side/__init__.py": "",
    "side/s1.py": "",
    "side/s2.py": "from kparch_fake.high import two  # ... side -> high: rooms cycle",
    "top.py": """
        import kparch_fake  # the top may import the API
        from kparch_fake.high import two

        def main():
            return two
    """,
}

FAKE_LAYERS = [
    ("base", {f"{FAKE}.base"}),
    ("low", {f"{FAKE}.low"}),
    ("high", {f"{FAKE}.high", f"{FAKE}.side"}),
    ("top", {f"{FAKE}.top", FAKE}),
]


@pytest.fixture
def fake_graph(tmp_path, monkeypatch):
    for name, text in FAKE_FILES.items():
        path = tmp_path / FAKE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return grimp.build_graph(FAKE, cache_dir=None)


def test_cycle_finder_reports_a_cycle_closed_inside_a_function(fake_graph):
    assert import_cycles(fake_graph, root=FAKE) == [
        f"{FAKE}.low.ring_a -> {FAKE}.low.ring_b -> {FAKE}.low.ring_a"
    ]


def test_cycle_finder_counts_the_api_package_when_not_excluded(fake_graph):
    # Proves the exclusion above is what hides top-level -> top -> top-level.
    assert f"{FAKE} -> {FAKE}.top -> {FAKE}" in import_cycles(fake_graph, root="")


def test_upward_import_is_reported(fake_graph):
    assert upward_imports(fake_graph, FAKE_LAYERS) == [
        f"{FAKE}.low.one (low) -> {FAKE}.high.two (high), line 1",
        # the top-level package is in the top layer, so this is upward too
        f"{FAKE}.low.uses_api (low) -> {FAKE} (top), line 1",
    ]


def test_room_cycle_is_reported(fake_graph):
    assert room_cycles(fake_graph, FAKE_LAYERS, root=FAKE) == [f"{FAKE}.high -> {FAKE}.side -> {FAKE}.high"]


def test_unplaced_module_is_reported(fake_graph):
    assert unplaced_modules(fake_graph, FAKE_LAYERS) == [f"{FAKE}.stray"]


def test_api_import_from_below_is_reported(fake_graph):
    assert api_importers(fake_graph, FAKE, {f"{FAKE}.top"}) == [f"{FAKE}.low.uses_api, line 1"]


def test_file_without_package_is_reported(fake_graph, tmp_path):
    (tmp_path / FAKE / "loose").mkdir()
    (tmp_path / FAKE / "loose" / "orphan.py").write_text("", encoding="utf-8")
    assert files_missing_from_graph(fake_graph, FAKE) == [f"{FAKE}/loose/orphan.py ({FAKE}.loose.orphan)"]


def test_private_import_finder():
    source = textwrap.dedent("""
        from kpsim.analysis.summary import _share, summarise
        from kpsim import __version__
        import kpsim.sweep._inner
        import kpsim.sweep
        from kpsimx import _other
        from ._local import _thing
    """)
    assert private_imports(source) == [
        "line 2: from kpsim.analysis.summary import _share",
        "line 4: import kpsim.sweep._inner",
    ]


# ---------------------------------------------------------------- imports that point nowhere


def dangling_imports(root: Path, package: str) -> list[str]:
    """`from kpsim.x import y` / `import kpsim.x` naming a kpsim module that does not exist.

    grimp silently drops imports of missing modules, so a stale import inside a
    function would slip past the cycle and layer checks (and past the suite,
    unless a test happens to run that function).
    """
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == package:
                if not _exists(node.module):
                    names = [node.module]
                else:
                    module = importlib.import_module(node.module)
                    names = [f"{node.module}.{a.name}" for a in node.names if not hasattr(module, a.name) and not _exists(f"{node.module}.{a.name}")]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.split(".")[0] == package and not _exists(a.name)]
            else:
                continue
            found += [f"{path.relative_to(root.parent)} line {node.lineno}: {n}" for n in names]
    return found


def _exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent is a module, not a package
        return False


def test_no_import_names_a_missing_module():
    found = dangling_imports(package_dir(PACKAGE), PACKAGE)
    assert not found, report("imports of kpsim modules that do not exist", found)


def test_dangling_imports_are_found(tmp_path, monkeypatch):
    pkg = tmp_path / "kparch_dangling"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from kparch_dangling.gone import x\n    import kparch_dangling.also_gone\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = dangling_imports(pkg, "kparch_dangling")
    assert found == ["kparch_dangling/a.py line 2: kparch_dangling.gone", "kparch_dangling/a.py line 3: kparch_dangling.also_gone"]
