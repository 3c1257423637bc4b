"""Candidate samplers (`tf.nn.uniform_candidate_sampler`, `log_uniform_...`,
`learned_unigram_...`, `fixed_unigram_...`, `all_candidate_sampler`),
`compute_accidental_hits`, and the sampled losses built on them: `nce_loss` and
`sampled_softmax_loss` (compositions, as in TF).

Each sampler is a stateful random op seeded like the other random ops; it returns
(sampled_candidates int64 [num_sampled], true_expected_count float32 [batch, num_true],
sampled_expected_count float32 [num_sampled]). Expected counts follow TF: with
``unique`` they are ``1 - (1 - p) ** num_tries``, otherwise ``p * num_sampled``."""

from __future__ import annotations

import collections

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.control_flow_ops import name_scope as _name_scope
from miniflow.ops.random_ops import _rng, get_seed
from miniflow.ops.shape_rules import dims


class _SamplerState:
    """The op's generator plus, for the learned unigram sampler, the class counts."""

    def __init__(self, attrs):
        self.rng = _rng(attrs)
        self.counts = np.ones(attrs["range_max"], np.float64)


def _probs(state, kind, range_max, unigrams=None, distortion=1.0, num_reserved_ids=0):
    if kind == "uniform":
        return np.full(range_max, 1.0 / range_max)
    if kind == "log_uniform":
        k = np.arange(range_max, dtype=np.float64)
        return (np.log(k + 2) - np.log(k + 1)) / np.log(range_max + 1)
    if kind == "learned_unigram":
        return state.counts / state.counts.sum()
    weights = np.zeros(range_max)
    u = np.asarray(unigrams, np.float64) ** distortion
    weights[num_reserved_ids : num_reserved_ids + u.size] = u
    return weights / weights.sum()


def _sampler_kernel(
    state,
    true_classes,
    kind="uniform",
    num_true=1,
    num_sampled=1,
    unique=True,
    range_max=1,
    unigrams=(),
    distortion=1.0,
    num_reserved_ids=0,
    seed=None,
    seed2=None,
):
    true_classes = np.asarray(true_classes, np.int64)
    p = _probs(state, kind, range_max, unigrams, distortion, num_reserved_ids)
    if unique and num_sampled > np.count_nonzero(p):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Sampler's range is too small: num_sampled={num_sampled} unique "
            f"candidates requested from {np.count_nonzero(p)} classes",
        )
    if unique:
        picked, seen, tries = [], set(), 0
        while len(picked) < num_sampled:
            v = int(state.rng.choice(range_max, p=p))
            tries += 1
            if v not in seen:
                seen.add(v)
                picked.append(v)
        sampled = np.asarray(picked, np.int64)
        expected = lambda q: -np.expm1(tries * np.log1p(-np.minimum(q, 1 - 1e-12)))  # noqa: E731
    else:
        sampled = state.rng.choice(range_max, size=num_sampled, p=p).astype(np.int64)
        expected = lambda q: q * num_sampled  # noqa: E731
    if kind == "learned_unigram":  # learn from this batch's true classes
        np.add.at(state.counts, true_classes.reshape(-1) % range_max, 1.0)
    return (
        sampled,
        expected(p[true_classes % range_max]).astype(np.float32),
        expected(p[sampled]).astype(np.float32),
    )


register_op(
    "CandidateSampler",
    num_outputs=3,
    stateful=True,
    make_state=_SamplerState,
    infer=lambda i, a: [
        ((a["num_sampled"],), dtypes.int64),
        (dims(i[0]), dtypes.float32),
        ((a["num_sampled"],), dtypes.float32),
    ],
)(_sampler_kernel)
not_differentiable("CandidateSampler")


Sampled = collections.namedtuple(
    "Sampled", ["sampled_candidates", "true_expected_count", "sampled_expected_count"]
)


def _sample(kind, true_classes, num_true, num_sampled, unique, range_max, seed, name, **extra):
    true_classes = _arr.cast(true_classes, dtypes.int64)
    d = dims(true_classes)
    if d is not None and (len(d) != 2 or (d[1] is not None and d[1] != num_true)):
        raise ValueError(f"true_classes must be [batch_size, num_true={num_true}], got {list(d)}")
    if range_max < 1 or num_sampled < 1:
        raise ValueError(f"range_max ({range_max}) and num_sampled ({num_sampled}) must be >= 1")
    seed, seed2 = get_seed(seed)
    return Sampled(
        *apply_op(
            "CandidateSampler",
            true_classes,
            kind=kind,
            num_true=int(num_true),
            num_sampled=int(num_sampled),
            unique=bool(unique),
            range_max=int(range_max),
            seed=seed,
            seed2=seed2,
            name=name,
            **extra,
        )
    )


