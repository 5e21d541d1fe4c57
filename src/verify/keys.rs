//! ECDSA keys of the OMS key method: P-256 with SHA-256, P-384 with SHA-384, P-521 with SHA-512
//! (the curves and hashes `model_signing` and Sigstore's protobuf specs allow), DER signatures.

use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey, LineEnding};
use signature_traits::{Signer, Verifier};

use crate::Error;

// the `signature` crate's traits, through p256's re-export (the same crate for every curve)
use p256::ecdsa::signature as signature_traits;

/// A public key read from a SubjectPublicKeyInfo PEM file.
#[derive(Debug, Clone)]
pub enum PublicKey {
    /// NIST P-256 (secp256r1), verified with SHA-256.
    P256(p256::PublicKey),
    /// NIST P-384 (secp384r1), verified with SHA-384.
    P384(p384::PublicKey),
    /// NIST P-521 (secp521r1), verified with SHA-512.
    P521(p521::PublicKey),
}

impl PublicKey {
    /// Parse a `-----BEGIN PUBLIC KEY-----` PEM of an ECDSA key on one of the three curves.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        if let Ok(k) = p256::PublicKey::from_public_key_pem(pem) {
            return Ok(PublicKey::P256(k));
        }
        if let Ok(k) = p384::PublicKey::from_public_key_pem(pem) {
            return Ok(PublicKey::P384(k));
        }
        if let Ok(k) = p521::PublicKey::from_public_key_pem(pem) {
            return Ok(PublicKey::P521(k));
        }
        Err(Error::Usage(
            "not an ECDSA P-256, P-384 or P-521 public key in PEM (-----BEGIN PUBLIC KEY-----)".into(),
        ))
    }

    /// Parse a DER SubjectPublicKeyInfo of an ECDSA key on one of the three curves (a certificate's key).
    pub fn from_spki_der(der: &[u8]) -> Option<Self> {
        if let Ok(k) = p256::PublicKey::from_public_key_der(der) {
            return Some(PublicKey::P256(k));
        }
        if let Ok(k) = p384::PublicKey::from_public_key_der(der) {
            return Some(PublicKey::P384(k));
        }
        p521::PublicKey::from_public_key_der(der).ok().map(PublicKey::P521)
    }

    /// Whether `der_sig` is a valid signature of an already hashed message (any of SHA-256/384/512 on
    /// any curve, as X.509 certificate signatures allow).
    pub fn verify_prehash(&self, digest: &[u8], der_sig: &[u8]) -> bool {
        use signature_traits::hazmat::PrehashVerifier;
        match self {
            PublicKey::P256(k) => p256::ecdsa::Signature::from_der(der_sig)
                .is_ok_and(|s| p256::ecdsa::VerifyingKey::from(k).verify_prehash(digest, &s).is_ok()),
            PublicKey::P384(k) => p384::ecdsa::Signature::from_der(der_sig)
                .is_ok_and(|s| p384::ecdsa::VerifyingKey::from(k).verify_prehash(digest, &s).is_ok()),
            PublicKey::P521(k) => {
                let Ok(vk) = p521::ecdsa::VerifyingKey::from_sec1_bytes(&k.to_sec1_bytes()) else {
                    return false;
                };
                p521::ecdsa::Signature::from_der(der_sig).is_ok_and(|s| vk.verify_prehash(digest, &s).is_ok())
            }
        }
    }

    /// The curve and hash, for messages (`ECDSA P-384 SHA-384`).
    pub fn describe(&self) -> &'static str {
        match self {
            PublicKey::P256(_) => "ECDSA P-256 SHA-256",
            PublicKey::P384(_) => "ECDSA P-384 SHA-384",
            PublicKey::P521(_) => "ECDSA P-521 SHA-512",
        }
    }

    /// The key as SubjectPublicKeyInfo PEM with `\n` line ends, as Python's `cryptography` writes it.
    pub fn to_pem(&self) -> String {
        let r = match self {
            PublicKey::P256(k) => k.to_public_key_pem(LineEnding::LF),
            PublicKey::P384(k) => k.to_public_key_pem(LineEnding::LF),
            PublicKey::P521(k) => k.to_public_key_pem(LineEnding::LF),
        };
        r.unwrap_or_default()
    }

    /// The OMS key hint: hex SHA-256 of [`PublicKey::to_pem`].
    pub fn hint(&self) -> String {
        super::hash::hex(&super::hash::digest(
            super::hash::Algorithm::Sha256,
            self.to_pem().as_bytes(),
        ))
    }

    /// Whether `der_sig` is a valid signature of `msg` by this key.
    pub fn verify(&self, msg: &[u8], der_sig: &[u8]) -> bool {
        match self {
            PublicKey::P256(k) => p256::ecdsa::Signature::from_der(der_sig)
                .is_ok_and(|s| p256::ecdsa::VerifyingKey::from(k).verify(msg, &s).is_ok()),
            PublicKey::P384(k) => p384::ecdsa::Signature::from_der(der_sig)
                .is_ok_and(|s| p384::ecdsa::VerifyingKey::from(k).verify(msg, &s).is_ok()),
            PublicKey::P521(k) => {
                let Ok(vk) = p521::ecdsa::VerifyingKey::from_sec1_bytes(&k.to_sec1_bytes()) else {
                    return false;
                };
                p521::ecdsa::Signature::from_der(der_sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
            }
        }
    }
}

