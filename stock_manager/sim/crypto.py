"""AES-256-CBC with PKCS#7 padding and base64, as KIS encrypts execution notices (§6)."""

from __future__ import annotations

import base64
import secrets
import string

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_ALPHABET = string.ascii_letters + string.digits


def random_ascii(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_key_iv() -> tuple[str, str]:
    """A 32-character key and a 16-character IV, ASCII, as the subscribe ack carries them."""
    return random_ascii(32), random_ascii(16)


def encrypt(plain: str, key: str, iv: str) -> str:
    padder = padding.PKCS7(128).padder()
    data = padder.update(plain.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key.encode()), modes.CBC(iv.encode())).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode("ascii")


def decrypt(cipher_text: str, key: str, iv: str) -> str:
    decryptor = Cipher(algorithms.AES(key.encode()), modes.CBC(iv.encode())).decryptor()
    data = decryptor.update(base64.b64decode(cipher_text)) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(data) + unpadder.finalize()).decode("utf-8")
