//! Builders for layer tars, docker-archives and OCI archives, written in memory.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub fn sha256(b: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(b)))
}

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

pub fn third_party(rel: &str) -> PathBuf {
    fixture(&format!("tests/fixtures/third-party/{rel}"))
}

/// A layer tar built entry by entry.
pub struct Layer {
    b: tar::Builder<Vec<u8>>,
}

impl Default for Layer {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer {
    pub fn new() -> Self {
        Layer {
            b: tar::Builder::new(Vec::new()),
        }
    }

    fn header(path: &str, kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_path(path).unwrap();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_size(size);
        h.set_mtime(1_700_000_000);
        h
    }

    pub fn dir(mut self, path: &str, mode: u32) -> Self {
        let mut h = Self::header(path, tar::EntryType::Directory, mode, 0);
        h.set_cksum();
        self.b.append(&h, std::io::empty()).unwrap();
        self
    }

    pub fn file(self, path: &str, mode: u32, data: &[u8]) -> Self {
        self.file_owned(path, mode, 0, 0, data)
    }

    pub fn file_owned(mut self, path: &str, mode: u32, uid: u64, gid: u64, data: &[u8]) -> Self {
        let mut h = Self::header(path, tar::EntryType::Regular, mode, data.len() as u64);
        h.set_uid(uid);
        h.set_gid(gid);
        h.set_cksum();
        self.b.append(&h, data).unwrap();
        self
    }

    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        let mut h = Self::header(path, tar::EntryType::Symlink, 0o777, 0);
        h.set_link_name(target).unwrap();
        h.set_cksum();
        self.b.append(&h, std::io::empty()).unwrap();
        self
    }

    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        let mut h = Self::header(path, tar::EntryType::Link, 0o644, 0);
        h.set_link_name(target).unwrap();
        h.set_cksum();
        self.b.append(&h, std::io::empty()).unwrap();
        self
    }

    /// An entry with a raw name (`../x`, `/abs`), bypassing the tar crate's path checks.
    pub fn raw(mut self, name: &[u8], mode: u32, data: &[u8]) -> Self {
        let mut h = tar::Header::new_gnu();
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(mode);
        h.set_size(data.len() as u64);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        self.b.append(&h, data).unwrap();
        self
    }

    /// A GNU sparse entry whose logical size is `real` bytes, with 512 real bytes at the end.
    pub fn sparse(mut self, name: &str, real: u64) -> Self {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        let oct = |buf: &mut [u8], v: u64| {
            let s = format!("{:0width$o}\0", v, width = buf.len() - 1);
            buf.copy_from_slice(s.as_bytes());
        };
        oct(&mut h[100..108], 0o644);
        oct(&mut h[108..116], 0);
        oct(&mut h[116..124], 0);
        oct(&mut h[124..136], 512); // bytes stored in the archive
        oct(&mut h[136..148], 1_700_000_000);
        h[156] = b'S';
        h[257..265].copy_from_slice(b"ustar  \0");
        // First sparse descriptor: offset, numbytes (GNU header, offset 386).
        oct(&mut h[386..398], real - 512);
        oct(&mut h[398..410], 512);
        h[482] = 0; // not extended
        oct(&mut h[483..495], real);
        // Checksum: spaces in the field while summing.
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
        let s = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(s.as_bytes());
        let inner = self.b.get_mut();
        inner.extend_from_slice(&h);
        inner.extend_from_slice(&[b'x'; 512]);
        self
    }

    pub fn bytes(self) -> Vec<u8> {
        self.b.into_inner().unwrap()
    }
}

/// An image config in the docker format for `layers`, with `history` lines (`(created_by,
/// empty_layer)`) and extra `config` fields merged in.
pub fn config(layers: &[Vec<u8>], history: &[(&str, bool)], extra: Value) -> Value {
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    let mut cfg = json!({
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Cmd": ["/bin/sh"],
    });
    if let (Some(c), Some(e)) = (cfg.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            c.insert(k.clone(), v.clone());
        }
    }
    json!({
        "architecture": "amd64",
        "os": "linux",
        "created": "2026-01-01T00:00:00Z",
        "config": cfg,
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
        "history": history.iter().map(|(c, empty)| {
            let mut h = json!({ "created": "2026-01-01T00:00:00Z", "created_by": c });
            if *empty { h["empty_layer"] = json!(true); }
            h
        }).collect::<Vec<_>>()
    })
}

fn append(b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_path(name).unwrap();
    h.set_mode(0o644);
    h.set_size(data.len() as u64);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    b.append(&h, data).unwrap();
}

/// A Docker 20.10 `docker save` archive: config, then `<id>/layer.tar` entries, then
/// `manifest.json` last.
pub fn docker_archive(layers: &[Vec<u8>], config: &Value, tag: &str) -> Vec<u8> {
    let cfg = serde_json::to_vec(config).unwrap();
    let cfg_name = format!("{}.json", &sha256(&cfg)[7..]);
    let mut b = tar::Builder::new(Vec::new());
    append(&mut b, &cfg_name, &cfg);
    let mut paths: Vec<String> = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let dir = format!("{:064x}", i + 1);
        append(&mut b, &format!("{dir}/VERSION"), b"1.0");
        append(&mut b, &format!("{dir}/json"), b"{}");
        // Like `docker save`: a layer that occurs again is a symlink to the first copy.
        match layers[..i].iter().position(|earlier| earlier == l) {
            Some(j) => {
                let mut h = tar::Header::new_gnu();
                h.set_path(format!("{dir}/layer.tar")).unwrap();
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_link_name(format!("../{:064x}/layer.tar", j + 1))
                    .unwrap();
                h.set_size(0);
                h.set_cksum();
                b.append(&h, std::io::empty()).unwrap();
            }
            None => append(&mut b, &format!("{dir}/layer.tar"), l),
        }
        paths.push(format!("{dir}/layer.tar"));
    }
    let manifest = json!([{ "Config": cfg_name, "RepoTags": [tag], "Layers": paths }]);
    append(
        &mut b,
        "manifest.json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    append(&mut b, "repositories", b"{}");
    b.into_inner().unwrap()
}

