"""``tf.train.SaverDef``: the description of a Saver's save/restore entry points."""

from __future__ import annotations


class SaverDef:
    """TF's SaverDef fields; ``Saver(saver_def=...)`` programs build and pass it around.
    (miniflow's `Saver.saver_def` itself is a dict of the same fields.)"""

    LEGACY, V1, V2 = 0, 1, 2  # CheckpointFormatVersion

    def __init__(
        self,
        filename_tensor_name="",
        save_tensor_name="",
        restore_op_name="",
        max_to_keep=0,
        sharded=False,
        keep_checkpoint_every_n_hours=0.0,
        version=0,
    ):
        self.filename_tensor_name = filename_tensor_name
        self.save_tensor_name = save_tensor_name
        self.restore_op_name = restore_op_name
        self.max_to_keep = max_to_keep
        self.sharded = sharded
        self.keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self.version = version

    def __eq__(self, other):
        return isinstance(other, SaverDef) and vars(self) == vars(other)

    def __repr__(self):
        return "SaverDef(" + ", ".join(f"{k}={v!r}" for k, v in vars(self).items()) + ")"
