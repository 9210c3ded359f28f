"""The MicroPython device entry point: a Matter light on the unix port (or a board).

    MICROPYPATH=.frozen:shared:mp micropython -m micromatter_mp.device --storage DIR [options]   # see runtime.USAGE

Parses the arguments, builds the port, the storage (a VFS directory), the ``Node`` and its sockets
(``micromatter.runtime.Device`` with ``micromatter_mp.net``) and runs the asyncio UDP loop until a stop
request: ``stop`` or the end of input on stdin (``--control-stdin``: how the ``micromatter`` CLI stops it),
SIGINT (KeyboardInterrupt), or ``--max-seconds``.  Then ``Node.stop`` closes the sessions, sends the mDNS
goodbyes and stores the records, and the process exits 0.  The unix port has no ``signal`` module: SIGTERM
sent to this process itself ends it at once, which is why the CLI turns SIGTERM into a stop request.

Heap figures (``gc``): ``heap`` on stdin prints an ``EVENT heap`` line (after a collection: ``alloc``,
``free``); with ``--heap-stats`` every node call is followed by a collection, and ``peak_alloc`` (the most
allocated at the end of a node call, garbage included) and ``peak_live`` (the most still referenced after it)
are kept; the last figures are printed at stop.
"""

import asyncio
import gc
import sys
from asyncio import core

from micromatter import log
from micromatter.runtime import Device, Options, options_from, write_line
from micromatter_mp import net
from micromatter_mp.loop import UdpLoop
from micromatter_mp.port import Port

_TAG = "device"


class Heap:
    """``gc`` figures for ``EVENT heap`` lines; with ``track`` the peaks over every node call."""

    def __init__(self, track=False):
        self.track = track
        self.calls = 0
        self.peak_alloc = 0
        self.peak_live = 0

    def after_call(self):
        if not self.track:
            return
        self.calls += 1
        a = gc.mem_alloc()
        if a > self.peak_alloc:
            self.peak_alloc = a
        gc.collect()
        a = gc.mem_alloc()
        if a > self.peak_live:
            self.peak_live = a

    def report(self):
        gc.collect()
        out = {"runtime": "micropython", "alloc": gc.mem_alloc(), "free": gc.mem_free()}
        if self.track:
            out["peak_alloc"] = self.peak_alloc
            out["peak_live"] = self.peak_live
            out["calls"] = self.calls
        return out


async def _control(device):
    """Control lines on stdin (``Device.command``: ``stop``, ``heap``); the end of input stops the device."""
    stdin = sys.stdin
    while True:
        yield core._io_queue.queue_read(stdin)
        if device.command(stdin.readline()):
            return


async def _serve(device, control):
    task = asyncio.create_task(_control(device)) if control else None
    try:
        await device.loop.run()
    finally:
        if task is not None:
            task.cancel()


def main(argv=None):
    """Run the device until it is asked to stop; the process's exit status."""
    options, status = options_from(argv)
    if options is None:
        return status
    port = Port()
    loop = UdpLoop(port.now_ms)
    device = Device(port, net, loop, options, write_line, Heap(options.heap_stats))
    if not device.start(port.now_ms()):
        return 1
    try:
        asyncio.run(_serve(device, options.control_stdin))
    except KeyboardInterrupt:
        log.info(_TAG, "interrupted: stopping")
    device.stop(port.now_ms())
    return 0


def run_board(config, storage, interfaces, on_event=None, log_level="info"):
    """A board's entry point (``boards/esp32/main.py``): no argv, an interface already up.

    ``config``: the node's ``DeviceConfig`` (from the board's verifier, never a passcode; its ``port``, MAC as
    ``host`` and addresses set); ``storage``: the node's ``Storage`` (littlefs or NVS); ``interfaces``: this
    module's ``interfaces`` for the board, one interface (``names``, ``exists``, ``choose``, ``addresses``,
    ``mac``, ``ifindex``); ``on_event(event)``: every node event after it is printed (the light's GPIO).
    Runs until KeyboardInterrupt (Ctrl-C at the REPL), then stops the node; returns the ``Device``.  Errors
    while opening (``OSError``, ``MatterError``) propagate: the board says why it does not run."""
    options = Options()
    options.port = config.port
    options.interface = interfaces.choose()
    options.storage = "board"
    options.log_level = log_level
    net.interfaces = interfaces  # the board's one interface replaces the /proc view of the unix port
    port = Port()
    loop = UdpLoop(port.now_ms)
    device = Device(port, net, loop, options, write_line, Heap(), config=config, storage=storage,
                    on_event=on_event)
    try:
        device.open(port.now_ms())
    except BaseException:
        loop.close()
        raise
    try:
        asyncio.run(_serve(device, False))
    except KeyboardInterrupt:
        log.info(_TAG, "interrupted: stopping")
    device.stop(port.now_ms())
    return device


if __name__ == "__main__":
    sys.exit(main())
