//! Registry source against a real registry (Debian's docker-registry on a random loopback port,
//! started with scripts/registry.sh); images are pushed with skopeo, which gzips the layers.

use std::process::Command;

use crate::support::*;

pub struct Registry {
    dir: tempfile::TempDir,
    pub port: u16,
}

impl Registry {
    pub fn start() -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let out = Command::new(fixture("scripts/registry.sh"))
            .args(["start", "--port", &port.to_string(), "--dir"])
            .arg(dir.path())
            .output()
            .expect("registry required: scripts/registry.sh could not run");
        assert!(
            out.status.success(),
            "registry required (apt-get install docker-registry): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Registry { dir, port }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = Command::new(fixture("scripts/registry.sh"))
            .args(["stop", "--dir"])
            .arg(self.dir.path())
            .output();
    }
}

fn statuses(r: &serde_json::Value) -> Vec<(String, String)> {
    r["compliance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn registry_image_scans_like_its_archive() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let archive = crate::outputs::violations_archive(dir.path());
    let reference = format!("127.0.0.1:{}/golden-scan-test/violations:1", reg.port);
    let out = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false"])
        .arg(format!("docker-archive:{}", archive.display()))
        .arg(format!("docker://{reference}"))
        .output()
        .expect("skopeo required: apt-get install skopeo");
    assert!(
        out.status.success(),
        "skopeo copy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let a = dir.path().join("from-archive");
    let (code, _, err) = golden_scan(
        &[
            &format!("docker-archive:{}", archive.display()),
            "-o",
            a.to_str().unwrap(),
            "--trivy",
            "off",
        ],
        &[],
    );
    assert_eq!(code, 1, "{err}");
    let b = dir.path().join("from-registry");
    let (code, _, err) = golden_scan(
        &[
            &format!("registry:{reference}"),
            "-o",
            b.to_str().unwrap(),
            "--trivy",
            "off",
        ],
        &[],
    );
    assert_eq!(code, 1, "{err}");
    let ra = read_json(&a.join("report.json"));
    let rb = read_json(&b.join("report.json"));
    assert_eq!(ra["image"]["id"], rb["image"]["id"], "same config");
    assert_eq!(ra["packages"], rb["packages"]);
    assert_eq!(statuses(&ra), statuses(&rb));
    assert!(
        rb["image"]["digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:"))
    );
    // Uncompressed layer sizes match although the registry holds gzip blobs.
    assert_eq!(ra["image"]["layers"], rb["image"]["layers"]);

    // A plain reference naming a registry host falls back to the registry when the engine
    // (if any) does not have it; a missing tag is a clear error.
    let c = dir.path().join("plain");
    let (code, _, err) = golden_scan(
        &[&reference, "-o", c.to_str().unwrap(), "--trivy", "off"],
        &[],
    );
    assert_eq!(code, 1, "{err}");
    let missing = format!("registry:127.0.0.1:{}/golden-scan-test/nope:1", reg.port);
    let (code, _, err) = golden_scan(
        &[&missing, "-o", c.to_str().unwrap(), "--trivy", "off"],
        &[],
    );
    assert_eq!(code, 2);
    assert!(err.contains("nope:1") && err.contains("not found"), "{err}");
}
