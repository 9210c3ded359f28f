"""Crypto for the core: portable pure-Python pieces over the runtime's AES block and SHA-256.

``ccm`` (AES-CCM in preallocated buffers), ``kdf`` (HMAC, HKDF, PBKDF2),
``p256`` (curve arithmetic, ECDH, and what SPAKE2+ needs), ``ecdsa`` and
``soft`` (``SoftCrypto``, the whole interface).  Ports hand the core a crypto
object (``port.crypto``) with the interface of docs/ARCHITECTURE.md; the
submodules are imported on demand so a board loads only what it uses.
"""
