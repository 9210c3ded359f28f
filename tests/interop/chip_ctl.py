#!/usr/bin/env python3
"""CHIP (connectedhomeip) Python controller for micromatter's interop tests (home-assistant-chip-core 2025.7.0).

Run it only through chip-ctl.sh, which puts it into the controller network namespace and remaps the wheel's
hard-coded /tmp and /data paths into the controller's HOME. Every outcome is printed on stdout as one line
    RESULT {"op": ..., "ok": true|false, "elapsed_ms": ..., "pase": bool, "case": "new"|"resumed"|"reused", ...}
"case" is taken from the native CHIP log of this process: "Received Sigma2Resume msg" -> resumed,
"Received Sigma2 msg" -> new (full CASE), neither -> an existing session was reused.
The native CHIP log (detail level) goes to --log (default HOME/logs/chip-<op>-<time>-<pid>.log).

Subcommands:
  start        start the controller stack and stop it again (checks the installation and the remapping)
  commission   --ip IP --port PORT --passcode N --nodeid N    EstablishPASESessionIP + Commission
  read         --nodeid N        BasicInformation VendorName/ProductName/VendorID/ProductID/UniqueID,
                                 CommissionedFabrics
                                 + OnOff (ep 1, if present)
  toggle       --nodeid N        OnOff.Toggle on endpoint 1, with OnOff read before and after
  subscribe    --nodeid N [--changes N] [--external]
               subscribe to OnOff (ep 1), print SUBSCRIBED {...} with the priming value, then wait for N reports
               of a changed value: caused by this controller's own Toggle commands, or with --external by
               someone else (another admin); each report's delay is measured
  open-window  --nodeid N        open an enhanced commissioning window (random passcode) for another admin
  remove-fabric --nodeid N [--fabric-index K]
               OperationalCredentials.RemoveFabric of fabric K (default: this controller's own fabric)
  session-loop --nodeid N --reads N [--expire] [--trigger PATH]
               one controller process, N reads; before read i (i>=2) wait for file PATH.i (bounded), and with
               --expire call ExpireSessions(nodeid) first so the read needs a new CASE session
"""
import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import time

CONTROLLER_NODE_ID = 112233
FABRIC_ID = 1
ADMIN_VENDOR_ID = 0xFFF1

START_WALL = time.time()


def now_ms(since):
    return round((time.monotonic() - since) * 1000, 1)


def errstr(e):
    text = str(e) or ("timed out" if isinstance(e, (asyncio.TimeoutError, TimeoutError)) else "")
    return f"{type(e).__name__}: {text}"[:300]


def emit(tag, obj):
    print(f"{tag} {json.dumps(obj, default=str)}", flush=True)


class SessionProbe(logging.Handler):
    """Records secure-channel milestones from the native CHIP log (redirected into Python logging)."""

    PATTERNS = (
        ("pase", "Remote device completed SPAKE2+ handshake"),
        ("case-new", "Received Sigma2 msg"),
        ("case-resumed", "Received Sigma2Resume msg"),
        ("attestation-ok", "Successfully finished commissioning step 'AttestationVerification'"),
        ("pase-failed", "Secure Pairing Failed"),
    )
    STEP = "Successfully finished commissioning step '"

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.events = []
        self.errors = []
        self.steps = []

    def emit(self, record):
        msg = record.getMessage()
        for kind, pattern in self.PATTERNS:
            if pattern in msg:
                self.events.append(kind)
        at = msg.find(self.STEP)
        if at >= 0:
            self.steps.append(msg[at + len(self.STEP):].split("'", 1)[0])
        if record.levelno >= logging.ERROR:
            self.errors.append(f"{record.name.rsplit('.', 1)[-1]}: {msg}"[:300])

    def mark(self):
        return len(self.events), len(self.errors), len(self.steps)

    def since(self, mark):
        ev = self.events[mark[0]:]
        case = "resumed" if "case-resumed" in ev else "new" if "case-new" in ev else "reused"
        return {"pase": "pase" in ev, "case": case, "attestation_ok": "attestation-ok" in ev,
                "pase_failed": "pase-failed" in ev, "commissioning_steps": self.steps[mark[2]:],
                "native_errors": self.errors[mark[1]:][-5:]}


