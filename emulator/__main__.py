"""``python -m emulator [--port 8082] [--data DIR] [--demo] [--protocol 3.3|4.0|both]``.

Runs the emulator alone.

Prints one JSON line with the URL and the application configuration (and,
with ``--demo``, a second line with the demo activation code) to stdout,
then logs requests to stderr until interrupted.
"""

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Final

from .context import PROTOCOL_CHOICES
from .testing import RunningEmulator

DEFAULT_PORT: Final = 8082
DEFAULT_DATA_DIR: Final = Path(".data") / "emulator"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port on 127.0.0.1")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="state directory")
    parser.add_argument("--demo", action="store_true", help="seed a demo user and operations")
    parser.add_argument(
        "--protocol",
        choices=sorted(PROTOCOL_CHOICES),
        default="both",
        help="PowerAuth protocol generations to speak (default: both)",
    )
    return parser.parse_args(argv)


def _print_json(value: object) -> None:
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


async def serve(args: argparse.Namespace) -> None:
    """Run until SIGINT or SIGTERM."""
    running = RunningEmulator(args.data, demo=args.demo, protocol=args.protocol)
    await running.start(args.port)
    try:
        _print_json(
            {
                "url": running.url,
                "appConfig": running.app_config,
                "appKey": running.app_key,
                "appSecret": running.app_secret,
                "masterPublicKey": running.master_public_key,
            }
        )
        if running.demo_activation is not None:
            _print_json(running.demo_activation)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await running.stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(args))
    except OSError as err:
        reason = err.strerror or str(err)
        sys.stderr.write(f"emulator: cannot serve on 127.0.0.1:{args.port}: {reason}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
