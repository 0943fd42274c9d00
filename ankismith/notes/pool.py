"""The pool element a numeric note's Question field ends with: written here, read back here.

The card script (builder/assets/card.js) reads it in the browser; the preview and the tests read
it with `read_pool` and `without_pool`.
"""

from __future__ import annotations

import json
import re
from typing import Any

OPEN = '<script type="application/json" class="am-pool">'
CLOSE = "</script>"
_ELEMENT = re.compile(re.escape(OPEN) + r"(?P<json>.*?)" + re.escape(CLOSE), re.S)


def pool_element(data: dict[str, Any]) -> str:
    """The pool as a JSON script element the browser does not run (`<`, `>`, `&` escaped: the text
    can never close the element, and entity-like text stays text)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return OPEN + text + CLOSE


def read_pool(field: str) -> dict[str, Any] | None:
    """The pool a Question field carries, or None (not a numeric note)."""
    match = _ELEMENT.search(field)
    return json.loads(match["json"]) if match else None


def without_pool(field: str) -> str:
    """The field as scripts-off readers see its text: without the pool."""
    return _ELEMENT.sub("", field)
