//! `--baseline-registry` against a real registry (Debian's docker-registry, distribution 2.8,
//! which has no referrers API: the referrers tag schema is exercised). Needs the
//! `docker-registry` binary: fails loudly without it.

use bytes::Bytes;
use golden_contracts::Document;
use golden_registry::media;
use golden_registry::{Client, ClientOptions, Descriptor, ImageManifest, Reference};
use golden_report::registry::{BUILD_RECORD_ARTIFACT_TYPE, SCAN_REPORT_ARTIFACT_TYPE};
use golden_report::summary::{ProblemKind, RunSummary};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::fixtures::{self, repo_root};

pub(crate) struct LocalRegistry {
    dir: tempfile::TempDir,
    port: u16,
}

impl LocalRegistry {
    pub(crate) fn start() -> Self {
        Self::start_with(&[])
    }
    fn start_with(extra: &[String]) -> Self {
        if Command::new("docker-registry")
            .arg("--version")
            .output()
            .is_err()
        {
            panic!(
                "registry required: the `docker-registry` binary (Debian package docker-registry) is missing; run scripts/setup.sh"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let o = Command::new(repo_root().join("scripts/registry.sh"))
            .args(["start", "--port", &port.to_string(), "--dir"])
            .arg(dir.path())
            .args(extra)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "registry required: scripts/registry.sh start failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        LocalRegistry { dir, port }
    }
    pub(crate) fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("scripts/registry.sh"))
            .args(["stop", "--dir"])
            .arg(self.dir.path())
            .output();
    }
}

fn tag_for(host: &str, img: &fixtures::Img) -> String {
    fixtures::Img::tag(img).replace("goldenimages.azurecr.io", host)
}

/// Push a tiny image under `tag`.
pub(crate) async fn push_image(client: &Client, tag: &str, seed: &str) {
    let r = Reference::parse(tag).unwrap();
    let config = Bytes::from(format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[]}},"config":{{"Labels":{{"seed":"{seed}"}}}}}}"#
    ));
    let (cd, _) = client.ensure_blob(&r, config.clone()).await.unwrap();
    let layer = Bytes::from(format!("layer of {seed}"));
    let (ld, _) = client.ensure_blob(&r, layer.clone()).await.unwrap();
    let mut m = ImageManifest::new(Descriptor::new(media::OCI_CONFIG, cd, config.len() as u64));
    m.layers.push(Descriptor::new(
        media::OCI_LAYER_GZIP,
        ld,
        layer.len() as u64,
    ));
    let bytes = Bytes::from(serde_json::to_vec(&m).unwrap());
    client
        .put_manifest(&r, r.tag.as_deref().unwrap(), bytes, media::OCI_MANIFEST)
        .await
        .unwrap();
}

async fn attach(client: &Client, tag: &str, artifact_type: &str, name: &str, doc: Vec<u8>) {
    let r = Reference::parse(tag).unwrap();
    let mut ann = BTreeMap::new();
    ann.insert(
        "org.opencontainers.image.title".to_string(),
        name.to_string(),
    );
    let mut top = BTreeMap::new();
    top.insert(
        "org.opencontainers.image.created".to_string(),
        "2026-11-26T02:10:00Z".to_string(),
    );
    client
        .attach_artifact(
            &r,
            artifact_type,
            vec![(Bytes::from(doc), "application/json".to_string(), ann)],
            top,
        )
        .await
        .unwrap();
}

fn write_current(dir: &Path, host: &str) {
    for img in fixtures::green() {
        let tag = tag_for(host, &img);
        let mut rec = img.build_record();
        rec.tags = vec![tag.clone()];
        rec.write(&dir.join(format!("build-{}/build-record.json", img.id)))
            .unwrap();
        let mut rep = img.scan_report();
        rep.image.tags = vec![tag.clone()];
        rep.image.reference = tag;
        rep.write(&dir.join(format!("scan-{}/report.json", img.id)))
            .unwrap();
    }
}

