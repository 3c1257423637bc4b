"""`tf.resource_loader`: paths of data files that sit beside the calling script."""

from __future__ import annotations

import inspect
import os
import sys


def get_data_files_path():
    """The directory of the file that calls this."""
    return os.path.dirname(inspect.getfile(sys._getframe(1)))


def get_path_to_datafile(path):
    """``path`` relative to the directory of the file that calls this."""
    return os.path.join(os.path.dirname(inspect.getfile(sys._getframe(1))), path)


def readahead_file_path(path, readahead="128M"):
    """``path`` unchanged: read-ahead is a hint for TF's remote file systems."""
    return path
