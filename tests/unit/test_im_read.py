"""Read interactions through the engine: wildcards, statuses, data version filters, fabric filtering,
access control and chunking."""

from test_im_helpers import setup, read_all, values, admin, stranger, commissioner, status_of, send, FABRIC
from micromatter.im import messages as msg
from micromatter.im import status
from micromatter.im.acl import Entry, CASE, VIEW, OPERATE
from micromatter.im.paths import AttributePath, EventPath, DataVersionFilter
from micromatter.datamodel.model import GLOBAL_ATTRIBUTES


def _all_attributes(light):
    n = 0
    for e in light.node.endpoints:
        for c in e.clusters:
            n += len(c.attributes())
    return n


def test_wildcard_read_of_the_whole_light():
    light, engine = setup()
    v = values(read_all(engine, msg.ReadRequest([AttributePath()])))
    assert len(v) == _all_attributes(light)
    for e in light.node.endpoints:
        for c in e.clusters:
            ids = v[(e.id, c.ID, 0xFFFB)]
            assert ids == [a.id for a in c.attributes()]
            for g in GLOBAL_ATTRIBUTES:
                assert (e.id, c.ID, g.id) in v
            assert v[(e.id, c.ID, 0xFFFD)] == c.REVISION
    assert v[(0, 0x1D, 3)] == [1]  # root parts list
    assert v[(1, 0x1D, 0)] == [{0: 0x0100, 1: 3}]
    assert v[(0, 0x1D, 1)] == [0x1D, 0x1F, 0x28, 0x30, 0x31, 0x3C, 0x3E, 0x3F]
    assert v[(1, 0x1D, 1)] == [0x03, 0x06, 0x1D]
    assert v[(1, 6, 0xFFF9)] == [0, 1, 2, 0x40, 0x41, 0x42]
    assert v[(0, 0x30, 0xFFF8)] == [1, 3, 5]
    assert v[(1, 6, 0)] is False


def test_endpoint_and_cluster_wildcards():
    light, engine = setup()
    v = values(read_all(engine, msg.ReadRequest([AttributePath(None, 0x1D, 0)])))
    assert v == {(0, 0x1D, 0): [{0: 0x16, 1: 2}], (1, 0x1D, 0): [{0: 0x100, 1: 3}]}
    v = values(read_all(engine, msg.ReadRequest([AttributePath(1, None, 0xFFFD)])))
    assert v == {(1, 3, 0xFFFD): 4, (1, 6, 0xFFFD): 6, (1, 0x1D, 0xFFFD): 2}
    # A wildcard that matches nothing reports nothing.
    (report,) = read_all(engine, msg.ReadRequest([AttributePath(None, 0x0300, None)]))
    assert report.attribute_reports == []


def test_concrete_paths_answer_with_statuses():
    light, engine = setup()
    v = values(
        read_all(
            engine,
            msg.ReadRequest(
                [AttributePath(1, 6, 0), AttributePath(7, 6, 0), AttributePath(1, 8, 0), AttributePath(1, 6, 0x99)]
            ),
        )
    )
    assert v[(1, 6, 0)] is False
    assert v[(7, 6, 0)] == ("status", status.UNSUPPORTED_ENDPOINT)
    assert v[(1, 8, 0)] == ("status", status.UNSUPPORTED_CLUSTER)
    assert v[(1, 6, 0x99)] == ("status", status.UNSUPPORTED_ATTRIBUTE)


def test_data_versions_and_filters():
    light, engine = setup()
    (report,) = read_all(engine, msg.ReadRequest([AttributePath(1, 6, None)]))
    version = report.attribute_reports[0].data_version
    assert version == light.on_off.data_version
    assert all(r.data_version == version for r in report.attribute_reports)
    # A matching filter leaves the cluster out; a stale one does not.
    same = msg.ReadRequest([AttributePath(1, None, None)], data_version_filters=[DataVersionFilter(1, 6, version)])
    v = values(read_all(engine, same))
    assert not any(k[1] == 6 for k in v) and (1, 3, 0) in v
    stale = msg.ReadRequest([AttributePath(1, 6, 0)], data_version_filters=[DataVersionFilter(1, 6, version - 1)])
    assert values(read_all(engine, stale)) == {(1, 6, 0): False}
    # Under an endpoint wildcard a filter leaves out the one cluster it names, not the path's others.
    d0 = light.node.cluster(0, 0x1D).data_version
    one = msg.ReadRequest([AttributePath(None, 0x1D, 0)], data_version_filters=[DataVersionFilter(0, 0x1D, d0)])
    assert list(values(read_all(engine, one))) == [(1, 0x1D, 0)]
    # A change bumps the version.
    light.on_off.switch(True)
    assert light.on_off.data_version == (version + 1) & 0xFFFFFFFF
    assert values(read_all(engine, same))[(1, 6, 0)] is True


