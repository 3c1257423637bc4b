"""`tf.io.gfile`: the lower-case spelling of `tf.gfile`."""

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
