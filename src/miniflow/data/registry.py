"""What `Dataset`'s methods construct (its sources, transformations, ...), by name.

The modules that define them subclass `Dataset`, so ``dataset_ops.py`` cannot import
them without an import loop. Each registers what it offers with ``@provides`` instead,
as op modules register kernels, and ``miniflow/data/__init__.py`` imports them all, so
everything is registered once ``miniflow.data`` (or any module in it) is imported.
"""

from __future__ import annotations

from types import SimpleNamespace

impl = SimpleNamespace()


def provides(obj):
    """Registers a class or function under its ``__name__`` (as ``impl.<name>``)."""
    name = obj.__name__
    if getattr(impl, name, obj) is not obj:
        raise ValueError(f"two tf.data implementations are named {name!r}")
    setattr(impl, name, obj)
    return obj
