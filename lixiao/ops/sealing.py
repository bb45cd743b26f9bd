"""Backup encryption: an archive sealed in 1 MiB AES-GCM chunks under a key from LIXIAO_BACKUP_KEY.

Layout: MAGIC, a random 16-byte salt and 7-byte nonce prefix, then chunks of at most CHUNK
plaintext bytes, each sealed with the nonce prefix + a 4-byte counter + a last-chunk flag (the
STREAM construction): a chunk cannot be reordered, dropped or cut off without failing its tag.
The key is scrypt(LIXIAO_BACKUP_KEY, salt), so a passphrase is as good as a random key and
each archive has its own key. Memory stays at a few MiB whatever the archive's size.
"""

import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"LIXIAO-BACKUP-AESGCM-1\n"
CHUNK = 1 << 20
TAG = 16
SALT_BYTES = 16
PREFIX_BYTES = 7
HEADER_BYTES = len(MAGIC) + SALT_BYTES + PREFIX_BYTES


class SealError(Exception):
    """The archive cannot be opened: wrong key, or the file was changed or cut short."""


def _key(passphrase: str, salt: bytes) -> AESGCM:
    # n=2**15, r=8: about 32 MiB and a tenth of a second per archive, OWASP's scrypt minimum.
    kdf = Scrypt(salt=salt, length=32, n=2**15, r=8, p=1)
    return AESGCM(kdf.derive(passphrase.encode()))


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", counter, 1 if last else 0)


def is_sealed(path) -> bool:
    with open(path, "rb") as f:
        return f.read(len(MAGIC)) == MAGIC


class SealedWriter:
    """A write-only file object: what is written reaches `raw` sealed. close() seals the last
    chunk (flagged as last) and closes `raw`."""

    def __init__(self, raw, passphrase: str):
        self.raw = raw
        salt, self.prefix = os.urandom(SALT_BYTES), os.urandom(PREFIX_BYTES)
        self.header = MAGIC + salt + self.prefix
        self.aead = _key(passphrase, salt)
        self.counter = 0
        self.buffer = bytearray()
        self.closed = False
        raw.write(self.header)

    def write(self, data) -> int:
        self.buffer += data
        # Keep at least one byte back: only close() knows which chunk is the last.
        while len(self.buffer) > CHUNK:
            self._emit(bytes(self.buffer[:CHUNK]), last=False)
            del self.buffer[:CHUNK]
        return len(data)

    def _emit(self, chunk: bytes, last: bool) -> None:
        nonce = _nonce(self.prefix, self.counter, last)
        self.raw.write(self.aead.encrypt(nonce, chunk, self.header))
        self.counter += 1

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._emit(bytes(self.buffer), last=True)
        self.buffer.clear()
        self.raw.close()


def unseal_file(source, target, passphrase: str) -> None:
    """Open a sealed archive into `target` (a path), checking every chunk's tag on the way."""
    with open(source, "rb") as f, open(target, "wb") as out:
        header = f.read(HEADER_BYTES)
        if len(header) < HEADER_BYTES or not header.startswith(MAGIC):
            raise SealError("not a sealed Lixiao backup")
        salt = header[len(MAGIC) : len(MAGIC) + SALT_BYTES]
        prefix = header[len(MAGIC) + SALT_BYTES :]
        aead = _key(passphrase, salt)
        counter = 0
        chunk = f.read(CHUNK + TAG)
        while True:
            following = f.read(CHUNK + TAG)
            last = not following
            try:
                out.write(aead.decrypt(_nonce(prefix, counter, last), chunk, header))
            except InvalidTag:
                raise SealError("wrong key" if counter == 0 else "changed or cut short") from None
            if last:
                return
            chunk, counter = following, counter + 1
