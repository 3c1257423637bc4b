"""``tf.test.StubOutForTesting``: replace attributes for a test and put them back."""

from __future__ import annotations

import inspect


class StubOutForTesting:
    """``Set(obj, name, value)`` replaces an attribute, ``SmartSet`` also on classes and
    modules, ``UnsetAll``/``SmartUnsetAll``/``CleanUp`` restore everything (newest first);
    usable as a context manager."""

    def __init__(self):
        self._saved = []  # (parent, name, old value or _MISSING, how)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.CleanUp()

    def Set(self, parent, child_name, new_child):  # noqa: N802  (TF's names)
        """Sets ``parent.child_name`` (staticmethods and classmethods keep their kind)."""
        old = getattr(parent, child_name, _MISSING)
        raw = inspect.getattr_static(parent, child_name, _MISSING)
        if isinstance(raw, (staticmethod, classmethod)) and inspect.isclass(parent):
            new_child = type(raw)(new_child)
            old = raw
        self._saved.append((parent, child_name, old))
        setattr(parent, child_name, new_child)

    SmartSet = Set

    def UnsetAll(self):  # noqa: N802
        for parent, name, old in reversed(self._saved):
            if old is _MISSING:
                delattr(parent, name)
            else:
                setattr(parent, name, old)
        self._saved = []

    SmartUnsetAll = UnsetAll

    def CleanUp(self):  # noqa: N802
        self.UnsetAll()


_MISSING = object()
