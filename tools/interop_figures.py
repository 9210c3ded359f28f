#!/usr/bin/env python3
"""Interop figures of one device against the real controllers, measured in one run (needs root).

    .venv/bin/python tools/interop_figures.py --device reference        # the matter.js reference light
    .venv/bin/python tools/interop_figures.py --device micromatter      # micromatter's light (unix MicroPython)
    .venv/bin/python tools/interop_figures.py --all --table FILE        # every device below, side by side
    .venv/bin/python tools/interop_figures.py --device-cmd 'CMD ... {storage} {port} {passcode} {discriminator}'

Devices: ``micromatter`` (unix MicroPython port), ``micromatter-cpython`` (the CPython twin),
``micromatter-no-snf`` (MicroPython, not answering unknown sessions with SessionNotFound: what that answer
is worth to each controller), ``reference`` (matter.js). ``--device`` is repeatable; ``--all`` runs them all,
one after the other, each in its own namespace pair, and ``--table`` writes the figures side by side
(markdown).

Prints one JSON object per figure on stdout, ``{"name", "device", "value", "unit", ...}``; progress goes to
stderr. The run uses the interop harness (tests/interop): its own namespace pair, the device inside it,
controllers in the other namespace, everything bounded and cleaned up. Figures:

- ``device_online``: device start to its online event, on empty storage.
- ``chip_commission``: CHIP commissioning (PASE, attestation, CSR/NOC, operational discovery, CASE,
  CommissioningComplete), the controller's own measure; ``chip_pase`` is the PASE part.
- ``chip_resumed_session_after_restart``: after a device restart, a controller that kept running calls
  ExpireSessions and reads: the time to its new session (operational discovery + CASE resumption, Sigma2_Resume
  expected; ``case`` says what happened), the read itself in ``read_ms``.
- ``chip_full_case``: a new controller process: time to its session (operational discovery + full CASE), the
  read in ``read_ms``.
- ``chip_stale_session_read`` / ``mjs_stale_session_read``: after a device restart, the first read of a
  controller that kept running *without* expiring its session: time from the start of that read until data
  arrived, failed attempts on the stale session included.
- ``mjs_commission``: matter.js commissioning as a second fabric (window opened by CHIP).
- ``mjs_read_after_clean_restart`` / ``chip_read_after_clean_restart``: the same stale-session read after a
  clean restart (SIGTERM): a device that closes its sessions when it stops (CloseSession) spares the
  controllers their retransmissions.
- ``device_peak_rss``: the device's peak RSS (VmHWM from /proc, summed over its processes if it has several,
  each listed), the highest over its runs; sampled just before each stop.
- ``device_heap_idle``, ``device_heap_one_fabric``, ``device_heap_two_fabrics`` (devices that report their
  heap): the device's own figure on request (SIGUSR1 -> ``EVENT heap``) after start, after CHIP's
  commissioning, after matter.js's: ``gc.mem_alloc()`` after a collection under MicroPython, RSS on CPython.
- ``device_heap_peak_alloc`` / ``device_heap_peak_live`` (MicroPython, ``--heap-pass``): a second run with
  ``--heap-stats`` (a collection after every node call; its timings are not reported): CHIP commissions,
  reads, toggles and subscribes, matter.js commissions and reads; the most ``gc.mem_alloc()`` seen at the end
  of a node call (garbage of that call included) and after its collection.

Device restarts are SIGKILL (a power cut) unless ``--restart term``.
"""

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "interop"))

import interop_harness as harness  # noqa: E402


MICROMATTER_NO_SNF = harness.MICROMATTER_DEVICE.variant("micromatter-no-snf", "--session-not-found", "off")
DEVICES = dict(harness.DEVICE_SPECS)
DEVICES[MICROMATTER_NO_SNF.name] = MICROMATTER_NO_SNF
ALL = ("micromatter", "micromatter-cpython", "micromatter-no-snf", "reference")


class Figures:
    def __init__(self, device_name, restart):
        self.device = device_name
        self.restart = restart
        self.failed = []
        self.values = {}  # name -> the figure's JSON object

    def emit(self, name, value, unit, **extra):
        obj = {"name": name, "device": self.device, "value": value, "unit": unit}
        obj.update(extra)
        self.values[name] = obj
        print(json.dumps(obj), flush=True)

    def fail(self, name, why):
        self.failed.append(name)
        log("FAILED %s: %s" % (name, why))


def log(text):
    print("interop_figures: " + text, file=sys.stderr, flush=True)


