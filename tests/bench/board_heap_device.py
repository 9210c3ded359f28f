"""The device half of ``bench_board``: a board's light under the unix port, driven over stdin/stdout.

    micropython -X heapsize=N tests/bench/board_heap_device.py --lib build/x64 --board build/board-x64 \
        --config DIR/micromatter.json --att DIR/micromatter.att --storage DIR/storage

Boots as ``boards/esp32/main.py`` does once the network is up (board config, storage, attestation record
installed and loaded, ``DeviceConfig``, ``Node``, start) with the library imported from .mpy files (their
bytecode lives in the heap, as with ``tools/deploy``), then serves the node to the bench's commissioner over
pipes, on the bench's fake clock: no sockets, so no network namespace is needed and runs are repeatable.
The heap measured is the node's and the code's; the asyncio loop, sockets and the Wi-Fi driver's buffers of a
board are not in it (the driver's are not in MicroPython's heap at all on an ESP32).

Lines in: ``s NOW`` start, ``d NOW SRC LEN`` a datagram (its LEN raw bytes follow the line), ``p NOW`` poll,
``h TAG`` heap figures, ``q`` quit.  Lines out: ``h {json}`` heap figures, ``o CHANNEL ADDR LEN`` an output
(ADDR ``*`` for the mDNS group; its LEN raw bytes follow), ``e {json}`` a node event, ``l TEXT`` a warning or
error log line, ``n DEADLINE`` (or ``n -``) closing every answer to s/d/p, ``x TEXT`` a fatal error (the
process then exits 3).  Datagrams travel as raw bytes, not hex: the serving itself allocates what a board's
loop does (one bytes object per datagram in) and no multi-kilobyte text, so the smallest heap measured is
the device's.
"""

import gc
import sys

gc.collect()
_BASE = gc.mem_alloc()


def _argv():
    args = {}
    argv = sys.argv[1:]
    for i in range(0, len(argv) - 1, 2):
        args[argv[i]] = argv[i + 1]
    return args


ARGS = _argv()
sys.path[:] = [p for p in sys.path if p == ".frozen"]
sys.path.append(ARGS["--lib"])
sys.path.append(ARGS["--board"])

import json  # noqa: E402


def out(line):
    sys.stdout.write(line + "\n")


def heap(tag, **extra):
    gc.collect()
    figures = {"tag": tag, "alloc": gc.mem_alloc(), "free": gc.mem_free()}
    figures.update(extra)
    out("h " + json.dumps(figures))


def fatal(e):
    try:
        sys.print_exception(e, sys.stderr)
    except MemoryError:
        pass
    try:
        out("x %s: %s" % (type(e).__name__, e))
    except MemoryError:
        out("x MemoryError")
    sys.exit(3)


# Everything a board imports to run the light: the node and its layers, the board package, and the runtime
# pieces of the device entry point (loop, network helpers) where they exist in this tree.
MODULES = ("micromatter_board.config", "micromatter_board.attestation", "micromatter_mp.port",
           "micromatter_mp.storage", "micromatter.node", "micromatter.runtime", "micromatter_mp.loop",
           "micromatter_mp.net", "micromatter_mp.device")
try:
    missing = []
    for name in MODULES:
        try:
            __import__(name)
        except ImportError as e:
            missing.append("%s (%s)" % (name, e))
    from micromatter import log
    from micromatter.node import MULTICAST, Node
    from micromatter_board import attestation, config
    from micromatter_mp.port import Port
    from micromatter_mp.storage import VfsStorage

    gc.collect()
    heap("imported", code=gc.mem_alloc() - _BASE, modules=len(sys.modules), missing=missing)
except MemoryError as e:
    fatal(e)


def _log_sink(line):
    if line[:1] in ("W", "E"):
        out("l " + line)


def boot():
    """What main.py does after Wi-Fi: config, storage, attestation record, DeviceConfig, Node."""
    log.set_sink(_log_sink)
    log.set_level(log.WARNING)
    port = Port()
    board = config.load(ARGS["--config"])
    storage = VfsStorage(ARGS["--storage"])
    attestation.install(storage, ARGS["--att"])
    material = attestation.load(port.crypto, storage, board.vendor_id, board.product_id)
    device = board.device_config(material, host=b"\x02\x00\x00\x00\x00\x01", ipv4=("10.77.0.1",))
    return Node(port, storage, device)


TRACE = "--trace" in ARGS and ARGS["--trace"] == "1"


def traced(call, *args):
    """With ``--trace 1``: the call runs with the collector off and the bytes it allocated (garbage included)
    are reported as ``t BYTES``: how much one call needs at most on top of the live heap."""
    if not TRACE:
        return call(*args)
    gc.collect()
    before = gc.mem_alloc()
    gc.disable()
    try:
        result = call(*args)
    finally:
        allocated = gc.mem_alloc() - before
        gc.enable()
    out("t %d" % allocated)
    return result


def answer(node, outs):
    write = sys.stdout.buffer.write
    for channel, data, address in outs:
        out("o %s %s %d" % (channel, "*" if address == MULTICAST else address, len(data)))
        write(data)
    for event in node.events.take():
        out("e " + json.dumps(event))
    d = node.next_deadline()
    out("n " + ("-" if d is None else str(d)))


def read_exact(n):
    """The next ``n`` raw bytes of stdin (one bytes object, as a board's loop copies a datagram)."""
    data = sys.stdin.buffer.read(n)
    while len(data) < n:
        more = sys.stdin.buffer.read(n - len(data))
        if not more:
            out("x stdin ended inside a datagram")
            sys.exit(2)
        data += more
    return data


def serve(node):
    readline = sys.stdin.readline
    while True:
        line = readline()
        if not line or line[0] == "q":
            return
        parts = line.split()
        kind = parts[0]
        if kind == "h":
            heap(parts[1] if len(parts) > 1 else "request")
            continue
        now = int(parts[1])
        if kind == "s":
            answer(node, traced(node.start, now))
        elif kind == "d":
            answer(node, traced(node.on_datagram, read_exact(int(parts[3])), parts[2], now))
        elif kind == "p":
            answer(node, traced(node.poll, now))
        else:
            out("x unknown command " + kind)
            sys.exit(2)


try:
    NODE = boot()
    heap("built")
    serve(NODE)
except MemoryError as e:
    fatal(e)
except Exception as e:  # a bench run reports every failure as a line, then fails
    fatal(e)
