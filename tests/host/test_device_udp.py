"""The ``micromatter run`` device over real UDP against our own controller, under both runtimes (CPython).

``device_commissioner.py`` runs inside a network namespace this test creates (loopback only; deleted
afterwards) and drives the device through the CLI: commissioning with attestation against the test PAAs, a
toggle, a clean stop by SIGTERM (exit status 0, CloseSession received), a restart on the same storage
(commissioned, CASE resumed, the light's state and UniqueID kept), ``factory-reset`` (uncommissioned again,
a new UniqueID).  Needs root
and ``ip netns``: skipped otherwise.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from test_udp_pase import netns  # noqa: F401  (the namespace fixture: loopback only, deleted afterwards)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "tests", "host", "device_commissioner.py")
SECONDS = 60

if os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("timeout") is None:
    pytest.skip("needs root, `ip netns` and `timeout` (runs the device in a network namespace)",
                allow_module_level=True)
if not os.access(os.path.join(ROOT, ".venv", "bin", "micromatter"), os.X_OK):
    pytest.skip("needs .venv/bin/micromatter (make setup)", allow_module_level=True)


@pytest.mark.parametrize("runtime", ["micropython", "cpython"])
def test_commission_stop_restart_resume_factory_reset(netns, tmp_path, runtime):
    storage = str(tmp_path / "storage")
    done = subprocess.run(["timeout", "-k", "5", str(4 * SECONDS), "ip", "netns", "exec", netns, sys.executable,
                           SCRIPT, runtime, storage, str(SECONDS)], capture_output=True, text=True,
                          timeout=4 * SECONDS + 20)
    lines = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    log = (tmp_path / "storage.log").read_text() if (tmp_path / "storage.log").exists() else ""
    assert lines, done.stdout + done.stderr[-3000:] + log[-3000:]
    r = json.loads(lines[-1][len("RESULT "):])
    why = json.dumps(r) + "\n" + done.stderr[-2000:] + "\n" + log[-3000:]
    assert r["ok"] and done.returncode == 0, why
    assert r["first_online"]["commissioned"] is False and r["first_online"]["qr_code"].startswith("MT:"), why
    assert r["steps"][-1] == "complete" and r["attestation_vendor"] == 0xFFF1 and r["fabric_index"] == 1, why
    assert r["onoff"] == [False, True], why
    assert r["stop_rc"] == 0 and r["stopped_event"] and r["close_session_seen"], why
    assert r["second_online"] == {"commissioned": True, "fabrics": 1}, why
    assert r["second_case_resumed"] is True and r["onoff_after_restart"] is True, why
    assert r["second_stop_rc"] == 0 and r["reset_rc"] == 0 and r["third_stop_rc"] == 0, why
    assert r["after_reset_online"] == {"commissioned": False, "fabrics": 0}, why
    first, after_restart, after_reset = r["unique_ids"]
    assert len(first) == 32 and after_restart == first and after_reset not in (first, ""), why
    assert os.path.isdir(os.path.join(storage, "att.d"))  # the factory reset keeps the attestation material
