"""micromatter: a Matter device stack for MicroPython, with a CPython twin.

The package is the portable, sans-I/O core.  It never imports a runtime
specific module: crypto primitives, randomness, clock, storage and sockets are
handed in by a port (``micromatter_mp`` or ``micromatter_cpython``).
"""

__version__ = "0.1.0"
