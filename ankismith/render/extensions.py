"""The Python-Markdown extensions and their settings: what, besides versions, shapes the HTML.

Kept apart from `render` so that the build cache can fingerprint them without importing
Markdown.
"""

from __future__ import annotations

EXTENSIONS: tuple[str, ...] = (
    "tables",
    "pymdownx.superfences",
    "pymdownx.highlight",
    "pymdownx.tasklist",  # task lists outside a card's choices: checkboxes, as on GitHub
    "sane_lists",
)
EXTENSION_CONFIGS: dict[str, dict[str, object]] = {
    # Pygments classes, not inline styles: the stylesheet colours them for day and night mode.
    "pymdownx.highlight": {"use_pygments": True, "css_class": "highlight", "guess_lang": False},
}
