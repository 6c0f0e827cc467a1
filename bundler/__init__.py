"""ps-bundler: bundle Social Forestry units into landscape-scale carbon projects."""

__version__ = "0.1.0"
