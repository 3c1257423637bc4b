"""TF1's bridges to the contrib/TF2 summary API: ``tf.summary.initialize`` and
``tf.summary.get_summary_description``. miniflow has no TF2 summary writers, so they
behave as TF does when none exists."""

from __future__ import annotations

import json

from miniflow.core.dispatch import current_frontend
from miniflow.summary import proto_class


def initialize(graph=None, session=None):
    """TF2 summary writers' initialization: a no-op in eager mode; in graph mode TF's
    ``RuntimeError``, since there is never a default writer to initialize.
    ``tf.summary.initialize(graph=None, session=None)``"""
    if current_frontend().eager:
        return None
    raise RuntimeError("No default tf.contrib.summary.SummaryWriter found")


def get_summary_description(node_def):
    """The ``SummaryDescription`` in a ``TensorSummary`` node's ``description`` attr.
    ``tf.summary.get_summary_description(node_def)``

    Raises:
        ValueError: the node is not a ``TensorSummary`` (TF's message; miniflow's
            ``tensor_summary`` builds ``TensorSummaryV2``, as TF does).
    """
    op_type = getattr(node_def, "op", None)
    op_type = getattr(node_def, "type", op_type) if not isinstance(op_type, str) else op_type
    if op_type != "TensorSummary":
        raise ValueError(f"Can't get_summary_description on {op_type}")
    attrs = getattr(node_def, "attrs", None) or getattr(node_def, "attr", {})
    raw = attrs.get("description", "{}")
    raw = raw.decode() if isinstance(raw, bytes) else str(raw)
    fields = json.loads(raw or "{}")
    return proto_class("SummaryDescription")(
        type_hint=fields.get("typeHint", fields.get("type_hint", ""))
    )
