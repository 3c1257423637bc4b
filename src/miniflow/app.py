"""`tf.app`: ``run(main)`` parses the flags and calls ``main(argv)``."""

from __future__ import annotations

import sys

from miniflow import flags as flags


def run(main=None, argv=None):
    """Parses flags from ``argv`` (default ``sys.argv``), then exits with
    ``main(remaining_argv)``'s return value. Unknown flags are left in the argv given to
    ``main``, as TF1's ``tf.app.run`` does.

    Example:
        >>> tf.app.flags.DEFINE_integer("steps", 100, "training steps")
        >>> def main(argv): train(tf.app.flags.FLAGS.steps)
        >>> if __name__ == "__main__": tf.app.run()
    """
    args = sys.argv if argv is None else argv
    try:
        remaining = flags.FLAGS(args, known_only=True)
    except flags.Error as e:
        print(f"FATAL Flags parsing error: {e}", file=sys.stderr)
        sys.exit(1)
    main = main or sys.modules["__main__"].main
    sys.exit(main(remaining))
