"""The rules that keep the code easy to change, held by tests where import-linter cannot say
them: the UI reaches nothing past the desk, the README's layer map is the package's folders,
and every pane comes from the one list."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from qmigtui.ui.panes import PANES

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "qmigtui"
INSIDE_THE_DESK = {"backend", "watcher", "controller", "rig", "recorder", "audit",
                   "_watcher", "_controller", "_rig", "_tools"}


def test_the_ui_reaches_nothing_past_the_desk():
    found = []
    for path in sorted((PACKAGE / "ui").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in INSIDE_THE_DESK:
                found.append(f"{path.name}:{node.lineno} .{node.attr}")
    assert not found, "the UI reaches past the desk: " + ", ".join(found)


def test_the_readme_layer_map_names_every_package_folder():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Layers", 1)[1].split("```")[1]
    drawn = set(re.findall(r"^([a-z]+)/", section, flags=re.M))
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert drawn == folders


def test_each_pane_has_its_own_id_title_and_key():
    specs = [p.SPEC for p in PANES]
    assert len({s.id for s in specs}) == len({s.key for s in specs}) == len(specs)
    assert [s.key for s in specs] == [str(n) for n in range(1, len(specs) + 1)]
    assert any(s.bottom for s in specs) and all(s.title for s in specs)
    assert all(callable(getattr(p, "show", None)) for p in PANES)


def _strings_that_are_not_docstrings(tree: ast.AST) -> list[ast.Constant]:
    docs = {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)}
    raised = {id(c) for node in ast.walk(tree) if isinstance(node, ast.Raise)
              for c in ast.walk(node) if isinstance(c, ast.Constant)}  # a programming error's message
    return [node for node in ast.walk(tree) if isinstance(node, ast.Constant)
            and isinstance(node.value, str) and id(node) not in docs | raised]


def test_the_analysis_returns_facts_no_sentence_and_no_key_name():
    """The forecast says what is so; the UI alone words it and names keys (a string with a
    space in analysis/ is a sentence, and "press" names a key)."""
    found = []
    for path in sorted((ROOT / "qmigtui" / "analysis").glob("*.py")):
        for node in _strings_that_are_not_docstrings(ast.parse(path.read_text())):
            if " " in node.value or re.search(r"\bpress\b", node.value):
                found.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert not found, found


KINDS = {"libvirt", "replay"}


def test_nothing_above_qmp_branches_on_the_kind_of_session():
    """What a session can do is data it offers (manages_incoming, via, missing ...); no code
    above qmp/ compares a kind, so a new transport is a module in qmp/ and its tests."""
    found = []
    for path in sorted((ROOT / "qmigtui").rglob("*.py")):
        if "qmp" in path.relative_to(ROOT / "qmigtui").parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):  # x.kind == "libvirt", session.via != "replay"
                consts = {c.value for c in ast.walk(node) if isinstance(c, ast.Constant)}
                attrs = {a.attr for a in ast.walk(node) if isinstance(a, ast.Attribute)}
                if KINDS & {v for v in consts if isinstance(v, str)} and attrs & {"kind", "via"}:
                    found.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "isinstance":
                names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                if names & {"LibvirtSession", "ReplaySession", "QmpSession"}:
                    found.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and node.module == "qmigtui.qmp.libvirt_session":
                found.append(f"{path.name}:{node.lineno} picks libvirt itself (qmp.sessions does)")
    assert not found, found


def test_no_part_of_the_app_is_a_stub_for_another():
    """Each mixin of the app does what it declares: no NotImplementedError in ui/."""
    stubs = [f"{p.name}:{n.lineno}" for p in sorted((ROOT / "qmigtui" / "ui").glob("*.py"))
             for n in ast.walk(ast.parse(p.read_text()))
             if isinstance(n, ast.Raise) and "NotImplementedError" in ast.dump(n)]
    assert not stubs, stubs


def test_no_module_over_400_lines_and_no_function_over_60():
    """Small modules named for what they hold, small functions (generated tables aside)."""
    big = []
    for path in sorted((ROOT / "qmigtui").rglob("*.py")):
        text = path.read_text()
        if "do not edit" in text[:400]:
            continue
        if text.count("\n") > 400:
            big.append(f"{path.relative_to(ROOT)}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno \
                    and node.end_lineno - node.lineno + 1 > 60:
                big.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert not big, big


def test_each_key_is_declared_by_the_part_of_the_app_that_handles_it():
    """No key list in one place and its handler in another: the class that binds a key
    defines its action (Textual's own quit aside), and says when it applies."""
    from textual.actions import parse as parse_action
    from textual.app import App

    from qmigtui.ui.app import MigrationApp
    from qmigtui.ui.app_base import AppBase, declared
    elsewhere = []
    for cls in MigrationApp.__mro__:
        if not issubclass(cls, AppBase):
            continue
        for binding in declared(cls):
            action = parse_action(binding.action)[1]
            if f"action_{action}" not in cls.__dict__ and not hasattr(App, f"action_{action}"):
                elsewhere.append(f"{cls.__name__} binds {binding.key} to {action}")
    assert not elsewhere, elsewhere
    assert "check_action" not in MigrationApp.__dict__
