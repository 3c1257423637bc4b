"""`tf.train.Saver`: saves and restores variables as crash-safe checkpoints
(`miniflow.train.checkpoint` holds the file format), keeps the ``checkpoint`` state file
and prunes old checkpoints."""

from __future__ import annotations

import logging
import os
import time

import numpy as np

from miniflow import errors
from miniflow.graph import serialization as ser
from miniflow.graph.file_io import atomic_write, read_bytes
from miniflow.graph.graph import GraphKeys, get_default_graph
from miniflow.graph.serialization import UnserializableError
from miniflow.train import checkpoint as ckpt, meta_graph

_log = logging.getLogger("miniflow")


class Saver:
    """Saves and restores variables.

    Args:
        var_list: the variables to save: a list (each saved under its op name) or a dict
            checkpoint name -> variable (e.g. `ExponentialMovingAverage.variables_to_restore`).
            Default: the graph's global variables.
        max_to_keep: how many recent checkpoints to keep (None or 0: keep all).
        keep_checkpoint_every_n_hours: additionally keep one checkpoint per this interval.
        allow_empty: allow a saver with no variables (otherwise ValueError).
        format: ``"miniflow"`` (default) writes miniflow's checkpoint format; ``"tf"``
            writes TensorFlow's V2 bundle (``.index`` + ``.data-00000-of-00001``), which
            TensorFlow restores. `restore` reads either, whatever this is set to.

    Example:
        >>> saver = tf.train.Saver(max_to_keep=3)
        >>> path = saver.save(sess, "/tmp/run/model.ckpt", global_step=step)
        >>> saver.restore(sess, tf.train.latest_checkpoint("/tmp/run"))
    """

    def __init__(
        self,
        var_list=None,
        reshape=False,
        sharded=False,
        max_to_keep=5,
        keep_checkpoint_every_n_hours=10000.0,
        name=None,
        restore_sequentially=False,
        saver_def=None,
        builder=None,
        defer_build=False,
        allow_empty=False,
        write_version=2,
        pad_step_number=False,
        save_relative_paths=False,
        filename=None,
        format="miniflow",
    ):  # noqa: A002 (a keyword argument)
        if format not in ("miniflow", "tf"):
            raise ValueError(f"Saver format must be 'miniflow' or 'tf', got {format!r}")
        self._format = format
        if var_list is None:
            var_list = get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES)
        self._vars = _named(var_list)
        # The pieces of partitioned variables, saved as TF does: their whole under its name.
        self._slices = {
            name: var._save_slice_info
            for name, var in self._vars.items()
            if name == var.op_name and getattr(var, "_save_slice_info", None) is not None
        }
        if not self._vars and not allow_empty:
            raise ValueError("No variables to save")
        self._max_to_keep = max_to_keep
        self._keep_every_s = keep_checkpoint_every_n_hours * 3600.0
        self._last_preserved = time.time()
        self._pad_step_number = pad_step_number
        self._last_checkpoints: list[tuple[str, float]] = []
        self._meta_cache = None

    @property
    def saver_def(self) -> dict:
        """What `export_meta_graph` records to rebuild this saver."""
        return {
            "var_names": {n: v.op_name for n, v in self._vars.items()},
            "max_to_keep": int(self._max_to_keep or 0),
            "keep_checkpoint_every_n_hours": self._keep_every_s / 3600.0,
        }

    def as_saver_def(self) -> dict:
        return self.saver_def

    # -- saving -------------------------------------------------------------------------
    def save(
        self,
        sess,
        save_path,
        global_step=None,
        latest_filename=None,
        meta_graph_suffix="meta",
        write_meta_graph=True,
        write_state=True,
        strip_default_attrs=False,
        save_debug_info=False,
    ):
        """Writes the variables' values in ``sess`` to a checkpoint.

        Args:
            sess: the session holding the values.
            save_path: the checkpoint prefix, e.g. ``"/tmp/run/model.ckpt"``.
            global_step: an int or a variable/tensor; appended as ``-STEP``.
            write_meta_graph: also write ``PREFIX.meta`` (the graph, see
                `export_meta_graph`); skipped with a warning if the graph cannot be encoded.
            write_state: update the ``checkpoint`` state file and prune old checkpoints.

        Returns:
            The checkpoint prefix written (``save_path-STEP``).

        Raises:
            ValueError: the directory of ``save_path`` does not exist (as in TF).
            FailedPreconditionError: a variable is uninitialized.
        """
        prefix = os.fspath(save_path)
        parent = os.path.dirname(os.path.abspath(prefix))
        if not os.path.isdir(parent):
            raise ValueError(f"Parent directory of {prefix} doesn't exist, can't save.")
        if global_step is not None:
            if not isinstance(global_step, int | np.integer):
                global_step = sess.run(global_step)
            step = int(global_step)
            prefix = f"{prefix}-{step:08d}" if self._pad_step_number else f"{prefix}-{step}"
        self._check_session(sess)
        values = {}
        for name, var in self._vars.items():
            value = var._slot_in(sess).value
            if value is None:
                raise errors.FailedPreconditionError(
                    None,
                    None,
                    f"Attempting to use uninitialized value {var.op_name} while "
                    f"saving checkpoint {prefix}. Run the variable initializers first.",
                )
            values[name] = np.asarray(value)
        values = _wholes(values, self._slices)
        ckpt.write_checkpoint(prefix, values, self._format)
        if write_meta_graph:
            self._write_meta_graph(sess.graph, f"{prefix}.{meta_graph_suffix}")
        if write_state:
            self._record(prefix, meta_graph_suffix)
            ckpt.update_checkpoint_state(
                parent,
                prefix,
                [p for p, _ in self._last_checkpoints],
                latest_filename,
                [t for _, t in self._last_checkpoints],
                self._last_preserved,
            )
        return prefix

    def _write_meta_graph(self, graph, path):
        # Graphs only grow, so the op count and collection sizes tell whether the graph
        # changed since the last save; if not, the encoded bytes are reused.
        key = (
            id(graph),
            len(graph._ops),
            graph.seed,
            tuple((k, len(v)) for k, v in graph._collections.items()),
        )
        if self._meta_cache is None or self._meta_cache[0] != key:
            data = None
            if self._format == "tf":  # TF's binary MetaGraphDef, as TF's Saver writes
                try:
                    data = self._tf_meta_graph_bytes(graph)
                except (errors.OpError, ImportError) as e:  # an op TF lacks; no extra
                    _log.warning("Writing %s in miniflow's format instead of TF's: %s", path, e)
            if data is None:
                try:
                    data = meta_graph.build_meta_graph(graph, self.saver_def).to_json()
                except UnserializableError as e:
                    data = e
            self._meta_cache = (key, data)
        data = self._meta_cache[1]
        if isinstance(data, UnserializableError):
            _log.warning("Not writing %s: %s", path, data.message)
            return
        atomic_write(path, lambda fh: fh.write(data))

    def _tf_meta_graph_bytes(self, graph) -> bytes:
        from miniflow.train import tf_graph_export

        meta = tf_graph_export.meta_graph_def_from_graph(graph, saver=self)
        return meta.SerializeToString()

    def _record(self, prefix, meta_graph_suffix):
        """Adds ``prefix`` to the recent list; deletes what falls out of it."""
        now = time.time()
        self._last_checkpoints = [(p, t) for p, t in self._last_checkpoints if p != prefix]
        self._last_checkpoints.append((prefix, now))
        if not self._max_to_keep:
            return
        while len(self._last_checkpoints) > self._max_to_keep:
            old, stamp = self._last_checkpoints.pop(0)
            if stamp - self._last_preserved >= self._keep_every_s:
                self._last_preserved = stamp  # kept for good, as keep_checkpoint_every_n_hours
                continue
            ckpt.remove_checkpoint(old, meta_graph_suffix)

    # -- restoring ------------------------------------------------------------------------
    def restore(self, sess, save_path):
        """Loads the saved values into the variables in ``sess``.

        Raises:
            ValueError (InvalidArgumentError): ``save_path`` is not a checkpoint, or a
                variable's dtype or shape differs from the saved one (names it).
            NotFoundError: a variable is not in the checkpoint (names it).
            DataLossError: the checkpoint files are corrupt.
        """
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        prefix = os.fspath(save_path)
        self._check_session(sess)
        if not ckpt.checkpoint_exists(prefix):
            raise errors.InvalidArgumentError(
                None, None, f"The passed save_path is not a valid checkpoint: {prefix}"
            )
        index = ckpt.read_index(prefix)["tensors"]
        keys = {}  # variable name -> checkpoint key (a piece's whole, as TF saves it)
        for name, var in self._vars.items():
            info = self._slices.get(name)
            key = info.full_name if info is not None and info.full_name in index else name
            entry = index.get(key)
            if entry is None:
                raise errors.NotFoundError(
                    None,
                    None,
                    f"Key {key} not found in checkpoint {prefix} (variable "
                    f"{var.op_name}). The checkpoint holds: {', '.join(sorted(index))}",
                )
            if key != name:
                _check_whole(var, info, entry, prefix)
            else:
                _check_compatible(var, name, entry, prefix)
            keys[name] = key
        values = ckpt.load_checkpoint_tensors(prefix, sorted(set(keys.values())))
        for name, var in self._vars.items():
            value = values[keys[name]]
            if keys[name] != name:
                value = value[self._slices[name].index()]
            var._slot_in(sess).value = np.array(value, dtype=var.dtype.np, copy=True)

    def _check_session(self, sess):
        graph = getattr(sess, "graph", None)
        if graph is None:
            raise TypeError(f"'sess' must be a Session; got {sess!r}")
        for var in self._vars.values():
            if var.graph is not None and var.graph is not graph:
                raise ValueError(
                    f"Variable {var.op_name} belongs to another graph than the "
                    "session's; run the Saver with a session of its graph."
                )

    # -- bookkeeping -------------------------------------------------------------------
    @property
    def last_checkpoints(self) -> list:
        """The checkpoints this saver keeps, oldest first."""
        return [p for p, _ in self._last_checkpoints]

    def set_last_checkpoints(self, last_checkpoints) -> None:
        self._last_checkpoints = [(p, time.time()) for p in last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time) -> None:
        self._last_checkpoints = list(last_checkpoints_with_time)

    def recover_last_checkpoints(self, checkpoint_paths) -> None:
        """Adopts existing checkpoints (e.g. from `get_checkpoint_state` after a restart)
        so that pruning continues across processes."""
        self._last_checkpoints = [
            (p, os.path.getmtime(p + ".index"))
            for p in checkpoint_paths
            if ckpt.checkpoint_exists(p)
        ]

    def export_meta_graph(
        self,
        filename=None,
        collection_list=None,
        as_text=False,
        export_scope=None,
        clear_devices=False,
        clear_extraneous_savers=False,
        strip_default_attrs=False,
        save_debug_info=False,
        graph=None,
    ):
        """`tf.train.export_meta_graph` recording this saver; TensorFlow's
        ``MetaGraphDef`` (with a ``save/`` subgraph TF's Saver uses) for a
        ``format="tf"`` saver, ``as_text`` or a ``.pb``/``.pbtxt`` filename."""
        return meta_graph.export_meta_graph(
            filename,
            saver_def=self.saver_def,
            collection_list=collection_list,
            as_text=as_text,
            graph=graph or self._graph(),
            format="tf" if self._format == "tf" else None,
            saver=self,
            clear_devices=clear_devices,
        )

    def _graph(self):
        for v in self._vars.values():
            return v.graph
        return get_default_graph()


