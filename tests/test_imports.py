"""No import cycles, and apps that depend one way (STYLE §15).

`make lint` runs Import Linter with the contracts in pyproject.toml. Import Linter cannot tell
an import inside a function (it runs when the function is called) from one at the top (it runs
when the module loads), so the core's contract lets a task body import the service it calls.
These tests close that gap: among the imports that run while modules load, none comes back
round to where it started, and every module loads in a fresh interpreter. Each check is also
shown failing on a small package built to break it.
"""

import ast
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
    "root_packages"
]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def project_modules(root: Path, packages) -> dict[str, Path]:
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


class LoadTimeImports(ast.NodeVisitor):
    """The import statements that run when a module loads: at the top, in class bodies and in
    if/try blocks. Not in a function body (it runs when called), nor under TYPE_CHECKING."""

    def __init__(self):
        self.found: list[ast.Import | ast.ImportFrom] = []

    def visit_FunctionDef(self, node):
        pass

    visit_AsyncFunctionDef = visit_Lambda = visit_FunctionDef

    def visit_If(self, node):
        test = node.test
        name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", "")
        for child in node.orelse if name == "TYPE_CHECKING" else [*node.body, *node.orelse]:
            self.visit(child)

    def visit_Import(self, node):
        self.found.append(node)

    visit_ImportFrom = visit_Import


def _named_module(dotted: str, modules) -> str | None:
    """The project module an import loads: `import a.b.c` loads a.b.c, `from a.b import C`
    loads a.b. Names outside the project give None."""
    while dotted and dotted not in modules:
        dotted = dotted.rpartition(".")[0]
    return dotted or None


def _imported(node, importer: str, is_package: bool, modules):
    if isinstance(node, ast.Import):
        return [_named_module(alias.name, modules) for alias in node.names]
    base = node.module or ""
    if node.level:
        package = importer if is_package else importer.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    # `from . import services` loads the submodule; `from .models import Role` loads .models.
    return [
        f"{base}.{alias.name}"
        if f"{base}.{alias.name}" in modules
        else _named_module(base, modules)
        for alias in node.names
    ]


def load_time_graph(root: Path, packages) -> dict[str, dict[str, int]]:
    """Each project module -> the project modules it imports while loading (and the line)."""
    modules = project_modules(root, packages)
    graph = {}
    for name, path in modules.items():
        visitor = LoadTimeImports()
        visitor.visit(ast.parse(path.read_text(), str(path)))
        edges: dict[str, int] = {}
        for node in visitor.found:
            for target in _imported(node, name, path.name == "__init__.py", modules):
                if target and target != name:
                    edges.setdefault(target, node.lineno)
        graph[name] = edges
    return graph


def import_cycles(graph) -> list[list[str]]:
    """Groups of modules that reach one another through their imports (Tarjan's strongly
    connected components of more than one module)."""
    order: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    groups = []

    def visit(module):
        order[module] = lowest[module] = len(order)
        stack.append(module)
        for target in graph.get(module, ()):
            if target not in order:
                visit(target)
                lowest[module] = min(lowest[module], lowest[target])
            elif target in stack:
                lowest[module] = min(lowest[module], order[target])
        if lowest[module] == order[module]:
            group = []
            while not group or group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(graph):
        if module not in order:
            visit(module)
    return sorted(groups)


def describe(cycles, graph) -> str:
    lines = []
    for group in cycles:
        lines.append("cycle: " + ", ".join(group))
        for module in group:
            for target, line in graph[module].items():
                if target in group:
                    lines.append(f"  {module} (line {line}) imports {target}")
    return "\n".join(lines)


LOAD_EVERY_MODULE = """
import importlib, sys, traceback
root, setup_django, *names = sys.argv[1:]
sys.path.insert(0, root)
if setup_django == "django":
    import django
    django.setup()
failed = 0
for name in names:
    try:
        importlib.import_module(name)
    except Exception:
        failed += 1
        print(f"{name}:", traceback.format_exc(limit=-1), file=sys.stderr)
sys.exit(1 if failed else 0)
"""


def load_in_a_fresh_interpreter(root: Path, packages, setup_django: bool):
    # In a fresh interpreter a module that needs another half-loaded fails the way it would
    # for a worker starting up; in this process everything is loaded already.
    return subprocess.run(
        [
            sys.executable,
            "-c",
            LOAD_EVERY_MODULE,
            str(root),
            "django" if setup_django else "plain",
            *project_modules(root, packages),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "buddyscheme.settings"},
    )


