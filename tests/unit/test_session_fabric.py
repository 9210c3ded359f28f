"""The fabric the session core needs: validation, compressed fabric id (spec example), IPK."""

from micromatter.fabric import Fabric, FabricError, compressed_fabric_id, operational_ipk
from micromatter.errors import MatterError
from support import port, raises, unhex

# Matter Core specification, "Compressed Fabric Identifier" example.
SPEC_ROOT_KEY = unhex(
    "04 4a9f42b1ca4840d37292bbc7f6a7e11e22200c976fc900dbc98a7a383a641cb8"
    "254a2e56d4e295a847943b4e3897c4a773e930277b4d9fbede8a052686bfacfa"
)
SPEC_FABRIC_ID = 0x2906C908D115D362
SPEC_COMPRESSED = unhex("87e1b004e235a130")


def test_compressed_fabric_id_spec_example():
    assert compressed_fabric_id(port().crypto, SPEC_ROOT_KEY, SPEC_FABRIC_ID) == SPEC_COMPRESSED


def test_create_derives_ids():
    epoch = bytes(range(16))
    f = Fabric.create(port().crypto, 3, SPEC_FABRIC_ID, 0x1234, SPEC_ROOT_KEY, epoch, 0xFFF1, "home")
    assert f.compressed_fabric_id == SPEC_COMPRESSED
    assert f.compressed_fabric_id_int() == 0x87E1B004E235A130
    expected_ipk = port().crypto.hkdf_sha256(epoch, SPEC_COMPRESSED, b"GroupKey v1.0", 16)
    assert f.operational_ipk == expected_ipk == operational_ipk(port().crypto, epoch, SPEC_COMPRESSED)
    assert f.node_id_le == unhex("3412000000000000")
    info = f.external_information()
    assert info["fabric_index"] == 3 and info["label"] == "home" and info["root_vendor_id"] == 0xFFF1


def test_validation():
    ok = (1, 5, 6, SPEC_ROOT_KEY)
    Fabric(*ok)
    assert issubclass(FabricError, MatterError)
    for index in (0, 255, -1, "1", None, True):
        raises(FabricError, Fabric, index, 5, 6, SPEC_ROOT_KEY)
    for fid in (0, 1 << 64, "x"):
        raises(FabricError, Fabric, 1, fid, 6, SPEC_ROOT_KEY)
    for node in (0, 0xFFFFFFF000000000, None):
        raises(FabricError, Fabric, 1, 5, node, SPEC_ROOT_KEY)
    raises(FabricError, Fabric, 1, 5, 6, SPEC_ROOT_KEY[:64])
    raises(FabricError, Fabric, 1, 5, 6, b"\x02" + SPEC_ROOT_KEY[1:])
    raises(FabricError, Fabric, 1, 5, 6, SPEC_ROOT_KEY, 0x10000)
    raises(FabricError, Fabric, 1, 5, 6, SPEC_ROOT_KEY, 1, "x" * 33)
    raises(FabricError, Fabric, 1, 5, 6, SPEC_ROOT_KEY, 1, b"label")
    raises(FabricError, Fabric, 1, 5, 6, SPEC_ROOT_KEY, 1, "", b"short")
    raises(FabricError, Fabric, 1, 5, 6, SPEC_ROOT_KEY, 1, "", None, b"short")
    raises(FabricError, Fabric(*ok).compressed_fabric_id_int)
    raises(FabricError, compressed_fabric_id, port().crypto, SPEC_ROOT_KEY, 0)
    raises(FabricError, operational_ipk, port().crypto, bytes(15), SPEC_COMPRESSED)


def test_matches():
    a = Fabric(1, 5, 6, SPEC_ROOT_KEY)
    assert a.matches(Fabric(1, 5, 7, SPEC_ROOT_KEY, label="renamed"))
    assert not a.matches(Fabric(2, 5, 6, SPEC_ROOT_KEY))
    assert not a.matches(Fabric(1, 9, 6, SPEC_ROOT_KEY))
    assert not a.matches("fabric")
