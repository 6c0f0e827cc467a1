"""The ``psbundle`` command line (typer): one module per group of commands."""

from bundler.cli.commands import app, main

__all__ = ["app", "main"]
