"""Synthetic click data with a known ground-truth logistic model.

Each row has ``fields`` categorical fields. Field f has a vocabulary of ``vocab[f]``
values drawn from a truncated Zipf distribution (a few very frequent values, a long
tail), and every (field, value) pair has a ground-truth weight ~ N(0, sigma^2). The
label is Bernoulli(sigmoid(bias + sum of the row's weights)), so the ground truth's
own AUC on the generated rows is the best any model can reach.

The ground truth depends only on ``model_seed``; ``seed`` draws the rows. A training
and a test file from the same ``model_seed`` and different ``seed`` share one truth.

Features are written as the raw token ``f<field>_<value>`` in VW files (namespace
``f``) and as ``hash_feature(token, b"f")`` reduced to ``dims_log2`` bits in libsvm
files (above 32 bits a second hash fills the high bits: :func:`hashed_id`), so both
formats describe the same hashed feature space up to 2^32. ``libffm`` files write
``field:id:1`` with the same hashed ids (the input of field-aware FMs).

With ``cross_rank > 0`` the truth also has pairwise (crossed) effects: every (field,
value) pair gets a latent vector ``u ~ N(0, cross_sigma^2 I)`` of that rank and the
margin adds ``sum_{f<g} <u_f, u_g>`` over the row's fields (a factorization machine),
which no linear model can represent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from miniflow.ml.data import hash_feature

__all__ = ["CTRGroundTruth", "generate_ctr", "write_ctr"]


@dataclass
class CTRGroundTruth:
    """The generating model: per-field Zipf vocabularies, weights and a bias."""

    vocab: list[int]
    cdfs: list[np.ndarray]
    weights: list[np.ndarray]
    bias: float
    factors: list[np.ndarray] | None = None

    @classmethod
    def make(
        cls,
        fields: int = 24,
        max_vocab: int = 200_000,
        zipf_a: float = 1.1,
        sigma: float = 0.35,
        bias: float = -1.6,
        model_seed: int = 0,
        cross_rank: int = 0,
        cross_sigma: float = 0.3,
    ) -> CTRGroundTruth:
        rng = np.random.default_rng(model_seed)
        # Vocabulary sizes spread log-uniformly from 8 to max_vocab.
        vocab = np.unique(np.geomspace(8, max_vocab, fields).astype(np.int64)).tolist()
        vocab += [max_vocab] * (fields - len(vocab))
        cdfs, weights = [], []
        for v in vocab:
            p = 1.0 / np.arange(1, v + 1) ** zipf_a
            cdfs.append(np.cumsum(p) / p.sum())
            weights.append(rng.normal(0.0, sigma, v))
        factors = None
        if cross_rank > 0:  # own stream: the linear truth stays the same as without
            rng_x = np.random.default_rng([model_seed, 1])
            factors = [rng_x.normal(0.0, cross_sigma, (v, cross_rank)) for v in vocab]
        return cls(vocab, cdfs, weights, bias, factors)

    def sample(
        self, rows: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(values (rows, fields) int64, true probabilities, labels in {0, 1})."""
        values = np.empty((rows, len(self.vocab)), np.int64)
        margin = np.full(rows, self.bias)
        for f, (cdf, w) in enumerate(zip(self.cdfs, self.weights, strict=True)):
            v = np.minimum(np.searchsorted(cdf, rng.random(rows)), len(cdf) - 1)
            values[:, f] = v
            margin += w[v]
        if self.factors is not None:  # sum_{f<g} <u_f, u_g> by the sum-of-squares identity
            u = [U[values[:, f]] for f, U in enumerate(self.factors)]
            total = np.sum(u, axis=0)
            margin += 0.5 * (np.sum(total * total, 1) - sum(np.sum(x * x, 1) for x in u))
        p = 1.0 / (1.0 + np.exp(-margin))
        return values, p, (rng.random(rows) < p).astype(np.int8)


def _token(f: int, v: int) -> bytes:
    return b"f%d_%d" % (f, v)


def hashed_id(token: bytes, dims_log2: int) -> int:
    """The libsvm id of ``token``: ``hash_feature(token, b"f")`` in the low 32 bits;
    above 32 bits a second hash (namespace ``f+``) fills the high bits, so ids cover
    all of ``[0, 2**dims_log2)`` up to 2^62 (a 32-bit hash alone stops at 2^32)."""
    h = hash_feature(token, b"f")
    if dims_log2 > 32:
        h |= hash_feature(token, b"f+") << 32
    return h & ((1 << dims_log2) - 1)


