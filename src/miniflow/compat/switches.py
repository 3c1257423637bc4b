"""TF1's switches back to TF1 behaviour (``tf.disable_v2_behavior`` and friends).

miniflow always has TF1 semantics (graph mode by default, TensorShape of Dimensions,
reference-style variables, TF1 control flow), so each switch is a no-op except that,
as in TF, ``disable_v2_behavior`` also turns eager execution off. The matching
``enable_*`` switches are unsupported (see ``unsupported.py``).
"""

from __future__ import annotations

from miniflow.eager.context import disable_eager_execution


def disable_v2_behavior():
    """Turns TF2 behaviour off: in miniflow, only eager execution needs turning off."""
    disable_eager_execution()


def disable_v2_tensorshape():
    """A no-op: shapes are TF1's (``TensorShape`` of ``Dimension``)."""


def disable_control_flow_v2():
    """A no-op: control flow is TF1's."""


def disable_tensor_equality():
    """A no-op: miniflow keeps TF1's tensor ``==`` (identity, so tensors are hashable)."""


def disable_resource_variables():
    """A no-op: miniflow's variables keep TF1's semantics."""
