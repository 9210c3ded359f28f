"""Secure channel protocol id and opcodes (Matter Core spec, secure channel protocol messages)."""

from micromatter.compat import const

PROTOCOL_ID = const(0x0000)

MSG_COUNTER_SYNC_REQ = const(0x00)
MSG_COUNTER_SYNC_RSP = const(0x01)
STANDALONE_ACK = const(0x10)
PBKDF_PARAM_REQUEST = const(0x20)
PBKDF_PARAM_RESPONSE = const(0x21)
PAKE1 = const(0x22)
PAKE2 = const(0x23)
PAKE3 = const(0x24)
SIGMA1 = const(0x30)
SIGMA2 = const(0x31)
SIGMA3 = const(0x32)
SIGMA2_RESUME = const(0x33)
STATUS_REPORT = const(0x40)
ICD_CHECK_IN = const(0x50)

_NAMES = (
    (MSG_COUNTER_SYNC_REQ, "MsgCounterSyncReq"),
    (MSG_COUNTER_SYNC_RSP, "MsgCounterSyncRsp"),
    (STANDALONE_ACK, "StandaloneAck"),
    (PBKDF_PARAM_REQUEST, "PBKDFParamRequest"),
    (PBKDF_PARAM_RESPONSE, "PBKDFParamResponse"),
    (PAKE1, "Pake1"),
    (PAKE2, "Pake2"),
    (PAKE3, "Pake3"),
    (SIGMA1, "Sigma1"),
    (SIGMA2, "Sigma2"),
    (SIGMA3, "Sigma3"),
    (SIGMA2_RESUME, "Sigma2_Resume"),
    (STATUS_REPORT, "StatusReport"),
    (ICD_CHECK_IN, "ICD_CheckIn"),
)


def name(opcode):
    """A readable name for logs (``"0x2a"`` for an opcode the protocol does not define)."""
    for value, text in _NAMES:
        if value == opcode:
            return text
    return "0x%02x" % opcode