def session_after_restart(controller, device, how, expire):
    """One controller process reads, the device restarts, the same process reads again: its read-2 attempts."""
    run = controller.read_across_restart(device, expire, kill=(how == "kill"), retries=2)
    log("device restarted (%s), online after %.1f s" % (how, device.online_s))
    attempts = run.where(op="read", read_no=2)
    if not attempts or not attempts[-1].get("ok"):
        raise harness.HarnessError("read 2 failed: %s" % run.explain())
    return attempts


def stale_read(figs, name, controller, device, how):
    """A controller that kept its session reads after a device restart (``how``: kill or term), no
    ExpireSessions: the time until data came, failed attempts on the dead session included."""
    try:
        read2 = session_after_restart(controller, device, how, expire=False)
    except harness.HarnessError as e:
        figs.fail(name, e)
        return
    figs.emit(name, round(sum(a["elapsed_ms"] for a in read2), 1), "ms", attempts=len(read2),
              first_error=read2[0].get("error"), case=read2[-1]["case"], restart=how)


@contextlib.contextmanager
def rig(spec, rundir):
    """A namespace pair with ``spec``'s device (stopped at the end) and both controllers."""
    with harness.NetnsPair() as netns:
        device = harness.Device(netns, spec, rundir)
        try:
            yield (netns, device, harness.ChipController(netns, os.path.join(rundir, "chip")),
                   harness.MjsController(netns, os.path.join(rundir, "mjs")))
        finally:
            device.stop()


def heap_figure(figs, device, name):
    """The device's heap figure now (devices that report it): gc.mem_alloc() or RSS."""
    try:
        h = device.heap()
    except harness.HarnessError as e:
        figs.fail(name, e)
        return
    if h is None:
        return
    extra = {k: v for k, v in h.items() if k not in ("event", "reason")}
    if "alloc" in h:
        figs.emit(name, h["alloc"], "B", **extra)
    else:
        figs.emit(name, h["rss_kb"], "kB", **extra)


def measure(spec, figs, rundir):
    with rig(spec, rundir) as (netns, device, chip, mjs):
        try:
            device.start(timeout=90)
            figs.emit("device_online", round(device.online_s * 1000), "ms", storage="empty")
            heap_figure(figs, device, "device_heap_idle")

            c = chip.run("commission", ip=netns.dev_ip4, port=device.port, passcode=device.passcode, nodeid=1)
            if not c.ok:
                raise harness.HarnessError("CHIP commission failed: " + c.explain())
            figs.emit("chip_commission", c["elapsed_ms"], "ms", pase_ms=c["pase_ms"], case=c["case"])
            figs.emit("chip_pase", c["pase_ms"], "ms")
            heap_figure(figs, device, "device_heap_one_fabric")

            try:
                read2 = session_after_restart(chip, device, figs.restart, expire=True)
                last = read2[-1]
                figs.emit("chip_resumed_session_after_restart", last["session_ms"], "ms", case=last["case"],
                          read_ms=last["read_ms"], attempts=len(read2), restart=figs.restart)
            except harness.HarnessError as e:
                figs.fail("chip_resumed_session_after_restart", e)

            r = chip.run("read", nodeid=1)
            if r.ok:
                figs.emit("chip_full_case", r["session_ms"], "ms", case=r["case"], read_ms=r["read_ms"])
            else:
                figs.fail("chip_full_case", r.explain())

            stale_read(figs, "chip_stale_session_read", chip, device, figs.restart)

            w = chip.run("open-window", nodeid=1)
            m = mjs.run("commission", ip=netns.dev_ip4, port=device.port, passcode=w["passcode"]) if w.ok \
                else None
            if m is not None and m.ok:
                figs.emit("mjs_commission", m["elapsed_ms"], "ms", case=m["case"])
                heap_figure(figs, device, "device_heap_two_fabrics")
                stale_read(figs, "mjs_stale_session_read", mjs, device, figs.restart)
                stale_read(figs, "mjs_read_after_clean_restart", mjs, device, "term")
                stale_read(figs, "chip_read_after_clean_restart", chip, device, "term")
            else:
                figs.fail("mjs_commission", (m or w).explain())
        finally:
            device.stop()
            if device.peak_rss:
                top = max(device.peak_rss, key=lambda s: s["kb"])
                figs.emit("device_peak_rss", top["kb"], "kB", run=top["run"], runs=len(device.peak_rss),
                          processes=[{"comm": p["comm"], "kb": p["kb"]} for p in top["processes"]])
            else:
                figs.fail("device_peak_rss", "no sample")


