"""Writes moto's Cognito signing key as a PEM file and prints its key id.

moto signs every user pool's tokens with one RSA key that ships inside the package (a public test
fixture, as a JWK with n, e and d only). The end-to-end tests sign tokens with it to check expiry and
audience with a signature the gateway accepts. Usage: python moto_signing_key.py OUT.pem
"""

import base64
import gzip
import json
import pathlib
import sys

import moto.cognitoidp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def load_jwk():
    resources = pathlib.Path(moto.cognitoidp.__file__).parent / "resources"
    packed = resources / "jwks-private.json.gz"
    text = gzip.decompress(packed.read_bytes()) if packed.exists() else (resources / "jwks-private.json").read_bytes()
    jwk = json.loads(text)
    return jwk["keys"][0] if "keys" in jwk else jwk


def number(value):
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def main(out):
    jwk = load_jwk()
    n, e, d = number(jwk["n"]), number(jwk["e"]), number(jwk["d"])
    p, q = rsa.rsa_recover_prime_factors(n, e, d)
    key = rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), rsa.RSAPublicNumbers(e, n)
    ).private_key()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    pathlib.Path(out).write_bytes(pem)
    print(jwk["kid"])


if __name__ == "__main__":
    main(sys.argv[1])
