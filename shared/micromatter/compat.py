"""The few names that differ between MicroPython and CPython.

Modules import ``const`` from here so that ``X = const(1)`` is folded by
mpy-cross and is a plain value on CPython.
"""

import sys

IS_MICROPYTHON = sys.implementation.name == "micropython"

try:
    from micropython import const  # noqa: F401
except ImportError:  # CPython

    def const(value):
        return value


try:
    from micropython import native  # noqa: F401
except ImportError:  # CPython, or a port built without the native emitter

    def native(function):
        return function