def heap_pass(spec, figs, rundir):
    """MicroPython heap peaks over commissioning by both controllers (the device runs with --heap-stats)."""
    spec = spec.variant(spec.name, "--heap-stats")
    with rig(spec, rundir) as (netns, device, chip, mjs):
        device.start(timeout=90)
        steps = [chip.run("commission", ip=netns.dev_ip4, port=device.port, passcode=device.passcode, nodeid=1)]
        steps += [chip.run("read", nodeid=1), chip.run("toggle", nodeid=1),
                  chip.run("subscribe", nodeid=1, changes=1)]
        w = chip.run("open-window", nodeid=1)
        steps.append(w)
        if w.ok:
            steps += [mjs.run("commission", ip=netns.dev_ip4, port=device.port, passcode=w["passcode"]),
                      mjs.run("read"), chip.run("read", nodeid=1)]
        failed = [x.op for x in steps if not x.ok]
    stop = device.events(event="heap", reason="stop")
    if failed or not stop or "peak_alloc" not in stop[-1]:
        figs.fail("device_heap_peak", "failed steps %s, heap events %s" % (failed, stop))
        return
    h = stop[-1]
    figs.emit("device_heap_peak_alloc", h["peak_alloc"], "B", calls=h["calls"], scenario="2 fabrics")
    figs.emit("device_heap_peak_live", h["peak_live"], "B", calls=h["calls"], alloc_at_stop=h["alloc"])


def value_text(obj):
    if obj is None:
        return "-"
    v, unit = obj["value"], obj["unit"]
    if unit == "ms":
        return "%.1f s" % (v / 1000.0) if v >= 10000 else "%d ms" % round(v)
    if unit == "B":
        return "%.0f KB" % (v / 1024.0)
    if unit == "kB":
        return "%.1f MB" % (v / 1024.0)
    return "%s %s" % (v, unit)


def table(all_figs):
    """The figures side by side, one column per device (markdown)."""
    names = []
    for f in all_figs:
        for n in f.values:
            if n not in names:
                names.append(n)
    lines = ["| figure | " + " | ".join(f.device for f in all_figs) + " |",
             "|---|" + "---|" * len(all_figs)]
    for n in names:
        lines.append("| `%s` | " % n + " | ".join(value_text(f.values.get(n)) for f in all_figs) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--device", action="append", choices=sorted(DEVICES), help="repeatable (default: reference)")
    g.add_argument("--all", action="store_true", help="every device: " + ", ".join(ALL))
    g.add_argument("--device-cmd", help="device command with {storage} {port} {passcode} {discriminator} {log}")
    p.add_argument("--name", help="the device's name in the figures (default: --device, or 'custom')")
    p.add_argument("--restart", choices=("kill", "term"), default="kill", help="how the device is restarted")
    p.add_argument("--heap-pass", action="store_true",
                   help="also run the heap-peak pass for devices that report their heap (MicroPython)")
    p.add_argument("--table", help="write the figures side by side (markdown) to this file")
    p.add_argument("--keep", action="store_true", help="keep the run directory (logs) and print its path")
    a = p.parse_args(argv)

    reason = harness.unavailable_reason()
    if reason:
        log("cannot run: " + reason)
        return 2
    if a.device_cmd:
        specs = [harness.device_from_template(a.device_cmd, a.name or "custom")]
    else:
        specs = [DEVICES[n] for n in (ALL if a.all else a.device or ["reference"])]
    for spec in specs:
        reason = spec.unavailable_reason()
        if reason:
            log("cannot run %s: %s" % (spec.name, reason))
            return 2
    harness.sweep_stale()
    all_figs = []
    t = time.monotonic()
    for spec in specs:
        figs = Figures(a.name if a.name and len(specs) == 1 else spec.name, a.restart)
        all_figs.append(figs)
        rundir = tempfile.mkdtemp(prefix="mm-interop-figures-")
        log("device %s: run directory %s" % (spec.name, rundir))
        try:
            measure(spec, figs, rundir)
            if a.heap_pass and spec.heap and spec.name == "micromatter":
                heap_pass(spec, figs, os.path.join(rundir, "heap"))
        except harness.HarnessError as e:
            figs.fail("run", e)
        finally:
            if a.keep:
                log("run directory kept: " + rundir)
            else:
                shutil.rmtree(rundir, ignore_errors=True)
    failed = [f.device + ":" + n for f in all_figs for n in f.failed]
    text = table(all_figs)
    log("figures side by side:\n" + text)
    if a.table:
        with open(a.table, "w") as f:
            f.write(text)
    log("done in %.0f s%s" % (time.monotonic() - t, ", failed: " + " ".join(failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
