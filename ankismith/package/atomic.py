"""Write a file so that a reader sees the old one or the new one, never half of either."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(target: Path, write: Callable[[BinaryIO], None]) -> None:
    """Call `write` on a temporary file beside `target`, then rename it over `target`.

    An error or a kill before the rename leaves `target` as it was (the temporary file is removed
    on error; a killed process may leave a `.<name>.*.tmp` file beside it).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
