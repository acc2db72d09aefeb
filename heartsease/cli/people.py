"""``heartsease admin``: the first administrator, and the demo people out of a store."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from heartsease.cli.common import console, refuse

admin_app = typer.Typer(help="Administrators and the demo accounts, from the server's shell.",
                        no_args_is_help=True)

DatabaseOption = Annotated[str | None, typer.Option(
    "--database-url", envvar="HEARTSEASE_DATABASE_URL",
    help="The store (default: HEARTSEASE_DATABASE_URL, else the embedded SQLite store)")]


@admin_app.command("create")
def create_admin(
    email: Annotated[str, typer.Option(prompt=True, help="The administrator's email")],
    name: Annotated[str, typer.Option(prompt=True, help="Their name, as others will see it")],
    database_url: DatabaseOption = None,
) -> None:
    """Make an administrator (the first one, say), with a password typed at a prompt,
    twice and hidden: it is never on the command line or in the shell's history."""
    from email_validator import EmailNotValidError, validate_email
    from sqlalchemy import select

    from heartsease.api.accounts import MIN_PASSWORD_LENGTH
    from heartsease.api.security import hash_password
    from heartsease.store.db import make_engine, migrate, session_factory
    from heartsease.store.models import Role, User

    try:
        email = validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        refuse(f"Not an email address: {escape(str(exc))}")
    if not name.strip():
        refuse("Give the administrator a name.")
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD_LENGTH:
        refuse(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    engine = make_engine(database_url)
    migrate(engine)
    with session_factory(engine)() as db, db.begin():
        if db.scalar(select(User).where(User.email == email)) is not None:
            refuse(f"{escape(email)} already has an account.")
        db.add(User(email=email, name=name.strip(), role=Role.ADMIN,
                    password_hash=hash_password(password)))
    engine.dispose()
    console.print(f"Administrator {escape(email)} made: sign in at /login.")


@admin_app.command("remove-demo")
def remove_demo(database_url: DatabaseOption = None) -> None:
    """Delete the demo people (public password) and their made-up practice, as production
    requires before it starts."""
    from heartsease.api.demo import remove_demo_accounts
    from heartsease.store.db import make_engine, migrate, session_factory

    engine = make_engine(database_url)
    migrate(engine)
    with session_factory(engine)() as db, db.begin():
        removed = remove_demo_accounts(db)
    engine.dispose()
    console.print("Removed: " + ", ".join(removed) if removed else "No demo accounts here.")