def _named(var_list) -> dict:
    if isinstance(var_list, dict):
        items = list(var_list.items())
    else:  # a PartitionedVariable stands for its pieces
        items = [(p.op_name, p) for v in var_list for p in (v if isinstance(v, list) else [v])]
    out = {}
    for name, var in items:
        if not hasattr(var, "_slot_in"):
            raise TypeError(
                f"Saver var_list entries must be tf.Variable objects; {name!r} is "
                f"a {type(var).__name__}."
            )
        if name in out:
            raise ValueError(f"At least two variables have the same name: {name}")
        out[name] = var
    return out


def _wholes(values: dict, slices: dict) -> dict:
    """``values`` with the pieces of each partitioned variable replaced by their whole.

    Raises:
        ValueError: the saver holds only some pieces of a partitioned variable.
    """
    groups: dict = {}
    for name, info in slices.items():
        groups.setdefault(info.full_name, []).append(name)
    out = {k: v for k, v in values.items() if k not in slices}
    for full, names in groups.items():
        first = slices[names[0]]
        whole = np.empty(first.full_shape, dtype=values[names[0]].dtype)
        covered = 0
        for name in names:
            whole[slices[name].index()] = values[name]
            covered += values[name].size
        if covered != whole.size or full in out:
            raise ValueError(
                f"The Saver holds {len(names)} pieces of partitioned variable {full} that do "
                f"not cover its shape {first.full_shape}; save all its pieces (pass the "
                "PartitionedVariable) or name the pieces in a dict var_list."
            )
        out[full] = whole
    return out


