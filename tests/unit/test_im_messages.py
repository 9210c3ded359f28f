"""IM message codecs: hand-checked TLV bytes, a chip-tool capture, round trips and rejections."""

from support import unhex, raises
from micromatter.im import messages as msg
from micromatter.im.paths import AttributePath, CommandPath, EventPath, DataVersionFilter, APPEND, WHOLE
from micromatter.im.status import MalformedMessageError

# The decrypted payload of an InvokeRequest (SetRegulatoryConfig: Indoor, "WW", breadcrumb 3) captured from
# chip-tool and published in rs-matter's transport tests; it carries an extra field (tag 3) and no revision.
CHIP_TOOL_SET_REGULATORY_CONFIG = unhex(
    "15 28 00 28 01 36 02 15 37 00 24 00 00 24 01 30 24 02 02 18"
    "35 01 24 00 00 2c 01 02 57 57 24 02 03 25 03 b8 0b 18 18 18 18"
)


def test_status_response_bytes():
    assert msg.StatusResponse(0).encode() == unhex("15 24 00 00 24 ff 0b 18")
    assert msg.StatusResponse(0xC6).encode() == unhex("15 24 00 c6 24 ff 0b 18")
    assert msg.decode_status_response(unhex("15 24 00 7e 18")).status == 0x7E


def test_timed_request_bytes():
    assert msg.TimedRequest(500).encode() == unhex("15 25 00 f4 01 24 ff 0b 18")
    assert msg.decode_timed_request(unhex("15 25 00 f4 01 24 ff 0b 18")).timeout_ms == 500


def test_read_request_bytes():
    req = msg.ReadRequest([AttributePath(1, 6, 0)])
    data = unhex("15 36 00 17 24 02 01 24 03 06 24 04 00 18 18 29 03 24 ff 0b 18")
    assert req.encode() == data
    back = msg.decode_read_request(data)
    assert back.attribute_paths == [AttributePath(1, 6, 0)]
    assert back.fabric_filtered is True
    assert back.event_paths == [] and back.data_version_filters == []


def test_read_request_round_trip_with_everything():
    req = msg.ReadRequest(
        [AttributePath(), AttributePath(None, 0x28, None), AttributePath(0, 0x1F, 0, node=0x1122)],
        [EventPath(0, 0x28, 0, urgent=True), EventPath()],
        [(None, 5), (7, 1 << 40)],
        False,
        [DataVersionFilter(1, 6, 0xDEADBEEF), DataVersionFilter(0, 0x28, 0, node=3)],
    )
    back = msg.decode_read_request(req.encode())
    assert back.attribute_paths == req.attribute_paths
    assert back.event_paths == req.event_paths
    assert back.event_filters == req.event_filters
    assert back.fabric_filtered is False
    assert back.data_version_filters == req.data_version_filters


def test_subscribe_request_round_trip_and_bytes():
    req = msg.SubscribeRequest(2, 60, [AttributePath(1, 6, 0)], keep_subscriptions=True)
    data = req.encode()
    assert data == unhex("15 29 00 24 01 02 24 02 3c 36 03 17 24 02 01 24 03 06 24 04 00 18 18 29 07 24 ff 0b 18")
    back = msg.decode_subscribe_request(data)
    assert (back.keep_subscriptions, back.min_interval_floor, back.max_interval_ceiling) == (True, 2, 60)
    assert back.attribute_paths == [AttributePath(1, 6, 0)]
    # Both intervals are mandatory.
    raises(MalformedMessageError, msg.decode_subscribe_request, unhex("15 24 01 02 18"))


def test_subscribe_response_bytes():
    data = msg.SubscribeResponse(0x12345678, 60).encode()
    assert data == unhex("15 26 00 78 56 34 12 24 02 3c 24 ff 0b 18")
    back = msg.decode_subscribe_response(data)
    assert (back.subscription_id, back.max_interval) == (0x12345678, 60)


def test_report_data_bytes_and_round_trip():
    rep = msg.ReportData(
        [
            msg.AttributeData(AttributePath(1, 6, 0), True, data_version=5),
            msg.AttributeStatus(AttributePath(2, 6, 0), 0x7F),
        ],
        subscription_id=9,
        suppress_response=True,
    )
    data = rep.encode()
    assert data == unhex(
        "15 24 00 09 36 01"
        "15 35 01 24 00 05 37 01 24 02 01 24 03 06 24 04 00 18 29 02 18 18"
        "15 35 00 37 00 24 02 02 24 03 06 24 04 00 18 35 01 24 00 7f 18 18 18"
        "18 29 04 24 ff 0b 18"
    )
    back = msg.decode_report_data(data)
    assert back.subscription_id == 9 and back.suppress_response and not back.more_chunks
    d, s = back.attribute_reports
    assert d.path == AttributePath(1, 6, 0) and d.data_version == 5 and d.value() is True
    assert s.path == AttributePath(2, 6, 0) and s.status == 0x7F and s.cluster_status is None


