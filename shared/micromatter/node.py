"""The sans-I/O Matter node: every layer of the stack composed behind one small interface the runtime drives.

    node = Node(port, storage, config)            # config: a commissioning.config.DeviceConfig
    outs = node.start(now_ms)                     # fabrics, records, attestation; the window if uncommissioned
    outs = node.on_datagram(data, source, now_ms) # a Matter UDP datagram from ``source``
    outs = node.on_mdns(data, source, now_ms)     # an mDNS datagram
    outs = node.poll(now_ms); node.next_deadline()  # timers: MRP, acks, handshakes, subscriptions, fail-safe,
                                                  # commissioning window, mDNS
    outs = node.set_addresses(ipv4_list, ipv6_list, now_ms)
    outs = node.stop(now_ms)                      # CloseSession to peers, mDNS goodbyes, records stored
    node.events                                   # EventQueue of dicts, one per thing a user wants to see

Every ``outs`` is a list of ``(channel, data, address)``: ``MATTER`` datagrams go to ``address`` (what came
in as ``source``), ``MDNS`` ones to ``address`` too, where ``MULTICAST`` means the mDNS group of each socket.
``data`` is bytes.  The runtime sends them all, then calls ``poll`` once ``now >= next_deadline()``
(``next_deadline()`` is 0 when work was deferred until the datagrams just returned were sent: slow crypto
waits for its ack to go out first).

Inside: the session core (``SessionManager``), the exchange layer with MRP (``ExchangeManager``), the secure
channel (``SecureChannel``: PASE and CASE responders), the interaction model (``Engine``, glued to the exchanges
by ``InteractionHandler``) over the light's data model (``clusters.light``), the ``FabricTable``, the
commissioning behaviour (``commissioning.opcreds``, ``commissioning.window``, attestation material) and the
mDNS responder with the commissionable and operational registrations.  Storage is split in contexts: ``fab``
(fabric table), ``ses`` (resumption records, message counter), ``dm`` (attributes, ACL, group keys, event
numbers), ``att`` (attestation material).
"""

from micromatter import log
from micromatter.clusters.light import build_light
from micromatter.clusters.basic_information import BasicInformation, stored_unique_id
from micromatter.commissioning import attestation
from micromatter.commissioning.opcreds import OperationalCredentialsBehavior
from micromatter.commissioning.window import CommissioningWindow
from micromatter.compat import const
from micromatter.dnssd import matter as dnssd_matter
from micromatter.dnssd.responder import MULTICAST, Responder
from micromatter.errors import MatterError
from micromatter.exchange import ExchangeManager, PeerSessionNotFound, ProtocolHandler
from micromatter.fabrics import ADDED, COMMITTED, REMOVED, UPDATED, FabricTable
from micromatter.im import messages as im_messages
from micromatter.im import status as im_status
from micromatter.im.acl import CASE, PASE, Subject
from micromatter.im.engine import Engine
from micromatter.securechannel.dispatch import (
    CaseEstablished,
    CaseFailed,
    PaseEstablished,
    PaseFailed,
    PeerClosedSession,
    SecureChannel,
)
from micromatter.securechannel.case import CaseResponder
from micromatter.securechannel.pase import PaseResponder
from micromatter.session.manager import SessionManager

MATTER = "matter"
MDNS = "mdns"
MULTICAST = MULTICAST  # re-exported: the mDNS destination meaning "the group of each socket"

MAX_EVENTS = const(64)
PASE_FAILSAFE_S = const(60)  # the fail-safe a new PASE session arms (connectedhomeip's value)
AFTER_RESPONSE_MS = const(30000)  # how long a deferred action waits for its response's exchange at most
_IM_REQUESTS = (im_messages.READ_REQUEST, im_messages.SUBSCRIBE_REQUEST, im_messages.WRITE_REQUEST,
                im_messages.INVOKE_REQUEST, im_messages.TIMED_REQUEST)
_TAG = "node"


class NodeError(MatterError):
    """The node was used out of order (``on_datagram`` before ``start`` or after ``stop``, ``start`` twice)."""


