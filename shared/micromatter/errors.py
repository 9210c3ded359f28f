"""Exception types of the core.

Every malformed input is rejected with one of these (or a subclass defined
next to the code that raises it), so callers can tell bad input from bugs:
anything else escaping the core is a defect.
"""


class MatterError(Exception):
    """Base of every error the core raises on purpose."""


# --- codecs ---------------------------------------------------------------


class TlvError(MatterError):
    """Malformed TLV, or a value that cannot be encoded."""


class MessageError(MatterError):
    """Malformed message or protocol header."""


# --- crypto ---------------------------------------------------------------


class CryptoError(MatterError):
    """Base of crypto failures."""


class AuthenticationError(CryptoError):
    """An AEAD tag or a MIC did not verify; nothing was decrypted."""


class InvalidPointError(CryptoError):
    """A P-256 public key is malformed or not on the curve."""


class InvalidScalarError(CryptoError):
    """A P-256 scalar (private key, signature part) is out of range."""


class InvalidSignatureError(CryptoError):
    """An ECDSA signature did not verify or is malformed."""


# --- storage --------------------------------------------------------------


class StorageError(MatterError):
    """A storage backend failed or was asked for something it cannot do."""


class CorruptRecordError(StorageError):
    """A stored record failed its checksum or did not parse."""


# --- sessions and protocols -----------------------------------------------


class SessionError(MatterError):
    """Base of session-layer failures."""


class ProtocolError(MatterError):
    """A peer broke a protocol (secure channel, interaction model)."""


class CertificateError(MatterError):
    """A certificate is malformed, mismatched or does not validate."""
