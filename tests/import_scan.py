"""Reading a module's imports without running it, for the tests that keep the
product's structure (tests/test_architecture.py, tests/devtools/test_boundaries.py)."""

import ast


def imported_names(source: str, module: str, *, is_package: bool, runtime_only: bool = False) -> list[str]:
    """Every module an import statement of ``module`` names, relative imports
    resolved (``from . import x`` names both the package and ``package.x``).
    ``runtime_only`` leaves out the imports under ``if TYPE_CHECKING:``, which
    only type checkers read."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    tree = ast.parse(source)
    skipped = _type_checking_only(tree) if runtime_only else set()
    names = []
    for node in ast.walk(tree):
        if node in skipped:
            continue
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            parent = ".".join([*base, *([node.module] if node.module else [])])
            names.append(parent)
            names.extend(f"{parent}.{alias.name}" for alias in node.names)
    return names


def _type_checking_only(tree: ast.Module) -> set[ast.AST]:
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            skipped.update(ast.walk(node))
    return skipped