class EventQueue:
    """A bounded FIFO of event dicts (the oldest dropped when full; ``dropped`` counts them)."""

    def __init__(self, capacity=MAX_EVENTS):
        self.capacity = capacity
        self._items = []
        self.dropped = 0

    def append(self, event):
        if len(self._items) >= self.capacity:
            self._items.pop(0)
            self.dropped += 1
        self._items.append(event)

    def popleft(self):
        return self._items.pop(0)

    def take(self):
        """Every queued event, oldest first; the queue is empty afterwards."""
        items = self._items
        self._items = []
        return items

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(list(self._items))

    def __bool__(self):
        return bool(self._items)


class _ExchangeKey:
    """The engine's key for one exchange a peer opened (exchange handles are reused per slot)."""


class InteractionHandler(ProtocolHandler):
    """The interaction model (protocol 1) on the exchanges: requests to the ``Engine``, its replies back on
    the same exchange, its subscription reports on new exchanges; the accessing subject from the session."""

    protocol_id = im_messages.PROTOCOL_ID

    def __init__(self, node):
        self.node = node
        self.engine = node.engine
        self.current = None  # the exchange whose request is being handled
        self.current_now = 0

    def accepts(self, opcode, secure):
        return secure and opcode in _IM_REQUESTS

    def on_message(self, exchange, protocol_id, opcode, payload, now_ms):
        key = exchange.context
        if key is None:
            key = exchange.context = _ExchangeKey()
        subject = self.node.subject_of(exchange.session)
        self.current = exchange
        self.current_now = now_ms
        try:
            reply = self.engine.on_request(key, subject, opcode, payload, now_ms)
        finally:
            self.current = None
        if not exchange.is_open:
            return
        if reply is None:
            exchange.close(now_ms)
        else:
            exchange.send(reply.opcode, reply.payload, now_ms, expect_reply=reply.expect_reply)

    def flush_ack(self):
        """Send the current request's ack now (before slow work, so the peer does not retransmit)."""
        if self.current is not None and self.current.is_open:
            self.current.send_ack(self.current_now)

    def on_exchange_closed(self, exchange, reason):
        if exchange.context is not None:
            self.engine.on_exchange_closed(exchange.context)

    def busy_reply(self):
        return (im_messages.PROTOCOL_ID, im_messages.STATUS_RESPONSE,
                im_messages.StatusResponse(im_status.BUSY).encode())

    def next_deadline(self):
        return self.engine.next_deadline()

    def on_timer(self, now_ms):
        for out in self.engine.poll(now_ms):
            session = out.session
            try:
                if session is None or not session.is_live():
                    raise NodeError("the subscriber's session is gone")
                exchange = self.node.exchanges.open(session, self, now_ms)
                exchange.context = out.exchange
                exchange.send(out.opcode, out.payload, now_ms, expect_reply=out.expect_reply)
            except MatterError as e:
                log.info(_TAG, "report not sent: %r" % e)
                self.engine.on_exchange_closed(out.exchange)


def fabric_info(fabric):
    return {"index": fabric.fabric_index, "fabric_id": fabric.fabric_id, "node_id": fabric.node_id,
            "vendor_id": fabric.vendor_id, "label": fabric.label}


