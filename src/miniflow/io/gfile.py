"""`tf.io.gfile`: the lower-case spelling of `tf.gfile`."""

import os

from miniflow import gfile as _gfile

GFile = _gfile.GFile
copy = _gfile.Copy
exists = _gfile.Exists
glob = _gfile.Glob
isdir = _gfile.IsDirectory
listdir = _gfile.ListDirectory
makedirs = _gfile.MakeDirs
mkdir = _gfile.MkDir
remove = _gfile.Remove
rename = _gfile.Rename
rmtree = _gfile.DeleteRecursively
stat = _gfile.Stat
walk = _gfile.Walk


def join(path, *paths):
    """Joins path components with "/" (URL-style paths such as ``gs://b/x`` keep their
    scheme, as TF's ``tf.io.gfile.join``)."""
    return os.path.join(path, *paths)


def get_registered_schemes():
    """The file-system schemes miniflow reads: plain local paths only (TF also lists
    "file", "gs", "ram", ...)."""
    return [""]