def setup_logging(path):
    if path == "-":
        stream = sys.stderr
    else:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        stream = open(path, "a", buffering=1)
        # A few native lines bypass the log redirection and printf to fd 1: point fd 1 at the log file and
        # keep the original stdout (RESULT lines only) as sys.stdout.
        sys.stdout.flush()
        real_stdout = os.dup(1)
        os.dup2(stream.fileno(), 1)
        sys.stdout = os.fdopen(real_stdout, "w", buffering=1)

    class Fmt(logging.Formatter):
        def format(self, r):
            return f"[+{r.created - START_WALL:9.3f}] {r.name.replace('chip.native.', 'CHIP:')}: {r.getMessage()}"

    handler = logging.StreamHandler(stream)
    handler.setFormatter(Fmt())
    probe = SessionProbe()
    for lg in (logging.getLogger(), logging.getLogger("chip")):
        lg.setLevel(logging.DEBUG)
        lg.addHandler(handler)
    logging.getLogger("chip").addHandler(probe)
    logging.getLogger("chip").propagate = False
    import chip.logging
    chip.logging.RedirectToPythonLogging()
    chip.logging.SetLogFilter(chip.logging.LOG_CATEGORY_DETAIL)
    return probe


class Controller:
    """ChipStack + CertificateAuthority + FabricAdmin + device controller, all from one JSON storage file."""

    def __init__(self, storage, paa):
        os.makedirs(os.path.dirname(os.path.abspath(storage)), exist_ok=True)
        import chip.native
        import chip.CertificateAuthority
        from chip.ChipStack import ChipStack

        chip.native.Init()
        self.stack = ChipStack(persistentStoragePath=storage, enableServerInteractions=False)
        self.ca_mgr = chip.CertificateAuthority.CertificateAuthorityManager(chipStack=self.stack)
        self.ca_mgr.LoadAuthoritiesFromStorage()
        if not self.ca_mgr.activeCaList:
            ca = self.ca_mgr.NewCertificateAuthority()
            ca.NewFabricAdmin(vendorId=ADMIN_VENDOR_ID, fabricId=FABRIC_ID)
        elif not self.ca_mgr.activeCaList[0].adminList:
            self.ca_mgr.activeCaList[0].NewFabricAdmin(vendorId=ADMIN_VENDOR_ID, fabricId=FABRIC_ID)
        admin = self.ca_mgr.activeCaList[0].adminList[0]
        # NewController re-issues the controller's own NOC on every start; the SDK then drops all stored
        # CASE resumption records, so the first CASE of every controller process is a full CASE.
        self.dev = admin.NewController(nodeId=CONTROLLER_NODE_ID, paaTrustStorePath=paa)

    def shutdown(self):
        try:
            self.dev.Shutdown()
        except Exception:  # noqa: BLE001
            pass
        self.ca_mgr.Shutdown()
        self.stack.Shutdown()


async def read_info(dev, nodeid):
    import chip.clusters as Clusters
    from chip.clusters.Attribute import ValueDecodeFailure
    BI = Clusters.BasicInformation.Attributes
    OC = Clusters.OperationalCredentials.Attributes
    paths = [(0, BI.VendorName), (0, BI.ProductName), (0, BI.VendorID), (0, BI.ProductID), (0, BI.UniqueID),
             (0, OC.CommissionedFabrics), (1, Clusters.OnOff.Attributes.OnOff)]
    res = await dev.ReadAttribute(nodeid, paths)
    bi = res[0][Clusters.BasicInformation]
    out = {"VendorName": bi[BI.VendorName], "ProductName": bi[BI.ProductName],
           "VendorID": int(bi[BI.VendorID]), "ProductID": int(bi[BI.ProductID]), "UniqueID": bi[BI.UniqueID],
           "CommissionedFabrics": int(res[0][Clusters.OperationalCredentials][OC.CommissionedFabrics]),
           "OnOff": None}
    onoff = res.get(1, {}).get(Clusters.OnOff, {}).get(Clusters.OnOff.Attributes.OnOff)
    if onoff is not None and not isinstance(onoff, ValueDecodeFailure):
        out["OnOff"] = bool(onoff)
    return out


