"""``tf.train.sdca_shrink_l1``: the L1 shrink step of SDCA, composed of ordinary ops."""

from __future__ import annotations

import numpy as np

from miniflow.core.dispatch import current_frontend
from miniflow.ops import control_flow_ops, math_ops, state_ops


def sdca_shrink_l1(weights, l1, l2, name=None):
    """Shrinks each variable in ``weights`` towards zero in place:
    ``w = sign(w) * max(|w| - l1 / l2, 0)`` (``l2 == 0`` zeroes them, as in TF).
    ``tf.train.sdca_shrink_l1(weights, l1, l2, name=None)``; returns the update op
    (None in eager mode, where the update happens at once)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        shrink = float(np.float32(l1) / np.float32(l2))
    with control_flow_ops.name_scope(name, "SdcaShrinkL1") as scope:
        updates = [
            state_ops.assign(w, math_ops.sign(w) * math_ops.maximum(math_ops.abs(w) - shrink, 0.0))
            for w in weights
        ]
        if current_frontend().eager:
            return None
        return control_flow_ops.group(*updates, name=scope)
