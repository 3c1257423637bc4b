"""Connectionist temporal classification: `tf.nn.ctc_loss` (+ `ctc_loss_v2`),
`ctc_greedy_decoder`, `ctc_beam_search_decoder(_v2)`, `ctc_unique_labels`,
`collapse_repeated`.

`CTCLoss` is TF's op: its kernel runs the forward-backward recursion in log space and
returns the loss and its gradient with respect to the logits together; the gradient rule
scales that second output (so, as in TF, there is no second derivative). The blank is the
last class."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.control_flow_ops import name_scope as _name_scope
from miniflow.ops.shape_rules import dims


def _rows(indices, values, batch):
    """The label sequence of each batch row of a sparse [batch, max_len] tensor."""
    out = [[] for _ in range(batch)]
    order = np.lexsort(np.asarray(indices).T[::-1]) if len(indices) else []
    for k in order:
        b = int(indices[k][0])
        if not 0 <= b < batch:
            raise errors.InvalidArgumentError(
                None, None, f"labels batch index {b} is not in [0, {batch})"
            )
        out[b].append(int(values[k]))
    return out


def _logsumexp(a, axis=None):
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.squeeze(m, axis) + np.log(np.sum(np.exp(a - m), axis=axis))


def _shifted(a, k):
    """``a`` moved k places right (left for k < 0), filled with -inf."""
    out = np.full_like(a, -np.inf)
    if k > 0:
        out[k:] = a[:-k]
    else:
        out[:k] = a[-k:]
    return out


def _ctc_one(logp, label, merge_repeated):
    """(-log p(label | logp), d/dlogits) for one sequence; logp is [T, C] log-softmax."""
    t_len, c = logp.shape
    blank = c - 1
    ext = np.full(2 * len(label) + 1, blank)
    ext[1::2] = label
    s_len = ext.size
    skip = np.zeros(s_len, bool)  # s may be reached from s - 2
    skip[2:] = (ext[2:] != blank) & (~merge_repeated | (ext[2:] != ext[:-2]))
    # without merging, a label lasts one frame: only blanks may repeat
    loop = np.ones(s_len, bool) if merge_repeated else ext == blank
    emit = logp[:, ext]  # [T, S]
    neg = -np.inf
    alpha = np.full((t_len, s_len), neg)
    alpha[0, :2] = emit[0, :2]
    for t in range(1, t_len):
        prev = alpha[t - 1]
        stay = np.where(loop, prev, neg)
        step, jump = _shifted(prev, 1), np.where(skip, _shifted(prev, 2), neg)
        alpha[t] = np.logaddexp(np.logaddexp(stay, step), jump) + emit[t]
    beta = np.full((t_len, s_len), neg)
    beta[-1, -2:] = emit[-1, -2:]
    skip_next = np.zeros(s_len, bool)  # s + 2 reachable from s
    skip_next[:-2] = skip[2:]
    for t in range(t_len - 2, -1, -1):
        nxt = beta[t + 1]
        step, jump = _shifted(nxt, -1), np.where(skip_next, _shifted(nxt, -2), neg)
        beta[t] = np.logaddexp(np.logaddexp(np.where(loop, nxt, neg), step), jump) + emit[t]
    logp_total = np.logaddexp(alpha[-1, -1], alpha[-1, -2]) if s_len > 1 else alpha[-1, -1]
    gamma = alpha + beta - emit  # log occupancy (unnormalised) of each state at each t
    occ = np.full((t_len, c), neg)
    for k in np.unique(ext):
        occ[:, k] = _logsumexp(gamma[:, ext == k], axis=1)
    grad = np.exp(logp) - np.exp(occ - logp_total)
    return -logp_total, grad


def _ctc_loss_kernel(
    logits,
    label_indices,
    label_values,
    seq_len,
    preprocess_collapse_repeated=False,
    ctc_merge_repeated=True,
    ignore_longer_outputs_than_inputs=False,
):
    logits = np.asarray(logits)
    t_max, batch, c = logits.shape
    seq_len = np.asarray(seq_len)
    if seq_len.shape != (batch,):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"len(sequence_length) != batch_size. len(sequence_length): "
            f"{seq_len.size} batch_size: {batch}",
        )
    loss = np.zeros(batch, logits.dtype)
    grad = np.zeros_like(logits)
    wide = logits.astype(np.float64)
    logp_all = wide - _logsumexp(wide, axis=2)[..., None]
    for b, label in enumerate(_rows(label_indices, label_values, batch)):
        if preprocess_collapse_repeated:
            label = [v for i, v in enumerate(label) if i == 0 or v != label[i - 1]]
        t_len = int(seq_len[b])
        if t_len > t_max:
            raise errors.InvalidArgumentError(
                None, None, f"sequence_length({b}) = {t_len} > max_time = {t_max}"
            )
        if any(not 0 <= v < c - 1 for v in label):
            raise errors.InvalidArgumentError(
                None,
                None,
                f"Saw a non-null label (index >= num_classes - 1) following a "
                f"null label, batch: {b} num_classes: {c} labels: {label}",
            )
        repeats = sum(1 for i in range(1, len(label)) if label[i] == label[i - 1])
        if len(label) + (repeats if ctc_merge_repeated else 0) > t_len:
            if ignore_longer_outputs_than_inputs:
                continue
            raise errors.InvalidArgumentError(
                None,
                None,
                f"Not enough time for target transition sequence (required: "
                f"{len(label) + repeats}, available: {t_len}){b}You can turn this "
                f"error into a warning by using the flag "
                f"ignore_longer_outputs_than_inputs",
            )
        if t_len == 0:
            continue
        nll, g = _ctc_one(logp_all[:t_len, b], np.asarray(label, int), ctc_merge_repeated)
        loss[b] = nll
        grad[:t_len, b] = g
    return loss, grad


def _ctc_infer(inputs, attrs):
    x = dims(inputs[0])
    batch = None if x is None else x[1]
    return [((batch,), inputs[0].dtype), (x if x is not None else (None,) * 3, inputs[0].dtype)]


register_op("CTCLoss", infer=_ctc_infer, num_outputs=2)(_ctc_loss_kernel)


@register_gradient("CTCLoss", accepts_none=True)
def _ctc_loss_grad(op, grad_loss, _grad_grad):
    """The kernel's own gradient, scaled per batch entry (no second derivative, as TF)."""
    return [_arr.stop_gradient(op.outputs[1]) * _arr.expand_dims(grad_loss, -1), None, None, None]


