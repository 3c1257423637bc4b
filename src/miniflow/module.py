"""`tf.Module`: a named container that finds the variables and submodules held in its
attributes (also inside lists, tuples and dicts), as TF's does."""

from __future__ import annotations

import contextlib
import functools
import re

from miniflow.core.dispatch import current_frontend
from miniflow.graph.graph import get_default_graph
from miniflow.ops.variables import Variable

_VALID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


_CAMEL = re.compile(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))")


def _snake(name):
    return _CAMEL.sub(r"_\1", name).lower()


class Module:
    """``Module(name=None)``: ``variables``, ``trainable_variables`` and ``submodules``
    collect what the module's attributes hold; ``name_scope`` re-enters the scope named
    when the module was built (``m``, then ``m_1``, ... in a graph).

    Raises:
        ValueError: name is not a valid Python identifier.
    """

    def __init__(self, name=None):
        if name is None:
            name = _snake(type(self).__name__)
        elif not _VALID.match(name):
            raise ValueError(
                f"{name!r} is not a valid module name. Module names must be "
                "valid Python identifiers (e.g. a valid class name)."
            )
        self._name = name
        if current_frontend().eager:
            self._scope_name = name + "/"
        else:
            with get_default_graph().name_scope(name) as scope:
                self._scope_name = scope

    @property
    def name(self):
        return self._name

    @property
    def name_scope(self):
        """A context re-entering this module's name scope."""
        if current_frontend().eager:
            return contextlib.nullcontext(self._scope_name)
        return get_default_graph().name_scope(self._scope_name)

    @property
    def variables(self):
        """The variables of this module and its submodules (own first, then by attribute
        name), as a tuple."""
        return tuple(self._flatten(lambda x: isinstance(x, Variable)))

    @property
    def trainable_variables(self):
        return tuple(self._flatten(lambda x: isinstance(x, Variable) and x.trainable))

    @property
    def submodules(self):
        """Every module below this one, breadth first."""
        return tuple(self._flatten(lambda x: isinstance(x, Module)))

    def _flatten(self, predicate):
        out, seen, queue = [], {id(self)}, [self]
        while queue:
            module = queue.pop(0)
            for key in sorted(vars(module)):
                for leaf in _leaves(vars(module)[key]):
                    if id(leaf) in seen:
                        continue
                    seen.add(id(leaf))
                    if predicate(leaf):
                        out.append(leaf)
                    if isinstance(leaf, Module):
                        queue.append(leaf)
        return out

    @classmethod
    def with_name_scope(cls, method):
        """Decorator: ``method`` runs inside the module's name scope."""

        @functools.wraps(method)
        def wrapped(self, *args, **kwargs):
            with self.name_scope:
                return method(self, *args, **kwargs)

        return wrapped

    def __repr__(self):
        return f"<{type(self).__name__} name={self._name!r}>"


def _leaves(value):
    if isinstance(value, dict):
        for k in sorted(value, key=str):
            yield from _leaves(value[k])
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _leaves(v)
    else:
        yield value
