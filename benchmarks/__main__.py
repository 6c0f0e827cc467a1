"""``python -m benchmarks``: the benchmark suite (see :mod:`benchmarks.runner`)."""

import sys

from benchmarks.runner import main

if __name__ == "__main__":
    sys.exit(main())
