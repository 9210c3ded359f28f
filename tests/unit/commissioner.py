"""Our own controller, built from the project's initiators: a commissioner for the node tests (both runtimes)
and for anyone who needs "our own controller" against a device.

``Commissioner`` is sans-I/O and shaped like ``micromatter.node.Node``: ``on_datagram(data, source, now_ms)``,
``poll(now_ms)`` and ``next_deadline()`` return / take ``(channel, data, address)`` outputs.  Inside: a session
core, the exchange layer, the secure channel (our ``PaseInitiator`` and ``CaseInitiator``), an IM client and a
fabric authority (``casekit.Authority``: RCAC, ICAC, NOCs).  The blocking helpers (``pase``, ``case``, ``read``,
``invoke``, ``subscribe``, ``commission``) take a *runner*: any object with ``now`` (ms) and
``run_until(predicate)`` that moves datagrams and time until ``predicate()`` holds.  ``Wire`` is the runner of
the unit tests (nodes back to back, fake clock); a UDP loop with the same two members drives a real device.

``commission`` runs the whole flow a controller runs: PASE, a ReadRequest of Basic Information, ArmFailSafe,
CertificateChainRequest (PAI, DAC), AttestationRequest (chain checked up to the trusted PAAs with
``certs.attestation.validate_chain``, the CD with ``certs.cd.verify``, the signature over the elements and the
PASE session's attestation challenge), CSRRequest (same checks, the CSR's own signature), AddTrustedRootCertificate,
AddNOC, CASE, CommissioningComplete; each step raises ``CommissioningError`` naming it if it fails.
"""

from micromatter import tlv
from micromatter.certs import attestation as dac_certs
from micromatter.certs import cd as cd_codec
from micromatter.certs import csr as csr_codec
from micromatter.certs import keys, pem
from micromatter.crypto import spake2p
from micromatter.errors import MatterError
from micromatter.exchange import ExchangeManager, ProtocolHandler
from micromatter.im import messages as msg
from micromatter.im import status
from micromatter.im.paths import APPEND, AttributePath, CommandPath
from micromatter.securechannel.dispatch import CaseEstablished, CaseFailed, PaseEstablished, PaseFailed, SecureChannel
from micromatter.session.manager import SessionManager
from micromatter.storage import MemoryStorage
from casekit import Authority
from certs_vectors import credential
from sessionkit import Clockless
from support import port

MATTER = "matter"
MDNS = "mdns"
BASIC_INFORMATION = 0x0028
GENERAL_COMMISSIONING = 0x0030
OPERATIONAL_CREDENTIALS = 0x003E
ADMIN_COMMISSIONING = 0x003C
ON_OFF = 0x0006
EPOCH_KEY = bytes(range(0x60, 0x70))
SENT_LOG = 64  # the wire keeps the last datagrams only: the tests' heap stays small on MicroPython

_trust = []


def trust_anchors():
    """(PAA DER certificates, CD-signing public key) of the public test credentials (read once)."""
    if not _trust:
        paas = [pem.decode(credential(n), "CERTIFICATE") for n in ("test-paa-fff1-cert.pem", "test-paa-novid-cert.pem")]
        cd_key = keys.parse_private_key_pem(credential("test-cd-signing-key.pem"))[0]
        _trust.append((paas, port().crypto.p256_public_key(cd_key)))
    return _trust[0]


class CommissioningError(MatterError):
    """A commissioning step failed: ``step`` names it, ``detail`` says what the device answered."""

    def __init__(self, step, detail):
        super().__init__("%s: %s" % (step, detail))
        self.step = step
        self.detail = detail


# --- the IM client -------------------------------------------------------------------------------------------


class Request:
    """One interaction in flight: ``done``, then ``error`` (None on success) and ``result``."""

    def __init__(self):
        self.done = False
        self.error = None
        self.result = None

    def finish(self, exchange, now_ms, result=None, error=None):
        self.done = True
        self.result = result
        self.error = error
        if exchange is not None and exchange.is_open:
            exchange.close(now_ms)

    def on_closed(self, reason):
        if not self.done:
            self.done = True
            self.error = "exchange closed (reason %d)" % reason


def _values(into, report):
    for d in report.attribute_reports:
        p = d.path
        key = (p.endpoint, p.cluster, p.attribute)
        if isinstance(d, msg.AttributeStatus):
            into[key] = ("status", d.status, d.cluster_status)
        elif p.list_index is APPEND:
            into.setdefault(key, []).append(d.value())
        else:
            into[key] = d.value()


