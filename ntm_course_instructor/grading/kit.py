"""The worker's kit: the only course code a grading worker can see, with no reference answer in it.

:func:`build_kit` writes, for one assignment, a folder that the sandbox mounts read-only as the worker's only
copy of the course (:mod:`.isolation`; it comes first on the worker's ``sys.path``):

- ``ntm_course/``: the learner's library, copied, with each function a check of the assignment grades
  *stubbed*: its signature and docstring kept, its body replaced by a ``raise`` (:func:`stub_functions`). The
  private helpers it calls are stubbed too, and so are the other functions of its module that it reaches, except
  those the exercise hands the learner as tools (what the solution notebook's own cells import from the course):
  for ``address``, its ``pipeline``, but not ``shift``. The notebook's imports keep working; the answer is not
  there, on disk or in memory.
- ``ntm_course_instructor/grading/``: the worker itself (:mod:`.worker`, :mod:`.transport`, :mod:`.isolation`,
  which hold no answer), and for each graded exercise a *shaken* copy of its module (:func:`shaken_source`): only
  what the worker needs to run the learner's function on a case (the exercise's ``call`` and the classes of its
  cases), never its reference, its mistakes or its tables. A kit whose shaken module would need the reference is
  a ``ValueError`` when the kit is built, so it cannot ship.

What the worker needs of each check travels as data (:func:`spec_of`): a graded exercise's ``call`` as
``"module:name"`` (``None`` for ``fn(*args)``) and its gradient arguments; a practice check is found in the kit.
"""
import ast
import inspect
import os
import shutil
from pathlib import Path

STUB_MARK = "is not in the grader's worker"
"""In the message of every stub's error: the grader recognises a learner's function that called the library's own
version of what it must write."""

WORKER_FILES = ("worker.py", "transport.py", "isolation.py")


def _functions(tree):
    """``{name: node}`` of the module-level functions and classes of ``tree``."""
    return {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def _names_used(node):
    """The names ``node`` loads (``x``, and the ``x`` of ``x.y``)."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def reached(tree, seeds, tools=()):
    """The module-level functions of ``tree`` that ``seeds`` reach through the names they use: ``seeds``, then
    every function they name that is private (``_name``) or not one of ``tools``, and so on."""
    defs, found, todo = _functions(tree), set(), [s for s in seeds]
    while todo:
        name = todo.pop()
        if name in found or name not in defs:
            continue
        found.add(name)
        todo += [n for n in _names_used(defs[name]) if n in defs and (n.startswith("_") or n not in tools)]
    return found


def stub_functions(source, names, where):
    """``source`` with the body of each module-level function in ``names`` replaced by a ``raise`` (signature,
    decorators and docstring kept). ``where`` (the module's dotted name) goes into the error's message."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    cuts = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
            body = node.body[1:] if ast.get_docstring(node) is not None and len(node.body) > 1 else node.body
            if ast.get_docstring(node) is not None and len(node.body) == 1:
                body = []
            first = body[0].lineno if body else node.body[-1].end_lineno + 1
            indent = " " * (node.body[0].col_offset)
            message = f"{where}.{node.name} {STUB_MARK}: write your own"
            cuts.append((first - 1, node.end_lineno, f"{indent}raise RuntimeError({message!r})\n"))
    for start, end, text in sorted(cuts, reverse=True):
        lines[start:end] = [text]
    return "".join(lines)


def shaken_source(source, keep, forbidden):
    """The part of a module's ``source`` that ``keep`` (names) needs: its imports, and the module-level
    definitions and assignments that ``keep`` reaches through the names it uses, in the module's order.
    ``ValueError`` when that reaches a name in ``forbidden`` (the reference)."""
    tree = ast.parse(source)
    defined = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                for name in _names_used(target):
                    defined[name] = node
    needed, todo = set(), list(keep)
    while todo:
        name = todo.pop()
        if name in forbidden:
            raise ValueError(f"the worker's copy of this module would need {name!r}, the reference: move what "
                             f"the exercise's call needs out of it")
        node = defined.get(name)
        if node is None or id(node) in {id(n) for n in needed}:
            continue
        needed.add(node)
        todo += [n for n in _names_used(node) if n in defined]
    kept = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom)) or node in needed]
    return ast.unparse(ast.Module(body=kept, type_ignores=[])) + "\n"


