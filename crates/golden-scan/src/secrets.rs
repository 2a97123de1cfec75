//! Secret heuristics (CIS 4.10, Dockle CIS-DI-0010): suspicious environment/build-arg keys,
//! credential file names, private-key headers. Only names and paths are ever reported, never
//! values.

/// Substrings of ENV/ARG keys that suggest a secret (case-insensitive), as Dockle uses them.
pub const SUSPICIOUS_KEY_PARTS: [&str; 7] = [
    "PASSWD", "PASSWORD", "PASS", "SECRET", "KEY", "ACCESS", "TOKEN",
];

/// Keys that contain a suspicious part but are known to be public (Dockle's acceptance list).
pub const ACCEPTED_KEYS: [&str; 2] = ["GPG_KEY", "GPG_KEYS"];

/// Is `key` a suspicious environment/build-arg key? `extra_accept` comes from the policy.
pub fn suspicious_key(key: &str, extra_accept: &[String]) -> bool {
    let upper = key.to_ascii_uppercase();
    if ACCEPTED_KEYS.contains(&upper.as_str())
        || extra_accept.iter().any(|a| a.eq_ignore_ascii_case(key))
    {
        return false;
    }
    SUSPICIOUS_KEY_PARTS.iter().any(|p| upper.contains(p))
}

/// File names that usually hold credentials (Dockle's list).
const SECRET_FILE_NAMES: [&str; 17] = [
    "credentials.json",
    "credential.json",
    "credentials",
    "credential",
    "password.txt",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    "secret_token.rb",
    "carrierwave.rb",
    "omniauth.rb",
    "settings.py",
    "database.yml",
    "credentials.xml",
    ".env",
    ".netrc",
];

/// Extensions of files that usually hold secrets (Dockle's list).
const SECRET_EXTENSIONS: [&str; 17] = [
    ".secret",
    ".ovpn",
    ".private_key",
    ".cscfg",
    ".rdp",
    ".mdf",
    ".sdf",
    ".bek",
    ".tpm",
    ".fve",
    ".jks",
    ".psafe3",
    ".agilekeychain",
    ".keychain",
    ".pcap",
    ".gnucache",
    ".p12",
];

/// Why a path's name looks like a credential file (`None` when it does not).
pub fn secret_file_reason(path: &str) -> Option<String> {
    let base = path.rsplit('/').next().unwrap_or(path);
    if path.starts_with("usr/share/doc/") || path.starts_with("usr/share/man/") {
        return None;
    }
    let lower = base.to_ascii_lowercase();
    if SECRET_FILE_NAMES.contains(&lower.as_str()) {
        return Some(format!("file name `{base}`"));
    }
    if let Some(ext) = SECRET_EXTENSIONS.iter().find(|e| lower.ends_with(*e)) {
        return Some(format!("extension `{ext}`"));
    }
    // Cloud credentials in a home directory.
    for marker in [
        ".aws/credentials",
        ".docker/config.json",
        ".git-credentials",
    ] {
        if path.ends_with(marker) {
            return Some(format!("`{marker}`"));
        }
    }
    None
}

/// Find a PEM/OpenSSH/PGP private-key header in `data`; returns its label
/// (`RSA PRIVATE KEY`, `OPENSSH PRIVATE KEY`, `PGP PRIVATE KEY BLOCK`, ...).
pub fn private_key_label(data: &[u8]) -> Option<String> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    for at in memchr::memmem::find_iter(data, BEGIN) {
        let rest = &data[at + BEGIN.len()..];
        let Some(end) = memchr::memmem::find(&rest[..rest.len().min(64)], b"-----") else {
            continue;
        };
        let label = &rest[..end];
        if memchr::memmem::find(label, b"PRIVATE KEY").is_some()
            && label
                .iter()
                .all(|b| b.is_ascii_uppercase() || *b == b' ' || b.is_ascii_digit())
        {
            return Some(String::from_utf8_lossy(label).into_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert!(suspicious_key("DB_PASSWORD", &[]));
        assert!(suspicious_key("aws_access_key_id", &[]));
        assert!(suspicious_key("GITHUB_TOKEN", &[]));
        assert!(!suspicious_key("GPG_KEY", &[]));
        assert!(!suspicious_key("PATH", &[]));
        assert!(!suspicious_key("API_KEY", &["api_key".to_string()]));
    }

    #[test]
    fn file_names() {
        assert!(secret_file_reason("root/.ssh/id_rsa").is_some());
        assert!(secret_file_reason("app/.env").is_some());
        assert!(secret_file_reason("app/keystore.jks").is_some());
        assert!(secret_file_reason("home/u/.aws/credentials").is_some());
        assert!(secret_file_reason("usr/bin/env").is_none());
        assert!(secret_file_reason("usr/share/doc/x/id_rsa").is_none());
    }

    #[test]
    fn key_headers() {
        let pem = b"junk\n-----BEGIN RSA PRIVATE KEY-----\nMII...\n";
        assert_eq!(private_key_label(pem).as_deref(), Some("RSA PRIVATE KEY"));
        let ssh = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl";
        assert_eq!(
            private_key_label(ssh).as_deref(),
            Some("OPENSSH PRIVATE KEY")
        );
        assert_eq!(private_key_label(b"-----BEGIN CERTIFICATE-----\n"), None);
        assert_eq!(private_key_label(b"-----BEGIN "), None);
        assert_eq!(private_key_label(b""), None);
    }
}
