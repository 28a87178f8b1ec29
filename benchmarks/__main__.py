"""``scripts/bench``: print the project's performance figures (``--json`` for one object).

Every figure is a ratio to a floor measured in the same run (or a size); a
missed target is reported, never an error: the exit code is 0 either way.
"""

import argparse
import asyncio
import json
import logging
import operator
import os
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any, Final

from . import crypto, live, protocol4

KIB: Final = 1024
MB: Final = 1_000_000


@dataclass(frozen=True)
class Target:
    """A limit a figure must stay under (or at)."""

    limit: float
    inclusive: bool = True

    @property
    def compare(self) -> Callable[[float, float], bool]:
        """``<=`` or ``<``."""
        return operator.le if self.inclusive else operator.lt

    def met(self, value: float) -> bool:
        """Whether ``value`` meets the target."""
        return bool(self.compare(value, self.limit))

    def __str__(self) -> str:
        limit = f"{self.limit:g}"
        return f"{'<=' if self.inclusive else '<'} {limit}"


TARGETS: Final = {
    "signature_vs_hmac": Target(10.0),
    "poll_100_vs_floor": Target(1.5),
    # approve <= 2x the bare round trip plus PBKDF2: the PBKDF2 time is taken off first.
    "approve_2fa_vs_floor": Target(2.0),
    "approve_biometry_vs_floor": Target(2.0),
    "approve_1fa_vs_floor": Target(2.0),
    # 4.0 approvals unwrap the knowledge key with one KMAC, not PBKDF2: nothing to take off.
    "approve_v4_2fa_vs_floor": Target(2.0),
    "max_loop_stall_ms": Target(10.0),
    "attributes_bytes_1000": Target(16 * KIB, inclusive=False),
    "memory_bytes_1000": Target(15 * MB, inclusive=False),
}


def machine() -> str:
    """Where the figures come from (they are only comparable on one machine)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            names = [
                line.split(":", 1)[1].strip() for line in info if line.startswith("model name")
            ]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, Home Assistant {version('homeassistant')}"
    )


def collect() -> dict[str, Any]:
    """Every figure, measured in this run, with the verdict of each target."""
    figures: dict[str, Any] = {"machine": machine()}
    figures.update(crypto.signature_vs_hmac())
    figures.update(crypto.ecies_vs_ecdh())
    figures.update(live.live_figures())
    figures.update(protocol4.code_vs_kmac())
    figures.update(asyncio.run(protocol4.live_v4_figures()))
    figures["targets"] = {name: str(target) for name, target in TARGETS.items()}
    figures["passed"] = {name: target.met(figures[name]) for name, target in TARGETS.items()}
    return figures


def print_table(figures: dict[str, Any]) -> None:
    """A readable table, PASS or FAIL next to each figure that has a target."""
    passed = figures["passed"]
    print(f"{'figure':<44} {'value':>14}  {'target':<12} verdict")
    for name, value in figures.items():
        if name in ("machine", "live_setup", "targets", "passed", "v4_suite"):
            continue
        shown = f"{value:14.2f}" if isinstance(value, float) else f"{value!s:>14}"
        target = TARGETS.get(name)
        verdict = ("PASS" if passed[name] else "FAIL") if target else ""
        print(f"{name:<44} {shown}  {target or ''!s:<12} {verdict}")
    failed = [name for name, ok in passed.items() if not ok]
    print(f"machine: {figures['machine']}")
    print(f"4.0 suite: {figures['v4_suite']}")
    print(f"setup:   {figures['live_setup']}")
    print(
        f"targets: {len(passed) - len(failed)}/{len(passed)} met"
        + (f"; missed: {', '.join(failed)}" if failed else "")
    )


def main() -> int:
    """Measure and print; a missed target is reported, not an error."""
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args()
    # Home Assistant's start-up warnings (custom integration, zlib) are not figures.
    logging.basicConfig(level=logging.ERROR)
    figures = collect()
    if args.json:
        json.dump(figures, sys.stdout)
        print()
    else:
        print_table(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