class ReadRequest(Request):
    def __init__(self, paths, fabric_filtered=True):
        Request.__init__(self)
        self.message = msg.ReadRequest(paths, fabric_filtered=fabric_filtered)
        self.values = {}

    def start(self, exchange, now_ms):
        exchange.send(msg.READ_REQUEST, self.message.encode(), now_ms, expect_reply=True)

    def on_message(self, exchange, opcode, payload, now_ms):
        if opcode == msg.STATUS_RESPONSE:
            self.finish(exchange, now_ms, error=msg.decode_status_response(payload).status)
            return
        report = msg.decode_report_data(payload)
        _values(self.values, report)
        if report.more_chunks:
            exchange.send(msg.STATUS_RESPONSE, msg.StatusResponse(status.SUCCESS).encode(), now_ms, expect_reply=True)
        else:
            self.finish(exchange, now_ms, self.values)


class InvokeRequest(Request):
    """One command; ``timed_ms``: preceded by a TimedRequest.  ``result`` is the response's fields (a ``Struct``)
    or a ``msg.CommandStatus``; a StatusResponse is an ``error`` (its status)."""

    def __init__(self, endpoint, cluster, command, fields=None, timed_ms=None, timed_flag=None):
        Request.__init__(self)
        self.path = CommandPath(endpoint, cluster, command)
        self.fields = fields
        self.timed_ms = timed_ms
        self.timed_flag = timed_ms is not None if timed_flag is None else timed_flag
        self.waiting_timed = False

    def _invoke(self, exchange, now_ms):
        m = msg.InvokeRequest([msg.CommandData(self.path, self.fields)], timed_request=self.timed_flag)
        exchange.send(msg.INVOKE_REQUEST, m.encode(), now_ms, expect_reply=True)

    def start(self, exchange, now_ms):
        if self.timed_ms is not None:
            self.waiting_timed = True
            exchange.send(msg.TIMED_REQUEST, msg.TimedRequest(self.timed_ms).encode(), now_ms, expect_reply=True)
        else:
            self._invoke(exchange, now_ms)

    def on_message(self, exchange, opcode, payload, now_ms):
        if opcode == msg.STATUS_RESPONSE:
            code = msg.decode_status_response(payload).status
            if self.waiting_timed and code == status.SUCCESS:
                self.waiting_timed = False
                self._invoke(exchange, now_ms)
                return
            self.finish(exchange, now_ms, error=code)
            return
        if opcode != msg.INVOKE_RESPONSE:
            self.finish(exchange, now_ms, error="unexpected opcode 0x%02x" % opcode)
            return
        responses = msg.decode_invoke_response(payload).responses
        if len(responses) != 1:
            self.finish(exchange, now_ms, error="%d responses" % len(responses))
            return
        r = responses[0]
        self.finish(exchange, now_ms, r if isinstance(r, msg.CommandStatus) else r.value())


class SubscribeRequest(Request):
    """A subscription: priming reports, then SubscribeResponse (``result``: the ``Subscription``)."""

    def __init__(self, client, paths, min_interval_s, max_interval_s):
        Request.__init__(self)
        self.client = client
        self.message = msg.SubscribeRequest(min_interval_s, max_interval_s, paths)
        self.subscription = Subscription()

    def start(self, exchange, now_ms):
        exchange.send(msg.SUBSCRIBE_REQUEST, self.message.encode(), now_ms, expect_reply=True)

    def on_message(self, exchange, opcode, payload, now_ms):
        sub = self.subscription
        if opcode == msg.REPORT_DATA:
            report = msg.decode_report_data(payload)
            sub.id = report.subscription_id
            _values(sub.priming, report)
            exchange.send(msg.STATUS_RESPONSE, msg.StatusResponse(status.SUCCESS).encode(), now_ms, expect_reply=True)
        elif opcode == msg.SUBSCRIBE_RESPONSE:
            response = msg.decode_subscribe_response(payload)
            sub.id = response.subscription_id
            sub.max_interval_s = response.max_interval
            self.client.subscriptions.append(sub)
            self.finish(exchange, now_ms, sub)
        else:
            code = msg.decode_status_response(payload).status if opcode == msg.STATUS_RESPONSE else opcode
            self.finish(exchange, now_ms, error=code)


class Subscription:
    """What a subscription brought: ``priming`` values, then ``reports`` (a values dict per report)."""

    def __init__(self):
        self.id = None
        self.max_interval_s = None
        self.priming = {}
        self.reports = []