async def read_fabric_info(dev, nodeid):
    """(this controller's fabric index on the node, number of fabrics the node has)."""
    import chip.clusters as Clusters
    OC = Clusters.OperationalCredentials.Attributes
    res = await dev.ReadAttribute(nodeid, [(0, OC.CurrentFabricIndex), (0, OC.CommissionedFabrics)])
    oc = res[0][Clusters.OperationalCredentials]
    return int(oc[OC.CurrentFabricIndex]), int(oc[OC.CommissionedFabrics])


async def read_onoff(dev, nodeid, endpoint):
    import chip.clusters as Clusters
    res = await dev.ReadAttribute(nodeid, [(endpoint, Clusters.OnOff.Attributes.OnOff)])
    return bool(res[endpoint][Clusters.OnOff][Clusters.OnOff.Attributes.OnOff])


async def connect(dev, nodeid, timeout_s):
    t = time.monotonic()
    await dev.GetConnectedDevice(nodeid, allowPASE=False, timeoutMs=int(timeout_s * 1000))
    return now_ms(t)


async def op_commission(a, dev, res):
    t = time.monotonic()
    await asyncio.wait_for(dev.EstablishPASESessionIP(a.ip, a.passcode, a.nodeid, a.port), a.timeout)
    res["pase_ms"] = now_ms(t)
    t2 = time.monotonic()
    await asyncio.wait_for(dev.Commission(a.nodeid), a.timeout)
    res["commission_ms"] = now_ms(t2)
    try:
        addr = dev.GetAddressAndPort(a.nodeid)
        res["operational_address"] = list(addr) if addr else None
    except Exception:  # noqa: BLE001
        res["operational_address"] = None
    res["fabric_id"] = dev.fabricId
    res["compressed_fabric_id"] = f"{dev.GetCompressedFabricId():016X}"
    res["fabric_index"], res["fabrics"] = await asyncio.wait_for(read_fabric_info(dev, a.nodeid), a.timeout)


async def op_read(a, dev, res):
    res["session_ms"] = await asyncio.wait_for(connect(dev, a.nodeid, a.timeout), a.timeout + 5)
    t = time.monotonic()
    res["value"] = await asyncio.wait_for(read_info(dev, a.nodeid), a.timeout)
    res["read_ms"] = now_ms(t)


async def op_toggle(a, dev, res):
    import chip.clusters as Clusters
    res["session_ms"] = await asyncio.wait_for(connect(dev, a.nodeid, a.timeout), a.timeout + 5)
    before = await asyncio.wait_for(read_onoff(dev, a.nodeid, a.endpoint), a.timeout)
    t = time.monotonic()
    await asyncio.wait_for(dev.SendCommand(a.nodeid, a.endpoint, Clusters.OnOff.Commands.Toggle()), a.timeout)
    res["invoke_ms"] = now_ms(t)
    after = await asyncio.wait_for(read_onoff(dev, a.nodeid, a.endpoint), a.timeout)
    res.update({"before": before, "after": after})
    if after == before:
        raise RuntimeError(f"OnOff did not change ({before} -> {after})")


async def op_start(a, dev, res):
    res["fabric_id"] = dev.fabricId


async def op_subscribe(a, dev, res):
    """Subscribe to OnOff, then wait for a.changes reports of a changed value (own Toggle or --external)."""
    import chip.clusters as Clusters
    attr = Clusters.OnOff.Attributes.OnOff
    loop = asyncio.get_running_loop()
    reports = asyncio.Queue()

    def on_update(path, transaction):
        if path.AttributeType == attr and path.Path.EndpointId == a.endpoint:
            value = transaction.GetAttribute(path)
            loop.call_soon_threadsafe(reports.put_nowait, (time.monotonic(), value))

    res["session_ms"] = await asyncio.wait_for(connect(dev, a.nodeid, a.timeout), a.timeout + 5)
    t = time.monotonic()
    sub = await asyncio.wait_for(
        dev.ReadAttribute(a.nodeid, [(a.endpoint, attr)], reportInterval=(a.min_interval, a.max_interval),
                          keepSubscriptions=False, autoResubscribe=False), a.timeout)
    try:
        sub.SetAttributeUpdateCallback(on_update)
        last = bool(sub.GetAttributes()[a.endpoint][Clusters.OnOff][attr])
        res.update({"subscribe_ms": now_ms(t), "subscription_id": sub.subscriptionId, "priming": last,
                    "intervals": list(sub.GetReportingIntervalsSeconds())})
        emit("SUBSCRIBED", {"op": "subscribe", "nodeid": a.nodeid, "priming": last,
                            "subscription_id": sub.subscriptionId})
        res["reports"] = []
        for i in range(a.changes):
            t = time.monotonic()
            if not a.external:
                await asyncio.wait_for(
                    dev.SendCommand(a.nodeid, a.endpoint, Clusters.OnOff.Commands.Toggle()), a.timeout)
            deadline = t + a.timeout
            while True:  # skip reports that repeat the last value (a max-interval keep-alive, say)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no report of a changed OnOff within {a.timeout} s (change {i + 1})")
                when, value = await asyncio.wait_for(reports.get(), left)
                if bool(value) != last:
                    break
            last = bool(value)
            res["reports"].append({"value": last, "after_ms": round((when - t) * 1000, 1)})
            emit("REPORT", {"op": "subscribe", "change": i + 1, "value": last})
    finally:
        sub.Shutdown()