class Node:
    """A Matter light on one UDP port.  ``port``: the runtime's ``Port`` (crypto, randomness); ``storage``:
    the node's root ``Storage`` context; ``config``: a ``DeviceConfig``."""

    def __init__(self, port, storage, config, event_capacity=MAX_EVENTS):
        self.port = port
        self.crypto = port.crypto
        self.config = config
        self.storage = storage
        self.events = EventQueue(event_capacity)
        self.started = False
        self.stopped = False
        self.now = 0
        self._out = []
        self._after = []  # (exchange, generation, deadline, action): run once the exchange is done
        self._adopted = None  # (PASE session id, fabric index) after AddNOC over PASE
        self._pase_id = 0  # the PASE session from the window, while it lives
        self._fabric_objects = {}
        self._operational = {}  # fabric index -> mDNS handle
        self._commissionable = None
        self._fresh = []  # indexes of fabrics added and not committed yet
        self.instance_id = port.random_bytes(8)
        self.host = config.host if config.host is not None else port.random_bytes(6)
        params = config.parameters

        self.fabrics = FabricTable(self.crypto, storage.context("fab"), config.max_fabrics)
        self.sessions = SessionManager(port, storage.context("ses"), max_fabrics=config.max_fabrics, parameters=params)
        self.exchanges = ExchangeManager(self.sessions, port)
        self.channel = SecureChannel(self.exchanges, self.sessions, port)
        self.pase = PaseResponder(port, self.channel.session_ids, config.verifier, config.salt, config.iterations,
                                  parameters=params)
        self.channel.enable_pase(self.pase)
        self.case = CaseResponder(port, self.sessions, self.fabrics.fabrics, parameters=params)
        self.channel.enable_case(self.case)

        basic = BasicInformation(
            config.vendor_id, config.product_id, config.vendor_name, config.product_name, config.hardware_version,
            config.hardware_version_string, config.software_version, config.software_version_string,
            config.serial_number, config.unique_id or stored_unique_id(storage.context("dm"), port.random_bytes))
        self.credentials = OperationalCredentialsBehavior(port, self.fabrics)
        self.light = build_light(storage.context("dm"), self._random_u32, basic, config.wifi_ssid, self.credentials,
                                 self._on_off_changed, self._on_identify, config.max_fabrics)
        self.credentials.bind(self.light)
        self.credentials.slow = self._slow_command
        self.credentials.adopt = self._adopt
        self.credentials.after_update = self._after_update
        self.light.admin_commissioning.vendor_id_of = self._vendor_of
        self.light.failsafe.listeners.append(self._failsafe_event)
        self.engine = Engine(self.light.node, self.light.acl, random_u32=self._random_u32)
        self.im = InteractionHandler(self)
        self.exchanges.register(self.im)
        self.window = CommissioningWindow(self.pase, self.light.admin_commissioning, config.discriminator,
                                          self._clock, self._window_changed)
        self.mdns = Responder(self.host, config.ipv4, config.ipv6, max_services=config.max_fabrics + 1,
                              random_bytes=port.random_bytes)
        self.fabrics.listeners.append(self._fabric_event)

    # --- helpers the layers call back ---------------------------------------------------------------

    def _random_u32(self):
        b = self.port.random_bytes(4)
        return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)

    def _clock(self):
        return self.now

    def emit(self, event, **fields):
        fields["event"] = event
        self.events.append(fields)

    def _vendor_of(self, fabric_index):
        f = self.fabrics.find(fabric_index)
        return None if f is None else f.vendor_id

    def _on_off_changed(self, on):
        self.emit("onoff", value=bool(on))

    def _on_identify(self, seconds):
        self.emit("identify", seconds=seconds)

    def subject_of(self, session):
        """The IM subject of a message on ``session``: CASE peers by node id and CATs; a PASE commissioner with
        the implicit Administer grant and, after AddNOC over that session, the new fabric as accessing fabric."""
        if session.is_pase:
            index = 0
            adopted = self._adopted
            if adopted is not None and adopted[0] == session.id:
                index = adopted[1]
            return Subject(PASE, index, 0, (), session, True)
        return Subject(CASE, session.fabric_index, session.peer_node_id, session.peer_cats, session)

    def _slow_command(self, ctx):
        self.im.flush_ack()

    def _adopt(self, session, fabric_index):
        self._adopted = (session.id, fabric_index)

    def _after_update(self, fabric_index, session):
        """UpdateNOC succeeded: the fabric's other sessions and its records go now (they were made with the old
        NOC), the current session once its response went."""
        self._drop_sessions(fabric_index, session)
        self.sessions.records.remove_fabric(fabric_index)
        self._end_after_response(session)

    # --- deferred until a response went --------------------------------------------------------------

    def _after_response(self, action):
        """Run ``action`` once the exchange of the request being handled is done (its response acknowledged or
        given up), or now when no request is being handled."""
        exchange = self.im.current
        if exchange is None:
            action()
            return
        self._after.append((exchange, exchange.generation, self.now + AFTER_RESPONSE_MS, action))

    def _run_after(self, now_ms):
        if not self._after:
            return
        waiting = []
        for item in self._after:
            exchange, generation, deadline, action = item
            if exchange.generation != generation or now_ms >= deadline:
                try:
                    action()
                except Exception as e:
                    log.error(_TAG, "deferred action failed: %r" % e)
            else:
                waiting.append(item)
        self._after = waiting

    # --- sessions ----------------------------------------------------------------------------------------

    def _drop_sessions(self, fabric_index, keep=None):
        """End the CASE sessions of a fabric now, except ``keep``."""
        for s in self.sessions.sessions():
            if not s.is_pase and s.fabric_index == fabric_index and s is not keep:
                try:
                    self.sessions.remove_session(s.id)
                except MatterError:
                    pass

    def _end_after_response(self, session):
        """End ``session`` (the one of the request being handled) once its response went."""

        def end():
            if session.is_live():
                try:
                    self.sessions.remove_session(session.id)
                except MatterError:
                    pass

        self._after_response(end)

    def _remove_pase_sessions(self):
        for s in self.sessions.sessions():
            if s.is_pase:
                try:
                    self.sessions.remove_session(s.id)
                except MatterError:
                    pass

    def _check_sessions(self):
        """Forget what hangs off sessions that ended (subscriptions, the window's PASE session)."""
        engine = self.engine
        for sub in list(engine.subscriptions):
            session = sub.subject.session
            if session is not None and not session.is_live():
                engine.on_session_removed(session)
        if self._pase_id:
            s = self.sessions.get_session(self._pase_id)
            if s is None or not s.is_pase:
                self._pase_id = 0
                self._adopted = None
                self.window.pase_ended()

    # --- exchange-layer output ---------------------------------------------------------------------------

    def _collect(self, output):
        out = self._out
        for data, peer in output.messages:
            out.append((MATTER, bytes(data), peer))
        for event in output.events:
            try:
                self._on_event(event)
            except Exception as e:
                log.error(_TAG, "event handling failed for %r: %r" % (event, e))

    def _on_event(self, event):
        if isinstance(event, PaseEstablished):
            if event.is_initiator:
                return
            self._pase_id = event.session.id
            self.emit("session", kind="PASE", role="responder", session=event.session.id)
            fs = self.light.failsafe
            if not fs.armed:
                fs.arm(self.now, PASE_FAILSAFE_S, 0)
            self.window.pase_established()
        elif isinstance(event, PaseFailed):
            if event.window_closed:
                self.window.close("too many failed attempts")
            self.emit("pase_failed", status=event.status, error=type(event.error).__name__)
        elif isinstance(event, CaseEstablished):
            s = event.session
            self.emit("session", kind="CASE-resumed" if event.is_resumption else "CASE-new",
                      role="initiator" if event.is_initiator else "responder", session=s.id,
                      fabric_index=s.fabric_index, peer="%016X" % s.peer_node_id)
        elif isinstance(event, CaseFailed):
            self.emit("case_failed", status=event.status, error=type(event.error).__name__)
        elif isinstance(event, (PeerClosedSession, PeerSessionNotFound)):
            self._check_sessions()

    def _finish(self, now_ms):
        """What every entry point ends with: deferred actions, ended sessions, output gathered."""
        self._run_after(now_ms)
        self._check_sessions()
        self._collect(self.exchanges.take_output())
        out = self._out
        self._out = []
        return out

    def _mdns_out(self, packets):
        for data, dest in packets:
            self._out.append((MDNS, bytes(data), dest))

    def _enter(self, now_ms):
        if not self.started:
            raise NodeError("the node is not started")
        if now_ms < self.now:
            now_ms = self.now  # a clock that went back: keep time monotonic for the state machines
        self.now = now_ms
        return now_ms

    # --- the fabric table, fail-safe and window --------------------------------------------------------

    def _fabric_event(self, event, fabric):
        index = fabric.fabric_index
        if event == ADDED:
            self._fabric_objects[index] = fabric
            self._fresh.append(index)
            self._advertise_operational(fabric)
        elif event == UPDATED:
            if self._fabric_objects.get(index) is not fabric:  # new credentials (UpdateNOC or its revert)
                self._fabric_objects[index] = fabric
                self.sessions.update_fabric_for_resumption_records(fabric)
                self._advertise_operational(fabric)
                if not self.fabrics.is_pending(index):  # an UpdateNOC reverted: its sessions go
                    self._drop_sessions(index)
        elif event == REMOVED:
            self._fabric_removed(fabric)
        elif event == COMMITTED and index in self._fresh:
            self._fresh.remove(index)
            self.emit("commissioned", fabric_index=index)
        self.emit("fabrics", count=len(self.fabrics), fabrics=[fabric_info(f) for f in self.fabrics.fabrics])

    def _fabric_removed(self, fabric):
        index = fabric.fabric_index
        self._fabric_objects.pop(index, None)
        if index in self._fresh:
            self._fresh.remove(index)
        if self._adopted is not None and self._adopted[1] == index:
            self._adopted = None
        self.engine.remove_fabric(index)
        self.light.remove_fabric(index)
        self._unadvertise_operational(index)
        current = self.im.current.session if self.im.current is not None else None
        if current is not None and not current.is_pase and current.fabric_index == index:
            self._drop_sessions(index, current)
            self.sessions.records.remove_fabric(index)
            self._end_after_response(current)
        else:
            self.sessions.remove_fabric(fabric)
        if not len(self.fabrics) and not self.window.is_open:
            self.window.open_initial(self.now)

    def _failsafe_event(self, what):
        if what == "committed":
            self.window.close("commissioned")
        else:
            self.emit("failsafe", state="expired")
        current = self.im.current
        if current is not None and current.session.is_pase:
            self._after_response(self._remove_pase_sessions)
        else:
            self._remove_pase_sessions()

    def _window_changed(self, window):
        self._update_commissionable()
        self.emit("window", state="open" if window.is_open else "closed", kind=window.kind_name,
                  discriminator=window.discriminator, advertising=window.advertise, reason=window.closed_reason)

    # --- mDNS ----------------------------------------------------------------------------------------------

    def _intervals(self):
        p = self.config.parameters
        return p.idle_interval_ms, p.active_interval_ms, p.active_threshold_ms

    def _update_commissionable(self):
        if self._commissionable is not None:
            self._mdns_out(self.mdns.unregister(self._commissionable, self.now))
            self._commissionable = None
        w = self.window
        if not w.advertise:
            return
        idle, active, threshold = self._intervals()
        c = self.config
        service = dnssd_matter.commissionable_service(
            self.instance_id, w.discriminator, c.vendor_id, c.product_id, w.commissioning_mode, c.device_type,
            c.device_name, session_idle_ms=idle, session_active_ms=active, session_active_threshold_ms=threshold,
            port=c.port)
        self._commissionable = self.mdns.register(service, self.now)

    def _advertise_operational(self, fabric):
        self._unadvertise_operational(fabric.fabric_index)
        idle, active, threshold = self._intervals()
        service = dnssd_matter.operational_service(
            fabric.compressed_fabric_id, fabric.node_id, self.config.port, session_idle_ms=idle,
            session_active_ms=active, session_active_threshold_ms=threshold)
        try:
            self._operational[fabric.fabric_index] = self.mdns.register(service, self.now)
        except MatterError as e:
            log.error(_TAG, "fabric %d not advertised: %r" % (fabric.fabric_index, e))

    def _unadvertise_operational(self, fabric_index):
        handle = self._operational.pop(fabric_index, None)
        if handle is not None:
            self._mdns_out(self.mdns.unregister(handle, self.now))

    # --- the interface -------------------------------------------------------------------------------------

    @property
    def commissioned(self):
        return self.fabrics.committed_count() > 0

    def start(self, now_ms):
        """Restore fabrics and resumption records, make or load the attestation material, advertise, and open
        the commissioning window if the node has no fabric.  Emits ``online``."""
        if self.started or self.stopped:
            raise NodeError("a node starts once (make a new one to start again)")
        self.started = True
        self.now = now_ms
        config = self.config
        self.fabrics.load()
        self._purge_orphans()
        self.sessions.init_from_storage(list(self.fabrics.fabrics))
        if config.attestation is not None:
            try:
                self.credentials.material = attestation.load_or_make(
                    self.crypto, self.storage.context("att"), config.attestation, config.vendor_id,
                    config.product_id, config.device_type)
            except MatterError as e:
                log.error(_TAG, "no attestation material: %r" % e)
        for f in self.fabrics.fabrics:
            self._fabric_objects[f.fabric_index] = f
            self._advertise_operational(f)
        self.mdns.start(now_ms)
        if not len(self.fabrics):
            self.window.open_initial(now_ms)
        try:
            self.light.basic.start_up(now_ms)
        except MatterError as e:
            log.warning(_TAG, "no StartUp event: %r" % e)
        self.emit("online", commissioned=self.commissioned, fabrics=len(self.fabrics),
                  fabric_list=[fabric_info(f) for f in self.fabrics.fabrics], port=config.port,
                  qr_code=config.qr_code, manual_code=config.manual_code, discriminator=config.discriminator,
                  vendor_id=config.vendor_id, product_id=config.product_id, window=self.window.kind_name)
        self._mdns_out(self.mdns.on_timer(now_ms))
        return self._finish(now_ms)

    def _purge_orphans(self):
        """ACL entries and key sets of fabrics that are not in the table (a fabric added but never committed
        before a reboot): dropped, so a later fabric with that index never inherits them."""
        with_acl = self.light.acl.fabrics()
        keys = self.light.group_keys
        for index in range(1, 255):
            if (index in with_acl or keys.key_sets(index)) and self.fabrics.find(index) is None:
                log.info(_TAG, "dropping the ACL and keys of fabric %d (not in the table)" % index)
                self.light.remove_fabric(index)

    def on_datagram(self, data, source, now_ms):
        """A Matter datagram from ``source`` (kept opaque, handed back as the address of replies)."""
        now_ms = self._enter(now_ms)
        self._collect(self.exchanges.on_datagram(data, len(data), source, now_ms))
        return self._finish(now_ms)

    def on_mdns(self, data, source, now_ms):
        """An mDNS datagram from ``source``: the answers (multicast or unicast to ``source``)."""
        now_ms = self._enter(now_ms)
        self._mdns_out(self.mdns.on_packet(data, source, now_ms))
        return self._finish(now_ms)

    def next_deadline(self):
        """When ``poll`` must run next (ms; 0: right after sending the last output), or None."""
        best = None
        for d in (self.exchanges.next_deadline(), self.mdns.next_deadline(), self.window.next_deadline()):
            if d is not None and (best is None or d < best):
                best = d
        for item in self._after:
            if best is None or item[2] < best:
                best = item[2]
        return best

    def poll(self, now_ms):
        """Run every timer that is due: retransmissions, acks, deferred handshake steps, subscription reports,
        the fail-safe, the commissioning window, mDNS probes and announcements."""
        now_ms = self._enter(now_ms)
        self._collect(self.exchanges.on_timer(now_ms))
        self.window.poll(now_ms)
        d = self.mdns.next_deadline()
        if d is not None and d <= now_ms:
            self._mdns_out(self.mdns.on_timer(now_ms))
        return self._finish(now_ms)

    def set_addresses(self, ipv4, ipv6, now_ms):
        """The interface's addresses changed: goodbyes for the old ones, the new ones announced.  Before
        ``start`` it only sets the addresses the node will announce."""
        if not self.started and not self.stopped:
            self.mdns.set_addresses(ipv4, ipv6, now_ms)
            return []
        now_ms = self._enter(now_ms)
        self._mdns_out(self.mdns.set_addresses(ipv4, ipv6, now_ms))
        return self._finish(now_ms)

    def stop(self, now_ms):
        """Shut down: CloseSession to every secure session's peer, mDNS goodbyes, records stored."""
        now_ms = self._enter(now_ms)
        try:
            self.light.basic.shut_down(now_ms)
        except MatterError:
            pass
        for s in self.sessions.sessions():
            peer = self.exchanges.peer_address(s)
            try:
                message = self.sessions.remove_session(s.id, send_close=True)
            except MatterError:
                continue
            if message is not None and peer is not None:
                self._out.append((MATTER, bytes(message.data), peer))
        self._mdns_out(self.mdns.stop(now_ms))
        self.sessions.close()
        self.started = False
        self.stopped = True
        self.emit("stopped")
        out = self._out
        self._out = []
        return out
