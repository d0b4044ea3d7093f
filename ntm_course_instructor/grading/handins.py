"""Handing in the reference earns nothing: the static scan of an answer cell for the library's own version of a
graded function.

The grader reads each learner cell's syntax tree before any worker runs: an answer that imports or calls the
library's own version of the function it must write scores 0 on that check, and one that uses dynamic code or
the course's reference helpers (which the scan cannot follow) scores 0 on every check. What the scan cannot see
finds no answer in the worker either: there the library's function is a stub that raises (:mod:`.kit`).
"""
import ast

from .worker import strip_magics


LEARNER = "ntm_course"
TEACHING = f"{LEARNER}.teaching"       # the lessons' reveal and checks: never in an answer
INSTRUCTOR = "ntm_course_instructor"   # the grader and the references: never in an answer
DYNAMIC = {"exec", "eval", "compile", "__import__", "globals", "vars", "__builtins__", "breakpoint"}
DYNAMIC_MODULES = {"importlib", "runpy", "imp", "pkgutil", "inspect", "ctypes", "gc"}
DYNAMIC_ATTRS = {"__code__", "__globals__", "__closure__", "__wrapped__", "modules", "setprofile", "settrace"}
REFERENCE_HELPERS = {"reference", "reveal", "my_pieces", "EXERCISES"}
LEARNER_MODULES = ("addressing", "memory", "heads", "ntm", "pieces", "tasks")   # bound to a name: module.shift
TEACHING_NAMES = ("teaching", "practice", "lesson")


def handins(source, names):
    """Ways a learner's cell reaches the library's own version of a graded function.

    Returns ``{name: why}`` for the graded ``names`` the cell gets from the library, and ``{"*": why}`` when
    it uses dynamic code (``exec``, ``__import__``, ``importlib``, ``__code__``, ...) or the course's
    reference helpers in a way the grader cannot follow, which counts against every check."""
    try:
        tree = ast.parse(strip_magics(source))
    except SyntaxError:
        return {}
    scan = _Scan(names)
    for node in ast.walk(tree):
        scan.statement(node)
    for node in ast.walk(tree):   # library modules bound to a name: module.shift, getattr(module, ...)
        scan.module_use(node)
    return scan.found


class _Scan:
    """What one cell reaches (``found``: the first reason for each name) and its names for library modules."""

    def __init__(self, names):
        self.names, self.found, self.aliases = names, {}, set()

    def flag(self, name, why):
        self.found.setdefault(name, why)

    def statement(self, node):
        if isinstance(node, ast.Import):
            for alias in node.names:
                self.imported(alias)
        elif isinstance(node, ast.ImportFrom):
            self.imported_from(node.module or "", node.names)
        elif isinstance(node, ast.Name) and (node.id in DYNAMIC or node.id in REFERENCE_HELPERS):
            self.flag("*", f"uses {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in DYNAMIC_ATTRS:
            self.flag("*", f"uses .{node.attr}")

    def imported(self, alias):
        """``import module [as name]``."""
        root, last = alias.name.split(".")[0], alias.name.split(".")[-1]
        if root == INSTRUCTOR or root in DYNAMIC_MODULES:
            self.flag("*", f"import {alias.name}")
        if root != LEARNER:
            return
        self.aliases.add(alias.asname or root)
        if alias.asname and last in self.names:
            self.flag(last, f"import {alias.name}")
        if alias.name.startswith(TEACHING) or alias.name.endswith((".lesson", ".references")):
            self.flag("*", f"import {alias.name}")

    def imported_from(self, module, aliases):
        """``from module import a [as b], ...``."""
        root = module.split(".")[0]
        if root in DYNAMIC_MODULES or root == INSTRUCTOR:
            self.flag("*", f"from {module} import ...")
        if root != LEARNER:
            return
        for alias in aliases:
            text = f"from {module} import {alias.name}"
            if alias.name == "*":
                self.flag("*", text)
            elif alias.name in self.names:
                self.flag(alias.name, text)
            elif alias.name in REFERENCE_HELPERS or module.startswith(TEACHING) or alias.name in TEACHING_NAMES:
                self.flag("*", text)
            elif alias.name in LEARNER_MODULES:
                self.aliases.add(alias.asname or alias.name)

    def module_use(self, node):
        """``module.shift``, ``module.teaching`` or ``getattr(module, ...)`` on a library module's name."""
        if isinstance(node, ast.Attribute) and _root(node) in self.aliases:
            if node.attr in self.names:
                self.flag(node.attr, f"{ast.unparse(node)}")
            elif node.attr in (*TEACHING_NAMES, "reference", "reveal"):
                self.flag("*", ast.unparse(node))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
                and node.args and _root(node.args[0]) in self.aliases:
            self.flag("*", ast.unparse(node))


def _root(node):
    """The name at the root of ``a.b.c`` (``a``), None when it is not a plain name."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None
