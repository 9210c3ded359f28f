"""One-line logging that works the same on both runtimes.

MicroPython has no ``logging``; a level threshold and a sink are all a device
needs.  Lines look like ``I session: opened 0x1234``.
"""

import sys

DEBUG = 10
INFO = 20
WARNING = 30
ERROR = 40

_LETTERS = {DEBUG: "D", INFO: "I", WARNING: "W", ERROR: "E"}

level = INFO
_sink = None


def set_level(new_level):
    global level
    level = new_level


def set_sink(function):
    """Send log lines to ``function(line)`` instead of stderr (None restores)."""
    global _sink
    _sink = function


def log(lvl, tag, message):
    if lvl < level:
        return
    line = _LETTERS.get(lvl, "?") + " " + tag + ": " + message
    if _sink is not None:
        _sink(line)
    else:
        sys.stderr.write(line + "\n")


def debug(tag, message):
    if DEBUG >= level:
        log(DEBUG, tag, message)


def info(tag, message):
    log(INFO, tag, message)


def warning(tag, message):
    log(WARNING, tag, message)


def error(tag, message):
    log(ERROR, tag, message)