def _check_whole(var, info, entry, prefix):
    if entry["dtype"] != var.dtype.name or list(entry["shape"]) != info.full_shape:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Restoring variable {var.op_name} from checkpoint {prefix}: key "
            f"{info.full_name} is {entry['dtype']}{list(entry['shape'])} in the checkpoint "
            f"but the partitioned variable is {var.dtype.name}{info.full_shape}.",
        )


def _check_compatible(var, name, entry, prefix):
    want_dtype, want_shape = var.dtype.name, var.shape.as_tuple()
    if entry["dtype"] != want_dtype:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Restoring variable {var.op_name} from checkpoint {prefix}: key "
            f"{name} has dtype {entry['dtype']} in the checkpoint but the variable is "
            f"{want_dtype}.",
        )
    saved = tuple(entry["shape"])
    if want_shape is not None and (
        len(saved) != len(want_shape)
        or any(w is not None and w != s for w, s in zip(want_shape, saved))
    ):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Restoring variable {var.op_name} from checkpoint {prefix}: key "
            f"{name} has shape {list(saved)} in the checkpoint but the variable has shape "
            f"{list(want_shape)}. Build the graph the checkpoint was saved from.",
        )


def import_meta_graph(
    meta_graph_or_file, clear_devices=False, import_scope=None, input_map=None, **kwargs
):
    """Rebuilds an exported graph into the default graph; returns a `Saver` for its
    variables (the recorded one, else one over all variables; None without variables).

    ``input_map`` ({"x:0": tensor}) wires the imported ops to tensors of the current graph
    instead of the file's own ``x:0`` (e.g. to put a new input pipeline in front).

    Nothing in the file is executed: ops are rebuilt from the op registry, values are
    decoded from tagged JSON.

    Raises:
        NotFoundError: the file is missing or names an op type this process lacks.
        DataLossError: the file is truncated or corrupt (checksum mismatch).
        InvalidArgumentError: the file is malformed or of an unsupported version.

    Example:
        >>> saver = tf.train.import_meta_graph("model.ckpt-100.meta")
        >>> saver.restore(sess, "model.ckpt-100")
        >>> y = tf.get_default_graph().get_tensor_by_name("y:0")
    """
    if kwargs:
        raise errors.UnimplementedError(
            None, None, f"import_meta_graph does not support {sorted(kwargs)}"
        )
    if isinstance(meta_graph_or_file, meta_graph.MetaGraphDef):
        meta = meta_graph_or_file
    else:
        path = os.fspath(meta_graph_or_file)
        meta = meta_graph.MetaGraphDef.from_json(
            read_bytes(path, "Meta graph file"), f"Meta graph file {path}"
        )
    graph = get_default_graph()
    with ser.all_or_nothing(graph):
        variables = meta_graph.import_into(
            graph, meta, import_scope or "", input_map, clear_devices
        )
        return saver_for(meta, variables)


def saver_for(meta: meta_graph.MetaGraphDef, variables: dict):
    """The `Saver` ``meta`` records (over the imported ``variables``), else one over all
    of them; None without variables."""
    sd = meta.saver_def
    if sd is not None:
        var_list = {}
        for ckpt_name, var_name in sd["var_names"].items():
            if var_name not in variables:
                raise ser.malformed("saver_def", f"variable '{var_name}' is not in the graph")
            var_list[ckpt_name] = variables[var_name]
        return Saver(
            var_list,
            max_to_keep=sd["max_to_keep"],
            keep_checkpoint_every_n_hours=sd["keep_checkpoint_every_n_hours"],
        )
    if variables:
        return Saver(list(variables.values()))
    _log.info("Saver not created because there are no variables in the graph to restore")
    return None
