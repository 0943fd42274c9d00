"""`python -m ankismith`."""

from ankismith.cli import app

app()
