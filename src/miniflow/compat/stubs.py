"""Stubs for the TF1 names miniflow does not implement, so none is an AttributeError.

Every public name of ``tf.compat.v1`` (listed in ``tests/compat/tf1_api_inventory.json``)
resolves in miniflow. A name that is not implemented gets a stub: getting it works
(``hasattr`` is True, ``from miniflow.x import y`` works), *using* it — calling,
instantiating, subclassing, reading an attribute — raises ``tf.errors.UnimplementedError``
naming the TF symbol and why. Two kinds:

- *unsupported* (``unsupported.py``): deliberately left out, with a hand-written reason
  (needs a TPU, a distributed runtime, ...);
- *pending* (``pending_names.txt``): computable on a CPU but not written yet. The list is
  mechanical: ``tools/tf1_api_table.py --update`` regenerates it.

A stubbed *namespace* (``tf.tpu``) is a module whose every public attribute is a stub of
the same kind. ``install()`` runs last in ``miniflow/__init__.py`` and never replaces a
real object.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path
from typing import NamedTuple

from miniflow.compat.unsupported import UNSUPPORTED, UNSUPPORTED_NAMESPACES
from miniflow.errors import UnimplementedError

PENDING_FILE = Path(__file__).with_name("pending_names.txt")
UNSUPPORTED_STATUS = "unsupported"
PENDING_STATUS = "pending"
PENDING_REASON = "not implemented yet"


class StubInfo(NamedTuple):
    """What a stub stands for: the TF symbol (``tf.tpu.rewrite``), its status, why."""

    symbol: str
    status: str
    reason: str

    def message(self) -> str:
        if self.status == UNSUPPORTED_STATUS:
            return f"{self.symbol} is not supported by miniflow: {self.reason}."
        return (
            f"{self.symbol} is not implemented yet in miniflow; please file an issue "
            "if you need it."
        )

    def child(self, name: str) -> StubInfo:
        symbol = f"{self.symbol}.{name}"
        reason = UNSUPPORTED.get(symbol) or UNSUPPORTED_NAMESPACES.get(symbol)
        if reason:
            return StubInfo(symbol, UNSUPPORTED_STATUS, reason)
        return self._replace(symbol=symbol)

    def error(self, attr: str | None = None) -> UnimplementedError:
        info = self.child(attr) if attr else self
        return UnimplementedError(None, None, info.message())


class Stub:
    """Stands for one function, class or constant; any use raises UnimplementedError."""

    __slots__ = ("__miniflow_stub__",)

    def __init__(self, info: StubInfo):
        object.__setattr__(self, "__miniflow_stub__", info)

    def __call__(self, *args, **kwargs):
        raise self.__miniflow_stub__.error()

    def __getattr__(self, name: str):
        if name.startswith("_"):  # probes (inspect, pickle, duck typing) see a plain object
            raise AttributeError(name)
        raise self.__miniflow_stub__.error(name)

    def __setattr__(self, name: str, value):
        raise self.__miniflow_stub__.error(name)

    def __mro_entries__(self, bases):
        raise self.__miniflow_stub__.error()

    def __instancecheck__(self, obj) -> bool:
        return False  # nothing in miniflow can be an instance of a missing class

    def __subclasscheck__(self, cls) -> bool:
        return False

    def __repr__(self) -> str:
        info = self.__miniflow_stub__
        return f"<miniflow stub {info.symbol}: {info.status}>"


class StubNamespace(types.ModuleType):
    """Stands for a whole TF namespace (``tf.tpu``): every public attribute is a stub."""

    def __init__(self, module_name: str, info: StubInfo):
        super().__init__(module_name, info.message())
        self.__miniflow_stub__ = info

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        stub = Stub(self.__miniflow_stub__.child(name))
        setattr(self, name, stub)
        return stub

    def __repr__(self) -> str:
        info = self.__miniflow_stub__
        return f"<miniflow stub namespace {info.symbol}: {info.status}>"


def is_stub(obj) -> bool:
    return isinstance(obj, (Stub, StubNamespace))


def stub_info(obj) -> StubInfo | None:
    return obj.__miniflow_stub__ if is_stub(obj) else None


def read_pending(path: Path = PENDING_FILE) -> dict[str, str]:
    """``pending_names.txt``: one ``tf.symbol kind`` per line (``#`` starts a comment)."""
    out = {}
    if not path.is_file():
        return out
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            symbol, _, kind = line.partition(" ")
            out[symbol] = kind.strip() or "function"
    return out


def resolve(root, symbol: str):
    """The object ``tf.a.b`` names under ``root`` (``miniflow``); AttributeError if none."""
    obj = root
    for part in symbol.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def install(root=None, pending: dict[str, str] | None = None) -> None:
    """Puts a stub at every unsupported or ``pending`` (symbol -> kind; default: the
    pending list) TF symbol that ``root`` (default: ``miniflow``) lacks."""
    root = sys.modules["miniflow"] if root is None else root
    pending = read_pending() if pending is None else pending
    wanted = {
        s: ("module", StubInfo(s, UNSUPPORTED_STATUS, r)) for s, r in UNSUPPORTED_NAMESPACES.items()
    }
    wanted.update(
        {s: ("function", StubInfo(s, UNSUPPORTED_STATUS, r)) for s, r in UNSUPPORTED.items()}
    )
    for symbol, kind in pending.items():
        wanted.setdefault(symbol, (kind, StubInfo(symbol, PENDING_STATUS, PENDING_REASON)))
    for symbol in sorted(wanted, key=lambda s: (s.count("."), s)):
        kind, info = wanted[symbol]
        parent_symbol, _, name = symbol.rpartition(".")
        try:
            parent = resolve(root, parent_symbol)
        except (AttributeError, UnimplementedError):
            continue  # the inventory test reports it
        if isinstance(parent, Stub) or _has(parent, name):
            continue
        if kind == "module":
            _install_namespace(parent, name, info)
        else:
            setattr(parent, name, Stub(info))


def _has(parent, name: str) -> bool:
    """Whether ``parent`` already holds ``name`` (a stub namespace would make any up)."""
    if isinstance(parent, StubNamespace):
        return name in vars(parent)
    return hasattr(parent, name)


def _install_namespace(parent, name: str, info: StubInfo) -> None:
    module_name = f"{getattr(parent, '__name__', 'miniflow')}.{name}"
    if isinstance(parent, types.ModuleType) and _has_source(module_name):
        return  # a real module exists but is not imported: a stub would shadow it
    stub = StubNamespace(module_name, info)
    setattr(parent, name, stub)
    sys.modules.setdefault(module_name, stub)  # `from miniflow.tpu import rewrite`


def _has_source(module_name: str) -> bool:
    try:
        return importlib.util.find_spec(module_name) is not None
    except (ImportError, ValueError):
        return False
