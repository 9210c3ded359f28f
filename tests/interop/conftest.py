"""pytest plumbing for the interop tests: real controllers against a device, inside network namespaces.

Fixtures (all bounded in time; namespaces are deleted at the end even when a test fails):

- ``interop_ready``: skips, with the reason, only when the tests cannot run here (not root, no ``ip netns``,
  ``tools/setup.sh interop`` not run).
- ``netns``: a fresh namespace pair (``interop_harness.NetnsPair``) for one test.
- ``start_device(spec, **options)``: starts a device command inside the pair's dev namespace, waits for its
  ``EVENT {"event": "online", ...}`` line and returns the ``Device`` (stdout captured; stopped at teardown).
- ``chip`` / ``mjs``: a CHIP / matter.js controller identity in the pair's ctl namespace: ``.run(op, **flags)``
  returns an ``OpRun`` with the parsed ``RESULT {json}`` lines, ``.start(op, **flags)`` a ``BackgroundOp``.
- ``device_spec``: the device command a test targets, parameterised: by default the devices named in the test's
  ``@pytest.mark.interop_device(...)`` marker (``micromatter`` when there is none); ``--interop-device NAME``
  (repeatable: ``micromatter``, ``reference``) overrides that, to run the same tests against the matter.js
  reference device. ``device_under_test`` is the spec after its own availability check.
"""

import os

import pytest

import interop_harness as harness


def pytest_addoption(parser):
    parser.addoption("--interop-device", action="append", default=None, choices=sorted(harness.DEVICE_SPECS),
                     help="run the device-parameterised interop tests against this device (repeatable)")


def pytest_configure(config):
    config.addinivalue_line("markers", "interop_device(*names): the devices an interop test targets by default")


def pytest_generate_tests(metafunc):
    if "device_spec" not in metafunc.fixturenames:
        return
    names = metafunc.config.getoption("--interop-device")
    if not names:
        marker = metafunc.definition.get_closest_marker("interop_device")
        names = list(marker.args) if marker else ["micromatter"]
    metafunc.parametrize("device_spec", [harness.DEVICE_SPECS[n] for n in names], ids=names, scope="module")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember a failed step of a scenario module so that its later steps do not run on a broken rig."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and getattr(item.module, "SCENARIO", False):
        key = item.callspec.id if hasattr(item, "callspec") else ""
        item.module.FAILED_STEP.setdefault(key, item.name)


@pytest.fixture(scope="session")
def interop_ready():
    reason = harness.unavailable_reason()
    if reason:
        pytest.skip(reason)
    harness.sweep_stale()
    return True


@pytest.fixture
def device_under_test(device_spec, interop_ready):
    reason = device_spec.unavailable_reason()
    if reason:
        pytest.skip(reason)
    return device_spec


@pytest.fixture
def netns(interop_ready):
    pair = harness.NetnsPair().up()
    try:
        yield pair
    finally:
        assert pair.down(), "namespaces %s not deleted: %s" % (pair.prefix, pair.down_output)


@pytest.fixture
def start_device(netns, tmp_path):
    started = []

    def start(spec, timeout=90, **options):
        device = harness.Device(netns, spec, str(tmp_path), **options)
        started.append(device)
        device.start(timeout)
        return device

    yield start
    for device in started:
        device.stop()


@pytest.fixture
def chip(netns, tmp_path):
    return harness.ChipController(netns, os.path.join(str(tmp_path), "chip"))


@pytest.fixture
def mjs(netns, tmp_path):
    return harness.MjsController(netns, os.path.join(str(tmp_path), "mjs"))
