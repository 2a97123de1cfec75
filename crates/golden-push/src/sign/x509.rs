//! Keyless verification: the bundle's leaf certificate must be issued (signature checked) by
//! a certificate of the trusted root file, be valid now, name the expected issuer in the
//! Fulcio extension (OID 1.3.6.1.4.1.57264.1.8, or the older .1.1) and carry a subject
//! alternative name (URI or email) matching the policy's pattern. A small DER reader of
//! exactly the certificate fields that needs; ECDSA P-256 / Ed25519 signatures only.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, NaiveDateTime, Utc};

use super::key::PublicKey;

const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
const OID_FULCIO_ISSUER_V1: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x01];
const OID_FULCIO_ISSUER_V2: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x08];

/// One DER element: (tag, content, the whole element, the rest).
type Tlv<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);
/// An element of a known tag: (content, the whole element, the rest).
type Element<'a> = (&'a [u8], &'a [u8], &'a [u8]);

fn tlv(input: &[u8]) -> Result<Tlv<'_>, String> {
    let short = || "truncated DER".to_string();
    let tag = *input.first().ok_or_else(short)?;
    let first = *input.get(1).ok_or_else(short)?;
    let (len, hdr) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return Err("unsupported DER length".into());
        }
        let bytes = input.get(2..2 + n).ok_or_else(short)?;
        (
            bytes.iter().fold(0usize, |a, b| (a << 8) | *b as usize),
            2 + n,
        )
    };
    let end = hdr.checked_add(len).ok_or_else(short)?;
    let content = input.get(hdr..end).ok_or_else(short)?;
    Ok((tag, content, &input[..end], &input[end..]))
}

fn expect<'a>(input: &'a [u8], tag: u8, what: &str) -> Result<Element<'a>, String> {
    let (t, c, whole, rest) = tlv(input)?;
    if t != tag {
        return Err(format!("{what}: DER tag {t:#04x}, expected {tag:#04x}"));
    }
    Ok((c, whole, rest))
}

fn time(t: u8, c: &[u8]) -> Result<DateTime<Utc>, String> {
    let s = std::str::from_utf8(c).map_err(|_| "a certificate time is not text".to_string())?;
    let fmt = match t {
        0x17 => "%y%m%d%H%M%SZ",
        0x18 => "%Y%m%d%H%M%SZ",
        _ => return Err(format!("unknown certificate time type {t:#04x}")),
    };
    NaiveDateTime::parse_from_str(s, fmt)
        .map(|d| d.and_utc())
        .map_err(|e| format!("certificate time `{s}`: {e}"))
}