#[tokio::test]
async fn registry_baseline_reads_the_reports_attached_to_published_tags() {
    let reg = LocalRegistry::start();
    let host = reg.host();
    let client = Client::new(ClientOptions::default()).unwrap();
    let previous = fixtures::baseline();
    // base-debian: published with its previous build record and scan report attached.
    let base_tag = tag_for(&host, &previous[0]);
    push_image(&client, &base_tag, "base").await;
    attach(
        &client,
        &base_tag,
        SCAN_REPORT_ARTIFACT_TYPE,
        "report.json",
        serde_json::to_vec_pretty(&previous[0].scan_report()).unwrap(),
    )
    .await;
    attach(
        &client,
        &base_tag,
        BUILD_RECORD_ARTIFACT_TYPE,
        "build-record.json",
        serde_json::to_vec_pretty(&previous[0].build_record()).unwrap(),
    )
    .await;
    // nginx: published, nothing attached. python: not published at all.
    push_image(&client, &tag_for(&host, &previous[1]), "nginx").await;

    let input = tempfile::tempdir().unwrap();
    write_current(input.path(), &host);
    let out = tempfile::tempdir().unwrap();
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_golden-report"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DOCKER_CONFIG", out.path().join("no-docker-config"))
        .args(["--input"])
        .arg(input.path())
        .arg("--output")
        .arg(out.path())
        .arg("--baseline-registry")
        .output()
        .await
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let s = RunSummary::read(&out.path().join("summary.json")).unwrap();
    assert_eq!(s.baseline.as_ref().unwrap().source, "registry");
    let img = |id: &str| s.images.iter().find(|i| i.id == id).unwrap();

    let d = img("base-debian").baseline.clone().unwrap();
    assert!(d.found && d.compared_scan, "{d:#?}");
    assert!(
        d.source
            .as_deref()
            .unwrap()
            .starts_with(&format!("{host}/golden/base-debian@sha256:"))
    );
    assert_eq!(d.size_change, Some(2 * 1024 * 1024));
    assert_eq!(d.new_vulnerabilities[0].id, "CVE-2024-2961");
    assert_eq!(d.fixed_vulnerabilities[0].id, "CVE-2024-45490");
    assert_eq!(d.packages_added[0].name, "ca-certificates");

    assert!(!img("python-3.11-debian").baseline.as_ref().unwrap().found);
    assert!(!img("nginx-1.26-debian").baseline.as_ref().unwrap().found);
    let warnings: Vec<&str> = s
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::Baseline)
        .map(|p| p.message.as_str())
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0].contains("nginx") && warnings[0].contains("no attached"),
        "{warnings:#?}"
    );

    let md = std::fs::read_to_string(out.path().join("summary.md")).unwrap();
    assert!(md.contains("| +1 / −1 |"), "{md}");
}

/// A private registry (basic auth, as an ACR pull-only token is): the pull credential reaches the
/// catalog's registry named by the plan, so the pull-request comment compares with the published
/// image; without a plan naming it the credential is withheld (bound to hosts) and the baseline
/// is a warning, never a credential sent to whatever host a document names.
#[tokio::test]
async fn private_registry_baseline_uses_the_pull_credential_for_the_plans_registry_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("htpasswd")
        .args(["-Bbn", "puller", "pull-secret-77"])
        .output()
        .expect("htpasswd required (Debian package apache2-utils): run scripts/setup.sh");
    assert!(out.status.success());
    let htpasswd = dir.path().join("htpasswd");
    std::fs::write(&htpasswd, &out.stdout).unwrap();
    let reg = LocalRegistry::start_with(&["--htpasswd".into(), htpasswd.display().to_string()]);
    let host = reg.host();
    let creds = [
        ("GOLDEN_REGISTRY_USERNAME", "puller"),
        ("GOLDEN_REGISTRY_PASSWORD", "pull-secret-77"),
    ];
    let client = Client::new(ClientOptions {
        env: golden_registry::Env::from_pairs(creds),
        auth_hosts: vec![host.clone()],
        ..ClientOptions::default()
    })
    .unwrap();
    let previous = fixtures::baseline();
    let base_tag = tag_for(&host, &previous[0]);
    push_image(&client, &base_tag, "base").await;
    attach(
        &client,
        &base_tag,
        SCAN_REPORT_ARTIFACT_TYPE,
        "report.json",
        serde_json::to_vec_pretty(&previous[0].scan_report()).unwrap(),
    )
    .await;

    let input = tempfile::tempdir().unwrap();
    write_current(input.path(), &host);
    let plan = serde_json::json!({
        "schema": 1, "event": "pull_request", "rebuild": "changed", "config": "configs/build-config.yaml",
        "bases": {"include": [{
            "id": "base-debian", "stage": "base", "os": "debian", "platform": "base", "name": "base-debian",
            "version": "12", "dockerfile": "base-images/debian/Dockerfile", "context": ".",
            "image": format!("{host}/golden/base-debian"), "tags": [base_tag.clone()],
            "policy": "configs/policy.yaml", "offline": false
        }]},
        "platforms": {"include": []}
    });
    let plan_path = dir.path().join("plan.json");
    std::fs::write(&plan_path, plan.to_string()).unwrap();

    let run = |with_plan: bool| {
        let out = tempfile::tempdir().unwrap();
        let mut c = Command::new(env!("CARGO_BIN_EXE_golden-report"));
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DOCKER_CONFIG", out.path().join("no-docker-config"))
            .envs(creds)
            .arg("--input")
            .arg(input.path())
            .arg("--output")
            .arg(out.path())
            .arg("--baseline-registry");
        if with_plan {
            c.arg("--plan").arg(&plan_path);
        }
        let o = c.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!text.contains("pull-secret-77"), "secret printed: {text}");
        let s = RunSummary::read(&out.path().join("summary.json")).unwrap();
        (s, text)
    };

    let (s, text) = run(true);
    let base = s.images.iter().find(|i| i.id == "base-debian").unwrap();
    let d = base.baseline.clone().unwrap();
    assert!(d.found && d.compared_scan, "{d:#?}\n{text}");
    assert_eq!(d.new_vulnerabilities[0].id, "CVE-2024-2961");

    let (s, text) = run(false);
    let base = s.images.iter().find(|i| i.id == "base-debian").unwrap();
    assert!(
        !base.baseline.as_ref().unwrap().found,
        "credential withheld from a registry no plan names: {text}"
    );
    assert!(
        s.problems.iter().any(|p| p.kind == ProblemKind::Baseline),
        "{:#?}",
        s.problems
    );
}
