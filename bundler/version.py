"""The package version (the one in ``pyproject.toml``), in a module of its own so
that any module can import it without importing the package ``__init__``."""

__version__ = "0.1.0"
