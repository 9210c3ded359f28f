"""AES-CCM (NIST SP 800-38C, RFC 3610) over any AES block cipher, in preallocated buffers.

The block cipher is an object with the ``cryptolib.aes`` ECB interface,
``encrypt(in16, out16)``.  Everything per message happens in bytearrays built
with the ``AesCcm`` (once per key) and in index loops, so on MicroPython a
message costs no heap allocation after warm-up: this is the message hot path.

Matter uses a 13-byte nonce and a 16-byte tag (the defaults); the other CCM
parameters (tag 4..16 bytes, even; nonce 7..13 bytes) exist for the published
test vectors and for callers that need them.
"""

from micromatter.compat import const
from micromatter.errors import AuthenticationError, InvalidLengthError

KEY_LENGTH = const(16)
NONCE_LENGTH = const(13)
TAG_LENGTH = const(16)


# The working blocks, shared by every AesCcm: a call runs from B0 to the tag without yielding and the core
# is single-threaded, so one set serves all keys (four per object were 320 B of the 738 B an AesCcm cost on
# the x64 unix port; a secure session holds two, the session table 17).
_mac = bytearray(16)  # CBC-MAC state
_blk = bytearray(16)  # next CBC-MAC input (state xor data)
_ctr = bytearray(16)  # counter block A_i
_ks = bytearray(16)  # keystream block E(A_i)