def test_attribute_path_list_index_forms():
    for index in (WHOLE, APPEND, 3):
        p = AttributePath(0, 0x1F, 0, list_index=index)
        back = msg.decode_write_request(msg.WriteRequest([msg.AttributeData(p, [])]).encode())
        assert back.write_requests[0].path == p
    # null list index is the append form: 0x34 is a null with context tag 5
    data = msg.WriteRequest([msg.AttributeData(AttributePath(0, 0x1F, 0, list_index=APPEND), 1)]).encode()
    assert unhex("34 05") in data


def test_write_request_and_response_round_trip():
    req = msg.WriteRequest(
        [msg.AttributeData(AttributePath(0, 0x28, 5), "kitchen", data_version=3)], timed_request=True, more_chunks=True
    )
    data = req.encode()
    assert data == unhex(
        "15 29 01 36 02 15 24 00 03 37 01 24 02 00 24 03 28 24 04 05 18 2c 02 07 6b 69 74 63 68 65 6e 18 18 29 03"
        "24 ff 0b 18"
    )
    back = msg.decode_write_request(data)
    assert back.timed_request and back.more_chunks and not back.suppress_response
    (d,) = back.write_requests
    assert d.path == AttributePath(0, 0x28, 5) and d.data_version == 3 and d.value() == "kitchen"
    resp = msg.WriteResponse([msg.AttributeStatus(AttributePath(0, 0x28, 5), 0, None)])
    back = msg.decode_write_response(resp.encode())
    assert back.statuses[0].path == AttributePath(0, 0x28, 5) and back.statuses[0].status == 0


def test_chip_tool_invoke_request_capture():
    req = msg.decode_invoke_request(CHIP_TOOL_SET_REGULATORY_CONFIG)
    assert not req.suppress_response and not req.timed_request
    (c,) = req.invoke_requests
    assert c.path == CommandPath(0, 0x30, 2) and c.ref is None
    fields = c.value()
    assert fields[0] == 0 and fields[1] == "WW" and fields[2] == 3 and fields[3] == 3000


def test_invoke_response_round_trip():
    resp = msg.InvokeResponse(
        [
            msg.CommandData(CommandPath(0, 0x30, 1), {0: 0, 1: ""}, ref=1),
            msg.CommandStatus(CommandPath(1, 6, 2), 0, None, ref=2),
        ]
    )
    back = msg.decode_invoke_response(resp.encode())
    d, s = back.responses
    assert d.path == CommandPath(0, 0x30, 1) and d.ref == 1 and d.value() == {0: 0, 1: ""}
    assert s.path == CommandPath(1, 6, 2) and s.status == 0 and s.ref == 2


def test_invoke_request_without_fields():
    req = msg.InvokeRequest([msg.CommandData(CommandPath(1, 6, 2), None)])
    data = req.encode()
    assert data == unhex("15 28 00 28 01 36 02 15 37 00 24 00 01 24 01 06 24 02 02 18 18 18 24 ff 0b 18")
    (c,) = msg.decode_invoke_request(data).invoke_requests
    assert c.fields is None


def test_malformed_messages_rejected():
    bad = [
        b"",
        unhex("15"),  # unterminated
        unhex("24 00 00"),  # not a structure
        unhex("15 24 00 00 18 00"),  # trailing data
        unhex("15 18"),  # status response without a status
        unhex("15 2c 00 01 41 18"),  # status as a string
    ]
    for data in bad:
        raises(MalformedMessageError, msg.decode_status_response, data)
    raises(MalformedMessageError, msg.decode_read_request, unhex("15 36 00 15 18 18 18"))  # path as a struct
    raises(MalformedMessageError, msg.decode_read_request, unhex("15 36 00 17 24 09 01 18 18 18"))  # unknown path tag
    raises(MalformedMessageError, msg.decode_read_request, unhex("15 36 00 17 25 02 00 00 01 18 18 18"))  # endpoint > u16
    raises(MalformedMessageError, msg.decode_invoke_request, unhex("15 28 00 28 01 18"))  # no InvokeRequests
    raises(MalformedMessageError, msg.decode_write_request, unhex("15 36 02 15 18 18 18"))  # AttributeDataIB empty
    raises(MalformedMessageError, msg.decode_timed_request, unhex("15 24 00 ff ff 18"))  # bad TLV after the value