def ctc_loss(
    labels,
    inputs=None,
    sequence_length=None,
    preprocess_collapse_repeated=False,
    ctc_merge_repeated=True,
    ignore_longer_outputs_than_inputs=False,
    time_major=True,
    logits=None,
):
    """Negative log-likelihood of each ``labels`` row (a SparseTensor) under the CTC model
    of ``inputs`` (unnormalised logits [max_time, batch, num_classes]; blank = last)."""
    from miniflow.ops.sparse_ops import SparseTensor, SparseTensorValue

    if not isinstance(labels, SparseTensor | SparseTensorValue):
        raise TypeError("Expected labels (first argument) to be a SparseTensor")
    inputs = logits if inputs is None else inputs
    x = _arr.convert_to_tensor(inputs)
    if not time_major:
        x = _arr.transpose(x, [1, 0, 2])
    loss, _ = apply_op(
        "CTCLoss",
        x,
        _arr.convert_to_tensor(labels.indices, dtype=dtypes.int64),
        _arr.cast(labels.values, dtypes.int32),
        _arr.cast(sequence_length, dtypes.int32),
        preprocess_collapse_repeated=bool(preprocess_collapse_repeated),
        ctc_merge_repeated=bool(ctc_merge_repeated),
        ignore_longer_outputs_than_inputs=bool(ignore_longer_outputs_than_inputs),
    )
    return loss


def _dense_to_sparse(labels, label_length):
    from miniflow.ops.gather_scatter_ops import gather_nd
    from miniflow.ops.manip_ops import sequence_mask
    from miniflow.ops.sparse_ops import SparseTensor

    labels = _arr.convert_to_tensor(labels)
    mask = sequence_mask(label_length, _arr.shape(labels)[1])
    idx = _arr.where(mask)
    return SparseTensor(idx, gather_nd(labels, idx), _arr.cast(_arr.shape(labels), dtypes.int64))


def ctc_loss_v2(
    labels,
    logits,
    label_length,
    logit_length,
    logits_time_major=True,
    unique=None,
    blank_index=None,
    name=None,
):
    """CTC loss with dense ``labels`` [batch, max_len] (or a SparseTensor) and a chosen
    blank class (default 0): the blank is moved last, as TF does, then `ctc_loss`."""
    from miniflow.ops.sparse_ops import SparseTensor, SparseTensorValue

    with _name_scope(name, "ctc_loss_dense"):
        x = _arr.convert_to_tensor(logits)
        if not logits_time_major:
            x = _arr.transpose(x, [1, 0, 2])
        blank = 0 if blank_index is None else int(blank_index)
        sparse = isinstance(labels, SparseTensor | SparseTensorValue)
        if not sparse:
            labels = _dense_to_sparse(labels, label_length)
        values = _arr.cast(labels.values, dtypes.int32)
        c = dims(x)[2] if dims(x) is not None else None
        if blank < 0 and c is not None:
            blank += c
        if c is None or blank != c - 1:
            x = _arr.concat([x[:, :, :blank], x[:, :, blank + 1 :], x[:, :, blank : blank + 1]], 2)
            values = _arr.where(_math.less(values, blank), values, values - 1)
        from miniflow.ops.sparse_ops import SparseTensor as _Sparse

        return ctc_loss(_Sparse(labels.indices, values, labels.dense_shape), x, logit_length)


