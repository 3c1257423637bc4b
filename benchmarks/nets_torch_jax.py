"""W5-W8 in PyTorch (eager) and JAX (`jax.jit`), on the data and initial values of
nets_data.py. Optimizers follow TF1's update formulas where the library's own differs in
a way that changes the loss (RMSProp's accumulator starts at 1 in TF1); Adam is
PyTorch's own (its epsilon sits outside the bias correction, a difference of ~1e-8)."""

from __future__ import annotations

import nets_data as D
import numpy as np
from nets_tf import _timed


# ----------------------------------------------------------------------------- PyTorch
def _lstm_torch(torch, k, b):
    """nn.LSTM with BasicLSTMCell's weights: gate order i, f, g, o; forget bias folded in."""
    lstm = torch.nn.LSTM(D.FEAT, D.UNITS, batch_first=True)
    u = D.UNITS
    order = np.r_[0:u, 2 * u : 3 * u, u : 2 * u, 3 * u : 4 * u]  # i, f, j, o of TF's i, j, f, o
    bias = b.copy()
    bias[2 * u : 3 * u] += 1.0
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(k[: D.FEAT, order].T)))
        lstm.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(k[D.FEAT :, order].T)))
        lstm.bias_ih_l0.copy_(torch.from_numpy(bias[order]))
        lstm.bias_hh_l0.zero_()
    return lstm


def torch_run(workload, steps, threads):
    import torch
    import torch.nn.functional as F

    if threads:
        torch.set_num_threads(threads)
    T = torch.from_numpy
    if workload == "W5":
        x, y = D.images()
        p = [torch.tensor(v, requires_grad=True) for v in D.cnn_init()]
        w1, b1, w2, b2, w3, b3, w4, b4 = p
        k1 = w1.detach().permute(3, 2, 0, 1).contiguous().requires_grad_()
        k2 = w2.detach().permute(3, 2, 0, 1).contiguous().requires_grad_()
        params = [k1, b1, k2, b2, w3, b3, w4, b4]

        def loss_fn(it):
            h = F.max_pool2d(F.relu(F.conv2d(it[0], k1, b1, padding=2)), 2)
            h = F.max_pool2d(F.relu(F.conv2d(h, k2, b2, padding=2)), 2)
            h = F.relu(h.permute(0, 2, 3, 1).reshape(-1, 3136) @ w3 + b3)  # NHWC flatten
            return F.cross_entropy(h @ w4 + b4, it[1])

        items = [
            (T(a).permute(0, 3, 1, 2).contiguous(), T(b))
            for a, b in D.batches(workload, x, y, steps)
        ]
        groups = [(loss_fn, torch.optim.Adam(params, D.LR[workload]))]
    elif workload == "W6":
        x, y = D.sequences()
        k, b, wo0, bo0 = D.lstm_init()
        lstm = _lstm_torch(torch, k, b)
        wo, bo = torch.tensor(wo0, requires_grad=True), torch.tensor(bo0, requires_grad=True)

        def loss_fn(it):
            _, (h, _) = lstm(it[0])
            return F.cross_entropy(h[0] @ wo + bo, it[1])

        items = [(T(a), T(b)) for a, b in D.batches(workload, x, y, steps)]
        groups = [(loss_fn, torch.optim.Adam([*lstm.parameters(), wo, bo], D.LR[workload]))]
    elif workload == "W7":
        p = [torch.tensor(v, requires_grad=True) for v in D.ae_init()]

        def loss_fn(it):
            h = it
            for i in range(0, 8, 2):
                h = h @ p[i] + p[i + 1]
                h = torch.sigmoid(h) if i == 6 else torch.relu(h)
            return ((h - it) ** 2).mean()

        items = [T(a) for a in D.ae_batches(D.ae_data(), steps)]
        groups = [(loss_fn, _TF1RMSProp(torch, p, D.LR[workload]))]
    elif workload == "W8":
        p = [torch.tensor(v, requires_grad=True) for v in D.gan_init()]

        def gen(z):
            return torch.sigmoid(torch.relu(z @ p[0] + p[1]) @ p[2] + p[3])

        def disc(v):
            return torch.relu(v @ p[4] + p[5]) @ p[6] + p[7]

        def bce(logits, label):
            target = torch.ones_like(logits) if label else torch.zeros_like(logits)
            return F.binary_cross_entropy_with_logits(logits, target)

        lr = D.LR[workload]
        items = [tuple(T(a) for a in it) for it in D.gan_batches(steps)]
        groups = [
            (
                lambda it: bce(disc(it[0]), 1) + bce(disc(gen(it[1])), 0),
                torch.optim.Adam(p[4:], lr, betas=(0.5, D.B2)),
            ),
            (lambda it: bce(disc(gen(it[2])), 1), torch.optim.Adam(p[:4], lr, betas=(0.5, D.B2))),
        ]
    else:
        raise SystemExit(f"unknown workload {workload}")

    def step(it):
        total = 0.0
        for loss_fn, opt in groups:
            opt.zero_grad()
            loss = loss_fn(it)
            loss.backward()
            opt.step()
            total += loss.item()
        return total

    return _timed(step, items)


class _TF1RMSProp:
    """TF1's RMSProp: ms starts at 1, var -= lr g / sqrt(ms + eps)."""

    def __init__(self, torch, params, lr):
        self.params, self.lr, self.torch = params, lr, torch
        self.ms = [torch.ones_like(q) for q in params]

    def zero_grad(self):
        for q in self.params:
            q.grad = None

    def step(self):
        with self.torch.no_grad():
            for q, ms in zip(self.params, self.ms):
                ms.mul_(D.RMS_DECAY).addcmul_(q.grad, q.grad, value=1 - D.RMS_DECAY)
                q.addcdiv_(q.grad, (ms + D.RMS_EPS).sqrt_(), value=-self.lr)


