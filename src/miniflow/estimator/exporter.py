"""`tf.estimator.Exporter`s: what `train_and_evaluate` exports after an evaluation."""

from __future__ import annotations

import os
import shutil


class Exporter:
    """Exports a model after an evaluation; ``name`` is its directory under
    ``model_dir/export``."""

    @property
    def name(self):
        raise NotImplementedError

    def export(self, estimator, export_path, checkpoint_path, eval_result, is_the_final_export):
        raise NotImplementedError


class _SavedModelExporter(Exporter):
    def __init__(self, name, serving_input_receiver_fn, assets_extra=None, as_text=False):
        if not name:
            raise ValueError("`name` must be specified.")
        self._name = name
        self._serving_input_receiver_fn = serving_input_receiver_fn
        self._assets_extra = assets_extra
        self._as_text = as_text

    name = property(lambda self: self._name)

    def _export(self, estimator, export_path, checkpoint_path):
        return estimator.export_saved_model(
            export_path,
            self._serving_input_receiver_fn,
            assets_extra=self._assets_extra,
            as_text=self._as_text,
            checkpoint_path=checkpoint_path,
        )


class FinalExporter(_SavedModelExporter):
    """Exports once, after the final evaluation.

    ``FinalExporter(name, serving_input_receiver_fn, assets_extra=None, as_text=False)``
    """

    def export(self, estimator, export_path, checkpoint_path, eval_result, is_the_final_export):
        if not is_the_final_export:
            return None
        return self._export(estimator, export_path, checkpoint_path)


class LatestExporter(_SavedModelExporter):
    """Exports after every evaluation and keeps the newest ``exports_to_keep``.

    ``LatestExporter(name, serving_input_receiver_fn, assets_extra=None, as_text=False,
    exports_to_keep=5)``
    """

    def __init__(
        self, name, serving_input_receiver_fn, assets_extra=None, as_text=False, exports_to_keep=5
    ):
        super().__init__(name, serving_input_receiver_fn, assets_extra, as_text)
        if exports_to_keep is not None and exports_to_keep <= 0:
            raise ValueError(
                f"`exports_to_keep`, if provided, must be a positive number. Got {exports_to_keep}"
            )
        self._exports_to_keep = exports_to_keep

    def export(self, estimator, export_path, checkpoint_path, eval_result, is_the_final_export):
        result = self._export(estimator, export_path, checkpoint_path)
        self._garbage_collect(export_path)
        return result

    def _garbage_collect(self, export_path):
        if self._exports_to_keep is None or not os.path.isdir(export_path):
            return
        versions = sorted(int(d) for d in os.listdir(export_path) if d.isdigit())
        for version in versions[: -self._exports_to_keep]:
            shutil.rmtree(os.path.join(export_path, str(version)), ignore_errors=True)