async def op_remove_fabric(a, dev, res):
    import chip.clusters as Clusters
    res["session_ms"] = await asyncio.wait_for(connect(dev, a.nodeid, a.timeout), a.timeout + 5)
    own, res["fabrics_before"] = await asyncio.wait_for(read_fabric_info(dev, a.nodeid), a.timeout)
    index = own if a.fabric_index is None else a.fabric_index
    res.update({"own_fabric_index": own, "fabric_index": index})
    t = time.monotonic()
    resp = await asyncio.wait_for(
        dev.SendCommand(a.nodeid, 0, Clusters.OperationalCredentials.Commands.RemoveFabric(fabricIndex=index)),
        a.timeout)
    res["invoke_ms"] = now_ms(t)
    res["status"] = int(resp.statusCode)
    if res["status"] != 0:
        raise RuntimeError(f"RemoveFabric({index}) answered NOCResponse status {res['status']}")
    if index == own:
        dev.ExpireSessions(a.nodeid)  # the node dropped them with the fabric
    else:
        res["fabrics_after"] = (await asyncio.wait_for(read_fabric_info(dev, a.nodeid), a.timeout))[1]


async def op_open_window(a, dev, res):
    params = await asyncio.wait_for(
        dev.OpenCommissioningWindow(nodeid=a.nodeid, timeout=a.window, iteration=a.iteration,
                                    discriminator=a.discriminator, option=1), a.timeout)
    res.update({"passcode": params.setupPinCode, "manual_code": params.setupManualCode,
                "qr_code": params.setupQRCode, "discriminator": a.discriminator, "window_s": a.window})


async def op_session_loop(a, dev, probe, results):
    """N reads in one process. Returns True if the last attempt of every read succeeded."""
    all_ok = True
    for i in range(1, a.reads + 1):
        if i > 1 and a.trigger:
            path = f"{a.trigger}.{i}"
            emit("WAIT", {"op": "session-loop", "read_no": i, "trigger": path, "max_s": a.trigger_timeout})
            deadline = time.monotonic() + a.trigger_timeout
            while not os.path.exists(path) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            if not os.path.exists(path):
                emit("RESULT", {"op": "read", "read_no": i, "ok": False, "error": f"trigger {path} not seen"})
                all_ok = False
                break
        if a.expire:
            dev.ExpireSessions(a.nodeid)
        for attempt in range(1, a.retries + 2):
            res = {"op": "read", "read_no": i, "attempt": attempt, "nodeid": a.nodeid, "expired_before": a.expire}
            m = probe.mark()
            t = time.monotonic()
            try:
                await op_read(a, dev, res)
                res["ok"] = True
            except Exception as e:  # noqa: BLE001
                res["ok"] = False
                res["error"] = errstr(e)
            res["elapsed_ms"] = now_ms(t)
            res.update(probe.since(m))
            for key in ("attestation_ok", "pase_failed", "commissioning_steps"):
                res.pop(key)
            emit("RESULT", res)
            results.append(res)
            if res["ok"]:
                break
        else:
            all_ok = False
    return all_ok