def call_path(exercise):
    """Where the worker finds a graded exercise's ``call``: ``"module:name"``, or None for ``fn(*args)``."""
    call = inspect.unwrap(exercise.call)
    if getattr(call, "__qualname__", "") == "Exercise.<lambda>":
        return None
    if "<" in call.__qualname__:
        raise ValueError(f"the call of exercise {exercise.name!r} must be a module-level function (the worker "
                         f"imports it), got {call.__qualname__}")
    return f"{call.__module__}:{call.__qualname__}"


def spec_of(exercise):
    """What the worker needs to run the learner's function on a case: ``{"practice": True}`` for a check of the
    learner's library (the kit's own registry has it, reference stubbed), else the exercise's call path and the
    positions of the arguments gradients must reach."""
    if inspect.getmodule(exercise.reference).__name__.startswith("ntm_course."):
        return {"practice": True}
    return {"practice": False, "call": call_path(exercise), "grad_args": tuple(exercise.grad_args)}


def case_classes(value, module, found=None):
    """The names of the classes defined in ``module`` that the objects in a case's ``value`` belong to."""
    found = set() if found is None else found
    if isinstance(value, (tuple, list)):
        for v in value:
            case_classes(v, module, found)
    elif isinstance(value, dict):
        for v in value.values():
            case_classes(v, module, found)
    elif type(value).__module__ == module:
        found.add(type(value).__name__)
    return found


def _library_stubs(exercise, tools):
    """``{module name: {function names}}`` to stub in the library for ``exercise`` (a reference in it)."""
    seeds = [f for f in (exercise.reference, exercise.worker) if f is not None]
    stubs = {}
    for fn in seeds:
        module = inspect.getmodule(fn)
        names = {fn.__name__, f"_{exercise.name}"}
        tree = ast.parse(inspect.getsource(module))
        stubs.setdefault(module.__name__, set()).update(reached(tree, names, tools))
    return stubs


def build_kit(folder, exercises, cases, tools=()):
    """Write the worker's kit for ``exercises`` (the checks of one assignment) into ``folder``; ``cases`` are
    ``{name: {group: [args]}}``, whose objects' classes the shaken modules keep; ``tools``: names the exercise
    hands the learner (never stubbed). Returns ``{name: spec}`` (:func:`spec_of`)."""
    import ntm_course
    folder = Path(folder)
    library = Path(ntm_course.__file__).parent
    shutil.copytree(library, folder / "ntm_course", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    stubs, shaken, specs = {}, {}, {}
    for exercise in exercises:
        module = inspect.getmodule(exercise.reference).__name__
        spec = specs[exercise.name] = spec_of(exercise)
        if spec["practice"]:
            for name, functions in _library_stubs(exercise, tools).items():
                stubs.setdefault(name, set()).update(functions)
        else:
            keep = shaken.setdefault(module, {"keep": set(), "forbidden": set()})
            keep["forbidden"].add(exercise.reference.__name__)
            if spec["call"] and spec["call"].startswith(module + ":"):
                keep["keep"].add(spec["call"].split(":")[1])
            keep["keep"] |= case_classes(cases.get(exercise.name, {}), module)
    for name, functions in stubs.items():
        path = folder / Path(*name.split(".")).with_suffix(".py")
        path.write_text(stub_functions(path.read_text(encoding="utf-8"), functions, name), encoding="utf-8")
    grading = folder / "ntm_course_instructor" / "grading"
    grading.mkdir(parents=True)
    for package in (grading.parent, grading):
        (package / "__init__.py").write_text("", encoding="utf-8")
    here = Path(__file__).parent
    for name in WORKER_FILES:
        shutil.copy(here / name, grading / name)
    for module, spec in shaken.items():
        source = inspect.getsource(__import__(module, fromlist=["_"]))
        text = shaken_source(source, spec["keep"], spec["forbidden"])
        (grading / (module.rsplit(".", 1)[1] + ".py")).write_text(text, encoding="utf-8")
    for root, dirs, files in os.walk(folder):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    return specs
