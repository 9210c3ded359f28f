"""Our test commissioner over real UDP (CPython) against an emulated board: commissions the device at [::1]:PORT
with PASSCODE, toggles its light over CASE and reads OnOff back, then prints one ``RESULT {json}`` line.

    python tests/host/board_commissioner.py PORT PASSCODE SECONDS

The runner is ``device_commissioner.UdpRunner`` (``now`` and ``run_until`` over one socket on ::1, the board's
dual-stack Matter socket answers there).  Run it inside the network namespace of the device; bounded by SECONDS.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from device_commissioner import Commissioner, UdpRunner  # noqa: E402  (also puts shared/, tests/unit on the path)
from micromatter import log  # noqa: E402
from micromatter.im import messages as msg  # noqa: E402

ON_OFF = 0x0006
NODE_ID = 0x77


def main(port, passcode, seconds):
    log.set_level(log.WARNING)
    ctl = Commissioner()
    runner = UdpRunner(ctl, seconds)
    address = ("::1", port, 0, 0)
    result = {"ok": False}
    try:
        r = ctl.commission(runner, address, passcode, NODE_ID)
        result["steps"] = r.steps
        status = ctl.invoke(runner, r.case, 1, ON_OFF, 2)
        result["toggle"] = status.status if isinstance(status, msg.CommandStatus) else repr(status)
        result["onoff"] = ctl.read(runner, r.case, [(1, ON_OFF, 0)])[(1, ON_OFF, 0)]
        result["elapsed_ms"] = runner.now
        result["ok"] = True
    except Exception as e:  # reported in the RESULT line, the test asserts on it
        result["error"] = "%s: %s" % (type(e).__name__, e)
    print("RESULT " + json.dumps(result), flush=True)
    runner.sock.close()
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])))