# ----------------------------------------------------------------------------- JAX
def jax_run(workload, steps, threads):
    import jax
    import jax.numpy as jnp
    from jax import lax

    def xent(logits, labels):
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), labels[:, None], 1))

    def dense(h, w, b, act=None):
        return act(h @ w + b) if act else h @ w + b

    if workload == "W5":
        x, y = D.images()

        def pool(h):
            return lax.reduce_window(h, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "SAME")

        def conv(h, w, b):
            dn = ("NHWC", "HWIO", "NHWC")
            return jax.nn.relu(
                lax.conv_general_dilated(h, w, (1, 1), "SAME", dimension_numbers=dn) + b
            )

        def loss_fn(p, it):
            h = pool(conv(pool(conv(it[0], p[0], p[1])), p[2], p[3]))
            return xent(
                dense(dense(h.reshape(-1, 3136), p[4], p[5], jax.nn.relu), p[6], p[7]), it[1]
            )

        init, items, groups = (
            D.cnn_init(),
            D.batches(workload, x, y, steps),
            [(loss_fn, slice(0, 8), "adam", D.B1)],
        )
    elif workload == "W6":
        x, y = D.sequences()

        def loss_fn(p, it):
            def cell(state, xt):
                c, h = state
                i, j, f, o = jnp.split(jnp.concatenate([xt, h], 1) @ p[0] + p[1], 4, 1)
                c = c * jax.nn.sigmoid(f + 1.0) + jax.nn.sigmoid(i) * jnp.tanh(j)
                h = jnp.tanh(c) * jax.nn.sigmoid(o)
                return (c, h), None

            zero = jnp.zeros((it[0].shape[0], D.UNITS), jnp.float32)
            (_, h), _ = lax.scan(cell, (zero, zero), jnp.swapaxes(it[0], 0, 1))
            return xent(dense(h, p[2], p[3]), it[1])

        init, items, groups = (
            D.lstm_init(),
            D.batches(workload, x, y, steps),
            [(loss_fn, slice(0, 4), "adam", D.B1)],
        )
    elif workload == "W7":

        def loss_fn(p, it):
            h = it
            for i in range(0, 8, 2):
                h = dense(h, p[i], p[i + 1], jax.nn.sigmoid if i == 6 else jax.nn.relu)
            return jnp.mean((h - it) ** 2)

        init, items = D.ae_init(), [(a,) for a in D.ae_batches(D.ae_data(), steps)]
        groups = [(lambda p, it: loss_fn(p, it[0]), slice(0, 8), "rmsprop", None)]
    elif workload == "W8":

        def gen(p, z):
            return dense(dense(z, p[0], p[1], jax.nn.relu), p[2], p[3], jax.nn.sigmoid)

        def disc(p, v):
            return dense(dense(v, p[4], p[5], jax.nn.relu), p[6], p[7])

        def bce(logits, label):
            return jnp.mean(
                jnp.maximum(logits, 0) - logits * label + jnp.log1p(jnp.exp(-jnp.abs(logits)))
            )

        init, items = D.gan_init(), D.gan_batches(steps)
        groups = [
            (
                lambda p, it: bce(disc(p, it[0]), 1.0) + bce(disc(p, gen(p, it[1])), 0.0),
                slice(4, 8),
                "adam",
                0.5,
            ),
            (lambda p, it: bce(disc(p, gen(p, it[2])), 1.0), slice(0, 4), "adam", 0.5),
        ]
    else:
        raise SystemExit(f"unknown workload {workload}")
    lr = D.LR[workload]

    def make(loss_fn, sl, kind, b1):
        @jax.jit
        def step(p, state, t, it):
            loss, g = jax.value_and_grad(loss_fn)(p, it)
            new_p, new_state = list(p), list(state)
            for i in range(sl.start, sl.stop):
                if kind == "adam":
                    m, v = state[i]
                    m = b1 * m + (1 - b1) * g[i]
                    v = D.B2 * v + (1 - D.B2) * g[i] * g[i]
                    lr_t = lr * jnp.sqrt(1 - D.B2**t) / (1 - b1**t)
                    new_p[i] = p[i] - lr_t * m / (jnp.sqrt(v) + D.EPS)
                    new_state[i] = (m, v)
                else:
                    ms = D.RMS_DECAY * state[i] + (1 - D.RMS_DECAY) * g[i] * g[i]
                    new_p[i] = p[i] - lr * g[i] / jnp.sqrt(ms + D.RMS_EPS)
                    new_state[i] = ms
            return new_p, new_state, loss

        return step

    fns = [(make(*g), g[2]) for g in groups]
    box = {"p": [jnp.asarray(v) for v in init], "t": 0}
    box["s"] = [
        [
            (jnp.zeros_like(v), jnp.zeros_like(v)) if kind == "adam" else jnp.ones_like(v)
            for v in box["p"]
        ]
        for _, kind in fns
    ]

    def step(it):
        box["t"] += 1
        total = 0.0
        for k, (fn, _) in enumerate(fns):
            box["p"], box["s"][k], loss = fn(box["p"], box["s"][k], np.float32(box["t"]), it)
            total += float(loss)
        return total

    return _timed(step, items)
