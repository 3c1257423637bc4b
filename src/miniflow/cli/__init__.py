"""The `miniflow` command line: one module per subcommand."""
