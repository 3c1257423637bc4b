"""scikit-learn conventions without depending on scikit-learn at run time.

``get_params`` / ``set_params`` read the constructor's signature, as scikit-learn's
``BaseEstimator`` does, so ``sklearn.base.clone``, pipelines, grid search and
``cross_val_score`` work on miniflow estimators. ``__sklearn_tags__`` imports
scikit-learn lazily: it is only ever called *by* scikit-learn.
"""

from __future__ import annotations

import inspect

import numpy as np


class Params:
    """Mixin: hyperparameters are exactly the ``__init__`` arguments, stored unchanged."""

    _estimator_type: str = ""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD
        ]

    def get_params(self, deep: bool = True) -> dict:  # noqa: ARG002  deep: sklearn API
        """Returns the hyperparameters as a dict (``deep`` is accepted for sklearn)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Sets hyperparameters by name and returns self.

        Raises:
            ValueError: a name that is not a constructor argument.
        """
        valid = set(self._param_names())
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"{type(self).__name__}.set_params: invalid parameter {name!r}; "
                    f"valid parameters are {sorted(valid)}"
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__)
        changed = [
            f"{k}={v!r}"
            for k, v in self.get_params().items()
            if not _same(v, sig.parameters[k].default)
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, InputTags, RegressorTags, Tags, TargetTags

        classifier = self._estimator_type == "classifier"
        return Tags(
            estimator_type=self._estimator_type or None,
            target_tags=TargetTags(required=True),
            transformer_tags=None,
            classifier_tags=ClassifierTags(multi_class=False) if classifier else None,
            regressor_tags=RegressorTags() if self._estimator_type == "regressor" else None,
            input_tags=InputTags(sparse=True),
        )


def _same(a, b) -> bool:
    try:
        return bool(a == b) if not isinstance(a, np.ndarray) else False
    except (TypeError, ValueError):
        return a is b
