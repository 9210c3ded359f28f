"""Checks of the interop harness itself: isolation of the namespaces, cleanup, process control, output parsing.

No Matter device runs here: the safety properties every interop test relies on are checked on their own.
"""

import os
import signal
import subprocess
import sys
import time

import pytest

import interop_harness as harness

PY = sys.executable


def test_parse_tagged_takes_only_json_objects_of_the_tag():
    text = "\n".join([
        'RESULT {"op": "read", "ok": true}',
        "RESULT not json",
        'RESULTX {"op": "other"}',
        'noise RESULT {"op": "x"}',
        'RESULT [1, 2]',
        'EVENT {"event": "online"}',
        'RESULT {"op": "toggle", "ok": false}',
    ])
    assert harness.parse_tagged(text, "RESULT") == [{"op": "read", "ok": True}, {"op": "toggle", "ok": False}]
    assert harness.parse_tagged(text, "EVENT") == [{"event": "online"}]
    assert harness.parse_tagged("", "RESULT") == []


def test_to_flags_maps_keywords_to_options():
    assert harness.to_flags({"nodeid": 1, "expire": True, "fabric_index": None, "external": False,
                             "node_id": "7"}) == ["--nodeid", "1", "--expire", "--node-id", "7"]


def test_op_run_final_is_the_last_result_of_the_operation():
    out = "\n".join([
        'CHIP {"pid": 1}',
        'RESULT {"op": "read", "read_no": 1, "ok": true, "case": "new"}',
        'RESULT {"op": "read", "read_no": 2, "ok": true, "case": "resumed"}',
        'RESULT {"op": "session-loop", "ok": true, "cases": ["new", "resumed"]}',
    ])
    run = harness.OpRun("session-loop", 0, out, "", 10, "logs")
    assert run.ok and run["cases"] == ["new", "resumed"]
    assert [r["case"] for r in run.where(op="read")] == ["new", "resumed"]
    assert not harness.OpRun("read", 1, "", "boom", 10, "logs").ok


def test_micromatter_run_command_check_reads_the_cli_source(tmp_path, monkeypatch):
    cli = tmp_path / "cpython" / "micromatter_cpython" / "cli.py"
    cli.parent.mkdir(parents=True)
    monkeypatch.setattr(harness, "REPO", str(tmp_path))
    assert not harness.micromatter_has_run_command()            # no cli module at all
    cli.write_text("def main():\n    print('usage: micromatter version')\n")
    assert not harness.micromatter_has_run_command()
    cli.write_text("import argparse\np = argparse.ArgumentParser()\nsub = p.add_subparsers()\n"
                   "sub.add_parser('run')\n")
    assert harness.micromatter_has_run_command()
    cli.write_text("def run(args):\n    pass\n")
    assert harness.micromatter_has_run_command()
    assert harness.MICROMATTER_DEVICE.unavailable_reason() is not None  # no .venv/bin/micromatter under tmp_path


