"""`python -m holomind` is the `holomind` command."""

from holomind.cli.main import main

main()
