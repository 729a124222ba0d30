"""The `holomind` command line: one module per command group."""
