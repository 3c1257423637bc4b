"""Programs the executors run. They call the `miniflow` CLI; they never run in the server."""
