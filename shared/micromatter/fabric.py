"""A fabric as the session core sees it: index, ids, root key, vendor, label, compressed id and IPK.

Sessions and resumption records belong to a fabric; records name it by fabric
index (and fabric id, so that a record never attaches to a later fabric that
reuses the index).  This is the minimal object the session core needs;
operational credentials (NOC, ICAC, ACLs) extend it elsewhere.
"""

from micromatter.errors import MatterError

COMPRESSED_FABRIC_INFO = b"CompressedFabric"
GROUP_KEY_INFO = b"GroupKey v1.0"
MAX_LABEL_LENGTH = 32
MAX_OPERATIONAL_NODE_ID = 0xFFFFFFEFFFFFFFFF
TEST_VENDOR_ID = 0xFFF1


class FabricError(MatterError):
    """A fabric field is missing, of the wrong type or out of range."""


def _check_int(value, name, low, high):
    if not isinstance(value, int) or isinstance(value, bool):
        raise FabricError(name + " must be an int, not " + type(value).__name__)
    if value < low or value > high:
        raise FabricError(name + " out of range: " + str(value))
    return value


def _check_bytes(value, name, length):
    if not isinstance(value, (bytes, bytearray, memoryview)) or len(value) != length:
        raise FabricError(name + " must be " + str(length) + " bytes")
    return bytes(value)


def check_fabric_index(value):
    """A valid fabric index (1..254), else ``FabricError``."""
    return _check_int(value, "fabric_index", 1, 254)


def compressed_fabric_id(crypto, root_public_key, fabric_id):
    """The 8-byte compressed fabric id: HKDF(root key without 0x04, salt = fabric id big-endian)."""
    root = _check_bytes(root_public_key, "root_public_key", 65)
    _check_int(fabric_id, "fabric_id", 1, 0xFFFFFFFFFFFFFFFF)
    salt = bytes(((fabric_id >> (56 - 8 * i)) & 0xFF) for i in range(8))
    return crypto.hkdf_sha256(root[1:], salt, COMPRESSED_FABRIC_INFO, 8)


def operational_ipk(crypto, epoch_key, compressed_id):
    """The operational IPK CASE uses: HKDF(epoch key, salt = compressed fabric id, "GroupKey v1.0")."""
    _check_bytes(epoch_key, "epoch_key", 16)
    _check_bytes(compressed_id, "compressed_fabric_id", 8)
    return crypto.hkdf_sha256(bytes(epoch_key), bytes(compressed_id), GROUP_KEY_INFO, 16)


