"""`make_parse_example_spec`: the `tf.io.parse_example` spec of the raw features a set of
columns reads."""

from __future__ import annotations

from miniflow.feature_column.columns_base import FeatureColumn


def make_parse_example_spec(feature_columns):
    """make_parse_example_spec(feature_columns): ``{feature key: FixedLenFeature |
    VarLenFeature}`` for every raw feature the columns read."""
    spec = {}
    for column in feature_columns:
        if not isinstance(column, FeatureColumn):
            raise ValueError(
                f"All feature_columns must be _FeatureColumn instances. Given: {column}"
            )
        for key, value in column.parse_example_spec.items():
            if key in spec and spec[key] != value:
                raise ValueError(
                    f"feature_columns contain different parse_spec for key "
                    f"{key}. Given {value} and {spec[key]}"
                )
            spec[key] = value
    return spec
