"""`tf.io.gfile`: the lower-case spelling of `tf.gfile`."""

from miniflow.gfile import Copy as copy  # noqa: A004
from miniflow.gfile import DeleteRecursively as rmtree
from miniflow.gfile import Exists as exists
from miniflow.gfile import GFile as GFile
from miniflow.gfile import Glob as glob
from miniflow.gfile import IsDirectory as isdir
from miniflow.gfile import ListDirectory as listdir
from miniflow.gfile import MakeDirs as makedirs
from miniflow.gfile import MkDir as mkdir
from miniflow.gfile import Remove as remove
from miniflow.gfile import Rename as rename
from miniflow.gfile import Stat as stat
from miniflow.gfile import Walk as walk