def uniform_candidate_sampler(
    true_classes, num_true, num_sampled, unique, range_max, seed=None, name=None
):
    """Samples classes uniformly from [0, range_max)."""
    return _sample(
        "uniform",
        true_classes,
        num_true,
        num_sampled,
        unique,
        range_max,
        seed,
        name or "UniformCandidateSampler",
    )


def log_uniform_candidate_sampler(
    true_classes, num_true, num_sampled, unique, range_max, seed=None, name=None
):
    """Samples class k with probability log((k + 2) / (k + 1)) / log(range_max + 1)
    (Zipf-like: suits classes sorted by decreasing frequency)."""
    return _sample(
        "log_uniform",
        true_classes,
        num_true,
        num_sampled,
        unique,
        range_max,
        seed,
        name or "LogUniformCandidateSampler",
    )


def learned_unigram_candidate_sampler(
    true_classes, num_true, num_sampled, unique, range_max, seed=None, name=None
):
    """Samples from the running class frequencies of the true classes seen so far."""
    return _sample(
        "learned_unigram",
        true_classes,
        num_true,
        num_sampled,
        unique,
        range_max,
        seed,
        name or "LearnedUnigramCandidateSampler",
    )


def fixed_unigram_candidate_sampler(
    true_classes,
    num_true,
    num_sampled,
    unique,
    range_max,
    vocab_file="",
    distortion=1.0,
    num_reserved_ids=0,
    num_shards=1,
    shard=0,
    unigrams=(),
    seed=None,
    name=None,
):
    """Samples from given class weights (``unigrams`` or a vocab file of ``word,count``
    lines), each raised to ``distortion``; ids below ``num_reserved_ids`` are never drawn."""
    if num_shards != 1 or shard != 0:
        raise ValueError("fixed_unigram_candidate_sampler: sharding is not supported")
    if vocab_file:
        with open(vocab_file) as f:
            unigrams = [float(line.rsplit(",", 1)[-1]) for line in f if line.strip()]
    if len(unigrams) + num_reserved_ids != range_max:
        raise ValueError(
            f"len(unigrams) + num_reserved_ids ({len(unigrams)} + "
            f"{num_reserved_ids}) must equal range_max ({range_max})"
        )
    return _sample(
        "fixed_unigram",
        true_classes,
        num_true,
        num_sampled,
        unique,
        range_max,
        seed,
        name or "FixedUnigramCandidateSampler",
        unigrams=tuple(float(u) for u in unigrams),
        distortion=float(distortion),
        num_reserved_ids=int(num_reserved_ids),
    )


def all_candidate_sampler(true_classes, num_true, num_sampled, unique, seed=None, name=None):
    """Returns all classes [0, num_sampled) with expected counts 1 (for evaluation)."""
    with _name_scope(name, "AllCandidateSampler"):
        true_classes = _arr.cast(true_classes, dtypes.int64)
        return Sampled(
            _arr.range(0, num_sampled, 1, dtype=dtypes.int64),
            _arr.ones_like(true_classes, dtype=dtypes.float32),
            _arr.ones([num_sampled], dtype=dtypes.float32),
        )


@register_op(
    "ComputeAccidentalHits",
    num_outputs=3,
    infer=lambda i, a: [
        ((None,), dtypes.int32),
        ((None,), dtypes.int64),
        ((None,), dtypes.float32),
    ],
)
def _accidental_hits(true_classes, sampled, num_true=1):
    rows, ids = [], []
    # one hit per true class, at the last position of a duplicated sampled id (TF's kernel)
    where = {s: j for j, s in enumerate(np.asarray(sampled).tolist())}
    for i, row in enumerate(np.asarray(true_classes).tolist()):
        for c in row:
            if c in where:
                rows.append(i)
                ids.append(where[c])
    return (
        np.asarray(rows, np.int32),
        np.asarray(ids, np.int64),
        np.full(len(rows), -np.finfo(np.float32).max, np.float32),
    )


not_differentiable("ComputeAccidentalHits")


def compute_accidental_hits(true_classes, sampled_candidates, num_true, seed=None, name=None):
    """(row indices, sampled positions, weights -FLT_MAX) where a sampled candidate equals
    one of the row's true classes."""
    return tuple(
        apply_op(
            "ComputeAccidentalHits",
            _arr.cast(true_classes, dtypes.int64),
            _arr.cast(sampled_candidates, dtypes.int64),
            num_true=int(num_true),
            name=name,
        )
    )


# ---------------------------------------------------------------------------------------
# Sampled losses.