class ImClient(ProtocolHandler):
    """Protocol 1 on the controller: our requests' replies, and the device's subscription reports."""

    protocol_id = msg.PROTOCOL_ID

    def __init__(self, controller):
        self.controller = controller
        self.subscriptions = []

    def accepts(self, opcode, secure):
        return secure and opcode == msg.REPORT_DATA

    def on_message(self, exchange, protocol_id, opcode, payload, now_ms):
        request = exchange.context
        if request is not None:
            request.on_message(exchange, opcode, payload, now_ms)
            return
        report = msg.decode_report_data(payload)  # a subscription report
        for sub in self.subscriptions:
            if sub.id == report.subscription_id:
                values = {}
                _values(values, report)
                sub.reports.append(values)
                reply = status.SUCCESS
                break
        else:
            reply = status.INVALID_SUBSCRIPTION
        exchange.send(msg.STATUS_RESPONSE, msg.StatusResponse(reply).encode(), now_ms, expect_reply=False)

    def on_exchange_closed(self, exchange, reason):
        if exchange.context is not None:
            exchange.context.on_closed(reason)


# --- the controller -----------------------------------------------------------------------------------------------


class CommissioningResult:
    """What ``commission`` learnt: ``fabric_index`` (the device's), ``node_id``, ``case`` (the CASE session),
    ``basic`` (Basic Information values), ``attestation`` (the parsed DAC), ``operational_key`` (the device's),
    ``steps`` (names, in order)."""


