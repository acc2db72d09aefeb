"""The ``heartsease`` command's typer application (:data:`app`).

One module per group of commands. Each imports at its top only what its options need
(typer, rich, the scenario and protocol names); what a command runs is imported when it
runs, so that ``heartsease --help`` loads neither the analysis (scipy), the store
(SQLAlchemy, Alembic) nor the simulator. ``heartsease analyze`` with plain arguments does
not build it at all (:mod:`heartsease.cli.entry`).
"""

from __future__ import annotations

import typer

from heartsease.cli import analysis, backup, breathing, people, service, straps

app = typer.Typer(
    help="heartsease: HRV biofeedback for compassion-focused therapy.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main() -> None:
    """heartsease: HRV biofeedback for compassion-focused therapy."""


app.command()(analysis.analyze)
app.command(name="simulate")(analysis.simulate_command)
app.command(name="scan")(straps.scan_command)
app.command(name="record")(straps.record_command)
app.command()(breathing.breathe)
app.command(name="replay")(analysis.replay_command)
app.command()(service.serve)
app.command()(backup.backup)
app.command()(backup.restore)
app.add_typer(people.admin_app, name="admin")
