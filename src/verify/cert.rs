//! The OMS certificate method: the bundle's `x509CertificateChain` holds the signing (leaf) certificate
//! first, then any intermediates; the DSSE envelope is verified with the leaf's ECDSA key once the leaf
//! chains to a self-signed root given with `--certificate-chain`.
//!
//! What is checked, for every certificate from the leaf up to the root:
//! - each link's signature (the root's own signature too), by the algorithms of `verify::certsig`;
//! - the validity period, at the time of the check (the machine's clock). `model_signing` checks at
//!   the leaf's `notBefore` instead, so it accepts an expired leaf; tensorscope does not;
//! - every issuer (the root included) says `basicConstraints` CA:TRUE, its key usage (when stated)
//!   allows keyCertSign, and its path length constraint holds;
//! - no critical extension that is not understood, no extension twice, no name constraints (not
//!   enforced, so refused rather than ignored);
//! - the leaf: key usage, when stated, includes digitalSignature; extended key usage, when stated,
//!   includes codeSigning (or anyExtendedKeyUsage); at least one of the two is stated.
//!
//! The path is built by name and signature from the bundle's certificates and those of
//! `--certificate-chain`; it must end at a self-signed certificate given with `--certificate-chain`.

use std::path::{Path, PathBuf};

use serde::Serialize;
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode, Reader, SliceReader, oid::ObjectIdentifier};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};

use super::certsig;
use super::keys::PublicKey;
use crate::Error;

/// Longest path accepted, leaf and root included.
pub const MAX_DEPTH: usize = 10;
/// A certificate file larger than this is not a certificate file.
pub const MAX_PEM_BYTES: u64 = 16 << 20;

const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const NAME_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.30");
const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
const ANY_EKU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");

/// A parsed certificate with the exact bytes its signature covers.
#[derive(Debug, Clone)]
pub struct Cert {
    der: Vec<u8>,
    tbs: std::ops::Range<usize>,
    cert: Certificate,
}

impl Cert {
    /// Parse one DER certificate. `Err` says what is malformed.
    pub fn from_der(der: Vec<u8>) -> Result<Self, String> {
        let cert = Certificate::from_der(&der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
        // the signed bytes are the first element of the outer SEQUENCE, exactly as stored
        let tbs = {
            let r = SliceReader::new(&der).map_err(|e| e.to_string())?;
            let outer = r.peek_header().map_err(|e| e.to_string())?;
            let skip = outer.encoded_len().map_err(|e| e.to_string())?;
            let start = usize::try_from(skip).map_err(|e| e.to_string())?;
            let body = der.get(start..).ok_or("truncated certificate")?;
            let mut inner = SliceReader::new(body).map_err(|e| e.to_string())?;
            let len = inner.tlv_bytes().map_err(|e| e.to_string())?.len();
            start..start + len
        };
        if cert.tbs_certificate.signature != cert.signature_algorithm {
            return Err("its two signature algorithm fields differ".into());
        }
        Ok(Cert { der, tbs, cert })
    }

    /// The subject, RFC 4514 style (`CN=root-ca`).
    pub fn subject(&self) -> String {
        name(&self.cert.tbs_certificate.subject)
    }

    /// The issuer, RFC 4514 style.
    pub fn issuer(&self) -> String {
        name(&self.cert.tbs_certificate.issuer)
    }

    /// The serial number in hex.
    pub fn serial(&self) -> String {
        super::hash::hex(self.cert.tbs_certificate.serial_number.as_bytes())
    }

    fn self_issued(&self) -> bool {
        self.cert.tbs_certificate.subject == self.cert.tbs_certificate.issuer
    }

    fn validity(&self) -> (u64, u64) {
        let v = &self.cert.tbs_certificate.validity;
        (
            v.not_before.to_unix_duration().as_secs(),
            v.not_after.to_unix_duration().as_secs(),
        )
    }

    /// Whether `issuer`'s key signed this certificate; `Err` says why not.
    fn signed_by(&self, issuer: &Cert) -> Result<(), String> {
        let key = certsig::issuer_key(&issuer.cert.tbs_certificate.subject_public_key_info)?;
        let sig = self
            .cert
            .signature
            .as_bytes()
            .ok_or("its signature is not whole bytes")?;
        let tbs = self.der.get(self.tbs.clone()).unwrap_or_default();
        certsig::verify_link(&key, &self.cert.signature_algorithm.oid, tbs, sig)
    }

    fn extension<'a, T: Decode<'a>>(&'a self, oid: ObjectIdentifier, what: &str) -> Result<Option<T>, String> {
        let exts = self.cert.tbs_certificate.extensions.as_deref().unwrap_or_default();
        match exts.iter().find(|e| e.extn_id == oid) {
            None => Ok(None),
            Some(e) => T::from_der(e.extn_value.as_bytes())
                .map(Some)
                .map_err(|err| format!("{} has a malformed {what} extension: {err}", self.label())),
        }
    }

    fn label(&self) -> String {
        let s = self.subject();
        if s.is_empty() {
            format!("the certificate with serial {}", self.serial())
        } else {
            s
        }
    }
}

fn name(n: &x509_cert::name::Name) -> String {
    n.to_string()
}

/// Certificates given with `--certificate-chain`: the self-signed ones are the trust anchors, the
/// others may complete a path.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    certs: Vec<Cert>,
}

