"""The event log (bounded, numbered across reboots) and events in subscriptions."""

from test_im_helpers import setup, make_light, admin
from test_im_subscribe import subscribe, ack
from micromatter.storage import MemoryStorage
from micromatter.im import messages as msg
from micromatter.im.paths import AttributePath, EventPath
from micromatter.datamodel.events import EventLog, RESERVE
from micromatter.datamodel.model import Event, CRITICAL, INFO, DEBUG


class _Cluster:
    ID = 0x28

    class endpoint:
        id = 0


def test_event_numbers_grow_across_reboots():
    storage = MemoryStorage()
    light = make_light(storage)
    assert light.basic.start_up(5) == 0
    assert light.basic.start_up(6) == 1
    again = make_light(storage)
    assert again.basic.start_up(7) == RESERVE  # the next block: numbers never repeat
    assert make_light(storage).node.events.next_number == 2 * RESERVE


def test_full_log_drops_the_lowest_priority_first():
    log = EventLog(capacity=3)
    crit, info, debug = Event(0, "c", priority=CRITICAL), Event(1, "i", priority=INFO), Event(2, "d", priority=DEBUG)
    for e in (crit, info, debug, info, crit):
        log.emit(_Cluster, e, {}, 0)
    assert [(r.number, r.event.priority) for r in log.records] == [(0, CRITICAL), (3, INFO), (4, CRITICAL)]
    log.emit(_Cluster, crit, {}, 0)
    assert [r.number for r in log.records] == [0, 4, 5]


def test_subscribed_events_are_primed_and_then_reported_once():
    light, engine = setup()
    light.basic.start_up(100)
    sid, _, reports = subscribe(engine, [AttributePath(1, 6, 0)], 1, 60, exchange="e")
    assert all(r.event_reports == [] for r in reports)  # no event paths asked for
    req = msg.SubscribeRequest(1, 60, [AttributePath(1, 6, 0)], [EventPath(0, 0x28, None)], keep_subscriptions=True)
    reply = engine.on_request("f", admin(), msg.SUBSCRIBE_REQUEST, req.encode(), 200)
    priming = msg.decode_report_data(reply.payload)
    assert [e.number for e in priming.event_reports] == [0]
    reply = engine.on_request("f", admin(), msg.STATUS_RESPONSE, msg.StatusResponse(0).encode(), 200)
    assert reply.opcode == msg.SUBSCRIBE_RESPONSE
    light.basic.leave(3, 500)
    outs = engine.poll(1200)
    (out,) = outs  # only the subscription with event paths has something to say
    report = msg.decode_report_data(out.payload)
    (e,) = report.event_reports
    assert (e.number, e.path.event, e.value()) == (1, 2, {0: 3})
    assert report.attribute_reports == []
    ack(engine, out, now=1200)
    assert engine.poll(3000) == []  # reported once
