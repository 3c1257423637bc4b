"""A complete TF1-style program: flags, tf.data input, training with summaries and
checkpoints, and a SavedModel export. Run by test_end_to_end.py."""

import numpy as np

import miniflow as tf

flags = tf.app.flags
flags.DEFINE_string("workdir", None, "where checkpoints, logs and the export go")
flags.DEFINE_integer("epochs", 3, "passes over the data")
flags.DEFINE_float("learning_rate", 0.5, "SGD step size")
flags.mark_flag_as_required("workdir")
FLAGS = flags.FLAGS


def main(argv):
    tf.logging.set_verbosity(tf.logging.INFO)
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(64, 2)).astype(np.float32)
    ys = (xs @ np.array([[2.0], [-3.0]], np.float32) + 1.0).astype(np.float32)
    np.save(f"{FLAGS.workdir}/xs.npy", xs)

    features = tf.placeholder(tf.float32, [None, 2], name="features")
    labels = tf.placeholder(tf.float32, [None, 1], name="labels")
    it = (
        tf.data.Dataset.from_tensor_slices((features, labels))
        .shuffle(64, seed=1)
        .batch(16)
        .repeat(FLAGS.epochs)
        .make_initializable_iterator()
    )
    x, y = it.get_next()
    w = tf.get_variable("w", [2, 1], initializer=tf.zeros_initializer())
    b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
    step = tf.Variable(0, name="global_step", trainable=False)
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
    train = tf.train.GradientDescentOptimizer(FLAGS.learning_rate).minimize(loss, global_step=step)
    tf.summary.scalar("loss", loss)
    merged = tf.summary.merge_all()
    # The serving graph shares the variables but reads a placeholder, not the iterator.
    serve_x = tf.placeholder(tf.float32, [None, 2], name="serve_x")
    prediction = tf.add(tf.matmul(serve_x, w), b, name="prediction")

    saver = tf.train.Saver(max_to_keep=2)
    tf.gfile.MakeDirs(f"{FLAGS.workdir}/ckpt")  # Saver.save needs the directory, as in TF
    config = tf.ConfigProto(gpu_options=tf.GPUOptions(allow_growth=True))
    with tf.Session(config=config) as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(it.initializer, {features: xs, labels: ys})
        writer = tf.summary.FileWriter(f"{FLAGS.workdir}/logs", sess.graph)
        while True:
            try:
                _, summary, s = sess.run([train, merged, step])
            except tf.errors.OutOfRangeError:
                break
            writer.add_summary(summary, s)
            if s % 4 == 0:
                saver.save(sess, f"{FLAGS.workdir}/ckpt/model", global_step=s)
        writer.close()
        tf.logging.info("trained %d steps", sess.run(step))
        tf.saved_model.simple_save(
            sess, f"{FLAGS.workdir}/export/1", {"x": serve_x}, {"y": prediction}
        )
    return 0


if __name__ == "__main__":
    tf.app.run()
