"""`tf.app.flags` / `tf.flags`: command-line flags in the style of absl (which TF1 wraps).

``FLAGS.name`` parses ``sys.argv`` on first access if nothing was parsed yet, as TF1's
wrapper does; `tf.app.run` parses explicitly and tolerates flags nobody defined.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field


class Error(Exception):
    """Base of the flag errors."""


class DuplicateFlagError(Error):
    """A flag was defined twice."""


class UnrecognizedFlagError(Error):
    """The command line names a flag that was not defined."""


class IllegalFlagValueError(Error):
    """A flag's value cannot be converted to its type or is not allowed."""


@dataclass
class _Flag:
    name: str
    default: object
    help: str
    parse: object  # str -> value
    is_bool: bool = False
    value: object = None
    required: bool = False
    present: bool = False
    enum_values: list = field(default_factory=list)


def _parse_bool(text: str) -> bool:
    low = text.lower()
    if low in ("true", "t", "1", "yes", "y"):
        return True
    if low in ("false", "f", "0", "no", "n"):
        return False
    raise ValueError(f"{text!r} is not a boolean")


class FlagValues:
    """The registry of defined flags and their values (``FLAGS``)."""

    def __init__(self):
        object.__setattr__(self, "_flags", {})
        object.__setattr__(self, "_parsed", False)

    def _define(self, flag: _Flag) -> None:
        if flag.name in self._flags:
            raise DuplicateFlagError(f"The flag '{flag.name}' is defined twice.")
        flag.value = flag.default
        self._flags[flag.name] = flag

    def __getattr__(self, name):
        flags = object.__getattribute__(self, "_flags")
        if name not in flags:
            raise AttributeError(f"Unknown flag: {name}")
        if not self._parsed:
            self(sys.argv, known_only=False)
        return flags[name].value

    def __setattr__(self, name, value):
        if name not in self._flags:
            raise AttributeError(f"Unknown flag: {name}; define it with DEFINE_* first.")
        self._flags[name].value = value

    def __contains__(self, name) -> bool:
        return name in self._flags

    def is_parsed(self) -> bool:
        return self._parsed

    def flag_values_dict(self) -> dict:
        return {n: f.value for n, f in self._flags.items()}

    def __call__(self, argv, known_only=False) -> list:
        """Parses ``argv`` (``argv[0]`` is the program); returns argv[0] plus what is not
        a known flag (positional args, and unknown flags when ``known_only``).

        Raises:
            UnrecognizedFlagError / IllegalFlagValueError: bad command line.
        """
        argv = list(argv)
        rest = argv[:1]
        args = iter(argv[1:])
        for arg in args:
            if arg == "--":
                rest.extend(args)
                break
            if not arg.startswith("-") or arg == "-":
                rest.append(arg)
                continue
            name, eq, text = arg.lstrip("-").partition("=")
            flag = self._flags.get(name)
            if flag is None and name.startswith("no") and not eq:
                negated = self._flags.get(name[2:])
                if negated is not None and negated.is_bool:
                    negated.value, negated.present = False, True
                    continue
            if flag is None:
                if known_only:
                    rest.append(arg)
                    continue
                raise UnrecognizedFlagError(f"Unknown command line flag '{name}'")
            if not eq:
                if flag.is_bool:
                    text = "true"
                else:
                    text = next(args, None)
                    if text is None:
                        raise IllegalFlagValueError(f"Flag --{name} needs a value")
            try:
                flag.value = flag.parse(text)
            except ValueError as e:
                raise IllegalFlagValueError(f"flag --{name}={text}: {e}") from None
            flag.present = True
        missing = [n for n, f in self._flags.items() if f.required and f.value is None]
        if missing:
            raise IllegalFlagValueError(f"Flag --{missing[0]} must have a value other than None.")
        object.__setattr__(self, "_parsed", True)
        return rest

    def unparse_flags(self) -> None:
        for f in self._flags.values():
            f.value, f.present = f.default, False
        object.__setattr__(self, "_parsed", False)

    def get_help(self) -> str:
        return "\n".join(
            f"  --{n}: {f.help}\n    (default: {f.default!r})"
            for n, f in sorted(self._flags.items())
        )


FLAGS = FlagValues()


def _typed(kind, cast):
    def parse(text):
        try:
            return cast(text)
        except (TypeError, ValueError):
            raise ValueError(f"could not parse {text!r} as {kind}") from None

    return parse


def DEFINE_string(name, default, help, flag_values=FLAGS, **kwargs):  # noqa: N802, A002
    """Defines a string flag ``--name``."""
    flag_values._define(_Flag(name, default, help, str))


def DEFINE_integer(
    name,
    default,
    help,
    lower_bound=None,
    upper_bound=None,  # noqa: N802, A002
    flag_values=FLAGS,
    **kwargs,
):
    """Defines an integer flag ``--name`` (optionally bounded)."""
    flag_values._define(
        _Flag(name, default, help, _bounded("an int", int, lower_bound, upper_bound))
    )


def DEFINE_float(
    name,
    default,
    help,
    lower_bound=None,
    upper_bound=None,  # noqa: N802, A002
    flag_values=FLAGS,
    **kwargs,
):
    """Defines a float flag ``--name`` (optionally bounded)."""
    flag_values._define(
        _Flag(name, default, help, _bounded("a float", float, lower_bound, upper_bound))
    )


def _bounded(what, cast, lower_bound, upper_bound):
    """A parser for ``what`` (via `_typed`) that rejects values outside the bounds."""

    def parse(text):
        v = _typed(what, cast)(text)
        if (lower_bound is not None and v < lower_bound) or (
            upper_bound is not None and v > upper_bound
        ):
            raise ValueError(f"{v} is outside [{lower_bound}, {upper_bound}]")
        return v

    return parse


def DEFINE_boolean(name, default, help, flag_values=FLAGS, **kwargs):  # noqa: N802, A002
    """Defines a boolean flag: ``--name``, ``--noname`` or ``--name=false``."""
    flag_values._define(_Flag(name, default, help, _parse_bool, is_bool=True))


DEFINE_bool = DEFINE_boolean


def DEFINE_list(name, default, help, flag_values=FLAGS, **kwargs):  # noqa: N802, A002
    """Defines a comma-separated list flag."""
    flag_values._define(_Flag(name, default, help, lambda text: [s for s in text.split(",") if s]))


def DEFINE_enum(name, default, enum_values, help, flag_values=FLAGS, **kwargs):  # noqa: N802, A002
    """Defines a string flag restricted to ``enum_values``."""

    def parse(text):
        if text not in enum_values:
            raise ValueError(f"value should be one of <{'|'.join(enum_values)}>")
        return text

    flag_values._define(_Flag(name, default, help, parse, enum_values=list(enum_values)))


def mark_flag_as_required(flag_name, flag_values=FLAGS) -> None:
    """Parsing fails unless ``--flag_name`` is given (or its default is not None)."""
    flag_values._flags[flag_name].required = True


def mark_flags_as_required(flag_names, flag_values=FLAGS) -> None:
    for name in flag_names:
        mark_flag_as_required(name, flag_values)
