"""Higher-order functions over the first dimension of tensors: `tf.scan`, `tf.foldl`,
`tf.foldr`, `tf.vectorized_map`, `tf.map_fn` (a loop, `map_loop`, for run-time lengths),
and the index-selected branch `tf.switch_case`.

scan and the folds are a `tf.while_loop` that gathers element ``i`` and (scan) writes
each accumulator to a `TensorArray`, as TF builds them, so they take any first
dimension, including one known only at run time, and are differentiable through ``fn``
in both modes (graph mode: the while loop's gradient).
"""

from __future__ import annotations

from miniflow import dtypes
from miniflow.core.dispatch import current_frontend
from miniflow.core.nest import flatten as _flatten, pack as _pack
from miniflow.ops import array_ops as _arr, functional_ops as _fn, math_ops as _math
from miniflow.ops.control_flow_ops import name_scope
from miniflow.ops.tensor_array_ops import TensorArray


def _length(flat):
    n = flat[0].shape.as_tuple()[0] if flat[0].shape.ndims else None
    return n if n is not None else _arr.shape(flat[0], out_type=dtypes.int32)[0]


def _loop(fn, elems, initializer, reverse, keep, back_prop, parallel_iterations):
    """The shared loop: returns (final accumulator, stacked accumulators or None)."""
    elems_flat = [_arr.convert_to_tensor(e) for e in _flatten(elems)]
    if not elems_flat:
        raise ValueError("elems must be a tensor or a non-empty structure of tensors")
    for e in elems_flat:
        if e.shape.ndims == 0:
            raise ValueError(f"Elements in elems must be 1+ dimensional Tensors, not scalars: {e}")
    n = _length(elems_flat)

    def element(i):
        return _pack(elems, iter([_arr.gather(e, i) for e in elems_flat]))

    if initializer is None:
        first = n - 1 if reverse else 0
        structure = elems
        # int32 like the loop's index: gradients of gathers with int32 and int64
        # indices cannot be summed as IndexedSlices
        first = _arr.convert_to_tensor(first, dtype=dtypes.int32)
        a_flat = [_arr.gather(e, first) for e in elems_flat]
        start = n - 2 if reverse else 1
    else:
        structure = initializer
        a_flat = [_arr.convert_to_tensor(a) for a in _flatten(initializer)]
        start = n - 1 if reverse else 0
    arrays = []
    if keep:
        for a in a_flat:
            shape = a.shape if a.shape.is_fully_defined() else None
            ta = TensorArray(a.dtype, size=n, element_shape=shape)
            arrays.append(
                ta.write(start + (1 if reverse else -1), a) if initializer is None else ta
            )
    step = -1 if reverse else 1

    def cond(i, a, tas):
        return _math.greater_equal(i, 0) if reverse else _math.less(i, n)

    def body(i, a, tas):
        out = fn(_pack(structure, iter(a)), element(i))
        out_flat = [_arr.convert_to_tensor(o) for o in _flatten(out)]
        if len(out_flat) != len(a_flat):
            raise ValueError(
                f"fn returned {len(out_flat)} tensors for an accumulator of "
                f"{len(a_flat)}: the structures must match"
            )
        return i + step, out_flat, [ta.write(i, o) for ta, o in zip(tas, out_flat)]

    i0 = _arr.convert_to_tensor(start, dtype=dtypes.int32)
    _, a_final, tas = _fn.while_loop(
        cond,
        body,
        [i0, a_flat, arrays],
        back_prop=back_prop,
        parallel_iterations=parallel_iterations,
    )
    final = _pack(structure, iter(a_final))
    stacked = _pack(structure, iter([ta.stack() for ta in tas])) if keep else None
    return final, stacked


def scan(
    fn,
    elems,
    initializer=None,
    parallel_iterations=10,
    back_prop=True,
    swap_memory=False,
    infer_shape=True,
    reverse=False,
    name=None,
):
    """The accumulators ``a_i = fn(a_{i-1}, elems[i])``, stacked (``a_0`` is
    ``initializer``, or ``elems[0]`` which is then the first output)."""
    with name_scope(name, "scan"):
        return _loop(fn, elems, initializer, reverse, True, back_prop, parallel_iterations)[1]


def foldl(
    fn,
    elems,
    initializer=None,
    parallel_iterations=10,
    back_prop=True,
    swap_memory=False,
    name=None,
):
    """``fn(...fn(fn(initializer, elems[0]), elems[1])..., elems[n-1])``."""
    with name_scope(name, "foldl"):
        return _loop(fn, elems, initializer, False, False, back_prop, parallel_iterations)[0]


