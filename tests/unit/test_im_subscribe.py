"""Subscriptions through the engine: priming, reports on change after the min interval, keep-alives at the
max interval, the end of a subscription with its session, bounds, and chunked priming."""

from test_im_helpers import setup, send, admin, Session, status_of, FABRIC
from micromatter.im import messages as msg
from micromatter.im import status
from micromatter.im.acl import Entry, CASE, VIEW
from micromatter.im.paths import AttributePath
from micromatter.im.subscriptions import MAX_DIRTY, choose_max_interval

OK = msg.StatusResponse(0)


def subscribe(engine, paths, floor=2, ceiling=10, subject=None, exchange="s", now=0, keep=False):
    """Subscribe and prime; returns (subscription id, max interval, priming reports)."""
    subject = subject or admin()
    req = msg.SubscribeRequest(floor, ceiling, paths, keep_subscriptions=keep)
    reply = send(engine, msg.SUBSCRIBE_REQUEST, req, subject, exchange, now)
    reports = []
    for _ in range(100):
        if reply.opcode != msg.REPORT_DATA:
            break
        report = msg.decode_report_data(reply.payload)
        assert reply.expect_reply and not report.suppress_response
        reports.append(report)
        reply = send(engine, msg.STATUS_RESPONSE, OK, subject, exchange, now)
    assert reply.opcode == msg.SUBSCRIBE_RESPONSE, reply.opcode
    assert not reply.expect_reply
    resp = msg.decode_subscribe_response(reply.payload)
    assert all(r.subscription_id == resp.subscription_id for r in reports)
    return resp.subscription_id, resp.max_interval, reports


def ack(engine, outgoing, subject=None, now=0, code=0):
    return engine.on_request(outgoing.exchange, subject or admin(), msg.STATUS_RESPONSE,
                             msg.StatusResponse(code).encode(), now)


def test_priming_and_the_subscribe_response():
    light, engine = setup()
    sid, max_interval, reports = subscribe(engine, [AttributePath(1, 6, 0)], 2, 10)
    assert max_interval == 10  # the device grants the ceiling asked for
    (report,) = reports
    (d,) = report.attribute_reports
    assert d.path == AttributePath(1, 6, 0) and d.value() is False
    (sub,) = engine.subscriptions
    assert sub.active and sub.id == sid
    assert engine.next_deadline() == 10000


def test_report_on_change_not_before_the_min_interval():
    light, engine = setup()
    session = Session("s1")
    subject = admin(session)
    sid, _, _ = subscribe(engine, [AttributePath(1, 6, 0)], 2, 10, subject)
    light.on_off.switch(True)
    light.on_off.switch(False)
    light.on_off.switch(True)
    assert engine.next_deadline() == 2000
    assert engine.poll(1999) == []
    (out,) = engine.poll(2000)
    assert out.session is session and out.opcode == msg.REPORT_DATA and out.expect_reply
    report = msg.decode_report_data(out.payload)
    assert report.subscription_id == sid and not report.suppress_response
    (d,) = report.attribute_reports
    assert d.value() is True and d.data_version == light.on_off.data_version
    # Nothing more goes out while the report waits for its StatusResponse.
    light.on_off.switch(False)
    assert engine.poll(5000) == []
    assert ack(engine, out, subject, 5000) is None
    # The next change waits for the min interval after the last report (sent at 2000).
    (out,) = engine.poll(5000)
    assert msg.decode_report_data(out.payload).attribute_reports[0].value() is False


def test_keep_alive_at_the_max_interval():
    light, engine = setup()
    sid, _, _ = subscribe(engine, [AttributePath(1, 6, 0)], 0, 5)
    light.identify.start(3, 0)  # a change outside the subscription does not count
    assert engine.poll(4999) == []
    (out,) = engine.poll(5000)
    report = msg.decode_report_data(out.payload)
    assert report.subscription_id == sid and report.attribute_reports == [] and report.event_reports == []
    ack(engine, out, now=5000)
    assert engine.next_deadline() == 10000


