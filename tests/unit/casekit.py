"""Helpers for the CASE tests (both runtimes): test fabrics with real certificates and session managers (the
handshake driver is ``handshakekit``)."""

from micromatter.certs import issue
from micromatter.fabric import Fabric
from micromatter.securechannel.case import CaseInitiator, CaseResponder
from micromatter.storage import MemoryStorage
from sessionkit import Clockless, manager
from support import port

EPOCH_KEY = bytes(range(0x40, 0x50))


class Authority:
    """A fabric's certificate authority: a root (and an ICAC unless ``icac`` is False) issuing NOCs."""

    def __init__(self, fabric_id=0xFAB1, icac=True, rcac_id=1, epoch_key=EPOCH_KEY):
        crypto = port().crypto
        self.crypto = crypto
        self.fabric_id = fabric_id
        self.epoch_key = epoch_key
        self.root_key, root_pub = crypto.p256_generate()
        self.rcac = issue.make_rcac(crypto, self.root_key, root_pub, rcac_id, fabric_id)
        self.icac = None
        self.signer, self.signer_key = self.rcac, self.root_key
        if icac:
            key, pub = crypto.p256_generate()
            self.icac = issue.make_icac(crypto, self.rcac, self.root_key, pub, rcac_id + 1, fabric_id)
            self.signer, self.signer_key = self.icac, key

    def noc(self, node_id, cats=(), public_key=None, fabric_id=None):
        """(NOC TLV, private key) for ``node_id`` (a fresh key pair unless ``public_key`` is given)."""
        private = None
        if public_key is None:
            private, public_key = self.crypto.p256_generate()
        cert = issue.make_noc(self.crypto, self.signer, self.signer_key, public_key, node_id,
                              fabric_id or self.fabric_id, cats)
        return cert.encode(), private

    def fabric(self, node_id, index=1, cats=(), epoch_key=None):
        """A ``Fabric`` with credentials for our node ``node_id``."""
        noc, private = self.noc(node_id, cats)
        return Fabric.from_credentials(self.crypto, index, noc, None if self.icac is None else self.icac.encode(),
                                       self.rcac.encode(), private, epoch_key or self.epoch_key)


class Side:
    """One node: its fabrics, session manager and (for a device) CASE responder."""

    def __init__(self, fabrics, seed=1, storage=None, **responder_args):
        self.fabrics = list(fabrics)
        self.storage = MemoryStorage() if storage is None else storage
        self.sessions = manager(self.storage, seed)
        self.sessions.init_from_storage(self.fabrics)
        self.ctx = Clockless(seed + 1000)
        self.responder = CaseResponder(self.ctx, self.sessions, self.fabrics, **responder_args)

    def initiator(self, fabric, peer_node_id, now=0, **kwargs):
        sid = self.sessions.get_next_available_session_id(now, fabric, peer_node_id)
        return CaseInitiator(self.ctx, self.sessions, fabric, peer_node_id, sid, **kwargs)