/// The fields of a certificate keyless verification needs.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub tbs: Vec<u8>,
    pub sig_alg: Vec<u8>,
    pub signature: Vec<u8>,
    pub issuer: Vec<u8>,
    pub subject: Vec<u8>,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub spki: Vec<u8>,
    /// (OID, value) of each extension.
    pub extensions: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Certificate {
    pub fn from_der(der: &[u8]) -> Result<Certificate, String> {
        let (cert, _, _) = expect(der, 0x30, "certificate")?;
        let (tbs_c, tbs, rest) = expect(cert, 0x30, "tbsCertificate")?;
        let (alg, _, rest) = expect(rest, 0x30, "signatureAlgorithm")?;
        let (oid, _, _) = expect(alg, 0x06, "signatureAlgorithm OID")?;
        let (bits, _, _) = expect(rest, 0x03, "signatureValue")?;
        let signature = bits.get(1..).unwrap_or_default().to_vec();
        let mut r = tbs_c;
        if r.first() == Some(&0xa0) {
            r = tlv(r)?.3;
        }
        let (_, _, _, rr) = tlv(r)?; // serial
        let (_, _, _, rr) = tlv(rr)?; // signature algorithm
        let (_, issuer, rr) = expect(rr, 0x30, "issuer")?;
        let (validity, _, rr) = expect(rr, 0x30, "validity")?;
        let (t1, c1, _, vr) = tlv(validity)?;
        let (t2, c2, _, _) = tlv(vr)?;
        let (_, subject, rr) = expect(rr, 0x30, "subject")?;
        let (_, spki, mut rr) = expect(rr, 0x30, "subjectPublicKeyInfo")?;
        let mut extensions = Vec::new();
        while !rr.is_empty() {
            let (t, c, _, next) = tlv(rr)?;
            if t == 0xa3 {
                let (list, _, _) = expect(c, 0x30, "extensions")?;
                let mut l = list;
                while !l.is_empty() {
                    let (ext, _, next) = expect(l, 0x30, "extension")?;
                    let (oid, _, mut er) = expect(ext, 0x06, "extension OID")?;
                    if er.first() == Some(&0x01) {
                        er = tlv(er)?.3;
                    }
                    let (value, _, _) = expect(er, 0x04, "extension value")?;
                    extensions.push((oid.to_vec(), value.to_vec()));
                    l = next;
                }
            }
            rr = next;
        }
        Ok(Certificate {
            tbs: tbs.to_vec(),
            sig_alg: oid.to_vec(),
            signature,
            issuer: issuer.to_vec(),
            subject: subject.to_vec(),
            not_before: time(t1, c1)?,
            not_after: time(t2, c2)?,
            spki: spki.to_vec(),
            extensions,
        })
    }

    fn extension(&self, oid: &[u8]) -> Option<&[u8]> {
        self.extensions
            .iter()
            .find(|(o, _)| o == oid)
            .map(|(_, v)| v.as_slice())
    }

    /// The Fulcio OIDC issuer extension.
    pub fn oidc_issuer(&self) -> Option<String> {
        if let Some(v) = self.extension(OID_FULCIO_ISSUER_V2) {
            return expect(v, 0x0c, "issuer")
                .ok()
                .and_then(|(c, _, _)| String::from_utf8(c.to_vec()).ok());
        }
        self.extension(OID_FULCIO_ISSUER_V1)
            .and_then(|v| String::from_utf8(v.to_vec()).ok())
    }

    /// Subject alternative names: URIs and emails.
    pub fn san(&self) -> Vec<String> {
        let Some(v) = self.extension(OID_SAN) else {
            return Vec::new();
        };
        let Ok((mut l, _, _)) = expect(v, 0x30, "subjectAltName") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        while let Ok((t, c, _, next)) = tlv(l) {
            if t == 0x86 || t == 0x81 {
                out.push(String::from_utf8_lossy(c).into_owned());
            }
            l = next;
        }
        out
    }

    /// A CA certificate (basicConstraints cA TRUE).
    pub fn is_ca(&self) -> bool {
        self.extension(OID_BASIC_CONSTRAINTS)
            .and_then(|v| expect(v, 0x30, "basicConstraints").ok())
            .is_some_and(|(c, _, _)| {
                c.starts_with(&[0x01, 0x01]) && c.get(2).is_some_and(|b| *b != 0)
            })
    }

    pub fn public_key(&self) -> Result<PublicKey, String> {
        PublicKey::from_spki(self.spki.clone(), "the certificate").map_err(|e| e.0)
    }

    /// True when `issuer` signed this certificate.
    pub fn issued_by(&self, issuer: &Certificate) -> bool {
        if self.issuer != issuer.subject {
            return false;
        }
        let Ok(k) = issuer.public_key() else {
            return false;
        };
        let alg_ok = match k.algorithm {
            super::key::Algorithm::EcdsaP256Sha256 => self.sig_alg == OID_ECDSA_SHA256,
            super::key::Algorithm::Ed25519 => self.sig_alg == OID_ED25519,
        };
        alg_ok && k.verify(&self.tbs, &self.signature)
    }

    pub fn valid_at(&self, t: DateTime<Utc>) -> bool {
        self.not_before <= t && t <= self.not_after
    }
}

/// Every `CERTIFICATE` block of a PEM file.
pub fn read_pem_certificates(text: &str, source: &str) -> Result<Vec<Certificate>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let body = &rest[start + 27..];
        let end = body
            .find("-----END CERTIFICATE-----")
            .ok_or_else(|| format!("{source}: a certificate has no END line"))?;
        let b64: String = body[..end].split_whitespace().collect();
        let der = STANDARD
            .decode(b64)
            .map_err(|e| format!("{source}: a certificate is not base64: {e}"))?;
        out.push(Certificate::from_der(&der).map_err(|e| format!("{source}: {e}"))?);
        rest = &body[end..];
    }
    if out.is_empty() {
        return Err(format!("{source}: no `-----BEGIN CERTIFICATE-----` block"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_der_is_an_error_never_a_panic() {
        for bad in [
            &[][..],
            &[0x30][..],
            &[0x30, 0x85, 1, 2, 3, 4, 5][..],
            &[0x30, 0x03, 0x30, 0x01][..],
            &[0x30, 0x82, 0xff, 0xff, 0x00][..],
            &[0x04, 0x00][..],
        ] {
            assert!(Certificate::from_der(bad).is_err(), "{bad:?}");
        }
        let e = read_pem_certificates("nothing", "root.pem").unwrap_err();
        assert!(
            e.contains("root.pem") && e.contains("BEGIN CERTIFICATE"),
            "{e}"
        );
        let e = read_pem_certificates(
            "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n",
            "root.pem",
        )
        .unwrap_err();
        assert!(e.starts_with("root.pem:"), "{e}");
    }
}
