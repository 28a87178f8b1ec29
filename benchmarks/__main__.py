"""``scripts/bench``: print the project's performance figures (``--json`` for one object)."""

import argparse
import json
import platform
import sys
from typing import Any

from . import crypto

TARGETS = {
    "signature_vs_hmac": 10.0,
}


def collect() -> dict[str, Any]:
    """Every figure, measured in this run."""
    figures: dict[str, Any] = {
        "machine": f"{platform.machine()}, Python {platform.python_version()}"
    }
    figures.update(crypto.signature_vs_hmac())
    figures.update(crypto.ecies_vs_ecdh())
    return figures


def print_table(figures: dict[str, Any]) -> None:
    """A readable table with the targets where there are some."""
    print(f"{'figure':<28} {'value':>12}  target")
    for name, value in figures.items():
        shown = f"{value:12.2f}" if isinstance(value, float) else f"{value!s:>12}"
        target = TARGETS.get(name)
        print(f"{name:<28} {shown}  {'<= ' + str(target) if target else ''}")


def main() -> int:
    """Measure and print."""
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args()
    figures = collect()
    if args.json:
        json.dump(figures, sys.stdout)
        print()
    else:
        print_table(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
