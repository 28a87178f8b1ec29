"""``mtoken``: a command-line mobile token for power users and debugging.

In the spirit of the reference ``powerauth-cmd-tool``: every command prints
JSON on stdout, every failure one clear line on stderr and a non-zero exit,
and the state file (0600, written atomically) is never left half-written.
"""

import argparse
import asyncio
import contextlib
import fcntl
import getpass
import json
import os
import sys
import tempfile
import termios
import warnings
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from .app_config import AppConfig, build_config_string, parse_config_string
from .errors import (
    ActivationError,
    AuthenticationError,
    InvalidInputError,
    InvalidStateError,
    MobileTokenError,
    ServerError,
    server_error_hint,
)
from .factors import Authentication
from .model import ProximityCheck, ProximityCheckType
from .operations import MobileTokenClient
from .pac import parse_pac_deeplink, parse_pac_qr
from .qr import parse_qr_operation, qr_operation_to_dict
from .sessions import (
    PROTOCOL_CHOICES,
    AnySession,
    load_state,
    open_session,
    session_for_activation,
)

STATE_FILE_VERSION = 1
EXIT_FAILURE = 1


@dataclass
class StateFile:
    """The CLI's own record: server, application and the activation."""

    path: Path
    server: str
    config: AppConfig
    activation: dict[str, Any] | None
    language: str = "en"

    @classmethod
    def load(cls, path: Path) -> "StateFile":
        """Read a state file written by ``activate``."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                path=path,
                server=data["server"],
                config=parse_config_string(data["config"]),
                activation=data.get("activation"),
                language=data.get("language", "en"),
            )
        except FileNotFoundError as err:
            raise InvalidStateError(f"No state file {path}: run 'activate' first") from err
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise InvalidStateError(f"The state file {path} is damaged") from err

    def save(self) -> None:
        """Write atomically with mode 0600: a crash leaves the old file or the new one."""
        data = {
            "version": STATE_FILE_VERSION,
            "server": self.server,
            "config": build_config_string(self.config),
            "language": self.language,
            "activation": self.activation,
        }
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".mtoken-", dir=directory)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump(data, file, indent=2)
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    async def persist(self, activation: dict[str, Any]) -> None:
        """The session's persistence callback: every counter change hits the disk."""
        self.activation = activation
        self.save()


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold a lock beside the state file, so two commands never share a counter value."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "r+", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_pin(args: argparse.Namespace) -> str:
    """The PIN from ``--pin`` or, when missing, a prompt without echo on the terminal."""
    pin: str | None = getattr(args, "pin", None)
    if pin:
        return pin
    try:
        with warnings.catch_warnings():
            # Without a terminal getpass would warn, then read (and maybe show) stdin.
            warnings.simplefilter("error", getpass.GetPassWarning)
            return getpass.getpass("PIN: ")
    except (EOFError, OSError, getpass.GetPassWarning, termios.error) as err:
        raise InvalidInputError(
            "No PIN given: pass --pin PIN (there is no terminal to ask on)"
        ) from err


def authentication(args: argparse.Namespace) -> Authentication:
    """The factors chosen on the command line."""
    if getattr(args, "biometry", False):
        return Authentication.biometry()
    if getattr(args, "possession", False):
        return Authentication.possession()
    return Authentication.with_pin(read_pin(args))


def print_json(value: Any) -> None:
    """Machine-readable output, one document per command."""
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


STATUS_HINTS = {
    "pending_commit": "the bank has not confirmed this activation yet; try again once it has",
    "blocked": (
        "the bank blocked this activation (too many wrong PINs?): ask the bank to unblock it,"
        " or forget it with 'remove --forget' and activate again"
    ),
    "removed": (
        "the bank removed this activation: forget it with 'remove --forget'"
        " and activate again with a new code"
    ),
}


async def with_client(
    args: argparse.Namespace,
    action: Callable[[MobileTokenClient, StateFile], Coroutine[Any, Any, Any]],
) -> Any:
    """Open the state file and an HTTP session, run ``action``.

    When the server refuses, the activation's status often says why (not yet
    confirmed, blocked, removed): the error then says so too.
    """
    state_file = StateFile.load(args.state)
    if state_file.activation is None:
        raise InvalidStateError("The state file holds no activation: run 'activate' first")
    async with aiohttp.ClientSession() as http:
        session = open_session(
            http,
            state_file.server,
            state_file.config,
            state_file.activation,
            persist=state_file.persist,
            language=state_file.language,
        )
        try:
            return await action(MobileTokenClient(session), state_file)
        except (ServerError, ActivationError) as err:
            hint = await status_hint(session)
            if hint is None:
                raise
            raise InvalidStateError(f"{err} — {hint}") from err


async def status_hint(session: AnySession) -> str | None:
    """Why the server may have refused: the activation is not active."""
    try:
        status = session.last_status or await session.fetch_status()
    except MobileTokenError:
        return None
    return STATUS_HINTS.get(status.status)


