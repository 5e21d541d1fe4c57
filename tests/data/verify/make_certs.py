"""Throwaway certificate hierarchies for the certificate-method fixtures (run by make_fixtures.sh with
the venv that holds model_signing, whose `cryptography` writes them). Never use them for anything else.

Writes under certs/ (PEM; keys beside their certificates):
  root.pem            CN=tensorscope test root, P-384, self-signed (ecdsa-with-SHA384), CA
  int.pem             CN=tensorscope test intermediate, P-256, signed by root (SHA-384), CA, pathlen 0
  leaf.pem            P-256, signed by int (SHA-256): digitalSignature + codeSigning
  leaf-p521.pem       P-521, signed by int: the same usages
  leaf-expired.pem    valid 2020-01-01 .. 2021-01-01 only
  leaf-future.pem     valid from 2100-01-01
  leaf-keyagree.pem   key usage keyAgreement only, no extended key usage
  int-not-ca.pem      CN=tensorscope test plain intermediate, no basicConstraints (keyCertSign set)
  leaf-under-not-ca.pem   signed by int-not-ca
  forged-root.pem     the same name as root.pem, another key
  forged-int.pem      the same name as int.pem, signed by forged-root
  leaf-forged.pem     signed by forged-int
  leaf-critical.pem   signed by int, with a critical extension nobody understands (OID 1.3.6.1.4.1.55555.1)
  sub-int.pem         CN=tensorscope test sub-intermediate, a CA signed by int (whose pathlen is 0)
  leaf-under-sub.pem  signed by sub-int: the path breaks int's path length constraint
Every CA is valid from 2019-01-01 to 2125-01-01; leaves from 2019-06-01 to 2124-01-01 unless stated.
"""

import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

out = sys.argv[1] if len(sys.argv) > 1 else "certs"
os.makedirs(out, exist_ok=True)
D = datetime.datetime
UTC = datetime.timezone.utc
CA_FROM, CA_TO = D(2019, 1, 1, tzinfo=UTC), D(2125, 1, 1, tzinfo=UTC)
LEAF_FROM, LEAF_TO = D(2019, 6, 1, tzinfo=UTC), D(2124, 1, 1, tzinfo=UTC)


def key(name, curve):
    path = f"{out}/{name}.key"
    if os.path.exists(path):
        return serialization.load_pem_private_key(open(path, "rb").read(), None)
    k = ec.generate_private_key(curve)
    open(path, "wb").write(
        k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return k


def ku(**on):
    names = ["digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"]
    return x509.KeyUsage(**{n: on.get(n, False) for n in names})


def cert(name, cn, k, issuer_cert, issuer_key, hash_alg, exts, start, end, serial):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject if issuer_cert else subject)
        .public_key(k.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(end)
    )
    for ext, critical in exts:
        b = b.add_extension(ext, critical=critical)
    c = b.sign(issuer_key or k, hash_alg)
    open(f"{out}/{name}.pem", "wb").write(c.public_bytes(serialization.Encoding.PEM))
    return c


def ca_exts(pathlen=None, basic=True):
    e = [(ku(key_cert_sign=True, crl_sign=True), True)]
    if basic:
        e.insert(0, (x509.BasicConstraints(ca=True, path_length=pathlen), True))
    return e


SIGNING = [
    (x509.BasicConstraints(ca=False, path_length=None), True),
    (ku(digital_signature=True), True),
    (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False),
]

root_k = key("root", ec.SECP384R1())
root = cert("root", "tensorscope test root", root_k, None, None, hashes.SHA384(), ca_exts(), CA_FROM, CA_TO, 1)
int_k = key("int", ec.SECP256R1())
inter = cert("int", "tensorscope test intermediate", int_k, root, root_k, hashes.SHA384(), ca_exts(0),
             CA_FROM, CA_TO, 2)


def leaf(name, curve, issuer, issuer_k, exts=SIGNING, start=LEAF_FROM, end=LEAF_TO, serial=10):
    k = key(name, curve)
    return cert(name, f"tensorscope test signer ({name})", k, issuer, issuer_k, hashes.SHA256(), exts, start, end,
                serial)


leaf("leaf", ec.SECP256R1(), inter, int_k, serial=10)
leaf("leaf-p521", ec.SECP521R1(), inter, int_k, serial=11)
leaf("leaf-expired", ec.SECP256R1(), inter, int_k, start=D(2020, 1, 1, tzinfo=UTC), end=D(2021, 1, 1, tzinfo=UTC),
     serial=12)
leaf("leaf-future", ec.SECP256R1(), inter, int_k, start=D(2100, 1, 1, tzinfo=UTC), serial=13)
leaf("leaf-keyagree", ec.SECP256R1(), inter, int_k, exts=[(ku(key_agreement=True), True)], serial=14)

plain_k = key("int-not-ca", ec.SECP256R1())
plain = cert("int-not-ca", "tensorscope test plain intermediate", plain_k, root, root_k, hashes.SHA384(),
             ca_exts(basic=False), CA_FROM, CA_TO, 3)
leaf("leaf-under-not-ca", ec.SECP256R1(), plain, plain_k, serial=15)

forged_root_k = key("forged-root", ec.SECP384R1())
forged_root = cert("forged-root", "tensorscope test root", forged_root_k, None, None, hashes.SHA384(), ca_exts(),
                   CA_FROM, CA_TO, 1)
forged_int_k = key("forged-int", ec.SECP256R1())
forged_int = cert("forged-int", "tensorscope test intermediate", forged_int_k, forged_root, forged_root_k,
                  hashes.SHA384(), ca_exts(0), CA_FROM, CA_TO, 2)
leaf("leaf-forged", ec.SECP256R1(), forged_int, forged_int_k, serial=16)

leaf("leaf-critical", ec.SECP256R1(), inter, int_k,
     exts=SIGNING + [(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00"), True)],
     serial=17)
sub_k = key("sub-int", ec.SECP256R1())
sub = cert("sub-int", "tensorscope test sub-intermediate", sub_k, inter, int_k, hashes.SHA256(), ca_exts(),
           CA_FROM, CA_TO, 4)
leaf("leaf-under-sub", ec.SECP256R1(), sub, sub_k, serial=18)
