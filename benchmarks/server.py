"""The emulator in its own process, so that its work never stalls the measured event loop.

``python -m benchmarks.server DIR`` runs the project's emulator on a free port
of 127.0.0.1 and prints its JSON line, exactly as ``python -m emulator`` does,
with ONE benchmark-only change: the server rule "a list carries at most 100
operations" (``emulator.db.MAX_LISTED_OPERATIONS``) is raised to 1,000 in this
process, so that a poll cycle with 1,000 pending operations can be measured
against the real endpoint (token check, database, JSON). Nothing else differs.
"""

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from emulator.testing import AdminClient

#: The list limit in this benchmark's emulator process only (the real rule is 100).
BENCH_LIST_LIMIT: Final = 1000
STARTUP_TIMEOUT_S: Final = 30.0
STOP_TIMEOUT_S: Final = 10.0


@dataclass
class EmulatorProcess:
    """A running emulator process: its URL, SDK configuration and admin client."""

    url: str
    app_config: str
    admin: AdminClient


@asynccontextmanager
async def emulator_process(data_dir: Path, protocol: str = "3.3") -> AsyncIterator[EmulatorProcess]:
    """Start ``python -m benchmarks.server`` and stop it (SIGTERM) when the block ends.

    ``protocol`` 3.3 (the integration figures measure 3.3 activations) or both.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.server",
        str(data_dir),
        protocol,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    admin: AdminClient | None = None
    try:
        stdout = process.stdout
        line = (
            b"" if stdout is None else await asyncio.wait_for(stdout.readline(), STARTUP_TIMEOUT_S)
        )
        if not line:
            raise RuntimeError("the emulator process exited before printing its URL")
        info = json.loads(line)
        admin = AdminClient(info["url"])
        yield EmulatorProcess(info["url"], info["appConfig"], admin)
    finally:
        if admin is not None:
            await admin.close()
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)


def main() -> None:
    """Run the emulator with the raised list limit until SIGTERM."""
    import emulator.db

    emulator.db.MAX_LISTED_OPERATIONS = BENCH_LIST_LIMIT  # type: ignore[misc]
    from emulator.__main__ import main as emulator_main

    protocol = sys.argv[2] if len(sys.argv) > 2 else "3.3"
    emulator_main(["--port", "0", "--data", sys.argv[1], "--protocol", protocol])


if __name__ == "__main__":
    main()
