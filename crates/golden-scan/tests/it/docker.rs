//! Real engine: images built here FROM scratch (plus Debian's static busybox for RUN steps)
//! with planted violations, a clean image, and the hardened Debian base. These tests need a
//! Docker engine and fail loudly without one.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::*;

fn docker(args: &[&str]) -> std::process::Output {
    Command::new("docker")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("docker engine required: run scripts/ensure-docker.sh ({e})"))
}

fn require_engine() {
    let out = docker(&["version", "--format", "{{.Server.Version}}"]);
    assert!(
        out.status.success(),
        "docker engine required: run scripts/ensure-docker.sh\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Removes the test image when dropped.
struct TestImage(String);

impl Drop for TestImage {
    fn drop(&mut self) {
        let _ = docker(&["rmi", "-f", &self.0]);
    }
}

fn build(name: &str, dockerfile: &str, files: &[(&str, &[u8], u32)]) -> TestImage {
    require_engine();
    let ctx = tempfile::tempdir().unwrap();
    let busybox = Path::new("/bin/busybox");
    assert!(
        busybox.is_file(),
        "/bin/busybox missing: apt-get install busybox-static"
    );
    std::fs::copy(busybox, ctx.path().join("busybox")).unwrap();
    for (f, data, mode) in files {
        let p = ctx.path().join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(*mode)).unwrap();
    }
    std::fs::write(ctx.path().join("Dockerfile"), dockerfile).unwrap();
    let tag = format!("golden-scan-test/{name}:{}", std::process::id());
    let out = docker(&["build", "-q", "-t", &tag, ctx.path().to_str().unwrap()]);
    assert!(
        out.status.success(),
        "docker build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    TestImage(tag)
}

fn scan(image: &str, extra: &[&str]) -> (i32, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut args = vec![image, "-o", out.to_str().unwrap(), "--trivy", "off"];
    args.extend_from_slice(extra);
    let (code, stdout, err) = golden_scan(&args, &[]);
    assert!(
        code == 0 || code == 1,
        "golden-scan failed ({code}):\n{stdout}\n{err}"
    );
    for f in ["report.json", "report.sarif", "report.md", "sbom.cdx.json"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    validate(
        &third_party("schemas/sarif-schema-2.1.0.json"),
        &out.join("report.sarif"),
    );
    validate(
        &third_party("schemas/bom-1.6.schema.json"),
        &out.join("sbom.cdx.json"),
    );
    (code, read_json(&out.join("report.json")), err)
}

fn check<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["compliance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

const KEY: &[u8] = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";

#[test]
fn docker_planted_violations_each_fire_with_evidence() {
    let img = build(
        "violations",
        "FROM scratch\n\
         COPY busybox /bin/busybox\n\
         ADD passwd /etc/passwd\n\
         COPY id_rsa /root/.ssh/id_rsa\n\
         COPY shadow /etc/shadow\n\
         ENV DB_PASSWORD=hunter2-secret\n\
         RUN [\"/bin/busybox\", \"sh\", \"-c\", \"/bin/busybox cp /bin/busybox /bin/su && /bin/busybox chmod 4755 /bin/su && /bin/busybox mkdir -p /srv && /bin/busybox chmod 777 /srv\"]\n\
         RUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo apt-get update\"]\n\
         EXPOSE 22\n",
        &[
            ("passwd", b"root:x:0:0:root:/root:/bin/sh\n", 0o644),
            ("shadow", b"root::19000:0:99999:7:::\n", 0o600),
            ("id_rsa", KEY, 0o600),
        ],
    );
    let (code, r, err) = scan(&img.0, &[]);
    assert_eq!(code, 1, "{err}");
    for (id, ev) in [
        ("GOLDEN-USER-001", "no USER set"),
        ("GOLDEN-HEALTHCHECK-001", "no HEALTHCHECK"),
        ("GOLDEN-UPDATE-001", "echo apt-get update"),
        ("GOLDEN-SETUID-001", "/bin/su (mode 4755, setuid"),
        ("GOLDEN-ADD-001", "ADD file:"),
        ("GOLDEN-SECRET-001", "ENV DB_PASSWORD is set"),
        ("GOLDEN-SECRET-002", "/root/.ssh/id_rsa: file name `id_rsa`"),
        (
            "GOLDEN-SECRET-003",
            "/root/.ssh/id_rsa: `OPENSSH PRIVATE KEY` header",
        ),
        ("GOLDEN-PASSWD-001", "`root` has an empty password"),
        ("GOLDEN-PERM-001", "/srv (mode 0777, directory)"),
        ("GOLDEN-PORT-001", "EXPOSE 22/tcp"),
    ] {
        let c = check(&r, id);
        assert_eq!(c["status"], "fail", "{id}: {c}");
        assert!(
            c["evidence"].to_string().contains(ev),
            "{id}: `{ev}` not in {}",
            c["evidence"]
        );
    }
    assert!(
        !r.to_string().contains("hunter2"),
        "a secret value leaked into report.json"
    );
    assert_eq!(r["image"]["tags"][0], img.0);
    assert!(
        r["image"]["layers"].as_array().unwrap().len() >= 5,
        "{}",
        r["image"]["layers"]
    );
    let failed: Vec<&str> = r["policy"]["failures"][0]["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        failed.contains(&"GOLDEN-SETUID-001") && failed.contains(&"GOLDEN-USER-001"),
        "{failed:?}"
    );
}

#[test]
fn docker_clean_image_passes_every_check() {
    let img = build(
        "clean",
        "FROM scratch\n\
         COPY busybox /bin/busybox\n\
         COPY passwd /etc/passwd\n\
         COPY group /etc/group\n\
         RUN [\"/bin/busybox\", \"sh\", \"-c\", \"/bin/busybox mkdir -p /tmp && /bin/busybox chmod 1777 /tmp\"]\n\
         USER 10001\n\
         EXPOSE 8080\n\
         HEALTHCHECK --interval=30s CMD [\"/bin/busybox\", \"true\"]\n\
         CMD [\"/bin/busybox\", \"sleep\", \"3600\"]\n",
        &[
            ("passwd", b"root:x:0:0:root:/root:/sbin/nologin\napp:x:10001:10001::/home/app:/sbin/nologin\n", 0o644),
            ("group", b"root:x:0:\napp:x:10001:\n", 0o644),
        ],
    );
    let (code, r, err) = scan(&img.0, &[]);
    assert_eq!(code, 0, "{err}\n{}", r["policy"]);
    for c in r["compliance"].as_array().unwrap() {
        assert!(
            ["pass", "info", "skip"].contains(&c["status"].as_str().unwrap()),
            "{} is {}: {}",
            c["id"],
            c["status"],
            c["evidence"]
        );
    }
    assert_eq!(check(&r, "GOLDEN-USER-001")["status"], "pass");
    assert_eq!(check(&r, "GOLDEN-HEALTHCHECK-001")["status"], "pass");
    assert_eq!(r["summary"]["compliance_fail"], 0);
}

/// The hardened Debian base as the plan tags it.
const BASE: &str = "goldenimages.azurecr.io/golden/base-debian:12";

#[test]
fn docker_hardened_debian_base_passes_the_default_policy() {
    require_engine();
    if !docker(&["image", "inspect", BASE]).status.success() {
        let script = fixture("scripts/build-base.sh");
        assert!(
            script.is_file(),
            "{BASE} is not in the engine and scripts/build-base.sh is missing"
        );
        let out = Command::new(&script)
            .arg("debian")
            .current_dir(fixture(""))
            .output()
            .expect("failed to run scripts/build-base.sh");
        assert!(
            out.status.success(),
            "scripts/build-base.sh debian failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let policy = fixture("configs/policy.yaml");
    let (code, r, err) = scan(BASE, &["--policy", policy.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}\n{}", r["policy"]);
    assert_eq!(r["os"]["id"], "debian");
    assert_eq!(r["os"]["version_id"], "12");
    let pkgs = r["packages"].as_array().unwrap();
    assert!(pkgs.len() > 50, "{} packages", pkgs.len());
    assert!(
        pkgs.iter()
            .all(|p| p["kind"] == "dpkg"
                && p["purl"].as_str().unwrap().starts_with("pkg:deb/debian/"))
    );
    assert_eq!(check(&r, "GOLDEN-HARDEN-001")["status"], "pass");
    assert!(
        r["hardening"]["steps"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(check(&r, "GOLDEN-USER-001")["status"], "pass");
    assert_eq!(check(&r, "GOLDEN-SETUID-001")["status"], "pass");
}
