"""Shared fixtures of the IM tests (no tests here): a light node, an engine, subjects, request drivers."""

from micromatter.storage import MemoryStorage
from micromatter.clusters.light import build_light
from micromatter.im.engine import Engine
from micromatter.im.acl import Subject, CASE, PASE
from micromatter.im import messages as msg
from micromatter.im import status

ADMIN_NODE = 0x0000000000001122
FABRIC = 1


class Session:
    """A stand-in for a session handle (the engine only compares identity)."""

    def __init__(self, name):
        self.name = name


def make_light(storage=None, with_admin=True):
    light = build_light(storage=storage if storage is not None else MemoryStorage())
    if with_admin:
        light.acl.add_admin(FABRIC, ADMIN_NODE)
    return light


def admin(session=None):
    return Subject(CASE, FABRIC, ADMIN_NODE, session=session or Session("admin"))


def stranger(session=None):
    """A CASE peer of the same fabric that no ACL entry names."""
    return Subject(CASE, FABRIC, 0x99, session=session or Session("stranger"))


def commissioner(session=None):
    return Subject(PASE, 0, 0, session=session or Session("pase"), commissioner=True)


def setup(max_payload=None, storage=None, **kw):
    light = make_light(storage)
    if max_payload is not None:
        kw["max_payload"] = max_payload
    return light, Engine(light.node, light.acl, **kw)


def send(engine, opcode, message, subject=None, exchange="x", now=0):
    payload = message.encode() if hasattr(message, "encode") else message
    return engine.on_request(exchange, subject or admin(), opcode, payload, now)


def read_all(engine, request, subject=None, exchange="r", now=0):
    """Drive a (possibly chunked) read; returns the list of decoded ReportData messages."""
    subject = subject or admin()
    reply = engine.on_request(exchange, subject, msg.READ_REQUEST, request.encode(), now)
    reports = []
    for _ in range(200):
        assert reply.opcode == msg.REPORT_DATA, reply.opcode
        report = msg.decode_report_data(reply.payload)
        reports.append(report)
        if not report.more_chunks:
            assert report.suppress_response
            assert not reply.expect_reply
            return reports
        assert reply.expect_reply
        reply = engine.on_request(exchange, subject, msg.STATUS_RESPONSE, msg.StatusResponse(0).encode(), now)
    raise AssertionError("read did not end")


def values(reports):
    """{(endpoint, cluster, attribute): value or ("status", code)} from reports (list appends applied)."""
    out = {}
    for report in reports:
        for r in report.attribute_reports:
            p = r.path
            key = (p.endpoint, p.cluster, p.attribute)
            if isinstance(r, msg.AttributeStatus):
                out[key] = ("status", r.status)
            elif p.list_index is None:
                out[key].append(r.value())
            else:
                out[key] = r.value()
    return out


def status_of(reply):
    assert reply.opcode == msg.STATUS_RESPONSE, reply.opcode
    return msg.decode_status_response(reply.payload).status


SUCCESS = status.SUCCESS
