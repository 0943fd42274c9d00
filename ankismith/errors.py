"""Errors that point at the user's source: `path:line: message`, collected and raised once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class SourceError:
    """One problem in a deck's sources, located at a file and a 1-based line (0: the path as a
    whole, a folder that is missing say)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


class DeckErrors(Exception):
    """Every problem a run found, raised once so the user sees them all together; the warnings
    met on the way come along (a typo warned about is often what caused an error)."""

    def __init__(self, errors: Iterable[SourceError], warnings: Iterable[SourceError] = ()) -> None:
        self.errors: tuple[SourceError, ...] = tuple(sorted(set(errors), key=_sort_key))
        self.warnings: tuple[SourceError, ...] = tuple(sorted(set(warnings), key=_sort_key))
        super().__init__("\n".join(str(e) for e in self.errors))


def _sort_key(error: SourceError) -> tuple[str, int, str]:
    return (error.path, error.line, error.message)


class Collector:
    """Gathers errors and warnings of one stage; `raise_if_any` stops once with all of them."""

    def __init__(self) -> None:
        self.errors: list[SourceError] = []
        self.warnings: list[SourceError] = []

    def error(self, path: str, line: int, message: str) -> None:
        """Record an error at `path:line`."""
        self.errors.append(SourceError(path, line, message))

    def warn(self, path: str, line: int, message: str) -> None:
        """Record a warning at `path:line`; warnings never stop a build."""
        self.warnings.append(SourceError(path, line, message))

    def extend(self, errors: Iterable[SourceError]) -> None:
        """Record errors found elsewhere."""
        self.errors.extend(errors)

    def raise_if_any(self) -> None:
        """Raise DeckErrors with everything recorded so far, if there is anything."""
        if self.errors:
            raise DeckErrors(self.errors, self.warnings)


class InternalError(Exception):
    """An unexpected exception (a bug in ankismith, not in the deck) and the input it met it on.

    `line` is 0 when the input is a whole file or deck folder; `written` lists packages that were
    already written when it happened (none, unless it happened while writing).
    """

    def __init__(self, path: str, line: int, detail: str, subject: str = "card", written: tuple[str, ...] = ()) -> None:
        super().__init__(path, line, detail, subject, written)  # all in args: it crosses process boundaries
        self.path, self.line, self.detail, self.subject, self.written = path, line, detail, subject, written

    @classmethod
    def wrap(cls, exc: BaseException, path: str, line: int, subject: str = "card") -> InternalError:
        """The InternalError for `exc`, met while working on `path:line` (kept if `exc` already is one)."""
        if isinstance(exc, InternalError):
            return exc
        return cls(path, line, f"{type(exc).__name__}: {exc}", subject)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        done = f"already written: {', '.join(self.written)}" if self.written else "nothing was written"
        return (
            f"{where}: internal error ({self.detail}); {done}. "
            f"This is a bug in ankismith: please report it, with this {self.subject}."
        )


@contextmanager
def blame(path: str, line: int, subject: str) -> Iterator[None]:
    """Turn an unexpected exception (a bug) into an InternalError naming the input it was met on."""
    try:
        yield
    except (DeckErrors, InternalError):
        raise
    except Exception as exc:
        raise InternalError.wrap(exc, path, line, subject) from exc


def shown_path(path: Path, root: Path) -> str:
    """Path shown in messages: the deck folder as given, then the file inside it."""
    inner = path.relative_to(root).as_posix()
    return inner if root == Path(".") else f"{root.as_posix().rstrip('/')}/{inner}"
