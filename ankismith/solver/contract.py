"""The contract of a problem family, and a family loaded from it.

A family is any namespace — a deck's `problems/NAME.py` module, a class in a built-in topic module,
a module of an installed package — that defines `solve(**params)` and, if it likes, `PARAMS`, a
docstring, `steps`, `mistakes`, `verify`, `valid` (docs/families.md). The built-in families are
loaded through the same door as a deck author's. Params come from `solve`'s signature (its defaults
are the params' defaults) and from `PARAMS` (a typed param of the kit, or a draw in the `params:`
syntax of a numeric block). Every function is called with the params it names.

What a deck's or a package's family does wrong (an import that fails, a `solve` that raises, a
`verify` that disagrees) is a FamilyError at the family file's line; in a built-in family, the same
is a bug of ankismith's.
"""

from __future__ import annotations

import ast
import inspect
import os
import sys
import traceback
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ankismith.solver.family import MISSING, InvalidParams, Param
from ankismith.solver.params import SpecProblem, parse_draw

OPTIONAL = ("steps", "mistakes", "verify", "valid", "degenerate", "answer_tex")


class FamilyError(Exception):
    """A family's own fault, at `path:line` of its file (0: the file as a whole)."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(path, line, message)
        self.path, self.line, self.message = path, line, message

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


@dataclass(frozen=True)
class Origin:
    """Where a family comes from: `builtin`, `deck` (a file of a deck's problems/) or `package` (an
    entry point); `path` is the file shown in messages, `file` the one Python ran."""

    kind: str
    path: str
    file: str = ""
    lines: Mapping[str, int] = field(default_factory=dict)  # line of each top-level name, for messages

    def line_of(self, name: str) -> int:
        """The line where the family defines `name` (0 when unknown)."""
        return self.lines.get(name, 0)


@dataclass(frozen=True)
class Family:
    """A family as loaded: its params, its functions, and where it comes from."""

    name: str
    summary: str
    params: tuple[Param, ...]
    origin: Origin
    solve: Callable[..., Any]
    steps: Callable[..., Any] | None = None
    mistakes: Callable[..., Any] | None = None
    verify: Callable[..., Any] | None = None
    valid: Callable[..., Any] | None = None
    degenerate: Callable[..., Any] | None = None
    answer_tex: Callable[..., Any] | None = None
    convention: str = ""
    formulas: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()  # the names of the answers a family of several parts computes

    def param(self, name: str) -> Param | None:
        """The schema entry of `name`, if the family has one."""
        return next((p for p in self.params if p.name == name), None)

    def unknown_param(self, name: str) -> str:
        """The message for a param the family does not have."""
        return f"unknown param {name!r}; the family's params are: {', '.join(p.name for p in self.params)}"

    def complete(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Check and canonicalize params, filling defaults; InvalidParams names what is wrong."""
        unknown = sorted(str(name) for name in set(given) - {p.name for p in self.params})
        if unknown:
            raise InvalidParams(self.unknown_param(unknown[0]))
        values: dict[str, Any] = {}
        for param in self.params:
            if param.name in given:
                values[param.name] = param.coerce(given[param.name])
            elif param.required:
                what = f" ({param.doc})" if param.doc else ""
                raise InvalidParams(f"{self.name} needs param {param.name}{what}")
            else:
                values[param.name] = param.default
        return values

    def check(self, values: Mapping[str, Any]) -> None:
        """The family's `valid`: InvalidParams when it refuses the values (returns False or raises)."""
        if self.valid is not None and self.call("valid", values) is False:
            raise InvalidParams(f"{self.name}'s valid() refuses these values")

    def call(self, what: str, values: Mapping[str, Any]) -> Any:
        """`solve`, `steps`, ... called with the params it names. InvalidParams passes; in a deck's or
        a package's family any other exception is a FamilyError at its line in the family file."""
        function = getattr(self, what)
        try:
            return _call(function, values)
        except InvalidParams:
            raise
        except (Exception, SystemExit) as exc:  # sys.exit() in an author's code is a fault like any other
            if self.origin.kind == "builtin":
                raise
            raise self.fault(exc, f"{what}() raised {type(exc).__name__}: {exc}", values) from None

    def fault(self, exc: BaseException | None, message: str, values: Mapping[str, Any] | None = None) -> FamilyError:
        """A FamilyError at the line of the family file where `exc` happened (or where the family
        defines the function named in `message`)."""
        line = _line_in(exc, self.origin.file) if exc is not None else 0
        if not line:
            line = self.origin.line_of(message.split("(", 1)[0].strip())
        shown = f" (with {_brief(values)})" if values else ""
        return FamilyError(self.origin.path, line, message + shown)


def _call(function: Callable[..., Any], values: Mapping[str, Any]) -> Any:
    """`function` with the params it takes: all of them when it takes **params."""
    wanted = _accepts(function)
    return function(**(dict(values) if wanted is None else {k: v for k, v in values.items() if k in wanted}))


def _accepts(function: Callable[..., Any]) -> frozenset[str] | None:
    """The keyword params `function` takes; None when it takes any (**params)."""
    signature = inspect.signature(function)
    names = set()
    for param in signature.parameters.values():
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            return None
        if param.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            names.add(param.name)
    return frozenset(names)


def _line_in(exc: BaseException, file: str) -> int:
    """The last line of `file` the traceback of `exc` passed through."""
    if isinstance(exc, SyntaxError) and exc.filename == file:
        return exc.lineno or 0
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == file]
    return lines[-1] if lines and lines[-1] is not None else 0