def generate_ctr(
    rows: int, truth: CTRGroundTruth, seed: int = 1, block: int = 100_000
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yields (values, true probabilities, labels) in blocks of ``block`` rows."""
    rng = np.random.default_rng(seed)
    for start in range(0, rows, block):
        yield truth.sample(min(block, rows - start), rng)


def _libsvm_lines(ids: np.ndarray, y: np.ndarray) -> list[bytes]:
    """Rows of hashed ids -> libsvm lines with sorted, unique indices (as svmlight
    requires); ids that collide within a row become one feature with value 2, 3..."""
    ids = np.sort(ids, axis=1)
    dup_rows = set(np.flatnonzero((ids[:, 1:] == ids[:, :-1]).any(axis=1)).tolist())
    lines = []
    for i, (label, row) in enumerate(zip(y.tolist(), ids.tolist(), strict=True)):
        if i in dup_rows:
            uniq, counts = np.unique(row, return_counts=True)
            pairs = zip(uniq.tolist(), counts.tolist(), strict=True)
            feats = b" ".join(b"%d:%d" % (k, c) for k, c in pairs)
        else:
            feats = b":1 ".join(b"%d" % k for k in row) + b":1"
        lines.append((b"1 " if label else b"0 ") + feats)
    return lines


def write_ctr(
    path,
    rows: int,
    dims_log2: int = 22,
    fmt: str = "libsvm",
    seed: int = 1,
    model_seed: int = 0,
    truth_path: str | None = None,
    **truth_kw,
) -> dict:
    """Writes ``rows`` generated rows to ``path`` as ``libsvm``, ``vw`` or ``libffm`` text.

    Args:
        path: output file name, or a binary file object (e.g. ``sys.stdout.buffer``).
        truth_path: if set, the true click probability of every row is saved there
            (float32 ``.npy``) so evaluations can compare with the ground truth.
        **truth_kw: passed to :meth:`CTRGroundTruth.make` (fields, max_vocab, ...).

    Returns:
        {"rows", "positive_rate", "ground_truth_auc", "ground_truth_log_loss"}.
    """
    from miniflow.ml import metrics

    if fmt not in ("libsvm", "vw", "libffm"):
        raise ValueError(f"fmt must be 'libsvm', 'vw' or 'libffm', got {fmt!r}")
    if not isinstance(dims_log2, int) or not 1 <= dims_log2 <= 62:
        raise ValueError(f"dims_log2 must be an integer in 1..62, got {dims_log2!r}")
    truth = CTRGroundTruth.make(model_seed=model_seed, **truth_kw)
    probs, labels = [], []
    out = path if hasattr(path, "write") else open(path, "wb")  # noqa: SIM115
    # Per field, the hashed id (libsvm) or the token (VW) of each value, made on first use.
    codes: list[dict[int, int | bytes]] = [{} for _ in truth.vocab]
    try:
        for values, p, y in generate_ctr(rows, truth, seed):
            cols = []
            for f in range(values.shape[1]):
                code = codes[f]
                col = values[:, f].tolist()
                for v in set(col).difference(code):
                    tok = _token(f, v)
                    code[v] = tok if fmt == "vw" else hashed_id(tok, dims_log2)
                cols.append([code[v] for v in col])
            if fmt == "vw":
                heads = [b"1 |f" if t else b"-1 |f" for t in y.tolist()]
                lines = [b" ".join(r) for r in zip(heads, *cols, strict=True)]
            elif fmt == "libffm":
                cols = [[b"%d:%d:1" % (f, i) for i in c] for f, c in enumerate(cols)]
                heads = [b"1" if t else b"0" for t in y.tolist()]
                lines = [b" ".join(r) for r in zip(heads, *cols, strict=True)]
            else:
                lines = _libsvm_lines(np.array(cols, np.int64).T, y)
            out.write(b"\n".join(lines) + b"\n")
            probs.append(p.astype(np.float32))
            labels.append(y)
    finally:
        if out is not path:
            out.close()
    p_all, y_all = np.concatenate(probs), np.concatenate(labels)
    if truth_path:
        np.save(truth_path, p_all)
    return {
        "rows": rows,
        "positive_rate": float(y_all.mean()),
        "ground_truth_auc": metrics.roc_auc(y_all, p_all),
        "ground_truth_log_loss": metrics.log_loss(y_all, p_all),
    }
