"""How the product's modules depend on each other: no import cycles, and the
arrows between apps run one way (calls and complaints use followup,
complaints uses calls, interop uses calls), with one named exception."""

from pathlib import Path

from tests.import_scan import imported_names

ROOT = Path(__file__).resolve().parents[1]
APPS = ("followup", "calls", "complaints", "interop")
# Which app may import which (besides itself).
ALLOWED_ARROWS = {
    ("calls", "followup"),
    ("complaints", "followup"),
    ("complaints", "calls"),
    ("interop", "calls"),
    ("interop", "followup"),
}
# The head nurse's dashboard shows calls and complaints together: it reads the
# complaint figures through the complaints app's own selector, and nothing
# else in calls reads complaints.
EXCEPTIONS = {("calls.dashboard.selectors", "complaints.selectors")}
# Developer tooling may use every app; no product module may use it.
DEVTOOLS = "followup.devtools"


def _modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The product modules ``name`` imports when it runs (not for type checking only)."""
    names = imported_names(
        path.read_text(encoding="utf-8"), name, is_package=path.name == "__init__.py", runtime_only=True
    )
    targets = set()
    for candidate in names:
        while candidate and candidate not in modules and "." in candidate:
            candidate = candidate.rsplit(".", 1)[0]
        if candidate in modules and candidate != name:
            targets.add(candidate)
    return targets


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _app(module: str) -> str:
    return DEVTOOLS if module.startswith(DEVTOOLS) else module.split(".")[0]


def test_no_module_imports_itself_back_through_others():
    assert _cycles(_graph()) == []


def test_arrows_between_apps_run_one_way():
    wrong = []
    for module, targets in _graph().items():
        for target in targets:
            source_app, target_app = _app(module), _app(target)
            if source_app in (DEVTOOLS, target_app):
                continue
            if (source_app, target_app) in ALLOWED_ARROWS or (module, target) in EXCEPTIONS:
                continue
            wrong.append(f"{module} -> {target}")
    assert sorted(wrong) == []


def test_the_checker_sees_a_cycle_and_a_wrong_arrow():
    """The scan itself works: a made-up graph with a cycle and a backward arrow is caught."""
    graph = {"calls.a": {"calls.b"}, "calls.b": {"calls.a"}, "followup.x": {"calls.a"}}
    assert _cycles(graph) == [["calls.a", "calls.b"]]
    assert ("followup", "calls") not in ALLOWED_ARROWS