def test_fabric_filtered_and_unfiltered_reads_of_a_fabric_scoped_list():
    light, engine = setup()
    light.acl.add(Entry(2, VIEW, CASE, (0x4444,)))
    path = [AttributePath(0, 0x1F, 0)]
    v = values(read_all(engine, msg.ReadRequest(path, fabric_filtered=True)))
    assert v[(0, 0x1F, 0)] == [{1: 5, 2: 2, 3: [0x1122], 4: None, 254: 1}]
    v = values(read_all(engine, msg.ReadRequest(path, fabric_filtered=False)))
    # The other fabric's entry shows only its fabric index: its fields are fabric-sensitive.
    assert v[(0, 0x1F, 0)] == [{1: 5, 2: 2, 3: [0x1122], 4: None, 254: 1}, {254: 2}]


def test_access_control_on_reads():
    light, engine = setup()
    # No entry for this subject: concrete paths say UNSUPPORTED_ACCESS, wildcards report nothing.
    v = values(read_all(engine, msg.ReadRequest([AttributePath(1, 6, 0)]), stranger()))
    assert v == {(1, 6, 0): ("status", status.UNSUPPORTED_ACCESS)}
    (report,) = read_all(engine, msg.ReadRequest([AttributePath()]), stranger())
    assert report.attribute_reports == []
    # View on endpoint 1 only: the ACL attribute (Administer) stays hidden.
    light.acl.add(Entry(FABRIC, VIEW, CASE, (0x99,), ((None, 1, None),)))
    v = values(read_all(engine, msg.ReadRequest([AttributePath()]), stranger()))
    assert v and all(k[0] == 1 for k in v)
    light.acl.add(Entry(FABRIC, OPERATE, CASE, (0x99,), ((None, 0, None),)))
    v = values(read_all(engine, msg.ReadRequest([AttributePath(0, 0x1F, None), AttributePath(0, 0x1F, 0)]), stranger()))
    assert (0, 0x1F, 2) in v
    assert v[(0, 0x1F, 0)] == ("status", status.UNSUPPORTED_ACCESS)


def test_commissioner_reads_everything_but_no_fabric_scoped_entries():
    light, engine = setup()
    v = values(read_all(engine, msg.ReadRequest([AttributePath(0, None, None)]), commissioner()))
    assert v[(0, 0x1F, 0)] == []
    assert v[(0, 0x3E, 5)] == 0  # CurrentFabricIndex
    assert v[(0, 0x28, 2)] == 0xFFF1


def test_event_paths():
    light, engine = setup()
    req = msg.ReadRequest(
        [AttributePath(1, 6, 0)],
        event_paths=[EventPath(0, 0x28, 0x99), EventPath(5, 0x28, 0), EventPath(0, 0x28, 0), EventPath()],
    )
    (report,) = read_all(engine, req)
    assert [(e.path.endpoint, e.status) for e in report.event_reports] == [
        (0, status.UNSUPPORTED_EVENT),
        (5, status.UNSUPPORTED_ENDPOINT),
    ]
    assert len(report.attribute_reports) == 1
    assert light.basic.start_up(1234) == 0
    light.basic.leave(7, 1300)
    (report,) = read_all(engine, msg.ReadRequest(event_paths=[EventPath(0, 0x28, 0)]))
    (e,) = report.event_reports
    assert isinstance(e, msg.EventData) and e.path == EventPath(0, 0x28, 0)
    assert (e.number, e.priority, e.system_time_ms, e.value()) == (0, 2, 1234, {0: 1})
    (report,) = read_all(engine, msg.ReadRequest(event_paths=[EventPath()]))
    assert [(e.number, e.path.event) for e in report.event_reports] == [(0, 0), (1, 2)]
    (report,) = read_all(engine, msg.ReadRequest(event_paths=[EventPath()], event_filters=[(None, 1)]))
    assert [e.number for e in report.event_reports] == [1]
    # Events need the cluster's read privilege like attributes.
    (report,) = read_all(engine, msg.ReadRequest(event_paths=[EventPath(0, 0x28, 0), EventPath()]), stranger())
    assert [(type(e).__name__, e.status) for e in report.event_reports] == [("EventStatus", status.UNSUPPORTED_ACCESS)]


