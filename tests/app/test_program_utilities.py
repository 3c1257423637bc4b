"""tf.app.flags / tf.app.run, tf.logging, tf.gfile and the accepted-and-ignored configs."""

import logging
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import miniflow as tf
from miniflow import flags as flags_module


def _env():
    src = os.path.dirname(os.path.dirname(os.path.abspath(tf.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def test_flags_parse_types_booleans_and_errors():
    fv = flags_module.FlagValues()
    flags_module.DEFINE_string("name", "x", "a name", flag_values=fv)
    flags_module.DEFINE_integer("steps", 10, "steps", lower_bound=1, flag_values=fv)
    flags_module.DEFINE_float("lr", 0.1, "rate", flag_values=fv)
    flags_module.DEFINE_boolean("fast", True, "speed", flag_values=fv)
    flags_module.DEFINE_bool("debug", False, "debug", flag_values=fv)
    flags_module.DEFINE_list("layers", ["a"], "layers", flag_values=fv)
    flags_module.DEFINE_enum("mode", "train", ["train", "eval"], "mode", flag_values=fv)
    rest = fv(
        [
            "prog",
            "--name=run1",
            "pos",
            "--steps",
            "7",
            "--lr=0.5",
            "--nofast",
            "--debug",
            "--layers=64,32",
            "--mode=eval",
            "--",
            "--steps=1",
        ]
    )
    assert rest == ["prog", "pos", "--steps=1"]
    assert (fv.name, fv.steps, fv.lr, fv.fast, fv.debug, fv.layers, fv.mode) == (
        "run1",
        7,
        0.5,
        False,
        True,
        ["64", "32"],
        "eval",
    )
    fv.unparse_flags()
    with pytest.raises(flags_module.UnrecognizedFlagError, match="nope"):
        fv(["prog", "--nope=1"])
    assert fv(["prog", "--nope=1", "--steps=3"], known_only=True) == ["prog", "--nope=1"]
    for bad in (["--steps=0"], ["--steps=abc"], ["--mode=test"], ["--fast=maybe"]):
        with pytest.raises(flags_module.IllegalFlagValueError):
            fv(["prog", *bad])
    with pytest.raises(flags_module.DuplicateFlagError):
        flags_module.DEFINE_string("name", "y", "again", flag_values=fv)


def test_app_run_parses_flags_and_exits_with_main_result(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(
        textwrap.dedent("""
        import miniflow as tf
        FLAGS = tf.app.flags.FLAGS
        tf.app.flags.DEFINE_integer("batch_size", 32, "batch size")
        tf.flags.DEFINE_string("out", "", "where")

        def main(argv):
            with open(FLAGS.out, "w") as f:
                f.write(f"{FLAGS.batch_size} {argv[1:]}")
            return 3

        if __name__ == "__main__":
            tf.app.run()
    """)
    )
    out = tmp_path / "out.txt"
    r = subprocess.run(
        [sys.executable, str(script), f"--out={out}", "--batch_size", "8", "extra", "--unknown=1"],
        env=_env(),
        capture_output=True,
        timeout=60,
    )
    assert r.returncode == 3, r.stderr
    assert out.read_text() == "8 ['extra', '--unknown=1']"
    r = subprocess.run(
        [sys.executable, str(script), "--batch_size=x"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and "batch_size" in r.stderr


def test_logging_levels(caplog):
    old = tf.logging.get_verbosity()
    try:
        with caplog.at_level(logging.DEBUG, logger="miniflow"):
            tf.logging.set_verbosity(tf.logging.WARN)
            tf.logging.info("hidden %d", 1)
            tf.logging.warning("shown %d", 2)
            tf.logging.set_verbosity(tf.logging.INFO)
            assert tf.logging.get_verbosity() == tf.logging.INFO
            tf.logging.info("now shown")
            for i in range(5):
                tf.logging.log_every_n(tf.logging.INFO, "every %d", 2, i)
                tf.logging.log_first_n(tf.logging.ERROR, "first %d", 1, i)
    finally:
        tf.logging.set_verbosity(old)
    messages = [r.getMessage() for r in caplog.records if r.name == "miniflow"]
    assert messages == ["shown 2", "now shown", "every 0", "first 0", "every 2", "every 4"]


def test_gfile_matches_the_file_system(tmp_path):
    d = str(tmp_path / "a" / "b")
    tf.gfile.MakeDirs(d)
    tf.gfile.MakeDirs(d)  # exists: fine
    assert tf.gfile.IsDirectory(d) and tf.gfile.Exists(d)
    with tf.gfile.GFile(os.path.join(d, "f.txt"), "w") as f:
        f.write("héllo\nworld\n")
    with tf.gfile.Open(os.path.join(d, "f.txt")) as f:
        assert f.readlines() == ["héllo\n", "world\n"]
    with tf.gfile.GFile(os.path.join(d, "f.txt"), "rb") as f:
        assert f.read() == "héllo\nworld\n".encode()
        assert f.size() == len("héllo\nworld\n".encode())
    assert tf.gfile.ListDirectory(d) == ["f.txt"]
    assert tf.gfile.Glob(os.path.join(d, "*.txt")) == [os.path.join(d, "f.txt")]
    tf.gfile.Copy(os.path.join(d, "f.txt"), os.path.join(d, "g.txt"))
    with pytest.raises(tf.errors.AlreadyExistsError):
        tf.gfile.Rename(os.path.join(d, "g.txt"), os.path.join(d, "f.txt"))
    tf.gfile.Rename(os.path.join(d, "g.txt"), os.path.join(d, "f.txt"), overwrite=True)
    assert sorted(os.listdir(d)) == ["f.txt"]
    assert tf.gfile.Stat(os.path.join(d, "f.txt")).length == 13
    tf.gfile.Remove(os.path.join(d, "f.txt"))
    for fn, arg in [
        (tf.gfile.Remove, "f.txt"),
        (tf.gfile.ListDirectory, "nodir"),
        (tf.gfile.DeleteRecursively, "nodir"),
        (tf.gfile.GFile, "nofile"),
    ]:
        with pytest.raises(tf.errors.NotFoundError):
            fn(os.path.join(d, arg))
    with pytest.raises(tf.errors.AlreadyExistsError):
        tf.gfile.MkDir(d)
    tf.gfile.DeleteRecursively(str(tmp_path / "a"))
    assert not os.path.exists(tmp_path / "a")
    assert tf.io.gfile.exists(str(tmp_path)) and tf.io.gfile.listdir(str(tmp_path)) == []


def test_configs_are_accepted_and_checked_like_protos():
    config = tf.ConfigProto(
        allow_soft_placement=True,
        device_count={"GPU": 0},
        gpu_options=tf.GPUOptions(per_process_gpu_memory_fraction=0.4),
    )
    config.gpu_options.allow_growth = True
    assert config.gpu_options.allow_growth and config.intra_op_parallelism_threads == 0
    assert tf.ConfigProto().gpu_options.allow_growth is False  # defaults are not shared
    with pytest.raises(ValueError, match='no "allow_growht" field'):
        tf.GPUOptions(allow_growht=True)
    tf.reset_default_graph()
    with tf.Session(config=config) as sess:
        options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
        assert (
            sess.run(tf.constant(np.float32(2.5)), options=options, run_metadata=tf.RunMetadata())
            == 2.5
        )


def test_task_level_status_message_logs_at_error_level(caplog):
    import logging

    import miniflow as tf

    with caplog.at_level(logging.ERROR):
        tf.logging.TaskLevelStatusMessage("task 3 done")
    assert any(
        r.levelno == logging.ERROR and "task 3 done" in r.getMessage() for r in caplog.records
    )
