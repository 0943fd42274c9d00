"""The pool element a numeric note's Question field ends with: written here, read back here.

The card script (package/assets/card.js) reads it in the browser; the preview and the tests read
it with `read_pool` and `without_pool`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ankismith.rules import script_json

FORMAT_VERSION = 2  # the pool's `v` (2: parts and their mistakes); a reader refuses a pool of another version
OPEN = '<script type="application/json" class="am-pool">'
CLOSE = "</script>"
_ELEMENT = re.compile(re.escape(OPEN) + r"(?P<json>.*?)" + re.escape(CLOSE), re.S)


def pool_element(data: dict[str, Any]) -> str:
    """The pool as a JSON script element the browser does not run (the text can never close it)."""
    return OPEN + script_json({"v": FORMAT_VERSION, **data}) + CLOSE


def read_pool(field: str) -> dict[str, Any] | None:
    """The pool a Question field carries, or None (not a numeric note)."""
    match = _ELEMENT.search(field)
    if match is None:
        return None
    pool = json.loads(match["json"])
    if pool.get("v") != FORMAT_VERSION:
        raise ValueError(f"a pool of format {pool.get('v')!r}; this ankismith reads format {FORMAT_VERSION}")
    return pool


def without_pool(field: str) -> str:
    """The field as scripts-off readers see its text: without the pool."""
    return _ELEMENT.sub("", field)
