"""The `hall` command line: one entry point, subcommands registered by each package.

Each package owns its subcommands through a `register(subparsers)` function so that no package
has to edit another's module: `hall.cli.commands` (serve, demo, db, users, devices, halls, export,
backup, close-day), `hardware.cli` (emulate, bridge) and `sim.cli` (sim …). Heavy imports happen
inside the handlers, so `hall --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    from hall.cli import commands
    from hardware import cli as hardware_cli
    from sim import cli as sim_cli

    parser = argparse.ArgumentParser(prog="hall", description="政务服务大厅 queueing and hall operations")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.register(sub)
    hardware_cli.register(sub)
    sim_cli.register(sub)
    return parser


def layout_words(e: Exception) -> str:
    """A LayoutError in the catalogue's words (the field path stays as written in the file)."""
    from displays.messages import say

    field, why = getattr(e, "field", ""), getattr(e, "why", str(e))
    if why == "no such file":
        return say("cli.no_file", path=field)
    if why.startswith("not valid TOML"):
        return say("cli.bad_toml", path=field, message=why.removeprefix("not valid TOML (").removesuffix(")"))
    return say("cli.bad_layout", message=str(e))


def main(argv: Sequence[str] | None = None) -> int:
    from queueing.layout import LayoutError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except LayoutError as e:  # a bad layout file is the commonest mistake: say which field, no traceback
        print(f"hall: {layout_words(e)}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