def foldr(
    fn,
    elems,
    initializer=None,
    parallel_iterations=10,
    back_prop=True,
    swap_memory=False,
    name=None,
):
    """``fn(...fn(fn(initializer, elems[n-1]), elems[n-2])..., elems[0])``."""
    with name_scope(name, "foldr"):
        return _loop(fn, elems, initializer, True, False, back_prop, parallel_iterations)[0]


def map_loop(fn, elems, dtype=None, back_prop=True, parallel_iterations=10):
    """`tf.map_fn` as TF builds it: a while loop writing ``fn(elems[i])`` to TensorArrays
    (for a first dimension known only at run time). ``dtype``: the structure of dtypes
    fn returns, when it differs from that of elems."""
    elems_flat = [_arr.convert_to_tensor(e) for e in _flatten(elems)]
    n = _length(elems_flat)
    structure = elems if dtype is None else dtype
    out_dtypes = (
        [e.dtype for e in elems_flat]
        if dtype is None
        else [dtypes.as_dtype(d) for d in _flatten(dtype)]
    )
    arrays = [TensorArray(dt, size=n) for dt in out_dtypes]

    def body(i, tas):
        out = fn(_pack(elems, iter([_arr.gather(e, i) for e in elems_flat])))
        out_flat = [_arr.convert_to_tensor(o) for o in _flatten(out)]
        if len(out_flat) != len(tas):
            raise ValueError(
                f"fn returned {len(out_flat)} tensors but map_fn expects "
                f"{len(tas)} (pass dtype= when fn's output structure differs "
                "from elems')"
            )
        return i + 1, [ta.write(i, o) for ta, o in zip(tas, out_flat)]

    i0 = _arr.convert_to_tensor(0, dtype=dtypes.int32)
    _, tas = _fn.while_loop(
        lambda i, tas: _math.less(i, n),
        body,
        [i0, arrays],
        back_prop=back_prop,
        parallel_iterations=parallel_iterations,
    )
    return _pack(structure, iter([ta.stack() for ta in tas]))


def vectorized_map(fn, elems, fallback_to_while_loop=True):
    """``fn`` over the first dimension of ``elems``, stacked (runs as `tf.map_fn`)."""
    return map_fn(fn, elems)


def switch_case(branch_index, branch_fns, default=None, name="switch_case"):
    """``branch_fns[branch_index]()``; ``default`` (else the last branch) when the index
    is out of range. ``branch_fns``: a list of callables, or a dict or list of
    (int, callable) pairs keyed 0 to n-1.

    Raises:
        TypeError: branch_fns holds something not callable or a key not an int.
        ValueError: branch_fns is empty or its keys are not 0, 1, ..., n-1.
    """
    pairs = (
        sorted(branch_fns.items())
        if isinstance(branch_fns, dict)
        else [p if isinstance(p, tuple) else (k, p) for k, p in enumerate(branch_fns)]
    )
    if not pairs:
        raise ValueError("Must provide at least one item in branch_fns")
    for key, fn in pairs:
        if not isinstance(key, int) or not callable(fn):
            raise TypeError(f"branch_fns must be callables keyed by ints, got {key!r}: {fn!r}")
    keys = [k for k, _ in pairs]
    if sorted(keys) != list(range(len(keys))):
        raise ValueError(
            f"branch indices (keys) must form contiguous range of [0 to "
            f"{len(keys)}) but found {set(keys)}"
        )
    default = pairs[-1][1] if default is None else default
    index = _arr.convert_to_tensor(branch_index)
    if index.dtype != dtypes.int32:
        raise TypeError(f"branch_index must be an int32 Tensor, got {index.dtype.name}")
    if current_frontend().eager:
        return dict(pairs).get(int(index), default)()
    with name_scope(name):
        return _fn.case(
            [(_math.equal(index, key), fn) for key, fn in pairs], default=default, name=name
        )


def map_fn(
    fn,
    elems,
    dtype=None,
    parallel_iterations=None,
    back_prop=True,
    swap_memory=False,
    infer_shape=True,
    name=None,
):
    """``stack([fn(e) for e in unstack(elems)])`` (unrolled over a static first dimension,
    else a while loop over TensorArrays; elems may be nested)."""
    flat = [_arr.convert_to_tensor(e) for e in _flatten(elems)]
    n = flat[0].shape.as_list()[0] if flat[0].shape.ndims else None
    if n is None:
        return map_loop(fn, elems, dtype=dtype, back_prop=back_prop)
    items = [_pack(elems, iter([t[i] for t in flat])) for i in range(n)]
    results = [fn(item) for item in items]
    if not results:
        raise ValueError("map_fn over an empty first dimension")
    stacked = [
        _arr.stack([_flatten(r)[j] for r in results], name=name)
        for j in range(len(_flatten(results[0])))
    ]
    return _pack(results[0], iter(stacked))
