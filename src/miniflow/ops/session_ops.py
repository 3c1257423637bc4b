"""Persistent tensors across `Session.run` calls (`tf.get_session_handle`,
`tf.get_session_tensor`, `tf.delete_session_tensor`): a run stores a value in its
session's tensor store and returns a `TensorHandle`; later runs feed the handle (or its
string) to read the value back or delete it."""

from __future__ import annotations

import itertools

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops

_STORE = dict(
    stateful=True,
    make_state=lambda attrs: _TensorStore(),
    state_key=lambda attrs: "_session_tensor_store",
    exportable=False,
)


class _TensorStore(dict):
    """One session's persistent tensors, by handle string."""

    def __init__(self):
        super().__init__()
        self._ids = itertools.count()  # per session, as TF numbers them

    def new_handle(self):
        return f"GetSessionHandle;{next(self._ids)};/job:localhost/replica:0/task:0/device:CPU:0"

    def lookup(self, handle):
        key = _handle_string(handle)
        if key not in self:
            raise errors.InvalidArgumentError(
                None, None, f"The tensor with handle '{key}' is not in the session store."
            )
        return key


def _handle_string(handle):
    if isinstance(handle, TensorHandle):
        return handle.handle
    handle = np.asarray(handle).reshape(-1)[0] if isinstance(handle, np.ndarray) else handle
    if isinstance(handle, TensorHandle):
        return handle.handle
    return handle.decode() if isinstance(handle, bytes) else str(handle)


class TensorHandle:
    """What fetching `tf.get_session_handle(x)` returns: the handle of a value kept in the
    session. ``eval()`` returns the value, ``delete()`` frees it; feed the handle (or
    ``handle.handle``) to the placeholder of `get_session_tensor` / `delete_session_tensor`."""

    def __init__(self, handle, dtype, store):
        self._handle, self._dtype, self._store = handle, dtype, store

    @property
    def handle(self):
        return self._handle

    def get_raw_handle(self):
        return self._handle

    def eval(self):
        """The stored value."""
        return np.copy(self._store[self._store.lookup(self._handle)])

    def delete(self):
        """Frees the stored value (later reads raise InvalidArgumentError)."""
        self._store.pop(self._store.lookup(self._handle))

    def __str__(self):
        return self._handle

    def __repr__(self):
        return f"<TensorHandle {self._handle} dtype={self._dtype.name}>"


@register_op("GetSessionHandle", infer=lambda i, a: [((), dtypes.string)], **_STORE)
def _get_session_handle(store, value):
    handle = store.new_handle()
    store[handle] = np.array(value, copy=True)
    return TensorHandle(handle, dtypes.as_dtype(store[handle].dtype), store)


@register_op("GetSessionTensor", infer=lambda i, a: [(None, a["dtype"])], **_STORE)
def _get_session_tensor(store, handle, dtype=None):
    value = store[store.lookup(handle)]
    if value.dtype != dtype.np:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"The tensor with handle '{_handle_string(handle)}' has dtype "
            f"{dtypes.as_dtype(value.dtype).name}, not the requested {dtype.name}",
        )
    return np.copy(value)


@register_op("DeleteSessionTensor", num_outputs=0, **_STORE)
def _delete_session_tensor(store, handle):
    store.pop(store.lookup(handle))


not_differentiable("GetSessionHandle", "GetSessionTensor", "DeleteSessionTensor")


def _graph_only(what):
    if current_frontend().eager:
        raise RuntimeError(
            f"tf.{what} keeps tensors in a Session; it is not available "
            "when eager execution is enabled"
        )


def get_session_handle(data, name=None):
    """get_session_handle(data, name=None): fetching the result stores ``data`` in the
    session and gives its `TensorHandle`."""
    _graph_only("get_session_handle")
    return apply_op("GetSessionHandle", array_ops.convert_to_tensor(data), name=name)


def get_session_tensor(handle, dtype, name=None):
    """get_session_tensor(handle, dtype, name=None): (holder, tensor): feed a handle to
    ``holder`` to read the stored value as ``tensor``."""
    _graph_only("get_session_tensor")
    del handle  # TF uses it only to place the op on the handle's device
    holder = array_ops.placeholder(dtypes.string)
    return holder, apply_op("GetSessionTensor", holder, dtype=dtypes.as_dtype(dtype), name=name)


def delete_session_tensor(handle, name=None):
    """delete_session_tensor(handle, name=None): (holder, deleter): run ``deleter`` with a
    handle fed to ``holder`` to free the stored value."""
    _graph_only("delete_session_tensor")
    del handle
    holder = array_ops.placeholder(dtypes.string)
    return holder, apply_op("DeleteSessionTensor", holder, name=name)
