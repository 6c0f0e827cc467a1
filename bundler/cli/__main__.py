"""``python -m bundler.cli``: the same as the ``psbundle`` console script."""

from bundler.cli.commands import main

main()