def parse_args(argv):
    wd = os.environ.get("INTEROP_CHIP_HOME", ".")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--storage", default=os.path.join(wd, "controller.json"))
    p.add_argument("--paa", default=os.path.join(wd, "paa"), help="directory of PAA .der files")
    p.add_argument("--log", default=None, help="native CHIP log file ('-' = stderr)")
    sub = p.add_subparsers(dest="op", required=True)

    def add(name, timeout):
        s = sub.add_parser(name)
        s.add_argument("--nodeid", type=int, default=1)
        s.add_argument("--timeout", type=float, default=timeout, help="seconds per step")
        return s

    add("start", 30)
    s = add("commission", 60)
    s.add_argument("--ip", required=True)
    s.add_argument("--port", type=int, default=5540)
    s.add_argument("--passcode", type=int, required=True)
    add("read", 30)
    s = add("toggle", 30)
    s.add_argument("--endpoint", type=int, default=1)
    s = add("subscribe", 30)
    s.add_argument("--endpoint", type=int, default=1)
    s.add_argument("--changes", type=int, default=1, help="reports of a changed value to wait for")
    s.add_argument("--external", action="store_true", help="someone else changes OnOff: do not toggle")
    s.add_argument("--min-interval", type=int, default=0, help="subscription MinIntervalFloor (s)")
    s.add_argument("--max-interval", type=int, default=30, help="subscription MaxIntervalCeiling (s)")
    s = add("remove-fabric", 30)
    s.add_argument("--fabric-index", type=int, default=None, help="default: this controller's own fabric")
    s = add("open-window", 30)
    s.add_argument("--window", type=int, default=300, help="commissioning window length (s)")
    s.add_argument("--discriminator", type=int, default=3841)
    s.add_argument("--iteration", type=int, default=1000)
    s = add("session-loop", 30)
    s.add_argument("--reads", type=int, default=2)
    s.add_argument("--expire", action="store_true", help="ExpireSessions(nodeid) before each read")
    s.add_argument("--trigger", default=None, help="before read i (i>=2) wait for file TRIGGER.i")
    s.add_argument("--trigger-timeout", type=float, default=120.0)
    s.add_argument("--retries", type=int, default=1, help="extra attempts per read")
    a = p.parse_args(argv)
    a.reads = max(1, min(a.reads, 100)) if a.op == "session-loop" else 1
    if a.op == "subscribe":
        a.changes = max(1, min(a.changes, 20))
    if a.log is None:
        a.log = os.path.join(wd, "logs", f"chip-{a.op}-{time.strftime('%H%M%S')}-{os.getpid()}.log")
    return a


async def main(argv):
    a = parse_args(argv)
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)

    probe = setup_logging(a.log)
    t_start = time.monotonic()
    try:
        ctl = Controller(a.storage, a.paa)
    except Exception as e:  # noqa: BLE001
        emit("RESULT", {"op": a.op, "ok": False, "error": "controller start failed: " + errstr(e), "log": a.log})
        return 1
    dev = ctl.dev
    emit("CHIP", {"controller_node_id": CONTROLLER_NODE_ID, "fabric_id": FABRIC_ID, "storage": a.storage,
                  "paa": a.paa, "log": a.log, "startup_ms": now_ms(t_start), "pid": os.getpid()})
    ok = False
    res = {"op": a.op, "nodeid": a.nodeid}
    m = probe.mark()
    t = time.monotonic()
    try:
        if a.op == "session-loop":
            reads = []
            ok = await op_session_loop(a, dev, probe, reads)
            res.update({"reads": len({r["read_no"] for r in reads}),
                        "cases": [r["case"] for r in reads if r["ok"]],
                        "failed_attempts": sum(1 for r in reads if not r["ok"])})
        else:
            await {"start": op_start, "commission": op_commission, "read": op_read, "toggle": op_toggle,
                   "subscribe": op_subscribe, "open-window": op_open_window,
                   "remove-fabric": op_remove_fabric}[a.op](a, dev, res)
            ok = True
    except asyncio.CancelledError:
        res["error"] = "interrupted (signal)"
    except Exception as e:  # noqa: BLE001
        res["error"] = errstr(e)
    res["ok"] = ok
    res["elapsed_ms"] = now_ms(t)
    if a.op != "session-loop":
        res.update(probe.since(m))
        if a.op != "commission":
            for key in ("attestation_ok", "pase_failed", "commissioning_steps"):
                res.pop(key)
    else:
        res["native_errors"] = probe.since(m)["native_errors"]
    emit("RESULT", res)
    ctl.shutdown()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
