"""miniflow_platform: the service that runs miniflow workloads for many users.

Training jobs, notebooks, model services and batch prediction jobs behind one REST
API (see ``docs/platform.md``). The package never imports the ``miniflow`` library:
workloads run as subprocesses through the ``miniflow`` command line.

Build the app with :func:`miniflow_platform.main.create_app`; start a server with
``miniflow-platform serve``. Importing this package has no side effects.
"""

__version__ = "0.1.0"
