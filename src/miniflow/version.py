"""`tf.version`: build constants, describing miniflow honestly (it is pure Python, so
there is no compiler, C++ ABI or git build stamp of its own)."""

import platform as _platform

VERSION = "1.15.0-miniflow"  # the TF1 API level miniflow implements
GIT_VERSION = "unknown"  # TF's value for a build made outside a git checkout
COMPILER_VERSION = f"Python {_platform.python_version()} ({_platform.python_compiler()})"
# The graph format miniflow reads and writes is its own JSON body, version 1: no TF
# GraphDef version range applies, so the consumer and producer minimums are 0 as in TF.
GRAPH_DEF_VERSION = 1
GRAPH_DEF_VERSION_MIN_CONSUMER = 0
GRAPH_DEF_VERSION_MIN_PRODUCER = 0
CXX11_ABI_FLAG = 0
CXX_VERSION = 0
MONOLITHIC_BUILD = 0

__all__ = [
    "COMPILER_VERSION",
    "GIT_VERSION",
    "GRAPH_DEF_VERSION",
    "GRAPH_DEF_VERSION_MIN_CONSUMER",
    "GRAPH_DEF_VERSION_MIN_PRODUCER",
    "VERSION",
]