async def cmd_activate(args: argparse.Namespace) -> Any:
    """Create an activation and write the state file."""
    if args.state.exists():
        existing = StateFile.load(args.state)
        if existing.activation is not None:
            raise InvalidStateError(
                f"{args.state} already holds an activation: remove it first ('remove --pin',"
                " or 'remove --forget' when the bank no longer knows it) or use another file"
            )
    state_file = StateFile(args.state, args.server, parse_config_string(args.config), None)
    pin = read_pin(args)
    async with aiohttp.ClientSession() as http:
        session = await session_for_activation(
            http, args.server, state_file.config, args.protocol, persist=state_file.persist
        )
        await session.server_time()
        result = await session.create_activation(
            args.code, pin, name=args.name, allow_biometry=args.biometry
        )
    return {
        "activationId": result.activation_id,
        "fingerprint": result.fingerprint,
        "status": result.status.status,
        "protocol": session.protocol_version,
    }


async def cmd_status(args: argparse.Namespace) -> Any:
    """Activation status with failed attempts (and a counter repair if needed)."""

    async def run(client: MobileTokenClient, _: StateFile) -> Any:
        info = await client.session.fetch_status()
        return {
            "activationId": client.session.state.activation_id,
            "fingerprint": client.session.fingerprint,
            "protocol": client.session.protocol_version,
            "status": info.status,
            "failedAttempts": info.failed_attempts,
            "maxFailedAttempts": info.max_failed_attempts,
            "remainingAttempts": info.remaining_attempts,
        }

    return await with_client(args, run)


async def cmd_operations(args: argparse.Namespace) -> Any:
    """Pending operations."""

    async def run(client: MobileTokenClient, _: StateFile) -> Any:
        return [op.to_dict() for op in await client.list_operations()]

    return await with_client(args, run)


async def cmd_detail(args: argparse.Namespace) -> Any:
    """One operation (``detail``) or claiming one (``claim``)."""

    async def run(client: MobileTokenClient, _: StateFile) -> Any:
        if args.command == "claim":
            return (await client.claim_operation(args.operation_id)).to_dict()
        return (await client.get_operation(args.operation_id)).to_dict()

    return await with_client(args, run)


async def cmd_approve(args: argparse.Namespace) -> Any:
    """Approve with the operation's data as the server has it."""
    auth = authentication(args)

    async def run(client: MobileTokenClient, _: StateFile) -> Any:
        operation = await client.get_operation(args.operation_id)
        proximity = None
        if args.totp:
            proximity = ProximityCheck(
                totp=args.totp,
                type=ProximityCheckType.QR_CODE,
                timestamp_received=client.session.clock.now(),
            )
        await client.authorize(operation, auth, proximity=proximity)
        return {"operationId": operation.id, "status": "APPROVED"}

    return await with_client(args, run)


async def cmd_reject(args: argparse.Namespace) -> Any:
    """Reject with a reason."""

    async def run(client: MobileTokenClient, _: StateFile) -> Any:
        await client.reject(args.operation_id, args.reason)
        return {"operationId": args.operation_id, "status": "REJECTED", "reason": args.reason}

    return await with_client(args, run)


async def cmd_history(args: argparse.Namespace) -> Any:
    """Operations in every status."""
    auth = authentication(args)

    async def run(client: MobileTokenClient, _: StateFile) -> Any:
        return [op.to_dict() for op in await client.history(auth)]

    return await with_client(args, run)


async def cmd_qr_sign(args: argparse.Namespace) -> Any:
    """The offline approval code of a QR operation read from stdin."""
    qr = parse_qr_operation(sys.stdin.read().rstrip("\n"))
    auth = authentication(args)

    async def run(client: MobileTokenClient, _: StateFile) -> Any:
        code = await client.sign_offline_qr(qr, auth, uri_id=args.uri_id)
        return {"operationId": qr.operation_id, "code": code}

    return await with_client(args, run)


async def cmd_remove(args: argparse.Namespace) -> Any:
    """Remove the activation on the server and from the state file (or only forget it)."""
    if args.forget:
        state_file = StateFile.load(args.state)
        if state_file.activation is None:
            raise InvalidStateError("The state file holds no activation")
        activation_id = load_state(state_file.activation).activation_id
        state_file.activation = None
        state_file.save()
        return {"activationId": activation_id, "status": "forgotten"}
    auth = authentication(args)

    async def run(client: MobileTokenClient, state_file: StateFile) -> Any:
        activation_id = client.session.state.activation_id
        await client.session.remove_activation(auth)
        state_file.activation = None
        state_file.save()
        return {"activationId": activation_id, "status": "removed"}

    return await with_client(args, run)


async def cmd_qr_parse(args: argparse.Namespace) -> Any:
    """Parse a QR operation from stdin (no state needed)."""
    del args
    return qr_operation_to_dict(parse_qr_operation(sys.stdin.read().rstrip("\n")))


async def cmd_pac_parse(args: argparse.Namespace) -> Any:
    """Parse a proximity code (QR text or deeplink) from stdin."""
    text = sys.stdin.read().strip()
    code = parse_pac_deeplink(text) if args.deeplink else parse_pac_qr(text)
    if code is None:
        raise InvalidInputError("Not a proximity-check code")
    return {"operationId": code.operation_id, "totp": code.totp}


