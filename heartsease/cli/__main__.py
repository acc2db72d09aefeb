"""``python -m heartsease.cli``: the same command as ``heartsease``."""

from heartsease.cli import app

app()
