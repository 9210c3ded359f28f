"""PEM armor: base64 DER between BEGIN/END lines (RFC 7468).

Credentials travel as PEM files (the test PAA and CD-signing keys, DACs for
the controllers' trust stores); the core works on DER.  Decoding is strict:
matching labels, base64 alphabet only, proper padding.
"""

from binascii import a2b_base64, b2a_base64

from micromatter.certs.errors import CertificateFormatError

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def decode_all(text):
    """Every ``(label, der)`` block of a PEM text (str, or bytes in UTF-8), in order."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            text = bytes(text).decode()
        except UnicodeError:
            raise CertificateFormatError("PEM text is not UTF-8")
    if not isinstance(text, str):
        raise CertificateFormatError("PEM text must be str or bytes")
    blocks = []
    label = None
    body = []
    for line in text.split("\n"):
        line = line.strip()
        if label is None:
            if line.startswith("-----BEGIN ") and line.endswith("-----"):
                label = line[11:-5]
                body = []
            continue
        if line.startswith("-----END "):
            if line != "-----END " + label + "-----":
                raise CertificateFormatError("PEM END label does not match")
            blocks.append((label, _base64(body)))
            label = None
        else:
            body.append(line)
    if label is not None:
        raise CertificateFormatError("PEM block not closed")
    return blocks


def decode(text, label):
    """The DER of the first block labelled ``label`` (e.g. "CERTIFICATE")."""
    for found, der in decode_all(text):
        if found == label:
            return der
    raise CertificateFormatError("no PEM block " + label)


def encode(label, der):
    """PEM text of one DER block, 64 characters a line."""
    b64 = b2a_base64(der).decode().strip().replace("\n", "")
    lines = ["-----BEGIN " + label + "-----"]
    for i in range(0, len(b64), 64):
        lines.append(b64[i : i + 64])
    lines.append("-----END " + label + "-----")
    return "\n".join(lines) + "\n"


def _base64(lines):
    text = "".join(lines)
    if len(text) % 4:
        raise CertificateFormatError("bad PEM base64 length")
    body = text.rstrip("=")
    if len(text) - len(body) > 2:
        raise CertificateFormatError("bad PEM base64 padding")
    for c in body:
        if c not in _ALPHABET:
            raise CertificateFormatError("bad PEM base64 character")
    try:
        return a2b_base64(text)
    except ValueError:
        raise CertificateFormatError("bad PEM base64")
