"""What the Operational Credentials cluster does (Matter Core spec 11.18): the delegate of its shell.

Commissioning, over PASE under an armed fail-safe: AttestationRequest and CertificateChainRequest
prove the device (``commissioning.attestation``); CSRRequest makes a new operational key pair,
pending until AddNOC or the fail-safe's end; AddTrustedRootCertificate gives the pending root;
AddNOC checks the NOC (and ICAC) up to that root, for that key, and adds the fabric to the
``FabricTable`` as a pending addition with its IPK (Group Key Management key set 0) and the
administrator's ACL entry (CaseAdminSubject).  CommissioningComplete commits it; fail-safe expiry
or disarm reverts it (the table's REMOVED event lets the node drop what hangs off the fabric).
UpdateNOC replaces our NOC on the accessing fabric the same way; UpdateFabricLabel and
RemoveFabric act at once.

Statuses follow the spec and connectedhomeip: IM statuses for what the commissioner got wrong
in the protocol (FAILSAFE_REQUIRED without an armed fail-safe of the accessing fabric,
CONSTRAINT_ERROR for a second root or a second AddNOC/UpdateNOC in one fail-safe, INVALID_COMMAND
for a root that does not validate or a bad AdminVendorId), NOCResponse codes for the credentials
(MissingCsr, InvalidNOC, InvalidNodeOpId, InvalidPublicKey, TableFull, FabricConflict,
InvalidAdminSubject, LabelConflict, InvalidFabricIndex).
"""

from micromatter import log
from micromatter.certs import chain, csr, opcert
from micromatter.clusters import operational_credentials as oc
from micromatter.clusters.operational_credentials import OperationalCredentialsDelegate
from micromatter.commissioning.attestation import NONCE_LENGTH, attestation_elements, nocsr_elements
from micromatter.errors import MatterError, StorageError
from micromatter.fabric import Fabric, FabricError
from micromatter.fabrics import FabricConflictError, FabricTableFullError
from micromatter.im import status
from micromatter.im.acl import CASE, PASE, is_cat, is_operational_node_id
from micromatter.im.status import StatusError

DAC_CERTIFICATE = 1
PAI_CERTIFICATE = 2
_TAG = "opcreds"


def valid_admin_vendor_id(vendor_id):
    """An AdminVendorId a fabric may carry: not 0 (unspecified) and at most 0xFFF4 (the test vendors)."""
    return 0 < vendor_id <= 0xFFF4


def valid_admin_subject(subject):
    """A CaseAdminSubject: an operational node id, or a CAT with a non-zero version."""
    return is_operational_node_id(subject) or (is_cat(subject) and subject & 0xFFFF != 0)


def _optional_icac(fields):
    """The ICACValue field, None when absent or empty: matter.js sends an empty octet string for a chain
    without an ICAC, which connectedhomeip also reads as no ICAC."""
    icac = fields.get(1)
    return icac if icac is not None and len(icac) else None


def _noc_response(code, fabric_index=None, debug=None):
    out = {0: code}
    if code == oc.OK and fabric_index is not None:
        out[1] = fabric_index
    if debug:
        out[2] = debug[:128]
    return out


class _Pending:
    """What one fail-safe period has collected: the root, the operational key, whether a NOC went in."""

    def __init__(self):
        self.root = None  # TLV bytes of the root added by AddTrustedRootCertificate
        self.key = None  # (private, public) from CSRRequest
        self.for_update = False
        self.noc_done = False
        self.rollback = False  # the fabric table's revert is registered with the fail-safe


