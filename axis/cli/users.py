"""``axis users``: the people who log in to the web pages (clerks and administrators).

Passwords are read from the terminal (typed twice, not echoed), or with ``--password-stdin`` from
the first line of standard input for scripts; never from the command line, where ``ps`` and shell
histories would keep them.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from axis.accounts import passwords, users
from axis.accounts.users import Role, User
from axis.cli import runtime
from axis.errors import AxisError
from axis.store.db import Conn
from axis.web.vietnamese import clock


def register(sub: Any) -> None:
    group = sub.add_parser("users", help="web page users: clerks and administrators")
    actions = group.add_subparsers(dest="users_command", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="create a user (asks for the password)")
    add.add_argument("username")
    add.add_argument("--role", choices=[r.value for r in Role], required=True)
    add.add_argument("--system", help="the system a clerk works for (clerks only)")
    add.add_argument("--name", default="", help="full name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(handler=_add)

    passwd = actions.add_parser("passwd", help="set a new password (ends the user's sessions, lifts a lock)")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd.set_defaults(handler=_passwd)

    disable = actions.add_parser("disable", help="disable a user (ends their sessions at once)")
    disable.add_argument("username")
    disable.set_defaults(handler=_status("disabled"))

    enable = actions.add_parser("enable", help="enable a disabled user")
    enable.add_argument("username")
    enable.set_defaults(handler=_status("active"))

    actions.add_parser("list", help="all users").set_defaults(handler=_list)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise AxisError("web.password.weak", "The two passwords differ.")
    passwords.check_strength(password, args.username)
    return passwords.hash_password(password)


def _line(user: User) -> str:
    where = f" system={user.system_id}" if user.system_id else ""
    lock = f" locked until {clock(user.locked_until)}" if user.locked() else ""
    return f"{user.username:<24} {user.role.value:<6} {user.status:<9}{where}{lock}  {user.full_name}"


def _add(args: argparse.Namespace) -> int:
    password_hash = _password(args)

    async def action(conn: Conn) -> User:
        return await users.add(
            conn,
            runtime.actor(),
            args.username,
            password_hash,
            role=Role(args.role),
            system_id=args.system,
            full_name=args.name,
        )

    print(f"added {_line(runtime.run(runtime.transaction(action)))}")
    return 0


def _passwd(args: argparse.Namespace) -> int:
    password_hash = _password(args)

    async def action(conn: Conn) -> User:
        return await users.set_password(conn, runtime.actor(), args.username, password_hash)

    user = runtime.run(runtime.transaction(action))
    print(f"password of {user.username} changed; their sessions ended")
    return 0


def _status(status: str) -> Any:
    def handler(args: argparse.Namespace) -> int:
        async def action(conn: Conn) -> User:
            return await users.set_status(conn, runtime.actor(), args.username, status)

        user = runtime.run(runtime.transaction(action))
        print(f"{user.username} is {user.status}" + ("; their sessions ended" if status == "disabled" else ""))
        return 0

    return handler


def _list(_: argparse.Namespace) -> int:
    for user in runtime.run(users.all_users):
        print(_line(user))
    return 0