# ---------------------------------------------------------------------------------------
# Decoders.


def _sparse_outputs(seqs):
    """(indices int64 [N, 2], values int64 [N], dense_shape int64 [2]) of the sequences."""
    idx = [[b, i] for b, s in enumerate(seqs) for i in range(len(s))]
    vals = [v for s in seqs for v in s]
    width = max((len(s) for s in seqs), default=0)
    return (
        np.asarray(idx, np.int64).reshape(-1, 2),
        np.asarray(vals, np.int64),
        np.asarray([len(seqs), width], np.int64),
    )


@register_op(
    "CTCGreedyDecoder",
    num_outputs=4,
    infer=lambda i, a: [
        ((None, 2), dtypes.int64),
        ((None,), dtypes.int64),
        ((2,), dtypes.int64),
        (((dims(i[0]) or (None,) * 3)[1], 1), i[0].dtype),
    ],
)
def _greedy_kernel(inputs, seq_len, merge_repeated=True, blank_index=-1):
    x = np.asarray(inputs)
    blank = blank_index % x.shape[2]
    seqs, scores = [], []
    for b in range(x.shape[1]):
        t_len = int(seq_len[b])
        best = np.argmax(x[:t_len, b], axis=1)
        scores.append(-np.sum(np.max(x[:t_len, b], axis=1)) if t_len else 0.0)
        out = []
        for t, k in enumerate(best):
            if k != blank and not (merge_repeated and t > 0 and best[t - 1] == k):
                out.append(int(k))
        seqs.append(out)
    idx, vals, shape = _sparse_outputs(seqs)
    return idx, vals, shape, np.asarray(scores, x.dtype).reshape(-1, 1)


def ctc_greedy_decoder(inputs, sequence_length, merge_repeated=True, blank_index=None):
    """([SparseTensor of the best path per row], -sum of the best logits [batch, 1])."""
    from miniflow.ops.sparse_ops import SparseTensor

    idx, vals, shape, neg = apply_op(
        "CTCGreedyDecoder",
        inputs,
        _arr.cast(sequence_length, dtypes.int32),
        merge_repeated=bool(merge_repeated),
        blank_index=-1 if blank_index is None else int(blank_index),
    )
    return [SparseTensor(idx, vals, shape)], neg


def _add(beams, prefix, pb, pnb):
    """Accumulates (ending in blank, ending in label) log probabilities of ``prefix``."""
    ob, onb = beams.get(prefix, (-np.inf, -np.inf))
    beams[prefix] = (np.logaddexp(ob, pb), np.logaddexp(onb, pnb))


def _beam_search(logp, beam_width, top_paths, merge_repeated):
    """CTC prefix beam search over [T, C] log-probabilities (blank = last class)."""
    blank = logp.shape[1] - 1
    beams = {(): (0.0, -np.inf)}  # prefix -> (log p ending in blank, log p ending in label)
    for t in range(logp.shape[0]):
        nxt = {}
        for prefix, (pb, pnb) in beams.items():
            total = np.logaddexp(pb, pnb)
            _add(nxt, prefix, total + logp[t, blank], -np.inf)
            for k in range(blank):
                p = logp[t, k]
                if prefix and prefix[-1] == k:
                    _add(nxt, prefix, -np.inf, pnb + p)  # a repeat merges into the label
                    _add(nxt, prefix + (k,), -np.inf, pb + p)
                else:
                    _add(nxt, prefix + (k,), -np.inf, total + p)
        ranked = sorted(nxt.items(), key=lambda kv: -np.logaddexp(*kv[1]))
        beams = dict(ranked[:beam_width])
    ranked = sorted(beams.items(), key=lambda kv: -np.logaddexp(*kv[1]))[:top_paths]
    out = []
    for prefix, (pb, pnb) in ranked:
        seq = list(prefix)
        if merge_repeated:
            seq = [v for i, v in enumerate(seq) if i == 0 or v != seq[i - 1]]
        out.append((seq, float(np.logaddexp(pb, pnb))))
    return out