def write_package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


# The shape the core keeps: services import tasks at the top, a task body imports its service.
TASKS_AND_SERVICES = {
    "shop/__init__.py": "",
    "shop/services.py": """
        from .tasks import send_receipt

        def order_place():
            send_receipt.delay(1)
    """,
    "shop/tasks.py": """
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from .services import order_place

        def send_receipt(order_id):
            from .services import order_place
    """,
}


def test_no_project_module_imports_itself_round_a_cycle_while_loading():
    graph = load_time_graph(ROOT, PACKAGES)
    cycles = import_cycles(graph)
    assert cycles == [], describe(cycles, graph)


def test_the_outbox_imports_tasks_at_the_top_and_a_task_imports_its_service_when_it_runs():
    graph = load_time_graph(ROOT, PACKAGES)
    assert "buddyscheme.tasks" in graph["buddyscheme.notifications"]
    for service in ("buddyscheme.services", "buddyscheme.vetting"):
        assert "buddyscheme.notifications" in graph[service]
    for called in ("buddyscheme.services", "buddyscheme.vetting", "buddyscheme.notifications"):
        assert called not in graph["buddyscheme.tasks"]


def test_the_cycle_check_allows_a_task_body_import_and_reports_a_ring(tmp_path):
    write_package(tmp_path, TASKS_AND_SERVICES)
    assert import_cycles(load_time_graph(tmp_path, ["shop"])) == []
    write_package(
        tmp_path,
        {
            "shop/models.py": "from . import pricing\n",
            "shop/pricing.py": "from .tax import RATE\n",
            "shop/tax.py": "class Rate:\n    from shop.models import Order\n",
        },
    )
    graph = load_time_graph(tmp_path, ["shop"])
    cycles = import_cycles(graph)
    assert cycles == [["shop.models", "shop.pricing", "shop.tax"]]
    assert "shop.tax (line 2) imports shop.models" in describe(cycles, graph)


def test_every_project_module_loads_in_a_fresh_interpreter():
    result = load_in_a_fresh_interpreter(ROOT, PACKAGES, setup_django=True)
    assert result.returncode == 0, result.stderr


def test_the_fresh_interpreter_check_fails_on_a_module_needed_half_loaded(tmp_path):
    write_package(tmp_path, TASKS_AND_SERVICES)
    assert load_in_a_fresh_interpreter(tmp_path, ["shop"], setup_django=False).returncode == 0
    write_package(
        tmp_path,
        {"shop/a.py": "from .b import B\nA = 1\n", "shop/b.py": "from .a import A\nB = 1\n"},
    )
    result = load_in_a_fresh_interpreter(tmp_path, ["shop"], setup_django=False)
    assert result.returncode == 1
    assert "partially initialized module" in result.stderr


def lint_imports(root: Path):
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contracts_fail_when_broken(tmp_path):
    """The project's own contracts, run on a miniature of its packages."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    write_package(
        tmp_path,
        {
            **{f"{package}/__init__.py": "" for package in PACKAGES},
            "buddyscheme/services.py": "from .notifications import notification_enqueue\n",
            "buddyscheme/vetting.py": "from .notifications import notification_enqueue\n",
            "buddyscheme/notifications.py": "from .tasks import deliver_notifications\n",
            "buddyscheme/tasks.py": """
                def heartbeat():
                    from .services import heartbeat_record

                def remind_vetting_lapses():
                    from .vetting import vetting_lapses_remind

                def deliver_notifications():
                    from .notifications import notifications_deliver
            """,
            # Wiring joins the apps: not the core importing upwards.
            "buddyscheme/urls.py": "from matching import views\n",
            "matching/views.py": "from buddyscheme import services\n",
            "meetings/views.py": "from matching import views\n",
        },
    )
    result = lint_imports(tmp_path)
    assert result.returncode == 0, result.stdout
    write_package(
        tmp_path,
        {
            "buddyscheme/selectors.py": "from matching import views\n",
            "buddyscheme/vetting.py": "from . import services\n",
            "buddyscheme/services.py": "from . import vetting\n",
            "contracts/views.py": "from meetings import views\n",
        },
    )
    result = lint_imports(tmp_path)
    assert result.returncode == 1
    assert "buddyscheme is not allowed to import matching" in result.stdout
    assert "contracts is not allowed to import meetings" in result.stdout
    assert "No cycles are allowed in buddyscheme" in result.stdout
