"""Notebooks: a Jupyter server per request, on a free loopback port, culled when idle."""
