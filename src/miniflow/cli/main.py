"""Entry point of the `miniflow` command.

Each subcommand lives in its own module with a ``main(argv) -> int`` function and is
imported only when used, so `miniflow --help` stays fast. Other packages (the platform)
add subcommands through the ``miniflow.commands`` entry-point group; the library never
imports them by name.
"""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import entry_points

BUILTIN = {
    "demo": ("miniflow.cli.demo", "run the classic TF1 examples"),
    "lr": ("miniflow.cli.lr", "train/evaluate/predict sparse logistic regression"),
    "fm": ("miniflow.cli.fm", "train/evaluate/predict factorization machines (FM, FFM)"),
    "data": ("miniflow.cli.data", "generate synthetic data sets"),
    "ps": ("miniflow.ps.commands", "parameter-server shards and workers as standalone processes"),
    "serve": ("miniflow.cli.serve", "serve exported models over HTTP (TF Serving REST API)"),
    "predict": ("miniflow.cli.predict", "offline batch prediction"),
}


def _commands() -> dict[str, tuple[str, str]]:
    found = dict(BUILTIN)
    for ep in entry_points(group="miniflow.commands"):
        found.setdefault(ep.name, (ep.value, "(plugin) " + ep.value))
    return found


def _usage(commands: dict[str, tuple[str, str]]) -> str:
    lines = ["usage: miniflow COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<12} {help_}" for name, (_, help_) in sorted(commands.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = _commands()
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage(commands))
        return 0
    name, rest = argv[0], argv[1:]
    if name not in commands:
        print(f"miniflow: unknown command {name!r}\n\n{_usage(commands)}", file=sys.stderr)
        return 2
    target = commands[name][0]
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        print(
            f"miniflow {name}: not available ({e}); install the extra that provides it",
            file=sys.stderr,
        )
        return 2
    try:
        return int(getattr(module, attr or "main")(rest) or 0)
    except KeyboardInterrupt:
        print(f"\nminiflow {name}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
