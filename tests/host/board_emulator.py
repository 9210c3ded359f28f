"""An ESP32 board emulated on the unix MicroPython port: runs ``boards/esp32/main.py`` unchanged with stand-ins
for the two board-only modules, ``network`` (a WLAN station that is connected at once and reports ``--ip`` and a
fixed MAC) and ``machine`` (a ``Pin`` that prints ``PIN <n> <level>`` on every change).

    micropython tests/host/board_emulator.py --lib build/x64 --board DIR --config FILE --att FILE --ip 127.0.0.1

Everything else is the board's code path: the JSON config, the attestation record installed into storage,
``micromatter_mp.device.run_board`` with the asyncio UDP loop and real sockets (run it inside a network
namespace).  The process runs until it is killed.
"""

import sys


def _args():
    args = {}
    argv = sys.argv[1:]
    for i in range(0, len(argv) - 1, 2):
        args[argv[i]] = argv[i + 1]
    return args


ARGS = _args()
sys.path[:] = [p for p in sys.path if p == ".frozen"] + ARGS["--lib"].split(":") + [ARGS["--board"]]
MAC = b"\x02\x00\x00\xbe\xef\x01"


def _say(text):
    sys.stdout.write(text + "\n")


class _WLAN:
    def __init__(self, interface):
        self.connected = False

    def active(self, on=None):
        return True

    def isconnected(self):
        return self.connected

    def connect(self, ssid, password):
        _say("WIFI connect %s" % ssid)
        self.connected = True

    def disconnect(self):
        self.connected = False

    def status(self):
        return 1010

    def ifconfig(self):
        return (ARGS["--ip"], "255.0.0.0", "0.0.0.0", "0.0.0.0")

    def config(self, name):
        if name == "mac":
            return MAC
        raise ValueError(name)

    def ipconfig(self, name):
        raise ValueError("no IPv6 on this firmware")


class network:
    STA_IF = 0
    WLAN = _WLAN

    @staticmethod
    def hostname(name):
        _say("HOSTNAME %s" % name)


class _Pin:
    OUT = 1

    def __init__(self, number, mode):
        self.number = number
        self.level = None

    def value(self, level):
        if level != self.level:
            self.level = level
            _say("PIN %d %d" % (self.number, level))


class machine:
    Pin = _Pin


sys.modules["network"] = network
sys.modules["machine"] = machine

from micromatter_board import attestation, config  # noqa: E402

config.CONFIG_PATH = ARGS["--config"]
attestation.ATTESTATION_PATH = ARGS["--att"]
with open(ARGS.get("--main", "boards/esp32/main.py")) as f:
    source = f.read()
exec(source, {"__name__": "__main__"})