def _beam_kernel(inputs, seq_len, beam_width=100, top_paths=1, merge_repeated=True):
    x = np.asarray(inputs, np.float64)
    logp = x - _logsumexp(x, axis=2)[..., None]
    per_path = [[] for _ in range(top_paths)]
    scores = np.full((x.shape[1], top_paths), -np.inf)
    for b in range(x.shape[1]):
        found = _beam_search(logp[: int(seq_len[b]), b], beam_width, top_paths, merge_repeated)
        for p in range(top_paths):
            seq, score = found[p] if p < len(found) else ([], -np.inf)
            per_path[p].append(seq)
            scores[b, p] = score
    outs = []
    for seqs in per_path:
        outs.extend(_sparse_outputs(seqs))
    return tuple(outs) + (scores.astype(np.asarray(inputs).dtype),)


def _beam_infer(inputs, attrs):
    n = attrs["top_paths"]
    batch = (dims(inputs[0]) or (None,) * 3)[1]
    return [((None, 2), dtypes.int64), ((None,), dtypes.int64), ((2,), dtypes.int64)] * n + [
        ((batch, n), inputs[0].dtype)
    ]


register_op(
    "CTCBeamSearchDecoder", infer=_beam_infer, num_outputs=lambda a: 3 * a["top_paths"] + 1
)(_beam_kernel)
not_differentiable("CTCGreedyDecoder", "CTCBeamSearchDecoder")


def ctc_beam_search_decoder(
    inputs, sequence_length, beam_width=100, top_paths=1, merge_repeated=True
):
    """([top_paths SparseTensors], log probabilities [batch, top_paths]) by prefix beam
    search over the logits [max_time, batch, num_classes] (blank = last class)."""
    from miniflow.ops.sparse_ops import SparseTensor

    if top_paths > beam_width:
        raise ValueError("top_paths must be <= beam_width")
    outs = apply_op(
        "CTCBeamSearchDecoder",
        inputs,
        _arr.cast(sequence_length, dtypes.int32),
        beam_width=int(beam_width),
        top_paths=int(top_paths),
        merge_repeated=bool(merge_repeated),
    )
    decoded = [SparseTensor(*outs[3 * p : 3 * p + 3]) for p in range(top_paths)]
    return decoded, outs[-1]


def ctc_beam_search_decoder_v2(inputs, sequence_length, beam_width=100, top_paths=1):
    """`ctc_beam_search_decoder` with ``merge_repeated=False`` (TF2's behaviour)."""
    return ctc_beam_search_decoder(
        inputs, sequence_length, beam_width, top_paths, merge_repeated=False
    )


# ---------------------------------------------------------------------------------------
# Label utilities.


@register_op(
    "CTCUniqueLabels",
    num_outputs=2,
    infer=lambda i, a: [(dims(i[0]), dtypes.int64), (dims(i[0]), i[0].dtype)],
)
def _unique_labels_kernel(labels):
    labels = np.asarray(labels)
    ys, ids = np.zeros(labels.shape, np.int64), np.zeros_like(labels)
    for b, row in enumerate(labels):
        seen = {}
        for i, v in enumerate(row.tolist()):
            ids[b, i] = seen.setdefault(v, len(seen))
        ys[b, : len(seen)] = list(seen)
    return ys, ids


not_differentiable("CTCUniqueLabels")


def ctc_unique_labels(labels, name=None):
    """(the unique labels of each row, zero-padded; each label's index into them)."""
    return tuple(apply_op("CTCUniqueLabels", labels, name=name or "ctc_unique_labels"))


def collapse_repeated(labels, seq_length, name=None):
    """(labels with consecutive repeats merged and zero-padded, the new lengths)."""
    from miniflow.ops.gather_scatter_ops import scatter_nd
    from miniflow.ops.manip_ops import sequence_mask

    with _name_scope(name, "collapse_repeated_labels"):
        labels = _arr.convert_to_tensor(labels)
        seq_length = _arr.convert_to_tensor(seq_length)
        first = _arr.ones_like(labels[:, :1], dtype=dtypes.bool)
        label_mask = _arr.concat([first, _math.not_equal(labels[:, 1:], labels[:, :-1])], 1)
        maxlen = _arr.shape(labels)[1]
        label_mask = _math.logical_and(label_mask, sequence_mask(seq_length, maxlen))
        new_len = _math.reduce_sum(_arr.cast(label_mask, dtypes.int32), axis=1)
        new_maxlen = _math.reduce_max(new_len)
        idx_mask = _arr.reshape(sequence_mask(new_len, new_maxlen), [-1])
        flat_labels = _arr.reshape(labels, [-1])
        flat_label_mask = _arr.reshape(label_mask, [-1])
        idx = _arr.range(_arr.size(idx_mask))
        flat = scatter_nd(
            _arr.expand_dims(_arr.boolean_mask(idx, idx_mask), 1),
            _arr.boolean_mask(flat_labels, flat_label_mask),
            _arr.shape(idx_mask),
        )
        out = _arr.reshape(flat, _arr.stack([_arr.shape(labels)[0], new_maxlen]))
        return out, _arr.cast(new_len, seq_length.dtype)
