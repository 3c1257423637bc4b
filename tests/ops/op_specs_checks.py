"""Gradient rows for the run-time check ops (`miniflow.ops.check_ops`): `CheckNumerics`
passes its gradient through (checking it). `Assert` has no gradient."""

from __future__ import annotations

import miniflow as tf
from tests.ops.op_specs import OpSpec, unary

SPECS = [
    OpSpec("CheckNumerics", lambda x: tf.check_numerics(x * x, "x"), unary()),
]

COVERED_OP_TYPES = {s.op_type for s in SPECS}
