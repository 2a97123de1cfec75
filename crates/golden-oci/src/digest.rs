//! sha256 digests (`sha256:<64 hex>`) computed once, while the bytes stream by. Shared by the
//! registry client, the engine layer store, the builder and the scanner.

use sha2::{Digest as _, Sha256};

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// True for `sha256:<64 lowercase hex>` (the only algorithm this client computes).
pub fn is_sha256(d: &str) -> bool {
    d.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// An incremental sha256 that renders as a digest string.
#[derive(Clone, Default)]
pub struct Sha256Hasher(Sha256);

impl Sha256Hasher {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    /// `sha256:<hex>` of everything fed so far.
    pub fn finish(self) -> String {
        format!("sha256:{}", hex::encode(self.0.finalize()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        // The OCI empty descriptor `{}`.
        assert_eq!(
            sha256_digest(b"{}"),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        let mut h = Sha256Hasher::new();
        h.update(b"{");
        h.update(b"}");
        assert_eq!(h.finish(), sha256_digest(b"{}"));
        assert!(is_sha256(&sha256_digest(b"x")));
        assert!(!is_sha256("sha256:ABC"));
    }
}