class Commissioner:
    """A controller at ``address`` on the fabric of ``authority`` (a new ``casekit.Authority`` for
    ``fabric_id`` if None), as node ``node_id``.  ``context``: crypto and randomness (deterministic from
    ``seed`` by default); ``storage``: where its resumption records live."""

    def __init__(self, address="ctl", seed=7, fabric_id=0xFAB1, node_id=0x1122, authority=None, context=None,
                 storage=None, vendor_id=0xFFF1, epoch_key=EPOCH_KEY):
        self.address = address
        self.ctx = context if context is not None else Clockless(seed)
        self.crypto = self.ctx.crypto
        self.authority = authority if authority is not None else Authority(fabric_id, epoch_key=epoch_key)
        self.node_id = node_id
        self.vendor_id = vendor_id
        self.fabric = self.authority.fabric(node_id)
        self.storage = storage if storage is not None else MemoryStorage()
        self.sessions = SessionManager(self.ctx, self.storage)
        self.sessions.init_from_storage([self.fabric])
        self.exchanges = ExchangeManager(self.sessions, self.ctx)
        self.channel = SecureChannel(self.exchanges, self.sessions, self.ctx)
        self.im = ImClient(self)
        self.exchanges.register(self.im)
        self.subscriptions = self.im.subscriptions
        self.events = []
        self._out = []

    # --- Node-like interface ------------------------------------------------------------------------------

    def _collect(self, output):
        for data, peer in output.messages:
            self._out.append((MATTER, bytes(data), peer))
        self.events.extend(output.events)

    def _drain(self):
        self._collect(self.exchanges.take_output())
        out = self._out
        self._out = []
        return out

    def on_datagram(self, data, source, now_ms):
        self._collect(self.exchanges.on_datagram(data, len(data), source, now_ms))
        return self._drain()

    def on_mdns(self, data, source, now_ms):
        return []

    def poll(self, now_ms):
        self._collect(self.exchanges.on_timer(now_ms))
        return self._drain()

    def next_deadline(self):
        return self.exchanges.next_deadline()

    # --- non-blocking operations ---------------------------------------------------------------------------

    def send(self, session, request, now_ms):
        """Start ``request`` (a ``Request``) on a new exchange of ``session``; returns it."""
        exchange = self.exchanges.open(session, self.im, now_ms)
        exchange.context = request
        request.start(exchange, now_ms)
        return request

    # --- blocking helpers (a runner moves datagrams and time) ------------------------------------------------

    def _wait(self, runner, request):
        runner.run_until(lambda: request.done)
        return request

    def pase(self, runner, address, passcode):
        """A PASE session with the device at ``address``; ``CommissioningError("pase", ...)`` if refused."""
        mark = len(self.events)
        glue = self.channel.start_pase(address, passcode, runner.now)
        runner.run_until(lambda: glue.session is not None or self._failed(mark, PaseFailed))
        if glue.session is None:
            raise CommissioningError("pase", self._failed(mark, PaseFailed))
        return glue.session

    def case(self, runner, address, device_node_id, resume=True):
        """A CASE session to ``device_node_id`` on our fabric (resumed if we hold its record and ``resume``)."""
        mark = len(self.events)
        glue = self.channel.start_case(address, self.fabric, device_node_id, runner.now, resume=resume)
        runner.run_until(lambda: glue.session is not None or self._failed(mark, CaseFailed))
        if glue.session is None:
            raise CommissioningError("case", self._failed(mark, CaseFailed))
        return glue.session

    def _failed(self, mark, kind):
        for e in self.events[mark:]:
            if isinstance(e, kind) and e.is_initiator:
                return e
        return None

    def established(self, kind=None):
        """Sessions we established, in order (``PaseEstablished``/``CaseEstablished`` events)."""
        return [e for e in self.events if isinstance(e, (PaseEstablished, CaseEstablished))
                and (kind is None or isinstance(e, kind))]

    def read(self, runner, session, paths, fabric_filtered=True):
        """Attribute values by (endpoint, cluster, attribute); ``CommissioningError("read")`` on a StatusResponse."""
        paths = [p if isinstance(p, AttributePath) else AttributePath(*p) for p in paths]
        r = self._wait(runner, self.send(session, ReadRequest(paths, fabric_filtered), runner.now))
        if r.error is not None:
            raise CommissioningError("read", r.error)
        return r.result

    def invoke(self, runner, session, endpoint, cluster, command, fields=None, timed_ms=None, timed_flag=None):
        """The command's response fields (``Struct``) or its ``msg.CommandStatus``; an interaction-level
        StatusResponse or a lost exchange raises ``CommissioningError("invoke", status)``."""
        request = InvokeRequest(endpoint, cluster, command, fields, timed_ms, timed_flag)
        r = self._wait(runner, self.send(session, request, runner.now))
        if r.error is not None:
            raise CommissioningError("invoke", r.error)
        return r.result

    def subscribe(self, runner, session, paths, min_interval_s=0, max_interval_s=60):
        paths = [p if isinstance(p, AttributePath) else AttributePath(*p) for p in paths]
        r = self._wait(runner, self.send(session, SubscribeRequest(self.im, paths, min_interval_s, max_interval_s),
                                         runner.now))
        if r.error is not None:
            raise CommissioningError("subscribe", r.error)
        return r.result

    # --- commissioning -------------------------------------------------------------------------------------------

    def _command(self, runner, session, step, cluster, command, fields=None, timed_ms=None):
        try:
            r = self.invoke(runner, session, 0, cluster, command, fields, timed_ms)
        except CommissioningError as e:
            raise CommissioningError(step, e.detail)
        if isinstance(r, msg.CommandStatus):
            if r.status != status.SUCCESS:
                raise CommissioningError(step, ("status", r.status, r.cluster_status))
            return None
        return r

    def check_attestation(self, session, dac, pai, elements, signature, nonce, basic):
        """The checks a commissioner makes of AttestationResponse; returns the parsed DAC."""
        crypto = self.crypto
        paas, cd_public = trust_anchors()
        parsed = dac_certs.parse(dac)
        issuer = dac_certs.parse(pai)
        paa = None
        for candidate in paas:
            if dac_certs.parse(candidate).subject_key_id == issuer.authority_key_id:
                paa = candidate
        if paa is None:
            raise CommissioningError("attestation", "no trusted PAA issued the PAI")
        dac_certs.validate_chain(crypto, dac, pai, paa)
        fields = tlv.decode(elements)
        if fields[2] != nonce:
            raise CommissioningError("attestation", "the nonce is not ours")
        declaration = cd_codec.verify(crypto, fields[1], cd_public)
        if not declaration.covers(basic["vendor_id"], basic["product_id"]):
            raise CommissioningError("attestation", "the CD does not cover the product")
        if parsed.vendor_id != basic["vendor_id"] or parsed.product_id != basic["product_id"]:
            raise CommissioningError("attestation", "the DAC is for another product")
        crypto.ecdsa_verify(parsed.public_key, bytes(elements) + session.attestation_challenge, signature)
        return parsed

    def commission(self, runner, address, passcode, device_node_id, admin_subject=None, steps=None,
                   expiry_s=60):
        """Commission the device at ``address`` as ``device_node_id`` on our fabric.  ``steps``: stop after the
        step of that name (for tests of half-done commissioning).  Returns a ``CommissioningResult``."""
        result = CommissioningResult()
        result.steps = []
        result.node_id = device_node_id
        result.case = None

        def done(name):
            result.steps.append(name)
            return steps is not None and name == steps

        crypto = self.crypto
        session = self.pase(runner, address, passcode)
        result.pase = session
        if done("pase"):
            return result
        names = (("vendor_name", 1), ("vendor_id", 2), ("product_name", 3), ("product_id", 4), ("unique_id", 0x12))
        values = self.read(runner, session, [(0, BASIC_INFORMATION, attr) for name, attr in names])
        result.basic = {}
        for name, attr in names:
            result.basic[name] = values[(0, BASIC_INFORMATION, attr)]
        if done("read"):
            return result
        r = self._command(runner, session, "arm", GENERAL_COMMISSIONING, 0, {0: expiry_s, 1: 1})
        if r[0] != 0:
            raise CommissioningError("arm", r)
        if done("arm"):
            return result
        pai = self._command(runner, session, "pai", OPERATIONAL_CREDENTIALS, 2, {0: 2})[0]
        dac = self._command(runner, session, "dac", OPERATIONAL_CREDENTIALS, 2, {0: 1})[0]
        nonce = self.ctx.random_bytes(32)
        r = self._command(runner, session, "attestation", OPERATIONAL_CREDENTIALS, 0, {0: nonce})
        result.attestation = self.check_attestation(session, dac, pai, r[0], r[1], nonce, result.basic)
        if done("attestation"):
            return result
        nonce = self.ctx.random_bytes(32)
        r = self._command(runner, session, "csr", OPERATIONAL_CREDENTIALS, 4, {0: nonce})
        crypto.ecdsa_verify(result.attestation.public_key, bytes(r[0]) + session.attestation_challenge, r[1])
        nocsr = tlv.decode(r[0])
        if nocsr[2] != nonce:
            raise CommissioningError("csr", "the nonce is not ours")
        result.operational_key = csr_codec.verify(crypto, nocsr[1]).public_key
        if done("csr"):
            return result
        self._command(runner, session, "root", OPERATIONAL_CREDENTIALS, 0x0B, {0: self.authority.rcac.encode()})
        if done("root"):
            return result
        noc = self.authority.noc(device_node_id, public_key=result.operational_key)[0]
        fields = {0: noc, 2: self.authority.epoch_key, 3: admin_subject or self.node_id, 4: self.vendor_id}
        if self.authority.icac is not None:
            fields[1] = self.authority.icac.encode()
        r = self._command(runner, session, "noc", OPERATIONAL_CREDENTIALS, 6, fields)
        if r[0] != 0:
            raise CommissioningError("noc", r)
        result.fabric_index = r[1]
        if done("noc"):
            return result
        result.case = self.case(runner, address, device_node_id)
        if done("case"):
            return result
        r = self._command(runner, result.case, "complete", GENERAL_COMMISSIONING, 4)
        if r[0] != 0:
            raise CommissioningError("complete", r)
        done("complete")
        return result

    def open_window(self, runner, session, passcode, discriminator, timeout_s=180, salt=None, iterations=1000):
        """OpenCommissioningWindow (enhanced) with a verifier for ``passcode``; the response status."""
        salt = salt or self.ctx.random_bytes(16)
        verifier = spake2p.PasscodeVerifier.from_passcode(self.crypto, passcode, salt, iterations).encode()
        fields = {0: timeout_s, 1: verifier, 2: discriminator, 3: iterations, 4: salt}
        return self.invoke(runner, session, 0, ADMIN_COMMISSIONING, 0, fields, timed_ms=5000)


