"""One way to do a thing, read from the source (no database): Wagtail hooks
are registered only in modules named wagtail_hooks.py, and every Celery task
is named after where it lives.

Wagtail discovers an app's top-level wagtail_hooks.py only; a part of an app
(courses/certificates, events/checkin) keeps its hooks in its own
wagtail_hooks.py, which the app's top-level one imports. A task's name is
what the broker and the beat schedule hold, so it is spelled out rather than
derived from wherever the function happens to be imported."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("portal", "courses", "events", "subscriptions", "talentpool")
SKIPPED_DIRECTORIES = {"migrations", "tests", "__pycache__"}
HOOKS_MODULE = "wagtail_hooks.py"


def project_files() -> list[Path]:
    files = [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if not SKIPPED_DIRECTORIES.intersection(path.relative_to(ROOT).parts)
    ]
    assert files, f"no Python files found under {ROOT}"
    return files


def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def dotted(path: Path) -> str:
    """courses/certificates/wagtail_hooks.py -> courses.certificates.wagtail_hooks"""
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def hook_registrations(tree: ast.Module) -> list[int]:
    """Lines that use wagtail.hooks.register: as a decorator or a call,
    whatever the module is called here, or imported by itself."""
    aliases = {"hooks"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "wagtail":
            aliases.update(a.asname or a.name for a in node.names if a.name == "hooks")
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "register":
            owner = node.value
            if (isinstance(owner, ast.Name) and owner.id in aliases) or (
                isinstance(owner, ast.Attribute)
                and owner.attr == "hooks"
                and isinstance(owner.value, ast.Name)
                and owner.value.id == "wagtail"
            ):
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module == "wagtail.hooks"
            and any(a.name == "register" for a in node.names)
        ):
            lines.append(node.lineno)
    return sorted(lines)


def test_wagtail_hooks_are_registered_only_in_wagtail_hooks_modules():
    misplaced = []
    registering = []
    for path in project_files():
        lines = hook_registrations(parsed(path))
        if not lines:
            continue
        registering.append(path)
        if path.name != HOOKS_MODULE:
            where = ", ".join(str(line) for line in lines)
            misplaced.append(f"{path.relative_to(ROOT)} (line {where})")
    assert registering, "found no hooks.register at all: is the walk looking?"
    assert not misplaced, (
        "hooks.register outside a wagtail_hooks.py; move the registration into "
        "the app's wagtail_hooks.py (or the part's, imported by the app's): "
        + "; ".join(misplaced)
    )


def imported_modules(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_every_parts_wagtail_hooks_is_imported_by_its_apps():
    """Wagtail would never see a part's hooks module that nobody imports."""
    unseen = []
    for path in project_files():
        parts = path.relative_to(ROOT).parts
        if path.name != HOOKS_MODULE or len(parts) == 2:
            continue
        top = ROOT / parts[0] / HOOKS_MODULE
        if not top.exists() or dotted(path) not in imported_modules(parsed(top)):
            unseen.append(
                f"{path.relative_to(ROOT)} (not imported by {parts[0]}/{HOOKS_MODULE})"
            )
    assert not unseen, "; ".join(unseen)


def shared_task_decorators(tree: ast.Module):  # type: ignore[no-untyped-def]
    """(function, decorator) for each function decorated with shared_task."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            name = (
                target.attr
                if isinstance(target, ast.Attribute)
                else getattr(target, "id", None)
            )
            if name == "shared_task":
                yield node, decorator


def test_every_shared_task_is_named_after_its_module_and_function():
    wrong = []
    tasks = 0
    for path in project_files():
        for function, decorator in shared_task_decorators(parsed(path)):
            tasks += 1
            expected = f"{dotted(path)}.{function.name}"
            keywords = (
                {k.arg: k.value for k in decorator.keywords}
                if isinstance(decorator, ast.Call)
                else {}
            )
            given = keywords.get("name")
            if not (isinstance(given, ast.Constant) and given.value == expected):
                shown = ast.unparse(given) if given is not None else "no name="
                wrong.append(
                    f"{path.relative_to(ROOT)}:{function.lineno} {function.name}: "
                    f"{shown}, expected name={expected!r}"
                )
    assert tasks, "found no @shared_task at all: is the walk looking?"
    assert not wrong, "; ".join(wrong)


#: A Markdown file's name, and a path up the tree ("../notes/x").
MARKDOWN_NAME = re.compile(r"\b[A-Za-z][\w-]*\.md\b")
PATH_UP = re.compile(r"(?:\.\./)+[\w.-]+(?:/[\w.-]+)*")


def test_the_repository_stands_alone():
    # Code and docs cite docs/ (docs/decisions.md, docs/architecture.md),
    # never notes that live outside the repository: every Markdown file
    # named is one of the repository's own, and every path up the tree
    # stays inside it.
    suffixes = {".py", ".md", ".html", ".txt", ".toml", ".js", ".css", ".sh"}
    files = [
        path
        for path in sorted(ROOT.rglob("*"))
        if path.is_file()
        and path.suffix in suffixes
        and path.relative_to(ROOT).parts[0] not in {".venv", "var", "node_modules"}
    ]
    own_notes = {path.name for path in files if path.suffix == ".md"}
    assert "decisions.md" in own_notes, "is the walk looking?"
    offenders = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for name in sorted(set(MARKDOWN_NAME.findall(text)) - own_notes):
            offenders.append(f"{path.relative_to(ROOT)} names {name}")
        for up in sorted(set(PATH_UP.findall(text))):
            if not (path.parent / up).resolve().is_relative_to(ROOT):
                offenders.append(f"{path.relative_to(ROOT)} points outside: {up}")
    assert not offenders, "\n".join(offenders)
