"""The ``micromatter`` CLI (CPython): options and their checks, the device's arguments, the repository
defaults, factory reset (what it deletes and what it leaves), exit statuses.  The device itself over UDP is
``test_device_udp.py``."""

import os
import subprocess
import sys
import time

import pytest

from micromatter_cpython import cli
from micromatter_cpython.storage import FileStorage

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse(*argv):
    return cli.parser().parse_args(list(argv))


def test_run_defaults_and_device_arguments():
    a = parse("run")
    assert (a.runtime, a.port, a.passcode, a.discriminator, a.vendor_id, a.product_id, a.mdns) == (
        "micropython", 5540, 20202021, 3840, 0xFFF1, 0x8000, "on")
    a.storage = "/s"
    args = cli.device_args(a)
    assert args[:14] == ["--storage", "/s", "--port", "5540", "--passcode", "20202021", "--discriminator", "3840",
                         "--vendor-id", "65521", "--product-id", "32768", "--mdns", "on"]
    assert args[args.index("--credentials") + 1] == os.path.join(ROOT, "tools", "credentials")
    assert args[args.index("--session-not-found") + 1] == "on"
    a = parse("run", "--runtime", "cpython", "--port", "5541", "--vendor-id", "0xFFF2", "--interface", "eth0",
              "--heap-stats", "--max-seconds", "9", "--attestation", "att", "--no-banner", "--mdns", "off",
              "--session-not-found", "off")
    a.storage = "/s"
    args = cli.device_args(a)
    assert "--credentials" not in args and args[args.index("--attestation") + 1] == "att"
    for flag, value in (("--interface", "eth0"), ("--max-seconds", "9"), ("--vendor-id", str(0xFFF2)),
                        ("--mdns", "off"), ("--port", "5541"), ("--session-not-found", "off")):
        assert args[args.index(flag) + 1] == value
    assert "--heap-stats" in args and "--no-banner" in args


@pytest.mark.parametrize("argv", [
    ["run", "--passcode", "11111111"],     # a passcode the spec forbids
    ["run", "--passcode", "123456789"],    # more than 27 bits
    ["run", "--discriminator", "4096"],
    ["run", "--port", "0"],
    ["run", "--vendor-id", "0xFFFF"],
    ["run", "--runtime", "jython"],
    ["run", "--mdns", "everywhere"],
    ["nothing"],
    [],
])
def test_bad_command_lines_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2


def test_repository_defaults():
    assert cli.default_storage() == os.path.join(ROOT, "var", "device")
    assert cli.micropython_binary() == os.path.join(os.path.dirname(sys.executable), "micropython")
    path = cli.micropython_path().split(":")
    assert path == [".frozen", os.path.join(ROOT, "shared"), os.path.join(ROOT, "mp")]
    for p in path[1:]:
        assert os.path.isdir(p)


def test_factory_reset_deletes_the_state_and_keeps_the_attestation_material(tmp_path, capsys):
    root = str(tmp_path / "dev")
    s = FileStorage(root)
    s.context("fab").set("f1", b"fabric")
    s.context("ses").set("rr0a", b"record")
    s.context("dm").context("x").set("k", b"nested")
    s.context("att").set("att", b"dac")
    s.set("top", b"v")
    with open(os.path.join(root, "fab.d", "f2.tmp"), "wb") as f:
        f.write(b"torn")
    with open(os.path.join(root, "README.txt"), "w") as f:
        f.write("not ours")
    assert cli.main(["factory-reset", "--storage", root]) == 0
    out = capsys.readouterr().out
    assert "5 file(s) deleted" in out and "README.txt" in out
    assert sorted(os.listdir(root)) == ["README.txt", "att.d"]
    assert FileStorage(root).context("att").get("att") == b"dac"
    assert cli.main(["factory-reset", "--storage", root, "--all"]) == 0
    assert os.listdir(root) == ["README.txt"]
    assert cli.factory_reset(str(tmp_path / "missing")) == {"files": 0, "kept": []}


def test_help_and_the_device_entry_points_usage():
    done = subprocess.run([os.path.join(ROOT, ".venv", "bin", "micromatter"), "run", "--help"], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0 and "--runtime" in done.stdout
    env = dict(os.environ, MICROPYPATH=cli.micropython_path())
    for argv in ([cli.micropython_binary(), "-m", "micromatter_mp.device"],
                 [sys.executable, "-m", "micromatter_cpython.device"]):
        done = subprocess.run(argv + ["--help"], capture_output=True, text=True, timeout=30, env=env)
        assert done.returncode == 0 and "--control-stdin" in done.stderr, done.stderr
        done = subprocess.run(argv + ["--port"], capture_output=True, text=True, timeout=30, env=env)
        assert done.returncode == 2 and "--port needs a value" in done.stderr, done.stderr


CHILD = """
import sys
lines = []
for line in sys.stdin:          # ends at 'stop' or at the end of input
    lines.append(line.strip())
    if line.strip() == 'stop':
        break
open(sys.argv[1], 'w').write(','.join(lines))
"""


def test_child_gets_requests_on_stdin_and_its_status_is_returned(tmp_path):
    out = str(tmp_path / "lines")
    child = cli.Child([sys.executable, "-c", CHILD, out], dict(os.environ))
    child.request_heap()
    child.request_stop()
    assert child.wait() == 0
    with open(out) as f:
        assert f.read() == "heap,stop"


def test_a_child_that_does_not_stop_is_killed_after_the_grace(monkeypatch):
    monkeypatch.setattr(cli, "STOP_GRACE_S", 1)
    child = cli.Child([sys.executable, "-c", "import time\nwhile True: time.sleep(1)"], dict(os.environ))
    child.request_stop()
    rc = child.wait()  # bounded: the grace, then SIGKILL
    assert rc == -9
    monkeypatch.setattr(cli, "STOP_GRACE_S", 30)
    monkeypatch.setattr(cli, "REPEAT_S", 0.2)
    child = cli.Child([sys.executable, "-c", "import time\nwhile True: time.sleep(1)"], dict(os.environ))
    child.request_stop()
    time.sleep(0.3)
    child.request_stop()  # a second request does not wait for the grace
    assert child.wait() == -9


def test_the_same_stop_arriving_twice_is_one_request(tmp_path):
    # `timeout` forwards a SIGTERM to the CLI and to its process group: two signals, one request
    out = str(tmp_path / "lines")
    child = cli.Child([sys.executable, "-c", CHILD, out], dict(os.environ))
    child.request_stop()
    child.request_stop()
    assert child.wait() == 0
    with open(out) as f:
        assert f.read() == "stop"