class AesCcm:
    """CCM with one key: ``block`` is the AES-ECB cipher object for that key.

    One message at a time: the working blocks are shared by all objects
    (the core is single-threaded)."""

    def __init__(self, block, tag_length=TAG_LENGTH, nonce_length=NONCE_LENGTH):
        if tag_length < 4 or tag_length > 16 or tag_length & 1:
            raise InvalidLengthError("CCM tag length must be 4..16 and even")
        if nonce_length < 7 or nonce_length > 13:
            raise InvalidLengthError("CCM nonce length must be 7..13")
        self._aes = block
        self.tag_length = tag_length
        self.nonce_length = nonce_length
        size_bytes = 15 - nonce_length  # CCM's L: bytes of the length field and of the counter
        self._max_length = (1 << (8 * size_bytes)) - 1 if size_bytes < 4 else 0xFFFFFFFF

    # --- per-message steps (no allocation) ---------------------------------

    def _check(self, nonce, aad, buf, start, end):
        if len(nonce) != self.nonce_length:
            raise InvalidLengthError("CCM nonce length")
        if start < 0 or end < start or end + self.tag_length > len(buf):
            raise InvalidLengthError("CCM buffer bounds")
        if end - start > self._max_length or len(aad) > 0xFFFFFFFF:
            raise InvalidLengthError("CCM message too long for the nonce length")

    def _begin(self, nonce, aad, length):
        """MAC state after B0 and the formatted AAD; counter block set to A_0."""
        mac = _mac
        blk = _blk
        ctr = _ctr
        aes = self._aes
        size_bytes = 15 - self.nonce_length
        nl = self.nonce_length
        ctr[0] = size_bytes - 1  # the shared block may come from an object with another nonce length
        # B0: flags | nonce | message length (big-endian, size_bytes bytes).
        alen = len(aad)
        flags = ((self.tag_length - 2) // 2) * 8 + size_bytes - 1
        if alen:
            flags += 64
        blk[0] = flags
        for i in range(nl):
            b = nonce[i]
            blk[1 + i] = b
            ctr[1 + i] = b
        i = 15
        while i > nl:
            blk[i] = length & 0xFF
            length >>= 8
            i -= 1
        aes.encrypt(blk, mac)  # the CBC-MAC starts from a zero IV: E(B0)
        if alen:
            # The AAD is prefixed by its length (2 bytes, or 0xFFFE and 4 bytes).
            if alen < 0xFF00:
                blk[0] = mac[0] ^ (alen >> 8)
                blk[1] = mac[1] ^ (alen & 0xFF)
                pos = 2
            else:
                blk[0] = mac[0] ^ 0xFF
                blk[1] = mac[1] ^ 0xFE
                blk[2] = mac[2] ^ (alen >> 24)
                blk[3] = mac[3] ^ ((alen >> 16) & 0xFF)
                blk[4] = mac[4] ^ ((alen >> 8) & 0xFF)
                blk[5] = mac[5] ^ (alen & 0xFF)
                pos = 6
            j = 0
            while j < alen:
                n = 16 - pos
                if n > alen - j:
                    n = alen - j
                for i in range(n):
                    blk[pos + i] = mac[pos + i] ^ aad[j + i]
                j += n
                pos += n
                if pos < 16:  # last partial block: zero padding leaves the state as it is
                    for i in range(pos, 16):
                        blk[i] = mac[i]
                aes.encrypt(blk, mac)
                pos = 0
        # A_0: the counter bytes after the nonce are zero.
        for i in range(nl + 1, 16):
            ctr[i] = 0

    def _next_counter(self):
        ctr = _ctr
        i = 15
        while True:
            v = ctr[i] + 1
            if v < 256:
                ctr[i] = v
                return
            ctr[i] = 0
            i -= 1

    def encrypt_in_place(self, nonce, aad, buf, start, end):
        """Encrypt ``buf[start:end]`` in place and write the tag to ``buf[end:end+tag_length]``."""
        self._check(nonce, aad, buf, start, end)
        self._begin(nonce, aad, end - start)
        mac = _mac
        blk = _blk
        ctr = _ctr
        ks = _ks
        aes = self._aes
        pos = start
        while pos < end:
            n = end - pos
            if n > 16:
                n = 16
            self._next_counter()
            aes.encrypt(ctr, ks)
            for i in range(n):
                b = buf[pos + i]
                blk[i] = mac[i] ^ b
                buf[pos + i] = b ^ ks[i]
            for i in range(n, 16):
                blk[i] = mac[i]
            aes.encrypt(blk, mac)
            pos += n
        self._finish(buf, end)

    def _finish(self, buf, end):
        """Write the tag (MAC xor E(A_0)) to ``buf[end:]``."""
        ctr = _ctr
        ks = _ks
        mac = _mac
        for i in range(self.nonce_length + 1, 16):
            ctr[i] = 0
        self._aes.encrypt(ctr, ks)
        for i in range(self.tag_length):
            buf[end + i] = mac[i] ^ ks[i]

    def decrypt_in_place(self, nonce, aad, buf, start, end):
        """Verify the tag at ``buf[end:end+tag_length]``, then decrypt ``buf[start:end]`` in place.

        The plaintext is computed for the MAC without being written: on a bad
        tag ``AuthenticationError`` is raised and ``buf`` is untouched."""
        self._check(nonce, aad, buf, start, end)
        self._begin(nonce, aad, end - start)
        mac = _mac
        blk = _blk
        ctr = _ctr
        ks = _ks
        aes = self._aes
        pos = start
        while pos < end:
            n = end - pos
            if n > 16:
                n = 16
            self._next_counter()
            aes.encrypt(ctr, ks)
            for i in range(n):
                blk[i] = mac[i] ^ buf[pos + i] ^ ks[i]
            for i in range(n, 16):
                blk[i] = mac[i]
            aes.encrypt(blk, mac)
            pos += n
        # Expected tag into blk, compared without an early exit.
        for i in range(self.nonce_length + 1, 16):
            ctr[i] = 0
        aes.encrypt(ctr, ks)
        diff = 0
        for i in range(self.tag_length):
            diff |= mac[i] ^ ks[i] ^ buf[end + i]
        if diff:
            raise AuthenticationError("CCM tag mismatch")
        pos = start
        while pos < end:
            n = end - pos
            if n > 16:
                n = 16
            self._next_counter()
            aes.encrypt(ctr, ks)
            for i in range(n):
                buf[pos + i] ^= ks[i]
            pos += n

    # --- allocating conveniences ---------------------------------------------

    def encrypt(self, nonce, aad, plaintext):
        """``ciphertext | tag`` as new bytes."""
        n = len(plaintext)
        buf = bytearray(n + self.tag_length)
        buf[:n] = plaintext
        self.encrypt_in_place(nonce, aad, buf, 0, n)
        return bytes(buf)

    def decrypt(self, nonce, aad, ciphertext_and_tag):
        """The plaintext of ``ciphertext | tag`` as new bytes; ``AuthenticationError`` on a bad tag."""
        n = len(ciphertext_and_tag) - self.tag_length
        if n < 0:
            raise AuthenticationError("CCM input shorter than the tag")
        buf = bytearray(ciphertext_and_tag)
        self.decrypt_in_place(nonce, aad, buf, 0, n)
        return bytes(memoryview(buf)[:n])