def test_unanswered_or_refused_reports_end_the_subscription():
    light, engine = setup()
    subscribe(engine, [AttributePath(1, 6, 0)], 0, 5)
    (out,) = engine.poll(5000)
    engine.on_exchange_closed(out.exchange)
    assert engine.subscriptions == []
    subscribe(engine, [AttributePath(1, 6, 0)], 0, 5)
    (out,) = engine.poll(5000)
    assert ack(engine, out, now=5000, code=status.INVALID_SUBSCRIPTION) is None
    assert engine.subscriptions == []
    subscribe(engine, [AttributePath(1, 6, 0)], 0, 5)
    (out,) = engine.poll(5000)
    engine.poll(40000)  # no StatusResponse within the response timeout
    assert engine.subscriptions == [] and engine._states == {}


def test_subscriptions_live_only_as_long_as_their_session():
    light, engine = setup()
    a, b = Session("a"), Session("b")
    subscribe(engine, [AttributePath(1, 6, 0)], subject=admin(a), exchange="1")
    subscribe(engine, [AttributePath(1, 6, 0)], subject=admin(b), exchange="2", keep=True)
    assert len(engine.subscriptions) == 2
    engine.on_session_removed(a)
    (sub,) = engine.subscriptions
    assert sub.subject.session is b
    light.on_off.switch(True)
    (out,) = engine.poll(2000)
    assert out.session is b


def test_keep_subscriptions_false_replaces_the_peers_subscriptions():
    light, engine = setup()
    subscribe(engine, [AttributePath(1, 6, 0)], exchange="1")
    subscribe(engine, [AttributePath(1, 6, 0)], exchange="2", keep=True)
    assert len(engine.subscriptions) == 2
    sid, _, _ = subscribe(engine, [AttributePath(0, 0x28, 5)], exchange="3")
    assert [s.id for s in engine.subscriptions] == [sid]


def test_subscribe_request_checks():
    light, engine = setup(max_subscriptions=2)
    bad = msg.SubscribeRequest(10, 5, [AttributePath(1, 6, 0)])
    assert status_of(send(engine, msg.SUBSCRIBE_REQUEST, bad)) == status.INVALID_ACTION
    assert status_of(send(engine, msg.SUBSCRIBE_REQUEST, msg.SubscribeRequest(1, 5, []))) == status.INVALID_ACTION
    many = msg.SubscribeRequest(1, 5, [AttributePath(1, 6, 0)] * 11)
    assert status_of(send(engine, msg.SUBSCRIBE_REQUEST, many)) == status.RESOURCE_EXHAUSTED
    subscribe(engine, [AttributePath(1, 6, 0)], exchange="1", keep=True)
    subscribe(engine, [AttributePath(1, 6, 0)], exchange="2", keep=True)
    full = msg.SubscribeRequest(1, 5, [AttributePath(1, 6, 0)], keep_subscriptions=True)
    assert status_of(send(engine, msg.SUBSCRIBE_REQUEST, full, exchange="3")) == status.RESOURCE_EXHAUSTED
    assert len(engine.subscriptions) == 2
    assert status_of(send(engine, msg.SUBSCRIBE_REQUEST, b"\x15\x24\x01\x01\x18")) == status.INVALID_ACTION


def test_priming_that_fails_leaves_no_subscription():
    light, engine = setup()
    req = msg.SubscribeRequest(1, 5, [AttributePath(1, 6, 0)])
    assert send(engine, msg.SUBSCRIBE_REQUEST, req, exchange="p").expect_reply
    assert send(engine, msg.STATUS_RESPONSE, msg.StatusResponse(status.FAILURE), exchange="p") is None
    assert engine.subscriptions == []


def test_chunked_priming_of_a_wildcard_subscription():
    light, engine = setup(max_payload=300)
    sid, _, reports = subscribe(engine, [AttributePath()], 0, 60)
    assert len(reports) > 3
    assert all(r.more_chunks for r in reports[:-1]) and not reports[-1].more_chunks
    n = sum(len(r.attribute_reports) for r in reports)
    assert n >= 100