def test_event_report_bytes_and_round_trip():
    rep = msg.ReportData(
        event_reports=[
            msg.EventData(EventPath(0, 0x28, 0), 0, 2, system_time_ms=1234, data={0: 1}),
            msg.EventStatus(EventPath(0, 0x28, 9), 0xC7),
        ]
    )
    data = rep.encode()
    assert data == unhex(
        "15 36 02"
        "15 35 01 37 00 24 01 00 24 02 28 24 03 00 18 24 01 00 24 02 02 25 04 d2 04 35 07 24 00 01 18 18 18"
        "15 35 00 37 00 24 01 00 24 02 28 24 03 09 18 35 01 24 00 c7 18 18 18"
        "18 24 ff 0b 18"
    )
    e, s = msg.decode_report_data(data).event_reports
    assert (e.path, e.number, e.priority, e.system_time_ms, e.value()) == (EventPath(0, 0x28, 0), 0, 2, 1234, {0: 1})
    assert s.path == EventPath(0, 0x28, 9) and s.status == 0xC7


def test_unknown_members_skipped_in_structures_and_rejected_in_paths():
    # A status response with an unknown context tag, a common-profile tag 0 (not the context tag 0) and a
    # nested unknown container before the status: all skipped.
    data = unhex("15 24 05 01 44 00 00 09 35 09 24 00 01 18 24 00 7e 18")
    assert msg.decode_status_response(data).status == 0x7E
    # A common-profile tag 0 alone is not the status.
    raises(MalformedMessageError, msg.decode_status_response, unhex("15 44 00 00 09 18"))
    # In a path (a list) an unknown tag is an error, a profile tag too.
    raises(MalformedMessageError, msg.decode_read_request, unhex("15 36 00 17 44 02 00 01 18 18 18"))
    back = msg.decode_read_request(unhex("15 36 00 17 24 02 01 18 18 26 07 01 00 00 00 18"))
    assert back.attribute_paths == [AttributePath(1)]


def test_missing_required_fields_are_reported_by_name():
    cases = [
        (msg.decode_subscribe_request, "15 24 01 02 18", "MaxIntervalCeiling"),
        (msg.decode_subscribe_request, "15 24 02 3c 18", "MinIntervalFloor"),
        (msg.decode_subscribe_response, "15 24 02 3c 18", "SubscriptionId"),
        (msg.decode_invoke_request, "15 28 00 28 01 18", "InvokeRequests"),
        (msg.decode_write_request, "15 36 02 15 24 00 01 37 01 18 18 18 18", "Data"),  # AttributeDataIB
        (msg.decode_write_response, "15 36 00 15 37 00 18 18 18 18", "Status"),  # AttributeStatusIB
        (msg.decode_status_response, "15 18", "Status"),
        (msg.decode_timed_request, "15 24 01 05 18", "Timeout"),
    ]
    for decode, data, name in cases:
        e = raises(MalformedMessageError, decode, unhex(data))
        assert name in str(e), (name, str(e))


def test_status_ib_fields_land_on_their_report():
    resp = msg.InvokeResponse([msg.CommandStatus(CommandPath(1, 6, 2), 0x81, 0x42, ref=7)])
    (s,) = msg.decode_invoke_response(resp.encode()).responses
    assert (s.path, s.status, s.cluster_status, s.ref) == (CommandPath(1, 6, 2), 0x81, 0x42, 7)
    # StatusIB without its status: the report is malformed, whatever else it holds.
    no_status = unhex("15 36 01 15 35 01 37 00 24 00 01 18 35 01 24 01 05 18 18 18 18 18")
    raises(MalformedMessageError, msg.decode_invoke_response, no_status)


def test_public_information_block_readers():
    from micromatter import tlv

    def at(hex_text):
        r = tlv.TlvReader(unhex(hex_text))
        assert r.next()
        return r

    assert msg.read_status(at("15 24 00 81 24 01 42 18")) == (0x81, 0x42)
    assert msg.read_status(at("15 24 00 01 18")) == (1, None)
    assert msg.read_cluster_path(at("17 24 01 02 24 02 06 18")) == (None, 2, 6)
    assert msg.read_event_filter(at("15 24 00 07 24 01 05 18")) == (7, 5)
    assert msg.read_attribute_path(at("17 24 02 01 24 03 06 24 04 00 18")) == AttributePath(1, 6, 0)
    assert msg.read_command_path(at("17 24 00 01 24 01 06 24 02 02 18")) == CommandPath(1, 6, 2)
    assert msg.read_data_version_filter(at("15 37 00 24 01 01 24 02 06 18 24 01 09 18")) == DataVersionFilter(1, 6, 9)
    raises(MalformedMessageError, msg.read_status, at("15 24 01 42 18"))  # no status
