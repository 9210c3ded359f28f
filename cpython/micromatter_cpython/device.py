"""The CPython twin's device entry point: the same light, the same core, on CPython's asyncio.

    python -m micromatter_cpython.device --storage DIR [options]      # see micromatter.runtime.USAGE

The twin of ``micromatter_mp.device``: ``micromatter.runtime.Device`` over this port's ``Port``, ``net`` and
``UdpLoop``.  SIGINT and SIGTERM stop it cleanly (``Node.stop``: CloseSession, mDNS goodbyes, records stored;
exit status 0), SIGUSR1 prints an ``EVENT heap`` line (resident set size: this runtime's memory figure);
``--control-stdin`` takes the same ``stop``/``heap`` lines as the MicroPython device.
"""

import asyncio
import signal
import sys

from micromatter.runtime import Device, options_from, write_line
from micromatter_cpython import net
from micromatter_cpython.loop import UdpLoop
from micromatter_cpython.port import Port


def status_kb(field):
    """A ``kB`` field of /proc/self/status (VmRSS, VmHWM), or None."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


class Heap:
    """This runtime's memory figures: the resident set now and at its peak (kB)."""

    def after_call(self):
        pass

    def report(self):
        return {"runtime": "cpython", "rss_kb": status_kb("VmRSS"), "peak_rss_kb": status_kb("VmHWM")}


def _report_heap(device):
    if device.runner is not None:
        device.runner.report_heap("request")


async def _serve(device, control):
    aio = asyncio.get_running_loop()
    if control:
        aio.add_reader(sys.stdin.fileno(), lambda: device.command(sys.stdin.readline()))
    try:
        await device.loop.run()
    finally:
        if control:
            aio.remove_reader(sys.stdin.fileno())


SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)


def main(argv=None):
    """Run the device until it is asked to stop; the process's exit status."""
    options, status = options_from(argv)
    if options is None:
        return status
    port = Port()

    async def run():
        loop = UdpLoop(port.now_ms)
        device = Device(port, net, loop, options, write_line, Heap())
        aio = asyncio.get_running_loop()
        # before anything is printed: a stop or heap request must never meet the default actions
        aio.add_signal_handler(signal.SIGINT, loop.stop)
        aio.add_signal_handler(signal.SIGTERM, loop.stop)
        aio.add_signal_handler(signal.SIGUSR1, _report_heap, device)
        try:
            if not device.start(port.now_ms()):
                return 1
            try:
                await _serve(device, options.control_stdin)
            finally:
                device.stop(port.now_ms())
            return 0
        finally:
            for sig in SIGNALS:
                aio.remove_signal_handler(sig)

    return asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