def test_chunked_read_with_a_small_buffer():
    light, engine = setup()
    whole = values(read_all(engine, msg.ReadRequest([AttributePath()])))
    for size in (160, 256, 512):
        light2, small = setup(max_payload=size)
        reports = read_all(small, msg.ReadRequest([AttributePath()]))
        assert len(reports) > 1
        for r in reports[:-1]:
            assert r.more_chunks and not r.suppress_response
        assert values(reports) == whole


def test_chunked_payloads_stay_within_the_limit():
    light, engine = setup(max_payload=200)
    exchange = "c"
    reply = engine.on_request(exchange, admin(), msg.READ_REQUEST, msg.ReadRequest([AttributePath()]).encode(), 0)
    n = 0
    while reply.expect_reply:
        assert len(reply.payload) <= 200
        reply = send(engine, msg.STATUS_RESPONSE, msg.StatusResponse(0), exchange=exchange)
        n += 1
    assert len(reply.payload) <= 200 and n > 5


def test_long_list_is_split_into_appends():
    light, engine = setup(max_payload=160)
    targets = ((6, 1, None), (3, 1, None), (None, 0, None))
    for node in (0x10, 0x20, 0x30):
        light.acl.add(Entry(FABRIC, OPERATE, CASE, (node, node + 1, node + 2, node + 3), targets))
    reports = read_all(engine, msg.ReadRequest([AttributePath(0, 0x1F, 0)]))
    appends = [r for rep in reports for r in rep.attribute_reports if r.path.list_index is None]
    assert len(reports) > 1 and len(appends) == 4
    first = reports[0].attribute_reports[0]
    assert first.path.list_index == -1 and first.value() == []
    acl = values(reports)[(0, 0x1F, 0)]
    assert len(acl) == 4 and acl[3][3] == [0x30, 0x31, 0x32, 0x33]
    assert acl[3][4] == [{0: 6, 1: 1, 2: None}, {0: 3, 1: 1, 2: None}, {0: None, 1: 0, 2: None}]


def test_concurrent_chunked_reads_are_bounded():
    light, engine = setup(max_payload=200, max_interactions=2)
    req = msg.ReadRequest([AttributePath()]).encode()
    assert engine.on_request("a", admin(), msg.READ_REQUEST, req, 0).expect_reply
    assert engine.on_request("b", admin(), msg.READ_REQUEST, req, 0).expect_reply
    assert status_of(engine.on_request("c", admin(), msg.READ_REQUEST, req, 0)) == status.RESOURCE_EXHAUSTED
    # A small read that fits one message needs no state and still works.
    one = msg.ReadRequest([AttributePath(1, 6, 0)]).encode()
    assert engine.on_request("d", admin(), msg.READ_REQUEST, one, 0).opcode == msg.REPORT_DATA
    # An abandoned read is dropped after the response timeout, making room again.
    engine.poll(60000)
    assert engine.on_request("c", admin(), msg.READ_REQUEST, req, 60000).expect_reply


def test_a_chunked_read_ends_on_an_error_status():
    light, engine = setup(max_payload=200)
    req = msg.ReadRequest([AttributePath()]).encode()
    assert engine.on_request("a", admin(), msg.READ_REQUEST, req, 0).expect_reply
    assert send(engine, msg.STATUS_RESPONSE, msg.StatusResponse(status.FAILURE), exchange="a") is None
    assert engine._states == {}
    # Anything but a StatusResponse in the middle of a read aborts it.
    assert engine.on_request("a", admin(), msg.READ_REQUEST, req, 0).expect_reply
    assert status_of(send(engine, msg.INVOKE_REQUEST, b"\x15\x18", exchange="a")) == status.INVALID_ACTION
    assert engine._states == {}


def test_malformed_and_empty_reads():
    light, engine = setup()
    assert status_of(send(engine, msg.READ_REQUEST, msg.ReadRequest([]))) == status.INVALID_ACTION
    for payload in (b"", b"\x15", b"\x15\x36\x00\x15\x18\x18\x18", b"\x17\x18", b"\xff" * 4):
        assert status_of(send(engine, msg.READ_REQUEST, payload)) == status.INVALID_ACTION
    assert status_of(send(engine, 0x77, b"\x15\x18")) == status.INVALID_ACTION
    assert status_of(send(engine, msg.STATUS_RESPONSE, msg.StatusResponse(0))) == status.INVALID_ACTION
