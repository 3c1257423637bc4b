"""A 2^34-dimensional model trains on this machine: shard memory follows the distinct
features seen, not the key space (a dense float32 FTRL table would need 128 GiB)."""

import numpy as np

from miniflow.ml import metrics
from miniflow.ml.data import Batch
from miniflow.ml.datagen import CTRGroundTruth
from miniflow.ps import PSConfig, PSJob, shard_of

DIMS = 34
ODD = 0x9E3779B1  # multiplying by an odd number is a bijection modulo 2^34


def _batches(truth, rows, seed, block=50_000):
    """The generator's click data, with (field, value) mapped injectively onto 2^34 ids."""
    rng = np.random.default_rng(seed)
    fields = len(truth.vocab)
    for start in range(0, rows, block):
        values, p, y = truth.sample(min(block, rows - start), rng)
        ids = (np.arange(fields, dtype=np.int64) << 24) | values
        ids = (ids * ODD) & ((1 << DIMS) - 1)
        n = len(y)
        yield (
            Batch(
                np.arange(0, n * fields + 1, fields, dtype=np.int64),
                ids.ravel(),
                None,
                y.astype(np.float32),
            ),
            p,
        )


def test_2_to_the_34_dimensions_train_in_memory_proportional_to_touched_keys(tmp_path):
    truth = CTRGroundTruth.make(fields=16, max_vocab=100_000, model_seed=3)
    train = [b for b, _ in _batches(truth, 300_000, seed=1)]
    test, p_true = next(_batches(truth, 20_000, seed=2, block=20_000))
    touched = np.unique(np.concatenate([b.indices for b in train]))
    assert touched.max() > 1 << 33  # the ids really use the 34-bit space

    job = PSJob(
        PSConfig(
            num_shards=2,
            num_workers=2,
            backend="process",
            dims_log2=DIMS,
            batch_size=4096,
            job_dir=str(tmp_path / "job"),
        )
    )
    r = job.run(train, holdout=[test], progress=False, log=print)

    dense_bytes = (1 << DIMS) * 2 * 4  # FTRL's z and n for every key, float32
    for s, stats in enumerate(r.shard_stats):
        with np.load(tmp_path / "job" / f"shard-{s}.ckpt.npz") as ckpt:
            held = np.sort(ckpt["keys"])
        mine = touched[shard_of(touched, 2) == s]
        print(
            f"shard {s}: {stats['keys']:,} keys (touched and owned: {len(mine):,}), peak RSS "
            f"{stats['peak_rss'] / 2**20:,.0f} MiB; a dense 2^{DIMS} table: "
            f"{dense_bytes / 2**30:,.0f} GiB"
        )
        np.testing.assert_array_equal(held, mine)  # exactly the touched keys it owns
        assert stats["keys"] == len(mine)
        # Interpreter + NumPy + sockets (~45 MiB idle) plus a generous 1 KiB per held key.
        assert stats["peak_rss"] < 100 * 2**20 + 1024 * len(mine)
        assert stats["peak_rss"] < dense_bytes / 100
    print(f"{len(touched):,} distinct features in {r.rows:,} rows; holdout {r.holdout}")
    truth_auc = metrics.roc_auc(test.labels, p_true)
    assert truth_auc - 0.06 < r.holdout["auc"] < truth_auc
