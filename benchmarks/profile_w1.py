"""Where each microsecond of a W1 graph-mode step goes (see README.md).

Times one `sess.run([train, loss], feed_dict)` and then each piece of it on the same
values: the session's lookup of the compiled plan, the feed conversions, and every
kernel call of the generated plan function.
"""

from __future__ import annotations

import timeit

import numpy as np

import miniflow as tf


def main(n=20000):
    x = tf.placeholder(tf.float32, name="x")
    y = tf.placeholder(tf.float32, name="y")
    w = tf.Variable(0.0, name="w")
    b = tf.Variable(0.0, name="b")
    loss = tf.square(y - (w * x + b))
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    feed = {x: np.float32(0.5), y: np.float32(11.0)}
    fetches = [train, loss]
    sess.run(fetches, feed)
    plan = next(p for k, p in sess._plans.items() if k[1])

    def per_call(fn):
        return min(timeit.repeat(fn, number=n, repeat=5)) / n * 1e6

    total = per_call(lambda: sess.run(fetches, feed))
    body = per_call(lambda: plan.fn(*feed.values()))
    rows = [("Session.run total", total), ("  signature lookup + result (run - plan)", total - body),
            ("  generated plan function", body)]
    # replay each kernel call of the plan on the values it sees in a real step
    env = plan.fn.__globals__
    src_lines = sorted((k, op) for k, op in plan.lines.items() if k != "file")
    values = {t: None for t in []}
    conv = [env[f"_c{i}"] for i in range(len(feed))]
    rows.append(("    feed conversions", sum(per_call(lambda c=c, v=v: c(v))
                                           for c, v in zip(conv, feed.values()))))
    kernel_total = 0.0
    # evaluate tensors once to get realistic inputs
    vals = dict(zip(plan.feeds, [c(v) for c, v in zip(conv, feed.values())]))
    for _, op in src_lines:
        args = [vals[t] if t in vals else t.op.attrs.get("value") for t in op.inputs]
        k = next(v for kk, v in env.items() if kk.startswith("k") and getattr(v, "__name__", "")
                 == "" and False) if False else None
        kernel = plan.fn.__globals__[[kk for kk in env if kk.startswith("k")][
            [o for _, o in src_lines].index(op)]]
        out = kernel(*args)
        for t, v in zip(op.outputs, out if op.opdef.num_outputs != 1 else [out]):
            vals[t] = v
        cost = per_call(lambda kernel=kernel, args=args: kernel(*args))
        kernel_total += cost
        rows.append((f"    {op.type:<22} {op.name}", cost))
    rows.append(("    sum of kernels", kernel_total))
    rows.append(("    generated-code glue (plan - kernels - feeds)",
                 body - kernel_total - rows[3][1]))
    print("| part | µs/step |\n|---|---:|")
    for name, us in rows:
        print(f"| {name} | {us:.2f} |")


if __name__ == "__main__":
    main()
