"""On/Off cluster: commands, persistence across restarts, StartUpOnOff, the timed-off countdown."""

from test_im_helpers import setup, make_light, admin
from test_im_invoke import invoke, code
from micromatter.storage import MemoryStorage
from micromatter.im import status


def test_on_off_survives_a_restart():
    storage = MemoryStorage()
    light, engine = setup(storage=storage)
    invoke(engine, 1, 6, 1)
    seen = []
    again = make_light(storage)
    assert again.on_off.on_off is True
    # The application hears the restored state when the node is built.
    from micromatter.clusters.light import build_light

    build_light(storage=storage, on_change=seen.append)
    assert seen == [True]


def _restart_with(start_up, was_on):
    storage = MemoryStorage()
    light, engine = setup(storage=storage)
    if was_on:
        invoke(engine, 1, 6, 1)
    light.on_off.set_by_id(0x4003, start_up)
    return make_light(storage).on_off.on_off


def test_start_up_on_off():
    assert _restart_with(0, True) is False
    assert _restart_with(1, False) is True
    assert _restart_with(2, False) is True
    assert _restart_with(2, True) is False
    assert _restart_with(None, True) is True
    assert _restart_with(None, False) is False


def test_on_with_timed_off_counts_down_in_tenths():
    light, engine = setup()
    on_off = light.on_off
    assert code(invoke(engine, 1, 6, 0x42, {0: 0, 1: 5, 2: 3}, now=1000)) == status.SUCCESS
    assert on_off.on_off and on_off.on_time == 5 and on_off.off_wait_time == 3
    assert engine.next_deadline() == 1100
    engine.poll(1100)
    assert on_off.on_time == 4
    engine.poll(1450)
    assert on_off.on_time == 1 and on_off.on_off
    engine.poll(1500)
    assert on_off.on_time == 0 and not on_off.on_off and on_off.off_wait_time == 0
    assert engine.next_deadline() is None


def test_delayed_off_guard():
    light, engine = setup()
    on_off = light.on_off
    on_off.set_by_id(0x4002, 20)  # OffWaitTime while off: the guard is running
    # AcceptOnlyWhenOn while off: ignored.
    invoke(engine, 1, 6, 0x42, {0: 1, 1: 50, 2: 10}, now=0)
    assert not on_off.on_off
    invoke(engine, 1, 6, 0x42, {0: 0, 1: 50, 2: 10}, now=0)
    assert not on_off.on_off and on_off.off_wait_time == 10  # guarded: only the wait shrinks
    engine.poll(100)
    assert on_off.off_wait_time == 9


def test_effects_and_global_scene_control():
    light, engine = setup()
    on_off = light.on_off
    invoke(engine, 1, 6, 1)
    assert code(invoke(engine, 1, 6, 0x40, {0: 0, 1: 0})) == status.SUCCESS
    assert not on_off.on_off and on_off.global_scene_control is False
    assert code(invoke(engine, 1, 6, 0x40, {0: 7, 1: 0})) == status.CONSTRAINT_ERROR
    invoke(engine, 1, 6, 0x41)
    assert on_off.on_off and on_off.global_scene_control
    invoke(engine, 1, 6, 0)
    invoke(engine, 1, 6, 0x41)  # GlobalSceneControl already true: nothing to recall
    assert not on_off.on_off


def test_a_late_poll_applies_every_elapsed_tenth_at_once():
    light, engine = setup()
    on_off = light.on_off
    invoke(engine, 1, 6, 0x42, {0: 0, 1: 600, 2: 50}, now=0)
    changes = []
    light.node.listeners.append(lambda e, c, a: changes.append(a))
    engine.poll(30050)  # 300 tenths late
    assert on_off.on_time == 300 and on_off.on_off and changes == [0x4001]
    assert engine.next_deadline() == 30100
    engine.poll(10 ** 6)
    assert not on_off.on_off and on_off.on_time == 0 and on_off.off_wait_time == 0