# --- the unit tests' runner ------------------------------------------------------------------------------------------


class Wire:
    """Node-like endpoints back to back on a fake network and a fake clock.  Every Matter datagram is
    delivered to the endpoint named by its address (``drop(entry)`` may lose it, ``tamper(entry)`` change it;
    ``sent`` logs the last ``SENT_LOG``); mDNS output is kept in ``mdns`` (``(time, source, data, destination)``)."""

    def __init__(self, *endpoints):
        self.endpoints = {}
        self.now = 0
        self.queue = []
        self.sent = []
        self.mdns = []
        self.drop = None
        self.tamper = None  # tamper(entry) -> the bytes actually delivered
        for e in endpoints:
            self.add(e)

    def add(self, endpoint, address=None):
        address = address or endpoint.address
        endpoint.address = address
        self.endpoints[address] = endpoint

    def take(self, source, outs):
        for channel, data, address in outs:
            if channel == MATTER:
                self.queue.append((source, address, data))
            else:
                self.mdns.append((self.now, source, data, address))

    def deliver(self):
        count = 0
        while self.queue:
            count += 1
            assert count < 5000, "datagram storm"
            src, dst, data = self.queue.pop(0)
            entry = {"t": self.now, "src": src, "dst": dst, "data": data, "dropped": False}
            if len(self.sent) >= SENT_LOG:
                self.sent.pop(0)
            self.sent.append(entry)
            if self.drop is not None and self.drop(entry):
                entry["dropped"] = True
                continue
            if self.tamper is not None:
                data = self.tamper(entry)
            endpoint = self.endpoints.get(dst)
            if endpoint is not None:
                self.take(dst, endpoint.on_datagram(data, src, self.now))

    def next_deadline(self):
        best = None
        for e in self.endpoints.values():
            d = e.next_deadline()
            if d is not None and (best is None or d < best):
                best = d
        return best

    def tick(self, now_ms):
        """Advance the clock to ``now_ms`` and run every endpoint's due timers."""
        if now_ms > self.now:
            self.now = now_ms
        for address, e in list(self.endpoints.items()):
            d = e.next_deadline()
            if d is not None and d <= self.now:
                self.take(address, e.poll(self.now))

    def run_until(self, predicate, limit_ms=600000, steps=20000):
        """Deliver and follow deadlines until ``predicate()`` holds; AssertionError past ``limit_ms`` of fake time."""
        end = self.now + limit_ms
        for _ in range(steps):
            self.deliver()
            if predicate():
                return
            d = self.next_deadline()
            assert d is not None, "nothing left to happen"
            assert d <= end, "not done after %d ms" % limit_ms
            self.tick(max(self.now, d))
        raise AssertionError("wire did not settle")

    def run_for(self, ms):
        """Let ``ms`` of fake time pass, serving every timer on the way."""
        end = self.now + ms
        for _ in range(20000):
            self.deliver()
            d = self.next_deadline()
            if d is None or d > end:
                self.now = end
                self.tick(end)
                self.deliver()
                return
            self.tick(max(self.now, d))
        raise AssertionError("wire did not settle")