class OperationalCredentialsBehavior(OperationalCredentialsDelegate):
    """The delegate.  ``context``: ``crypto`` and ``random_bytes`` (the port); ``fabrics``: the
    ``FabricTable``; ``material``: the ``AttestationMaterial`` (may be set later).  ``bind(light)`` gives
    it the data model pieces it works on (``failsafe``, ``acl``, ``group_keys``, ``credentials`` cluster,
    ``basic``): the light is built with this delegate, so it comes after.

    Hooks the node sets: ``slow(ctx)`` before slow work (send the pending ack), ``adopt(session,
    fabric_index)`` when AddNOC runs over PASE (the session's accessing fabric from then on),
    ``after_update(fabric_index, session)`` after a successful UpdateNOC (drop the fabric's other
    sessions once the response went), ``certificate_time()`` (Matter-epoch seconds known to have
    passed, or None)."""

    def __init__(self, context, fabrics, material=None):
        self.crypto = context.crypto
        self.table = fabrics
        self.light = None
        self.failsafe = None
        self.material = material
        self.supported_fabrics = fabrics.capacity
        self.pending = _Pending()
        self.slow = None
        self.adopt = None
        self.after_update = None
        self.certificate_time = None

    def bind(self, light):
        """Work on ``light`` (a ``clusters.light.Light`` built with this delegate)."""
        self.light = light
        self.failsafe = light.failsafe
        self.failsafe.listeners.append(self._failsafe_event)

    # --- attributes ----------------------------------------------------------------------------------

    def nocs(self):
        out = []
        for f in self.table.fabrics:
            out.append({1: f.credentials.noc, 2: f.credentials.icac, 254: f.fabric_index})
        return out

    def fabrics(self):
        out = []
        for f in self.table.fabrics:
            out.append({1: f.root_public_key, 2: f.vendor_id, 3: f.fabric_id, 4: f.node_id, 5: f.label,
                        254: f.fabric_index})
        return out

    def trusted_roots(self):
        roots = [f.credentials.rcac for f in self.table.fabrics]
        if self.pending.root is not None and not self.pending.noc_done:
            roots.append(self.pending.root)
        return roots

    # --- the fail-safe --------------------------------------------------------------------------------

    def _failsafe_event(self, what):
        """Committed or expired: the pending state of that fail-safe period is over either way."""
        if what == "committed":
            self.table.commit()
        elif self.table.has_pending():  # expired without the rollback having run (none registered)
            self.table.revert()
        self.pending = _Pending()
        self._changed()

    def _revert(self):
        self.table.revert()

    def _armed_for(self, ctx):
        fs = self.failsafe
        return fs.armed and fs.fabric_index == ctx.subject.fabric_index

    def _require_failsafe(self, ctx):
        if not self._armed_for(ctx):
            raise StatusError(status.FAILSAFE_REQUIRED)
        if self.pending.noc_done:
            raise StatusError(status.CONSTRAINT_ERROR, message="AddNOC/UpdateNOC done in this fail-safe")

    def _register_rollback(self):
        if not self.pending.rollback:
            if not self.failsafe.on_rollback(self._revert):
                raise StatusError(status.FAILSAFE_REQUIRED)
            self.pending.rollback = True

    def _slow(self, ctx):
        if self.slow is not None:
            self.slow(ctx)

    def _changed(self):
        self.light.credentials.fabrics_changed()

    def _material(self):
        if self.material is None:
            raise StatusError(status.FAILURE, message="no attestation material")
        return self.material

    def _challenge(self, ctx):
        session = ctx.subject.session
        challenge = getattr(session, "attestation_challenge", None)
        if challenge is None:
            raise StatusError(status.FAILURE, message="no secure session")
        return challenge

    def _now(self):
        return self.certificate_time() if self.certificate_time is not None else None

    # --- device attestation ----------------------------------------------------------------------------

    def cmd_attestation_request(self, fields, ctx):
        nonce = fields[0]
        if len(nonce) != NONCE_LENGTH:
            raise StatusError(status.INVALID_COMMAND)
        material = self._material()
        self._slow(ctx)
        elements = attestation_elements(material.cd, nonce, 0)
        return {0: elements, 1: material.sign(self.crypto, elements, self._challenge(ctx))}

    def cmd_certificate_chain_request(self, fields, ctx):
        material = self._material()
        kind = fields[0]
        if kind == DAC_CERTIFICATE:
            return {0: material.dac}
        if kind == PAI_CERTIFICATE:
            return {0: material.pai}
        raise StatusError(status.INVALID_COMMAND)

    def cmd_csr_request(self, fields, ctx):
        nonce = fields[0]
        for_update = bool(fields.get(1, False))
        if len(nonce) != NONCE_LENGTH:
            raise StatusError(status.INVALID_COMMAND)
        if for_update and self.table.find(ctx.subject.fabric_index) is None:
            raise StatusError(status.INVALID_COMMAND, message="CSR for UpdateNOC without a fabric")
        self._require_failsafe(ctx)
        material = self._material()
        self._slow(ctx)
        private, public = self.crypto.p256_generate()
        public = bytes(public)
        request = csr.make(self.crypto, private, public)
        self.pending.key = (bytes(private), public)
        self.pending.for_update = for_update
        elements = nocsr_elements(request, nonce)
        return {0: elements, 1: material.sign(self.crypto, elements, self._challenge(ctx))}

    # --- operational credentials ------------------------------------------------------------------------

    def cmd_add_trusted_root_certificate(self, fields, ctx):
        if not self._armed_for(ctx):
            raise StatusError(status.FAILSAFE_REQUIRED)
        if self.pending.root is not None or self.pending.noc_done:
            raise StatusError(status.CONSTRAINT_ERROR, message="a root was added in this fail-safe")
        self._slow(ctx)
        root = bytes(fields[0])
        try:
            chain.validate_rcac(self.crypto, root, last_known_good=self._now())
        except MatterError as e:
            log.info(_TAG, "AddTrustedRootCertificate refused: %r" % e)
            raise StatusError(status.INVALID_COMMAND)
        self.pending.root = root
        self._changed()

    def _check_noc(self, noc, icac, root):
        """The chain's ``NodeIdentity``, or the NOCResponse code that refuses it."""
        try:
            cert = opcert.decode(noc)
        except MatterError:
            return None, oc.INVALID_NOC
        if cert.node_id is not None and not is_operational_node_id(cert.node_id):
            return None, oc.INVALID_NODE_OP_ID
        try:
            identity = chain.validate_chain(self.crypto, cert, icac, root, last_known_good=self._now())
        except MatterError as e:
            log.info(_TAG, "NOC refused: %r" % e)
            return None, oc.INVALID_NOC
        if identity.public_key != self.pending.key[1]:
            return None, oc.INVALID_PUBLIC_KEY
        return identity, oc.OK

    def cmd_add_noc(self, fields, ctx):
        noc, icac, ipk, subject, vendor = fields[0], _optional_icac(fields), fields[2], fields[3], fields[4]
        if not valid_admin_vendor_id(vendor):
            raise StatusError(status.INVALID_COMMAND, message="AdminVendorId")
        self._require_failsafe(ctx)
        pending = self.pending
        if pending.key is None:
            return _noc_response(oc.MISSING_CSR)
        if pending.for_update:
            raise StatusError(status.CONSTRAINT_ERROR, message="the CSR was for UpdateNOC")
        self._slow(ctx)
        if pending.root is None:
            return _noc_response(oc.INVALID_NOC, debug="no trusted root added")
        if not valid_admin_subject(subject):
            return _noc_response(oc.INVALID_ADMIN_SUBJECT)
        if self.table.is_full():
            return _noc_response(oc.TABLE_FULL)
        identity, code = self._check_noc(noc, icac, pending.root)
        if identity is None:
            return _noc_response(code)
        if self.table.find_by_root(identity.root_public_key, identity.fabric_id) is not None:
            return _noc_response(oc.FABRIC_CONFLICT)
        index = self.table.allocate_index()
        try:
            fabric = Fabric.from_credentials(self.crypto, index, noc, icac, pending.root, pending.key[0], ipk, vendor)
        except MatterError as e:
            log.info(_TAG, "AddNOC refused: %r" % e)
            return _noc_response(oc.INVALID_NOC)
        self._register_rollback()
        try:
            self.table.add(fabric)
        except FabricTableFullError:
            return _noc_response(oc.TABLE_FULL)
        except FabricConflictError:
            return _noc_response(oc.FABRIC_CONFLICT)
        try:
            self.light.group_keys.set_ipk(index, ipk)
            if ctx.subject.auth_mode == PASE and self.adopt is not None:
                self.adopt(ctx.subject.session, index)
            self.light.acl.add_admin(index, subject)
        except Exception:  # nothing of the new fabric may stay behind
            self.table.remove(index)
            raise
        pending.noc_done = True
        self.failsafe.fabric_index = index
        self.failsafe.noc_added = True
        self._changed()
        log.info(_TAG, "AddNOC: fabric %d (0x%x), node 0x%x" % (index, fabric.fabric_id, fabric.node_id))
        return _noc_response(oc.OK, index)

    def cmd_update_noc(self, fields, ctx):
        noc, icac = fields[0], _optional_icac(fields)
        self._require_failsafe(ctx)
        pending = self.pending
        if pending.key is None:
            return _noc_response(oc.MISSING_CSR)
        if not pending.for_update:
            raise StatusError(status.CONSTRAINT_ERROR, message="the CSR was for AddNOC")
        current = self.table.find(ctx.subject.fabric_index)
        if current is None or ctx.subject.auth_mode != CASE:
            return _noc_response(oc.INVALID_NOC)
        self._slow(ctx)
        identity, code = self._check_noc(noc, icac, current.credentials.rcac)
        if identity is None:
            return _noc_response(code)
        if identity.fabric_id != current.fabric_id:
            return _noc_response(oc.INVALID_NOC, debug="another fabric id")
        try:
            fabric = Fabric.from_credentials(self.crypto, current.fabric_index, noc, icac, current.credentials.rcac,
                                             pending.key[0], current.credentials.epoch_key, current.vendor_id,
                                             current.label)
        except MatterError:
            return _noc_response(oc.INVALID_NOC)
        self._register_rollback()
        self.table.update(fabric)
        pending.noc_done = True
        self.failsafe.noc_added = True
        self._changed()
        if self.after_update is not None:
            self.after_update(fabric.fabric_index, ctx.subject.session)
        return _noc_response(oc.OK, fabric.fabric_index)

    def cmd_update_fabric_label(self, fields, ctx):
        label = fields[0]
        index = ctx.subject.fabric_index
        if self.table.find(index) is None:
            raise StatusError(status.FAILURE)
        for f in self.table.fabrics:
            if label and f.label == label and f.fabric_index != index:
                return _noc_response(oc.LABEL_CONFLICT)
        try:
            self.table.set_label(index, label)
        except FabricError as e:  # more than 32 bytes of UTF-8 within 32 characters
            raise StatusError(status.CONSTRAINT_ERROR, message=str(e))
        except StorageError as e:
            log.error(_TAG, "label not stored: %s" % e)
            raise StatusError(status.FAILURE)
        finally:
            self._changed()
        return _noc_response(oc.OK, index)

    def cmd_remove_fabric(self, fields, ctx):
        index = fields[0]
        if self.table.find(index) is None:
            return _noc_response(oc.INVALID_FABRIC_INDEX)
        try:
            self.light.basic.leave(index, ctx.now_ms)
        except MatterError as e:
            log.warning(_TAG, "no Leave event: %r" % e)
        self.table.remove(index)
        self._changed()
        log.info(_TAG, "RemoveFabric: fabric %d removed" % index)
        return _noc_response(oc.OK, index)