class Fabric:
    """One fabric: ``fabric_index``, ``fabric_id``, ``node_id`` (ours), ``root_public_key`` (65 bytes),
    ``vendor_id``, ``label``, ``compressed_fabric_id`` (8 bytes) and ``operational_ipk`` (16 bytes).

    ``Fabric.create(crypto, ...)`` derives the compressed id and the IPK."""

    def __init__(
        self,
        fabric_index,
        fabric_id,
        node_id,
        root_public_key,
        vendor_id=TEST_VENDOR_ID,
        label="",
        compressed_fabric_id=None,
        operational_ipk=None,
        credentials=None,
    ):
        self.fabric_index = check_fabric_index(fabric_index)
        self.fabric_id = _check_int(fabric_id, "fabric_id", 1, 0xFFFFFFFFFFFFFFFF)
        self.node_id = _check_int(node_id, "node_id", 1, MAX_OPERATIONAL_NODE_ID)
        self.root_public_key = _check_bytes(root_public_key, "root_public_key", 65)
        if self.root_public_key[0] != 4:
            raise FabricError("root_public_key must be an uncompressed point (0x04 ...)")
        self.vendor_id = _check_int(vendor_id, "vendor_id", 0, 0xFFFF)
        if not isinstance(label, str) or len(label.encode()) > MAX_LABEL_LENGTH:
            raise FabricError("label must be a str of at most 32 bytes")
        self.label = label
        self.compressed_fabric_id = (
            None if compressed_fabric_id is None else _check_bytes(compressed_fabric_id, "compressed_fabric_id", 8)
        )
        self.operational_ipk = None if operational_ipk is None else _check_bytes(operational_ipk, "operational_ipk", 16)
        # Our node id as 8 little-endian bytes: the CASE nonce wants it in wire order.
        self.node_id_le = bytes(((self.node_id >> (8 * i)) & 0xFF) for i in range(8))
        if credentials is not None and not isinstance(credentials, OperationalCredentials):
            raise FabricError("credentials must be OperationalCredentials")
        self.credentials = credentials  # what CASE needs; None for a fabric known only by its ids

    @staticmethod
    def create(crypto, fabric_index, fabric_id, node_id, root_public_key, epoch_key, vendor_id=TEST_VENDOR_ID, label=""):
        """A fabric with its compressed id and operational IPK derived from ``epoch_key`` (the IPK epoch key)."""
        cfid = compressed_fabric_id(crypto, root_public_key, fabric_id)
        return Fabric(
            fabric_index, fabric_id, node_id, root_public_key, vendor_id, label, cfid, operational_ipk(crypto, epoch_key, cfid)
        )

    @staticmethod
    def from_credentials(crypto, fabric_index, noc, icac, rcac, operational_private_key, epoch_key,
                         vendor_id=TEST_VENDOR_ID, label=""):
        """A fabric from its operational credentials (TLV certificates, our private key, the IPK epoch key):
        ids from the NOC, root key from the RCAC, compressed id and IPK derived.  The chain itself is
        checked where it is installed (AddNOC: ``certs.chain.validate_chain``), not here."""
        from micromatter.certs import opcert  # the certificates package imports this module

        creds = OperationalCredentials(crypto, noc, icac, rcac, operational_private_key, epoch_key)
        cert = opcert.decode(creds.noc)
        root = opcert.decode(creds.rcac)
        if cert.node_id is None or cert.fabric_id is None:
            raise FabricError("the NOC names no node id or fabric id")
        fabric = Fabric.create(crypto, fabric_index, cert.fabric_id, cert.node_id, root.public_key, creds.epoch_key,
                               vendor_id, label)
        fabric.credentials = creds
        return fabric

    def compressed_fabric_id_int(self):
        """The compressed fabric id as an int (big-endian, as in operational instance names)."""
        if self.compressed_fabric_id is None:
            raise FabricError("compressed_fabric_id is not known")
        value = 0
        for b in self.compressed_fabric_id:
            value = (value << 8) | b
        return value

    def external_information(self):
        """What a diagnostic listing shows of the fabric (matter.js ``externalInformation``)."""
        return {
            "fabric_index": self.fabric_index,
            "fabric_id": self.fabric_id,
            "node_id": self.node_id,
            "root_vendor_id": self.vendor_id,
            "label": self.label,
        }

    def matches(self, other):
        """True if ``other`` is the same fabric (index and fabric id): a fabric updated in place still matches."""
        return (
            isinstance(other, Fabric) and other.fabric_index == self.fabric_index and other.fabric_id == self.fabric_id
        )

    def __repr__(self):
        return "Fabric(index=%d, fabric_id=0x%x, node_id=0x%x)" % (self.fabric_index, self.fabric_id, self.node_id)


class OperationalCredentials:
    """What CASE needs of a fabric besides its ids: our ``noc``, ``icac`` (or None) and the fabric's
    ``rcac`` as TLV bytes, our operational key pair (``private_key`` 32 bytes, ``public_key`` 65 bytes,
    checked against each other) and the IPK ``epoch_key`` (16 bytes) the operational IPK comes from."""

    def __init__(self, crypto, noc, icac, rcac, private_key, epoch_key):
        self.noc = _check_cert(noc, "noc")
        self.icac = None if icac is None else _check_cert(icac, "icac")
        self.rcac = _check_cert(rcac, "rcac")
        self.private_key = _check_bytes(private_key, "operational private key", 32)
        self.epoch_key = _check_bytes(epoch_key, "epoch_key", 16)
        try:
            self.public_key = bytes(crypto.p256_public_key(self.private_key))
        except MatterError as e:
            raise FabricError("operational private key: " + str(e))


def _check_cert(value, name):
    if not isinstance(value, (bytes, bytearray, memoryview)) or not 1 <= len(value) <= 400:
        raise FabricError(name + " must be a TLV certificate (1..400 bytes)")
    return bytes(value)
