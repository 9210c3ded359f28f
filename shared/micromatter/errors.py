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


class InvalidParameterError(CryptoError):
    """A crypto argument is outside what the primitive accepts (iteration count, tag size...)."""


class InvalidLengthError(InvalidParameterError):
    """A key, nonce, buffer or requested output has a length the primitive does not accept."""


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


# --- onboarding and discovery ---------------------------------------------


class OnboardingError(MatterError):
    """A setup payload (QR code or manual pairing code) is malformed or out of range."""


class DnsError(MatterError):
    """A DNS / mDNS message is malformed, or a name or record cannot be encoded."""