def _links(ns=None):
    cmd = ["ip", "-o", "link", "show"] if ns is None else ["ip", "-n", ns, "-o", "link", "show"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
    return sorted(line.split(":")[1].strip().split("@")[0] for line in out.splitlines())


def _routes(ns, family):
    out = subprocess.run(["ip", "-n", ns, family, "route", "show", "table", "all"], capture_output=True, text=True,
                         timeout=10).stdout
    return out.splitlines()


CONNECT = "import socket,sys\n" \
          "fam = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET\n" \
          "s = socket.socket(fam, socket.SOCK_DGRAM)\n" \
          "try:\n    s.connect((sys.argv[1], 9)); print('route')\n" \
          "except OSError as e:\n    print('errno', e.errno)\n"


def test_namespace_pair_is_isolated_from_the_host(interop_ready):
    host_before = _links()
    with harness.NetnsPair() as pair:
        assert _links() == host_before, "an interface appeared in the host namespace"
        assert _links(pair.dev) == ["lo", "veth-dev"]
        assert _links(pair.ctl) == ["lo", "veth-ctl"]
        for ns in (pair.dev, pair.ctl):
            for family in ("-4", "-6"):
                assert not [r for r in _routes(ns, family) if r.startswith("default")], (ns, family)
        # A UDP connect() only looks the route up (nothing is sent): the peer is reachable, the rest is not.
        for target, expect in (("10.77.0.1", "route"), ("fd00:77::1", "route"),
                               ("192.0.2.1", "errno 101"), ("2001:db8::1", "errno 101")):
            r = pair.run("ctl", [PY, "-c", CONNECT, target])
            assert r.stdout.strip() == expect, (target, r.stdout, r.stderr)
        info = pair.info
        assert info["dev"]["ipv4"] == "10.77.0.1" and info["ctl"]["ipv6"] == "fd00:77::2"
        assert info["dev"]["ipv6_ll"].startswith("fe80:")
    assert not {pair.dev, pair.ctl} & set(harness.ns_list())


ECHO = "import socket,sys\n" \
       "s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n" \
       "s.bind(('::', 5599)); s.settimeout(20); print('READY', flush=True)\n" \
       "for _ in range(2):\n    data, peer = s.recvfrom(100); s.sendto(data.upper(), peer)\n"

CLIENT = "import socket,sys\n" \
         "fam = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET\n" \
         "s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(5)\n" \
         "s.sendto(b'ping', (sys.argv[1], 5599)); print(s.recvfrom(100)[0].decode())\n"


def test_traffic_flows_between_the_two_namespaces(netns, tmp_path):
    server = harness.Process([os.path.join(harness.HERE, "in-ns.sh"), netns.prefix, "dev", "30", "--", PY, "-c",
                              ECHO], str(tmp_path / "echo.out"))
    try:
        harness.wait_until(lambda: "READY" in server.text(), 15, what="echo server")
        for target in ("10.77.0.1", "fd00:77::1"):  # IPv4 reaches the dual-stack socket as a mapped address
            r = netns.run("ctl", [PY, "-c", CLIENT, target])
            assert r.stdout.strip() == "PING", (target, r.stdout, r.stderr)
        assert server.wait(10) == 0
    finally:
        server.stop()


def test_down_stops_processes_left_inside_and_deletes_the_namespaces(interop_ready, tmp_path):
    pair = harness.NetnsPair().up()
    left = harness.Process([os.path.join(harness.HERE, "in-ns.sh"), pair.prefix, "dev", "300", "--", "sleep", "300"],
                           str(tmp_path / "sleep.out"))
    try:
        inner = harness.wait_until(lambda: pair.pids("dev"), 10, what="sleep inside the namespace")
        assert inner == left.tree() and open("/proc/%d/comm" % inner[0]).read().strip() == "sleep"
        assert pair.down()
        assert "stopping pid %d" % inner[0] in pair.down_output
        assert left.wait(15) != 0 and not harness.alive(inner[0])
        assert not {pair.dev, pair.ctl} & set(harness.ns_list())
    finally:
        left.stop()
        pair.down()


FAKE_DEVICE = PY + " -c \"import json,sys,time; open(sys.argv[1] + '/boots', 'a').write('x');" \
    " print('EVENT ' + json.dumps({'event': 'online', 'boots': len(open(sys.argv[1] + '/boots').read())})," \
    " flush=True); time.sleep(120)\" {storage}"


def test_device_start_kill_and_restart_on_the_same_storage(netns, start_device):
    spec = harness.device_from_template(FAKE_DEVICE, "fake")
    device = start_device(spec)
    assert device.online["boots"] == 1
    first = netns.pids("dev")
    assert first and first == device.proc.tree()                 # the device runs inside the dev namespace
    assert device.sample_rss()["kb"] > 1000
    online = device.restart(kill=True)
    assert online["boots"] == 2                                   # same storage directory
    assert not any(harness.alive(p) for p in first)
    assert device.proc.popen.returncode is None and device.runs == 2
    assert [s["run"] for s in device.peak_rss] == [1]
    assert device.stop() is not None and not device.proc.running()


def test_device_that_exits_before_online_fails_fast(netns, start_device):
    spec = harness.device_from_template(PY + " -c \"print('EVENT {\\\"event\\\": \\\"start\\\"}')\"", "dies")
    t = time.monotonic()
    with pytest.raises(harness.HarnessError, match="exited"):
        start_device(spec, timeout=30)
    assert time.monotonic() - t < 10


def test_chip_controller_starts_with_private_tmp_and_data(chip):
    host_had = {p: os.path.exists(p) for p in ("/tmp/chip_kvs", "/data")}
    run = chip.run("start", limit=60)
    assert run.ok, run.explain()
    started = run.tagged("CHIP")[0]
    assert started["storage"] == os.path.join(chip.home, "controller.json")
    assert os.path.exists(os.path.join(chip.home, "tmp", "chip_kvs"))      # the wheel's /tmp, remapped
    assert os.path.exists(os.path.join(chip.home, "data", "chip_config.ini"))  # the wheel's /data, remapped
    assert len(os.listdir(os.path.join(chip.home, "paa"))) == 2
    for path, had in host_had.items():
        assert os.path.exists(path) == had, path + " changed on the host"


def test_matter_js_controller_runs_and_reports_no_node(mjs):
    run = mjs.run("read", limit=60, timeout=5)
    assert run.returncode == 1 and run.final.get("ok") is False, run.explain()
    assert "no commissioned node" in run["error"]


def test_sweep_removes_only_pairs_whose_owner_is_gone(interop_ready):
    dead = subprocess.Popen(["true"])
    dead.wait()
    assert not harness.alive(dead.pid)
    orphan = harness.NetnsPair("mm%dqqqq" % dead.pid).up()
    mine = harness.NetnsPair().up()
    try:
        assert orphan.prefix in harness.sweep_stale()
        left = set(harness.ns_list())
        assert not {orphan.dev, orphan.ctl} & left
        assert {mine.dev, mine.ctl} <= left
    finally:
        orphan.down()
        assert mine.down()
