#!/usr/bin/python3
"""Opens a cosign-format encrypted private key the way go-tuf's `encrypted.Decrypt` and
containers/image's `loadPrivateKey` do, with implementations independent of particle's: scrypt
from OpenSSL (hashlib), NaCl secretbox from libsodium (PyNaCl), PKCS#8 from OpenSSL
(cryptography). Prints the public key as PEM (SubjectPublicKeyInfo).

usage: cosign_key.py KEY PASSPHRASE_FILE
"""
import base64
import hashlib
import json
import sys

import nacl.secret
from cryptography.hazmat.primitives import serialization

LABEL = "ENCRYPTED COSIGN PRIVATE KEY"  # the one skopeo 1.9 (containers/image 5.22) accepts


def main(key_path, passphrase_path):
    text = open(key_path).read()
    begin, end = f"-----BEGIN {LABEL}-----", f"-----END {LABEL}-----"
    if not text.startswith(begin + "\n") or end not in text:
        sys.exit(f"{key_path}: not a PEM block labelled {LABEL}")
    body = base64.b64decode("".join(text[len(begin) : text.index(end)].split()))
    sealed = json.loads(body)
    # go-tuf 0.3 (vendored by skopeo 1.9) accepts exactly these.
    assert sealed["kdf"]["name"] == "scrypt", sealed["kdf"]
    assert sealed["kdf"]["params"] == {"N": 32768, "r": 8, "p": 1}, sealed["kdf"]
    assert sealed["cipher"]["name"] == "nacl/secretbox", sealed["cipher"]
    salt = base64.b64decode(sealed["kdf"]["salt"])
    nonce = base64.b64decode(sealed["cipher"]["nonce"])
    assert len(salt) == 32 and len(nonce) == 24
    # skopeo's --sign-passphrase-file: the first line, without its newline.
    passphrase = open(passphrase_path, "rb").read().split(b"\n")[0]
    key = hashlib.scrypt(passphrase, salt=salt, n=32768, r=8, p=1, maxmem=64 << 20, dklen=32)
    der = nacl.secret.SecretBox(key).decrypt(base64.b64decode(sealed["ciphertext"]), nonce)
    private = serialization.load_der_private_key(der, password=None)
    sys.stdout.write(
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