/// A private key read from PEM (PKCS#8 `BEGIN PRIVATE KEY` or SEC1 `BEGIN EC PRIVATE KEY`).
#[derive(Clone)]
pub enum PrivateKey {
    /// NIST P-256.
    P256(p256::SecretKey),
    /// NIST P-384.
    P384(p384::SecretKey),
    /// NIST P-521.
    P521(p521::SecretKey),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({})", self.public_key().describe())
    }
}

impl PrivateKey {
    /// Parse an unencrypted PEM private key on P-256, P-384 or P-521.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        if pem.contains("ENCRYPTED") {
            return Err(Error::Unsupported(
                "the private key is encrypted: decrypt it first (openssl pkey -in KEY -out PLAIN)".into(),
            ));
        }
        macro_rules! try_curve {
            ($c:ident, $v:ident) => {
                if let Ok(k) = $c::SecretKey::from_pkcs8_pem(pem) {
                    return Ok(PrivateKey::$v(k));
                }
                if let Ok(k) = $c::SecretKey::from_sec1_pem(pem) {
                    return Ok(PrivateKey::$v(k));
                }
            };
        }
        try_curve!(p256, P256);
        try_curve!(p384, P384);
        try_curve!(p521, P521);
        Err(Error::Usage(
            "not an ECDSA P-256, P-384 or P-521 private key in PEM (PKCS#8 or SEC1)".into(),
        ))
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::P256(k) => PublicKey::P256(k.public_key()),
            PrivateKey::P384(k) => PublicKey::P384(k.public_key()),
            PrivateKey::P521(k) => PublicKey::P521(k.public_key()),
        }
    }

    /// A DER-encoded ECDSA signature of `msg` (deterministic, RFC 6979, on P-256 and P-384).
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, Error> {
        let bad = |e: p256::ecdsa::Error| Error::Unsupported(format!("signing failed: {e}"));
        Ok(match self {
            PrivateKey::P256(k) => {
                let s: p256::ecdsa::Signature = p256::ecdsa::SigningKey::from(k).try_sign(msg).map_err(bad)?;
                s.to_der().as_bytes().to_vec()
            }
            PrivateKey::P384(k) => {
                let s: p384::ecdsa::Signature = p384::ecdsa::SigningKey::from(k).try_sign(msg).map_err(bad)?;
                s.to_der().as_bytes().to_vec()
            }
            PrivateKey::P521(k) => {
                let sk = p521::ecdsa::SigningKey::from_bytes(&k.to_bytes()).map_err(bad)?;
                let s: p521::ecdsa::Signature = sk.try_sign(msg).map_err(bad)?;
                s.to_der().as_bytes().to_vec()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_every_curve() {
        use p256::elliptic_curve::rand_core::OsRng;
        let keys = [
            PrivateKey::P256(p256::SecretKey::random(&mut OsRng)),
            PrivateKey::P384(p384::SecretKey::random(&mut OsRng)),
            PrivateKey::P521(p521::SecretKey::random(&mut OsRng)),
        ];
        for k in keys {
            let pubkey = PublicKey::from_pem(&k.public_key().to_pem()).unwrap();
            let sig = k.sign(b"payload").unwrap();
            assert!(pubkey.verify(b"payload", &sig), "{}", pubkey.describe());
            assert!(!pubkey.verify(b"payload!", &sig), "{}", pubkey.describe());
            assert_eq!(pubkey.hint().len(), 64);
        }
    }

    #[test]
    fn rejects_other_keys() {
        assert!(PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").is_err());
        assert!(PrivateKey::from_pem("-----BEGIN ENCRYPTED PRIVATE KEY-----\n").is_err());
    }
}