# --- the device side of the node tests ---------------------------------------------------------------------------

PASSCODE = 20202021
SALT = b"SPAKE2P Key Salt"
ITERATIONS = 1000
DISCRIMINATOR = 3840
_device = {}


def development_authority():
    """The public test PAA (vendor 0xFFF1) and CD-signing key as a ``DevelopmentAuthority``."""
    from micromatter.commissioning.attestation import DevelopmentAuthority

    if "authority" not in _device:
        _device["authority"] = DevelopmentAuthority.from_pem(
            credential("test-paa-fff1-cert.pem"), credential("test-paa-fff1-key.pem"),
            credential("test-cd-signing-key.pem"))
    return _device["authority"]


def attestation_material():
    """Development attestation material for vendor 0xFFF1 product 0x8000 (made once per run)."""
    from micromatter.commissioning import attestation

    if "material" not in _device:
        _device["material"] = attestation.make(port().crypto, development_authority(), 0xFFF1, 0x8000, 0x0100)
    return _device["material"]


def device_config(**kwargs):
    """A ``DeviceConfig`` for ``PASSCODE`` (the verifier computed once per run)."""
    from micromatter.commissioning.config import DeviceConfig

    if "verifier" not in _device:
        _device["verifier"] = spake2p.PasscodeVerifier.from_passcode(port().crypto, PASSCODE, SALT, ITERATIONS)
    kwargs.setdefault("attestation", attestation_material())
    kwargs.setdefault("host", b"\x02\x00\x00\x00\x00\x01")
    kwargs.setdefault("ipv4", ("10.77.0.1",))
    kwargs.setdefault("discriminator", DISCRIMINATOR)
    return DeviceConfig(_device["verifier"], SALT, ITERATIONS, **kwargs)


def device(wire=None, storage=None, address="dev", seed=11, **kwargs):
    """A started ``Node`` (deterministic randomness from ``seed``) on ``wire`` at ``address``."""
    from micromatter.node import Node

    node = Node(DeviceCtx(seed), storage if storage is not None else MemoryStorage(), device_config(**kwargs))
    if wire is not None:
        wire.add(node, address)
        wire.take(address, node.start(wire.now))
    return node


class DeviceCtx(Clockless):
    """A port for a device under test: the port's crypto and deterministic randomness."""

    name = "test"