def test_many_changes_report_the_whole_subscription():
    light, engine = setup()
    subscribe(engine, [AttributePath(1, None, None)], 0, 60)
    light.basic.set_by_id(5, "x")  # endpoint 0: not subscribed
    (sub,) = engine.subscriptions
    for attr in light.on_off.attributes():
        light.on_off.changed(attr.id)
        light.on_off.changed(attr.id)  # the same path twice is one change
        assert sub.all_dirty or len(sub.dirty) <= MAX_DIRTY
    assert len(light.on_off.attributes()) > MAX_DIRTY and sub.all_dirty
    (out,) = engine.poll(0)
    paths = [r.path for r in msg.decode_report_data(out.payload).attribute_reports]
    assert all(p.endpoint == 1 for p in paths) and len(paths) > 20


def test_whole_cluster_change_and_acl_change_reports():
    light, engine = setup()
    subscribe(engine, [AttributePath(0, 0x1F, 0), AttributePath(0, 0x3C, None)], 0, 60)
    light.acl.add(Entry(FABRIC, VIEW, CASE, (0x77,)))
    light.admin_commissioning.window_closed()  # changed(None): the whole cluster
    (out,) = engine.poll(0)
    report = msg.decode_report_data(out.payload)
    paths = [(r.path.endpoint, r.path.cluster, r.path.attribute) for r in report.attribute_reports]
    assert paths[0] == (0, 0x1F, 0)
    assert len(report.attribute_reports[0].value()) == 2
    assert (0, 0x3C, 0) in paths and (0, 0x3C, 0xFFFD) in paths


def test_max_interval_choice():
    assert choose_max_interval(1, 60) == 60
    assert choose_max_interval(1, 60, 300) == 300  # a device may stretch up to an hour
    assert choose_max_interval(1, 60, 9000) == 3600
    assert choose_max_interval(100, 200, 10) == 100
    assert choose_max_interval(1, 7200, 9000) == 7200


def test_a_failing_attribute_read_becomes_a_path_status():
    light, engine = setup(max_payload=200)

    def broken(attr, ctx):
        raise RuntimeError("sensor gone")

    light.on_off.read = broken
    sid, _, reports = subscribe(engine, [AttributePath(1, None, None)], 1, 5)
    got = {}
    for report in reports:
        for r in report.attribute_reports:
            got[(r.path.cluster, r.path.attribute)] = r.status if isinstance(r, msg.AttributeStatus) else "data"
    assert got[(6, 0)] == status.FAILURE and got[(6, 0xFFFD)] == status.FAILURE
    assert got[(3, 0)] == "data"
    assert [s.id for s in engine.subscriptions] == [sid]


def test_an_exception_while_priming_leaves_no_subscription():
    light, engine = setup(max_payload=200)
    req = msg.SubscribeRequest(1, 5, [AttributePath()])
    assert send(engine, msg.SUBSCRIBE_REQUEST, req, exchange="p").expect_reply
    state = engine._states["p"]

    def broken():
        raise RuntimeError("encoder bug")

    state.next_item = broken
    assert status_of(send(engine, msg.STATUS_RESPONSE, OK, exchange="p")) == status.FAILURE
    assert engine.subscriptions == [] and engine._states == {}


def test_subscription_ids_stay_distinct_with_a_stuck_random_source():
    light, engine = setup(random_u32=lambda: 0xFFFFFFFF, max_subscriptions=4)
    ids = [subscribe(engine, [AttributePath(1, 6, 0)], subject=admin(Session("s%d" % i)), exchange="e%d" % i,
                     keep=True)[0] for i in range(4)]
    assert ids == [0xFFFFFFFF, 0, 1, 2]  # the stuck value, then the next free ones (wrapping at 32 bits)
    light, engine = setup(max_subscriptions=3)  # no random source: counting up
    ids = [subscribe(engine, [AttributePath(1, 6, 0)], exchange="e%d" % i, keep=True)[0] for i in range(3)]
    assert len(set(ids)) == 3 and ids == sorted(ids)