def _compute_sampled_logits(
    weights,
    biases,
    labels,
    inputs,
    num_sampled,
    num_classes,
    num_true,
    sampled_values,
    subtract_log_q,
    remove_accidental_hits,
    partition_strategy,
    seed,
):
    from miniflow.ops.embedding_ops import embedding_lookup
    from miniflow.ops.sparse_ops import sparse_to_dense

    if isinstance(weights, list | tuple) and len(weights) == 1:
        weights = weights[0]
    labels = _arr.cast(labels, dtypes.int64)
    labels_flat = _arr.reshape(labels, [-1])
    if sampled_values is None:
        sampled_values = log_uniform_candidate_sampler(
            labels, num_true, num_sampled, True, num_classes, seed=seed
        )
    sampled, true_expected, sampled_expected = (_arr.stop_gradient(s) for s in sampled_values)
    sampled = _arr.cast(sampled, dtypes.int64)
    n_true = _arr.shape(labels_flat)[0]
    all_ids = _arr.concat([labels_flat, sampled], 0)
    all_w = embedding_lookup(weights, all_ids, partition_strategy=partition_strategy)
    true_w = all_w[:n_true]
    sampled_w = all_w[n_true:]
    inputs = _arr.convert_to_tensor(inputs)
    sampled_logits = _math.matmul(inputs, sampled_w, transpose_b=True)
    all_b = embedding_lookup(biases, all_ids, partition_strategy=partition_strategy)
    true_b, sampled_b = all_b[:n_true], all_b[n_true:]
    dim = _arr.shape(true_w)[1:2]
    true_w = _arr.reshape(true_w, _arr.concat([[-1, num_true], dim], 0))
    true_logits = _math.reduce_sum(_arr.expand_dims(inputs, 1) * true_w, axis=2)
    true_logits += _arr.reshape(true_b, [-1, num_true])
    sampled_logits += sampled_b
    if remove_accidental_hits:
        rows, ids, hit_w = compute_accidental_hits(labels, sampled, num_true)
        at = _arr.stack([rows, _arr.cast(ids, dtypes.int32)], 1)
        shape = _arr.stack([_arr.shape(true_logits)[0], _arr.shape(sampled_logits)[1]])
        sampled_logits += _arr.cast(
            sparse_to_dense(at, shape, hit_w, 0.0, validate_indices=False), sampled_logits.dtype
        )
    if subtract_log_q:
        true_logits -= _math.log(_arr.cast(true_expected, true_logits.dtype))
        sampled_logits -= _math.log(_arr.cast(sampled_expected, sampled_logits.dtype))
    out_logits = _arr.concat([true_logits, sampled_logits], 1)
    out_labels = _arr.concat(
        [_arr.ones_like(true_logits) / num_true, _arr.zeros_like(sampled_logits)], 1
    )
    return out_logits, out_labels


def nce_loss(
    weights,
    biases,
    labels,
    inputs,
    num_sampled,
    num_classes,
    num_true=1,
    sampled_values=None,
    remove_accidental_hits=False,
    partition_strategy="mod",
    name="nce_loss",
):
    """Noise-contrastive estimation loss per example: logistic regression of the true
    classes against ``num_sampled`` sampled ones (``weights`` [num_classes, dim])."""
    from miniflow.ops.nn_ops import sigmoid_cross_entropy_with_logits

    with _name_scope(name, "nce_loss"):
        logits, labels = _compute_sampled_logits(
            weights,
            biases,
            labels,
            inputs,
            num_sampled,
            num_classes,
            num_true,
            sampled_values,
            True,
            remove_accidental_hits,
            partition_strategy,
            None,
        )
        xent = sigmoid_cross_entropy_with_logits(
            labels=labels, logits=logits, name="sampled_losses"
        )
        return _math.reduce_sum(xent, axis=1)


def sampled_softmax_loss(
    weights,
    biases,
    labels,
    inputs,
    num_sampled,
    num_classes,
    num_true=1,
    sampled_values=None,
    remove_accidental_hits=True,
    partition_strategy="mod",
    name="sampled_softmax_loss",
    seed=None,
):
    """Softmax cross entropy per example over the true classes plus ``num_sampled``
    sampled ones (a cheap estimate of the full softmax loss for training)."""
    from miniflow.ops.nn_ops import softmax_cross_entropy_with_logits_v2

    with _name_scope(name, "sampled_softmax_loss"):
        logits, labels = _compute_sampled_logits(
            weights,
            biases,
            labels,
            inputs,
            num_sampled,
            num_classes,
            num_true,
            sampled_values,
            True,
            remove_accidental_hits,
            partition_strategy,
            seed,
        )
        return softmax_cross_entropy_with_logits_v2(
            labels=_arr.stop_gradient(labels), logits=logits
        )