def build_parser() -> argparse.ArgumentParser:
    """The exact interface of ``scripts/mtoken``."""
    parser = argparse.ArgumentParser(
        prog="mtoken",
        description="A command-line PowerAuth mobile token. Prints JSON; errors go to stderr.",
    )
    parser.add_argument("--state", type=Path, help="the activation's state file (0600)")
    commands = parser.add_subparsers(dest="command", required=True)

    activate = commands.add_parser("activate", help="activate with an activation code")
    activate.add_argument("--server", required=True, help="server base URL")
    activate.add_argument("--config", required=True, help="application configuration string")
    activate.add_argument("--code", required=True, help="activation code, optionally #signature")
    activate.add_argument("--pin")
    activate.add_argument("--name", default="mtoken", help="activation name shown by the bank")
    activate.add_argument("--biometry", action="store_true", help="allow approval without PIN")
    activate.add_argument(
        "--protocol",
        choices=PROTOCOL_CHOICES,
        default="auto",
        help="PowerAuth protocol: 4.0 when the server offers it (auto, the default), or forced",
    )
    activate.set_defaults(handler=cmd_activate, needs_state=True)

    commands.add_parser("status", help="activation status and PIN attempts").set_defaults(
        handler=cmd_status, needs_state=True
    )
    commands.add_parser("operations", help="pending operations").set_defaults(
        handler=cmd_operations, needs_state=True
    )
    for name in ("detail", "claim"):
        sub = commands.add_parser(name, help=f"{name} one operation")
        sub.add_argument("operation_id")
        sub.set_defaults(handler=cmd_detail, needs_state=True)

    approve = commands.add_parser("approve", help="approve an operation")
    approve.add_argument("operation_id")
    _add_factor_options(approve, possession=True)
    approve.add_argument("--totp", help="proximity code shown by the bank")
    approve.set_defaults(handler=cmd_approve, needs_state=True)

    reject = commands.add_parser("reject", help="reject an operation")
    reject.add_argument("operation_id")
    reject.add_argument(
        "--reason",
        default="UNEXPECTED_OPERATION",
        help="UNKNOWN, INCORRECT_DATA, UNEXPECTED_OPERATION (default) or your own",
    )
    reject.set_defaults(handler=cmd_reject, needs_state=True)

    history = commands.add_parser("history", help="recent operations in every status")
    _add_factor_options(history)
    history.set_defaults(handler=cmd_history, needs_state=True)

    remove = commands.add_parser(
        "remove", help="remove the activation at the bank and from the state file"
    )
    remove_how = remove.add_mutually_exclusive_group()
    remove_how.add_argument("--pin")
    remove_how.add_argument(
        "--forget",
        action="store_true",
        help="only drop it from the state file (the bank already removed it)",
    )
    remove.set_defaults(handler=cmd_remove, needs_state=True)

    qr = commands.add_parser("qr", help="offline QR operations").add_subparsers(
        dest="qr_command", required=True
    )
    qr_sign = qr.add_parser("sign", help="offline approval code of a QR operation on stdin")
    _add_factor_options(qr_sign)
    qr_sign.add_argument("--uri-id")
    qr_sign.set_defaults(handler=cmd_qr_sign, needs_state=True)
    qr.add_parser("parse", help="parse a QR operation from stdin").set_defaults(
        handler=cmd_qr_parse, needs_state=False
    )

    pac = commands.add_parser("pac", help="proximity-check codes").add_subparsers(
        dest="pac_command", required=True
    )
    pac_parse = pac.add_parser("parse", help="proximity code from stdin")
    pac_parse.add_argument("--deeplink", action="store_true")
    pac_parse.set_defaults(handler=cmd_pac_parse, needs_state=False)
    return parser


def _add_factor_options(parser: argparse.ArgumentParser, *, possession: bool = False) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--pin", help="the PIN (asked for on the terminal when left out)")
    group.add_argument("--biometry", action="store_true", help="approve without PIN")
    if possession:
        group.add_argument("--possession", action="store_true", help="1FA operations")


def describe(err: MobileTokenError) -> str:
    """One line a user can act on; remaining attempts after a wrong PIN."""
    message = str(err)
    if isinstance(err, AuthenticationError) and err.remaining_attempts is not None:
        message += f" (wrong PIN? attempts left: {err.remaining_attempts})"
    elif isinstance(err, ServerError) and (hint := server_error_hint(err.code)):
        message += f" — {hint}"
    return message


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the exit code."""
    args = build_parser().parse_args(argv)
    if args.needs_state and args.state is None:
        print("mtoken: --state FILE is required for this command", file=sys.stderr)
        return EXIT_FAILURE
    try:
        if args.needs_state:
            with exclusive(args.state):
                result = asyncio.run(args.handler(args))
        else:
            result = asyncio.run(args.handler(args))
    except MobileTokenError as err:
        print(f"mtoken: {describe(err)}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("mtoken: interrupted", file=sys.stderr)
        return EXIT_FAILURE
    print_json(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
