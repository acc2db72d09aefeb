"""The ``heartsease`` command.

The typer application is :data:`heartsease.cli.commands.app`, built on first use of
``heartsease.cli.app``: importing this package loads nothing else, so that
``heartsease analyze`` with plain arguments (:mod:`heartsease.cli.entry`) starts without
typer, click, pydantic and rich, which take longer to import than a 10-minute recording
takes to analyse (issue 27).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from heartsease.cli.commands import app

__all__ = ["app"]


def __getattr__(name: str) -> object:
    """``app``, imported when first asked for (PEP 562)."""
    if name == "app":
        from heartsease.cli.commands import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
