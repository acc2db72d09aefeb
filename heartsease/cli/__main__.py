"""``python -m heartsease.cli``: the same command as ``heartsease``."""

from heartsease.cli.entry import main

main()
