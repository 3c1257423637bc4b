"""Where each microsecond of a W1 step goes, in graph and in eager mode (README.md).

Graph mode: one `sess.run([train, loss], feed_dict)`, then the plan function alone, the
feed conversions, and every kernel of the plan called alone on the values it sees.
Eager mode: one step (tape, backward, optimizer update), then each phase of it alone.
Timings are the best of 5 repeats; a kernel called alone runs slightly slower than inside
the plan (colder caches), so the parts need not add up exactly.
"""

from __future__ import annotations

import timeit

import numpy as np

import miniflow as tf


def per_call(fn, n):
    return min(timeit.repeat(fn, number=n, repeat=5)) / n * 1e6


def graph_rows(n):
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
    total = per_call(lambda: sess.run(fetches, feed), n)
    body = per_call(lambda: plan.fn(*feed.values()), n)
    env = plan.fn.__globals__
    converters = [env[f"_c{i}"] for i in range(len(feed))]
    rows = [
        ("`Session.run` total", total),
        ("  signature lookup and result (run - plan)", total - body),
        ("  generated plan function", body),
        (
            "    feed conversions",
            sum(per_call(lambda c=c, v=v: c(v), n) for c, v in zip(converters, feed.values())),
        ),
    ]
    # each kernel of the plan, in plan order, on the values a real step gives it
    vals = dict(zip(plan.feeds, [c(v) for c, v in zip(converters, feed.values())]))
    kernels = {
        op: env[line.split("= ")[-1].split("(")[0].strip("(")] for line, op in _plan_lines(plan)
    }
    kernel_total = 0.0
    for op, kernel in kernels.items():
        args = [vals[t] if t in vals else t.op.attrs.get("value") for t in op.inputs]
        out = kernel(*args)
        for t, v in zip(op.outputs, out if op.opdef.num_outputs != 1 else [out]):
            vals[t] = v
        cost = per_call(lambda kernel=kernel, args=args: kernel(*args), n)
        kernel_total += cost
        rows.append((f"    {op.type} `{op.name}`", cost))
    rows.append(("    sum of the kernels, each called alone", kernel_total))
    return rows


def _plan_lines(plan):
    """(source line, op) for each kernel call of the plan, in order."""
    src = plan.fn.source.splitlines()
    for lineno, op in sorted((k, op) for k, op in plan.lines.items() if k != "file"):
        yield src[lineno - 1].strip(), op


def eager_rows(n):
    with tf.eager_mode():
        w, b = tf.Variable(0.0), tf.Variable(0.0)
        opt = tf.train.GradientDescentOptimizer(0.01)
        x, y = np.float32(0.5), np.float32(11.0)

        def forward():
            with tf.GradientTape() as tape:
                loss = tf.square(y - (w * x + b))
            return tape, loss

        def step():
            tape, loss = forward()
            opt.apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b]))
            return float(loss)

        def forward_untaped():
            return tf.square(y - (w * x + b))

        def forward_and_gradient():
            tape, loss = forward()
            return tape.gradient(loss, [w, b])

        for _ in range(3):
            step()  # two sweeps traced, the plan compiled
        grads = forward_and_gradient()
        total = per_call(step, n)
        fwd = per_call(forward, n)
        rows = [
            ("eager step total", total),
            ("  forward: 2 variable reads, Mul, Add, Sub, Square, with the tape", fwd),
            ("    the same ops without a tape", per_call(forward_untaped, n)),
            (
                "    `GradientTape()` enter and exit",
                per_call(lambda: tf.GradientTape().__enter__().__exit__(), n),
            ),
            (
                "  `tape.gradient`: find the plan, replay 5 kernels, wrap 2 tensors",
                per_call(forward_and_gradient, n) - fwd,
            ),
            (
                "  `apply_gradients`: 2 ApplyGradientDescent",
                per_call(lambda: opt.apply_gradients(zip(grads, [w, b])), n),
            ),
        ]
        return rows


def main(n=20000):
    for title, rows in (("graph mode", graph_rows(n)), ("eager mode", eager_rows(n))):
        print(f"\n{title}\n\n| part | µs/step |\n|---|---:|")
        for name, us in rows:
            print(f"| {name} | {us:.2f} |")


if __name__ == "__main__":
    main()