def _brief(values: Mapping[str, Any]) -> str:
    from ankismith.solver.values import to_text

    text = ", ".join(f"{name}={to_text(value)}" for name, value in values.items())
    return text if len(text) <= 120 else text[:117] + "..."


# --- loading ----------------------------------------------------------------------------------------


def load_family(namespace: Any, name: str, origin: Origin) -> Family:
    """The family a namespace (module or class) defines; FamilyError says what breaks the contract."""

    def fault(what: str, message: str) -> FamilyError:
        return FamilyError(origin.path, origin.line_of(what), message)

    solve = getattr(namespace, "solve", None)
    if not callable(solve):
        raise fault("solve", "a family file must define solve(**params), returning the answer")
    functions = {}
    for what in OPTIONAL:
        function = getattr(namespace, what, None)
        if function is not None and not callable(function):
            raise fault(what, f"`{what}` must be a function")
        functions[what] = function
    params = _params(namespace, solve, fault)
    doc = inspect.cleandoc(namespace.__doc__ or "")  # its own docstring, never an inherited one
    summary = doc.splitlines()[0] if doc else ""
    convention = getattr(namespace, "CONVENTION", "")
    formulas = getattr(namespace, "FORMULAS", ())
    parts = getattr(namespace, "PARTS", ())
    if not isinstance(convention, str):
        raise fault("CONVENTION", "CONVENTION must be text")
    if not isinstance(formulas, tuple | list) or not all(isinstance(f, str) for f in formulas):
        raise fault("FORMULAS", "FORMULAS must be a list of TeX strings")
    if not isinstance(parts, tuple | list) or not all(isinstance(p, str) and p.isidentifier() for p in parts):
        raise fault("PARTS", "PARTS must be a list of part names (like loss, dW1)")
    return Family(
        name,
        summary,
        params,
        origin,
        solve,
        convention=convention,
        formulas=tuple(formulas),
        parts=tuple(parts),
        **functions,
    )


def _params(namespace: Any, solve: Callable[..., Any], fault: Callable[[str, str], FamilyError]) -> tuple[Param, ...]:
    """The params: `solve`'s named params (their defaults), typed or given a default draw by PARAMS."""
    declared = getattr(namespace, "PARAMS", {})
    if not isinstance(declared, Mapping) or not all(isinstance(k, str) for k in declared):
        raise fault("PARAMS", "PARAMS must be a mapping of param names to draws, like {'m': '1..10'}")
    signature = inspect.signature(solve)
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
    named = [
        p
        for p in signature.parameters.values()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    defaults = {p.name: (MISSING if p.default is inspect.Parameter.empty else p.default) for p in named}
    extra = [name for name in declared if name not in defaults]
    if extra and not open_ended:
        raise fault("PARAMS", f"PARAMS names {', '.join(extra)}, but solve() takes no such param")
    params = []
    for name in [*defaults, *extra]:
        spec = declared.get(name)
        if isinstance(spec, Param):
            default = defaults.get(name, MISSING)
            param = replace(spec, name=name, default=spec.default if default is MISSING else default)
        else:
            param = Param(name, "any", default=defaults.get(name, MISSING), draw=spec)
        if param.draw is not None:
            try:
                parse_draw(name, param.draw, param.kind if param.kind != "any" else None)
            except SpecProblem as exc:
                raise fault("PARAMS", f"PARAMS: {exc}") from None
        params.append(param)
    return tuple(params)


def top_level_lines(source: str) -> dict[str, int]:
    """The line of each name a module's source defines at its top level (for messages)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    lines: dict[str, int] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            lines[node.name] = node.lineno
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    lines[target.id] = node.lineno
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            lines[node.target.id] = node.lineno
    return lines


def load_module(name: str, code: bytes, path: str, file: str, folder: str) -> Family:
    """Run a family file's code (its bytes as read) as a module and load the family it defines.
    Its folder is importable while it runs, so that it may import its `_helpers.py`: afresh each
    time, never as Python's module cache kept them (an edited helper, another deck's of that name)."""
    source = code.decode("utf-8-sig", errors="replace")
    origin = Origin("deck", path, file, top_level_lines(source))
    module = types.ModuleType(f"ankismith_family_{name}")
    module.__file__ = file
    before = set(sys.modules)
    sys.path.insert(0, folder)
    try:
        compiled = compile(source, file, "exec")
        exec(compiled, module.__dict__)  # the deck author's own Python, as a conftest.py is (docs/families.md)
    except SyntaxError as exc:
        raise FamilyError(path, exc.lineno or 0, f"the family file does not compile: {exc.msg}") from None
    except (Exception, SystemExit) as exc:
        raise FamilyError(
            path, _line_in(exc, file), f"importing the family file raised {type(exc).__name__}: {exc}"
        ) from None
    finally:
        if sys.path and sys.path[0] == folder:
            sys.path.pop(0)
        _forget_modules(set(sys.modules) - before, folder)
    return load_family(module, name, origin)


def _forget_modules(names: set[str], folder: str) -> None:
    """Drop from Python's module cache those of `names` that are files of `folder` (the helpers a
    family file imported): the family keeps them, the next family file imports its own."""
    root = os.path.realpath(folder)
    for name in names:
        file = getattr(sys.modules.get(name), "__file__", None)
        if file and os.path.realpath(file).startswith(root + os.sep):
            del sys.modules[name]
