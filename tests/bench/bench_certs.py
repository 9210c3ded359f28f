"""Certificate figures on this runtime: NOC chain validation (what CASE pays per handshake),
TLV <-> DER conversion, issuing a NOC, and the heap the certificate side of a validation allocates.

The chain is the SDK's published RCAC -> ICAC -> NOC (Root01, ICA01, Node01_01).  The two
ECDSA verifications of a validation are the crypto layer's (see bench_crypto); their transient
big-integer heap is far larger than the certificates' and is left out of ``cert_chain_prepare_alloc``.
"""

import benchlib
import certs_vectors as V
from micromatter.certs import chain, csr, issue, opcert
from support import port


def run(emit):
    crypto = port().crypto
    noc, icac, rcac = V.tlv("Node01_01"), V.tlv("ICA01"), V.tlv("Root01")
    noc_der = V.der("Node01_01")

    def validate():
        chain.validate_chain(crypto, noc, icac, rcac)

    n = 20 if benchlib.IS_MICROPYTHON else 100
    emit("noc_chain_validate", benchlib.time_per_op_us(validate, n) / 1000, "ms", chain="RCAC->ICAC->NOC")

    def prepare():
        # Everything validate_chain does but the signature checks: decode three, rebuild two TBS DERs.
        certs = [opcert.decode(c) for c in (noc, icac, rcac)]
        certs[0].tbs_der()
        certs[1].tbs_der()

    emit("cert_chain_prepare_alloc", benchlib.alloc_per_op_bytes(prepare, 5), "B/op", chain="RCAC->ICAC->NOC")
    decoded = [opcert.decode(c) for c in (noc, icac, rcac)]
    emit(
        "noc_chain_validate_decoded",
        benchlib.time_per_op_us(lambda: chain.validate_chain(crypto, *decoded), n) / 1000,
        "ms",
        chain="RCAC->ICAC->NOC, certificates already decoded",
    )
    emit("cert_tlv_decode", benchlib.time_per_op_us(lambda: opcert.decode(noc), 100), "us")
    emit("cert_tlv_to_der", benchlib.time_per_op_us(lambda: opcert.tlv_to_der(noc), 100), "us")
    emit("cert_der_to_tlv", benchlib.time_per_op_us(lambda: opcert.der_to_tlv(noc_der), 100), "us")

    ica = decoded[1]
    public = crypto.p256_public_key(V.key("Node01_01"))
    emit(
        "noc_issue",
        benchlib.time_per_op_us(lambda: issue.make_noc(crypto, ica, V.key("ICA01"), public, 0x42, 7), 10) / 1000,
        "ms",
    )
    emit("csr_make", benchlib.time_per_op_us(lambda: csr.make(crypto, V.key("Node01_01"), public), 10) / 1000, "ms")
