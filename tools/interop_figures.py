#!/usr/bin/env python3
"""Interop figures of one device against the real controllers, measured in one run (needs root).

    .venv/bin/python tools/interop_figures.py --device reference        # the matter.js reference light
    .venv/bin/python tools/interop_figures.py --device micromatter      # micromatter's light
    .venv/bin/python tools/interop_figures.py --device-cmd 'CMD ... {storage} {port} {passcode} {discriminator}'

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
- ``device_peak_rss``: the device's peak RSS (VmHWM from /proc, summed over its processes if it has several,
  each listed), the highest over its runs; sampled just before each stop.

Device restarts are SIGKILL (a power cut) unless ``--restart term``.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "interop"))

import interop_harness as harness  # noqa: E402


class Figures:
    def __init__(self, device_name, restart):
        self.device = device_name
        self.restart = restart
        self.failed = []

    def emit(self, name, value, unit, **extra):
        obj = {"name": name, "device": self.device, "value": value, "unit": unit}
        obj.update(extra)
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


def measure(spec, figs, rundir):
    with harness.NetnsPair() as netns:
        device = harness.Device(netns, spec, rundir)
        chip = harness.ChipController(netns, os.path.join(rundir, "chip"))
        mjs = harness.MjsController(netns, os.path.join(rundir, "mjs"))
        try:
            device.start(timeout=90)
            figs.emit("device_online", round(device.online_s * 1000), "ms", storage="empty")

            c = chip.run("commission", ip=netns.dev_ip4, port=device.port, passcode=device.passcode, nodeid=1)
            if not c.ok:
                raise harness.HarnessError("CHIP commission failed: " + c.explain())
            figs.emit("chip_commission", c["elapsed_ms"], "ms", pase_ms=c["pase_ms"], case=c["case"])
            figs.emit("chip_pase", c["pase_ms"], "ms")

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

            try:
                read2 = session_after_restart(chip, device, figs.restart, expire=False)
                figs.emit("chip_stale_session_read", round(sum(a["elapsed_ms"] for a in read2), 1), "ms",
                          attempts=len(read2), first_error=read2[0].get("error"), case=read2[-1]["case"],
                          restart=figs.restart)
            except harness.HarnessError as e:
                figs.fail("chip_stale_session_read", e)

            w = chip.run("open-window", nodeid=1)
            m = mjs.run("commission", ip=netns.dev_ip4, port=device.port, passcode=w["passcode"]) if w.ok \
                else None
            if m is not None and m.ok:
                figs.emit("mjs_commission", m["elapsed_ms"], "ms", case=m["case"])
                try:
                    read2 = session_after_restart(mjs, device, figs.restart, expire=False)
                    figs.emit("mjs_stale_session_read", sum(a["elapsed_ms"] for a in read2), "ms",
                              attempts=len(read2), first_error=read2[0].get("error"), case=read2[-1]["case"],
                              restart=figs.restart)
                except harness.HarnessError as e:
                    figs.fail("mjs_stale_session_read", e)
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


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--device", choices=sorted(harness.DEVICE_SPECS), default="reference")
    g.add_argument("--device-cmd", help="device command with {storage} {port} {passcode} {discriminator} {log}")
    p.add_argument("--name", help="the device's name in the figures (default: --device, or 'custom')")
    p.add_argument("--restart", choices=("kill", "term"), default="kill", help="how the device is restarted")
    p.add_argument("--keep", action="store_true", help="keep the run directory (logs) and print its path")
    a = p.parse_args(argv)

    reason = harness.unavailable_reason()
    if reason:
        log("cannot run: " + reason)
        return 2
    spec = harness.device_from_template(a.device_cmd, a.name or "custom") if a.device_cmd \
        else harness.DEVICE_SPECS[a.device]
    reason = spec.unavailable_reason()
    if reason:
        log("cannot run %s: %s" % (spec.name, reason))
        return 2
    harness.sweep_stale()
    figs = Figures(a.name or spec.name, a.restart)
    rundir = tempfile.mkdtemp(prefix="mm-interop-figures-")
    t = time.monotonic()
    try:
        measure(spec, figs, rundir)
    except harness.HarnessError as e:
        figs.fail("run", e)
    finally:
        if a.keep:
            log("run directory kept: " + rundir)
        else:
            shutil.rmtree(rundir, ignore_errors=True)
    log("done in %.0f s%s" % (time.monotonic() - t, ", failed: " + " ".join(figs.failed) if figs.failed else ""))
    return 1 if figs.failed else 0


if __name__ == "__main__":
    sys.exit(main())