impl TrustStore {
    /// Read every certificate of the PEM files. A file that cannot be read, holds no certificate or
    /// holds anything else is an error.
    pub fn from_files(paths: &[PathBuf]) -> Result<Self, Error> {
        let mut store = TrustStore::default();
        for p in paths {
            // the read itself is bounded: a pipe (`<(…)`) has no size to check beforehand
            let f = std::fs::File::open(p).map_err(|e| Error::io(p, e))?;
            let mut text = Vec::new();
            std::io::Read::read_to_end(&mut std::io::Read::take(f, MAX_PEM_BYTES + 1), &mut text)
                .map_err(|e| Error::io(p, e))?;
            if text.len() as u64 > MAX_PEM_BYTES {
                return Err(Error::Limit {
                    path: p.clone(),
                    what: "certificate file size",
                    value: std::fs::metadata(p).map_or(text.len() as u64, |m| m.len().max(text.len() as u64)),
                    limit: MAX_PEM_BYTES,
                    hint: ": give PEM certificate files, not a bundle or a model (a fixed limit)",
                });
            }
            store.add_pem(&text, p)?;
        }
        Ok(store)
    }

    /// Add the certificates of one PEM text (read from `origin`).
    pub fn add_pem(&mut self, text: &[u8], origin: &Path) -> Result<(), Error> {
        let bad = |m: String| Error::Usage(format!("{}: {m}", crate::text::path(origin)));
        let mut n = 0;
        for block in pem_blocks(text) {
            let (label, der) = x509_cert::der::pem::decode_vec(block)
                .map_err(|e| bad(format!("PEM block {} is malformed: {e}", n + 1)))?;
            if label != "CERTIFICATE" {
                return Err(bad(format!(
                    "holds a {}, not a CERTIFICATE",
                    crate::text::escape(label)
                )));
            }
            let c = Cert::from_der(der).map_err(|m| bad(format!("certificate {}: {m}", n + 1)))?;
            self.certs.push(c);
            n += 1;
        }
        if n == 0 {
            return Err(bad("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into()));
        }
        Ok(())
    }

    /// The certificates, in the order given.
    pub fn certificates(&self) -> &[Cert] {
        &self.certs
    }

    /// How many certificates were given.
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// Whether none was given.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    fn holds(&self, c: &Cert) -> bool {
        self.certs.iter().any(|t| t.der == c.der)
    }
}

/// The `-----BEGIN …-----` to `-----END …-----` blocks of a PEM text, in order.
fn pem_blocks(text: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = find(rest, b"-----BEGIN ") {
        let from = &rest[start..];
        let Some(end) = find(from, b"-----END ") else {
            out.push(from);
            break;
        };
        // through the closing dashes of the END line
        let tail = &from[end + 9..];
        let close = find(tail, b"-----").map_or(from.len(), |i| end + 9 + i + 5);
        out.push(&from[..close]);
        rest = &from[close..];
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The signing certificate, for reports.
#[derive(Debug, Clone, Serialize)]
pub struct CertificateInfo {
    /// The leaf's subject (RFC 4514).
    pub subject: String,
    /// The leaf's issuer (RFC 4514).
    pub issuer: String,
    /// The leaf's serial number, hex.
    pub serial: String,
    /// Start of the leaf's validity, UTC (`2025-05-02T23:36:28Z`).
    pub not_before: String,
    /// End of the leaf's validity, UTC.
    pub not_after: String,
    /// The subjects from the leaf up to the trusted root (empty when no path was found).
    pub chain: Vec<String>,
    /// When the validity periods were checked, UTC.
    pub checked_at: String,
}

/// RFC 3339 UTC of seconds since 1970.
pub fn rfc3339(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = crate::text::utc(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// Describe the leaf, before anything is checked.
pub fn describe(leaf: &Cert, now: u64) -> CertificateInfo {
    let (nb, na) = leaf.validity();
    CertificateInfo {
        subject: leaf.subject(),
        issuer: leaf.issuer(),
        serial: leaf.serial(),
        not_before: rfc3339(nb),
        not_after: rfc3339(na),
        chain: Vec::new(),
        checked_at: rfc3339(now),
    }
}

/// Check the bundle's certificates (leaf first) against `store` at `now` (seconds since 1970).
/// `Ok`: the leaf's key and the path's subjects; `Err`: why it is not trusted, in one line.
pub fn verify_chain(bundle: &[Cert], store: &TrustStore, now: u64) -> Result<(PublicKey, Vec<String>), String> {
    let leaf = bundle.first().ok_or("the bundle holds no certificate")?;
    let path = build_path(leaf, &bundle[1..], store)?;
    for (i, c) in path.iter().enumerate() {
        check_common(c, now)?;
        if i > 0 {
            check_issuer(c, path[i - 1], i - 1)?;
        }
    }
    let key = check_leaf(leaf)?;
    Ok((key, path.iter().map(|c| c.label()).collect()))
}

fn build_path<'a>(leaf: &'a Cert, extra: &'a [Cert], store: &'a TrustStore) -> Result<Vec<&'a Cert>, String> {
    // trusted certificates first, so a path prefers them
    let pool: Vec<&Cert> = store.certs.iter().chain(extra.iter()).collect();
    let mut path = vec![leaf];
    loop {
        let cur = *path.last().unwrap_or(&leaf);
        if cur.self_issued() && cur.signed_by(cur).is_ok() {
            if store.holds(cur) {
                return Ok(path);
            }
            return Err(format!(
                "untrusted root: {} is self-signed but not among the --certificate-chain certificates",
                cur.label()
            ));
        }
        if path.len() >= MAX_DEPTH {
            return Err(format!("the chain is longer than {MAX_DEPTH} certificates"));
        }
        let mut why = None;
        let mut next = None;
        for c in pool.iter().copied() {
            if c.cert.tbs_certificate.subject != cur.cert.tbs_certificate.issuer || path.iter().any(|p| p.der == c.der)
            {
                continue;
            }
            match cur.signed_by(c) {
                Ok(()) => {
                    next = Some(c);
                    break;
                }
                Err(e) => {
                    why = Some(format!(
                        "{} names {} as its issuer, but {e} with that key",
                        cur.label(),
                        c.label()
                    ))
                }
            }
        }
        match (next, why) {
            (Some(c), _) => path.push(c),
            (None, Some(why)) => return Err(format!("untrusted issuer: {why}")),
            (None, None) => {
                return Err(format!(
                    "untrusted issuer: {} was issued by {}, which neither the bundle nor --certificate-chain holds",
                    cur.label(),
                    cur.issuer()
                ));
            }
        }
    }
}

fn check_common(c: &Cert, now: u64) -> Result<(), String> {
    let (nb, na) = c.validity();
    if now < nb {
        return Err(format!("{} is not valid before {}", c.label(), rfc3339(nb)));
    }
    if now > na {
        return Err(format!("{} expired on {}", c.label(), rfc3339(na)));
    }
    let exts = c.cert.tbs_certificate.extensions.as_deref().unwrap_or_default();
    for (i, e) in exts.iter().enumerate() {
        if exts[..i].iter().any(|o| o.extn_id == e.extn_id) {
            return Err(format!("{} holds extension {} twice", c.label(), e.extn_id));
        }
        if e.extn_id == NAME_CONSTRAINTS {
            return Err(format!(
                "{} has name constraints, which tensorscope does not enforce",
                c.label()
            ));
        }
        let known = [BASIC_CONSTRAINTS, KEY_USAGE, EXT_KEY_USAGE, SUBJECT_ALT_NAME];
        if e.critical && !known.contains(&e.extn_id) {
            return Err(format!(
                "{} has a critical extension {} that tensorscope does not understand",
                c.label(),
                e.extn_id
            ));
        }
    }
    Ok(())
}

/// `c` issued `child`, with `below` CA certificates between `c` and the leaf.
fn check_issuer(c: &Cert, child: &Cert, below: usize) -> Result<(), String> {
    let bc: Option<BasicConstraints> = c.extension(BASIC_CONSTRAINTS, "basicConstraints")?;
    let Some(bc) = bc.filter(|b| b.ca) else {
        return Err(format!(
            "{} issued {} but is not a CA (no basicConstraints CA:TRUE)",
            c.label(),
            child.label()
        ));
    };
    if let Some(n) = bc.path_len_constraint
        && below > usize::from(n)
    {
        return Err(format!(
            "{} allows {n} intermediate CAs below it, the chain has {below}",
            c.label()
        ));
    }
    let ku: Option<KeyUsage> = c.extension(KEY_USAGE, "keyUsage")?;
    if ku.is_some_and(|k| !k.key_cert_sign()) {
        return Err(format!(
            "{} issued {} but its key usage does not allow keyCertSign",
            c.label(),
            child.label()
        ));
    }
    Ok(())
}

fn check_leaf(leaf: &Cert) -> Result<PublicKey, String> {
    let ku: Option<KeyUsage> = leaf.extension(KEY_USAGE, "keyUsage")?;
    let eku: Option<ExtendedKeyUsage> = leaf.extension(EXT_KEY_USAGE, "extendedKeyUsage")?;
    let label = leaf.label();
    if ku.is_some_and(|k| !k.digital_signature()) {
        return Err(format!(
            "the signing certificate {label} may not sign: its key usage lacks digitalSignature"
        ));
    }
    if eku
        .as_ref()
        .is_some_and(|e| !e.0.iter().any(|o| *o == CODE_SIGNING || *o == ANY_EKU))
    {
        return Err(format!(
            "the signing certificate {label} is not for code signing: its extended key usage lacks codeSigning"
        ));
    }
    if ku.is_none() && eku.is_none() {
        return Err(format!(
            "the signing certificate {label} states neither key usage digitalSignature nor extended key usage codeSigning"
        ));
    }
    certsig::leaf_key(&leaf.cert.tbs_certificate.subject_public_key_info)
        .map_err(|e| format!("the signing certificate {label} cannot sign OMS bundles: {e}"))
}

/// The DER of a certificate (for writing bundles).
pub fn der_of(c: &Cert) -> &[u8] {
    &c.der
}

/// The ECDSA key of a certificate, whatever its extensions say (for checking a signer's key pair).
pub fn key_of(c: &Cert) -> Result<PublicKey, String> {
    certsig::leaf_key(&c.cert.tbs_certificate.subject_public_key_info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_split_and_dates_print() {
        let text = b"junk\n-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\nmid\n-----BEGIN X-----\nBB\n";
        let blocks = pem_blocks(text);
        assert_eq!(blocks.len(), 2);
        assert!(blocks[0].ends_with(b"-----END CERTIFICATE-----"));
        assert!(blocks[1].starts_with(b"-----BEGIN X-----"));
        assert!(pem_blocks(b"").is_empty());
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(2_051_222_400), "2035-01-01T00:00:00Z");
    }

    #[test]
    fn unusable_pem_is_an_error_not_a_panic() {
        let mut store = TrustStore::default();
        for text in [
            &b""[..],
            b"-----BEGIN CERTIFICATE-----",
            b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
            b"-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n",
        ] {
            assert!(store.add_pem(text, Path::new("x.pem")).is_err());
        }
        assert!(store.is_empty());
        assert!(verify_chain(&[], &store, 0).is_err());
    }
}
