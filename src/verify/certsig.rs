//! Signatures on certificates: does an issuer's key sign a certificate's `tbsCertificate`?
//!
//! Accepted, as OpenSSL accepts them by default for a chain of this kind: RSA PKCS#1 v1.5 with SHA-256,
//! SHA-384 or SHA-512 (keys of 2,048 to 8,192 bits), and ECDSA with SHA-256, SHA-384 or SHA-512 on
//! P-256, P-384 or P-521 (any hash with any curve, as X.509 allows). Everything else (SHA-1, MD5,
//! RSA-PSS, Ed25519, smaller RSA keys) is refused with its name, never guessed at.

use sha2::Digest as _;
use x509_cert::der::{Decode, Encode, oid::ObjectIdentifier};
use x509_cert::spki::SubjectPublicKeyInfoOwned;

use super::keys::PublicKey;

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");

/// Smallest and largest RSA moduli accepted on an issuer, in bits.
pub const RSA_BITS: (usize, usize) = (2048, 8192);

/// The hash of a signature algorithm.
#[derive(Debug, Clone, Copy)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn digest(self, msg: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => sha2::Sha256::digest(msg).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(msg).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(msg).to_vec(),
        }
    }

    fn pkcs1(self) -> rsa::Pkcs1v15Sign {
        match self {
            Hash::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
            Hash::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
            Hash::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
        }
    }
}

/// An issuer's key, read from its SubjectPublicKeyInfo.
#[derive(Debug, Clone)]
pub enum IssuerKey {
    /// RSA (PKCS#1 v1.5 signatures).
    Rsa(rsa::RsaPublicKey),
    /// ECDSA on P-256, P-384 or P-521.
    Ec(PublicKey),
}

/// The name of a signature algorithm, for messages.
pub fn algorithm_name(oid: &ObjectIdentifier) -> String {
    let known = [
        (SHA256_RSA, "sha256WithRSAEncryption"),
        (SHA384_RSA, "sha384WithRSAEncryption"),
        (SHA512_RSA, "sha512WithRSAEncryption"),
        (ECDSA_SHA256, "ecdsa-with-SHA256"),
        (ECDSA_SHA384, "ecdsa-with-SHA384"),
        (ECDSA_SHA512, "ecdsa-with-SHA512"),
        (
            ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5"),
            "sha1WithRSAEncryption (SHA-1)",
        ),
        (
            ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.4"),
            "md5WithRSAEncryption (MD5)",
        ),
        (ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10"), "RSASSA-PSS"),
        (
            ObjectIdentifier::new_unwrap("1.2.840.10045.4.1"),
            "ecdsa-with-SHA1 (SHA-1)",
        ),
        (ObjectIdentifier::new_unwrap("1.3.101.112"), "Ed25519"),
    ];
    known
        .iter()
        .find(|(o, _)| o == oid)
        .map_or_else(|| oid.to_string(), |(_, n)| (*n).to_string())
}

/// Read a key that may sign certificates. `Err` says why it cannot (in words).
pub fn issuer_key(spki: &SubjectPublicKeyInfoOwned) -> Result<IssuerKey, String> {
    let alg = spki.algorithm.oid;
    if alg == EC_PUBLIC_KEY {
        return leaf_key(spki).map(IssuerKey::Ec);
    }
    if alg != RSA_ENCRYPTION {
        return Err(format!("its key type {alg} is not RSA or ECDSA"));
    }
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or("its RSA key is not a whole number of bytes")?;
    let k = rsa::pkcs1::RsaPublicKey::from_der(bits).map_err(|e| format!("its RSA key is malformed: {e}"))?;
    let n = rsa::BigUint::from_bytes_be(k.modulus.as_bytes());
    let e = rsa::BigUint::from_bytes_be(k.public_exponent.as_bytes());
    let size = n.bits();
    if size < RSA_BITS.0 {
        return Err(format!(
            "its RSA key has {size} bits, fewer than the {} required",
            RSA_BITS.0
        ));
    }
    rsa::RsaPublicKey::new_with_max_size(n, e, RSA_BITS.1)
        .map(IssuerKey::Rsa)
        .map_err(|e| format!("its RSA key is not usable: {e}"))
}

/// Read an ECDSA key on P-256, P-384 or P-521 (a leaf's, or an issuer's).
pub fn leaf_key(spki: &SubjectPublicKeyInfoOwned) -> Result<PublicKey, String> {
    if spki.algorithm.oid == RSA_ENCRYPTION {
        return Err("its key is RSA; OMS signatures are ECDSA (P-256, P-384, P-521)".into());
    }
    if spki.algorithm.oid != EC_PUBLIC_KEY {
        return Err(format!(
            "its key type {} is not ECDSA (P-256, P-384, P-521)",
            spki.algorithm.oid
        ));
    }
    let der = spki.to_der().map_err(|e| format!("its key does not encode: {e}"))?;
    PublicKey::from_spki_der(&der).ok_or_else(|| "its ECDSA key is not on P-256, P-384 or P-521".into())
}

/// Check that `key` made `sig` over `tbs` with algorithm `alg`. `Err` names what failed.
pub fn verify_link(key: &IssuerKey, alg: &ObjectIdentifier, tbs: &[u8], sig: &[u8]) -> Result<(), String> {
    let (hash, want_rsa) = match *alg {
        SHA256_RSA => (Hash::Sha256, true),
        SHA384_RSA => (Hash::Sha384, true),
        SHA512_RSA => (Hash::Sha512, true),
        ECDSA_SHA256 => (Hash::Sha256, false),
        ECDSA_SHA384 => (Hash::Sha384, false),
        ECDSA_SHA512 => (Hash::Sha512, false),
        ref other => {
            return Err(format!(
                "signature algorithm {} is not supported",
                algorithm_name(other)
            ));
        }
    };
    let digest = hash.digest(tbs);
    let ok = match (key, want_rsa) {
        (IssuerKey::Rsa(k), true) => k.verify(hash.pkcs1(), &digest, sig).is_ok(),
        (IssuerKey::Ec(k), false) => k.verify_prehash(&digest, sig),
        _ => {
            return Err(format!(
                "signed with {}, which does not fit the issuer's key type",
                algorithm_name(alg)
            ));
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!("the {} signature does not verify", algorithm_name(alg)))
    }
}