/// How to store a layer blob in an OCI archive.
#[derive(Clone, Copy)]
pub enum Blob {
    Tar,
    Gzip,
    Zstd,
}

pub fn compress(kind: Blob, data: &[u8]) -> Vec<u8> {
    match kind {
        Blob::Tar => data.to_vec(),
        Blob::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        Blob::Zstd => {
            ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
        }
    }
}

/// An OCI image layout as (path, bytes) files: `oci-layout`, `index.json`, `blobs/sha256/*`.
pub fn oci_files(layers: &[(Vec<u8>, Blob)], config: &Value) -> Vec<(String, Vec<u8>)> {
    let cfg = serde_json::to_vec(config).unwrap();
    let mut files = vec![(format!("blobs/sha256/{}", &sha256(&cfg)[7..]), cfg.clone())];
    let mut descs = Vec::new();
    for (l, kind) in layers {
        let blob = compress(*kind, l);
        let mt = match kind {
            Blob::Tar => "application/vnd.oci.image.layer.v1.tar",
            Blob::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Blob::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        };
        descs.push(json!({ "mediaType": mt, "digest": sha256(&blob), "size": blob.len() }));
        files.push((format!("blobs/sha256/{}", &sha256(&blob)[7..]), blob));
    }
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(&cfg), "size": cfg.len() },
        "layers": descs
    }))
    .unwrap();
    files.push((
        format!("blobs/sha256/{}", &sha256(&manifest)[7..]),
        manifest.clone(),
    ));
    let index = json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": sha256(&manifest),
            "size": manifest.len(),
            "annotations": { "org.opencontainers.image.ref.name": "1.0" },
            "platform": { "os": "linux", "architecture": "amd64" }
        }]
    });
    files.push(("index.json".into(), serde_json::to_vec(&index).unwrap()));
    files.push((
        "oci-layout".into(),
        br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
    ));
    files
}

/// The OCI layout as one tar (an `oci-archive`); blobs first, index last.
pub fn oci_archive(layers: &[(Vec<u8>, Blob)], config: &Value) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in oci_files(layers, config) {
        append(&mut b, &name, &data);
    }
    b.into_inner().unwrap()
}

pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Run the golden-scan binary; returns (exit code, stdout, stderr).
pub fn golden_scan(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_golden-scan"));
    cmd.args(args);
    // A clean environment for the knobs we test; everything else stays.
    for k in [
        "GOLDEN_IMAGE",
        "GOLDEN_OUTPUT",
        "GOLDEN_POLICY",
        "GOLDEN_TRIVY",
        "GOLDEN_TRIVY_REPORT",
        "GOLDEN_TRIVY_CACHE_DIR",
        "GOLDEN_TRIVY_SKIP_DB_UPDATE",
        "GOLDEN_TRIVY_DB_REPOSITORY",
        "GOLDEN_TRIVY_JAVA_DB_REPOSITORY",
        "TRIVY_DB_REPOSITORY",
        "TRIVY_JAVA_DB_REPOSITORY",
        "GOLDEN_EVENT",
        "GITHUB_EVENT_NAME",
        "GOLDEN_ENTRY",
        "GOLDEN_PLAN",
        "GOLDEN_DOCKERFILE",
        "GOLDEN_FORMAT",
        "GOLDEN_VEX",
        "GITHUB_OUTPUT",
        "GITHUB_ACTIONS",
        "GITHUB_STEP_SUMMARY",
    ] {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("failed to run golden-scan");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The project venv's check-jsonschema; fails loudly when the venv is missing.
pub fn check_jsonschema() -> PathBuf {
    let p = fixture(".venv/bin/check-jsonschema");
    assert!(
        p.is_file(),
        "{} is missing: run scripts/setup.sh to create the project venv (schema validation needs it)",
        p.display()
    );
    p
}

pub fn validate(schema: &Path, doc: &Path) {
    let out = Command::new(check_jsonschema())
        .arg("--schemafile")
        .arg(schema)
        .arg(doc)
        .output()
        .expect("failed to run check-jsonschema");
    assert!(
        out.status.success(),
        "{} does not validate against {}:\n{}{}",
        doc.display(),
        schema.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

/// A minimal Debian-looking layer: os-release, passwd/group/shadow, a dpkg status.
pub fn debian_layer() -> Layer {
    Layer::new()
        .dir("etc", 0o755)
        .file("usr/lib/os-release", 0o644, b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n")
        .symlink("etc/os-release", "../usr/lib/os-release")
        .file("etc/passwd", 0o644, b"root:x:0:0:root:/root:/bin/sh\napp:x:10001:10001::/home/app:/usr/sbin/nologin\n")
        .file("etc/group", 0o644, b"root:x:0:\napp:x:10001:\n")
        .file("etc/shadow", 0o640, b"root:*:19000:0:99999:7:::\napp:!:19000:0:99999:7:::\n")
        .dir("tmp", 0o1777)
        .file(
            "var/lib/dpkg/status",
            0o644,
            b"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u7\n\nPackage: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b7\n",
        )
        .file("usr/share/doc/bash/copyright", 0o644, b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-3+\n")
}
