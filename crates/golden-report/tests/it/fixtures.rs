//! Synthetic build records and scan reports, made with the contract types so they always match
//! the contracts. The committed copies under `tests/fixtures/report/` are checked against this
//! generator (`committed_fixtures_match_the_generator`); regenerate them with
//! `GOLDEN_UPDATE_FIXTURES=1 cargo nextest run -p golden-report committed_fixtures`.

use golden_contracts::Document;
use golden_contracts::build::{BuildError, BuildRecord, BuildResult};
use golden_contracts::scan::{
    CheckStatus, ComplianceResult, ImageInfo, OsInfo, Package, PolicyFailure, PolicyVerdict,
    ScanReport, ScannerStatus, Severity, Summary, Tool, VexApplied, VexJustification, VexStatus,
    Vulnerability, VulnerabilitySection,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixtures_dir() -> PathBuf {
    repo_root().join("tests/fixtures/report")
}

pub fn digest(seed: &str) -> String {
    // Deterministic fake digests: 64 hex characters derived from the seed.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut out = String::new();
    for round in 0..4u64 {
        for b in seed.bytes().chain(round.to_le_bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    format!("sha256:{out}")
}

/// One image in a fixture set.
#[derive(Clone)]
pub struct Img {
    pub id: String,
    pub os: String,
    pub platform: String,
    pub version: String,
    pub size: u64,
    pub build_ok: bool,
    pub packages: Vec<(String, String)>,
    pub vulns: Vec<Vulnerability>,
    pub checks: Vec<ComplianceResult>,
    pub policy_failures: Vec<PolicyFailure>,
    pub scanner: ScannerStatus,
    /// The scan report's packages per kind (`summary.packages_by_kind`); empty: not counted
    /// per kind (as older scan reports), and `summary.packages` is the package list's length.
    pub kinds: BTreeMap<String, u64>,
}

impl Img {
    pub fn new(id: &str, os: &str, platform: &str, version: &str) -> Self {
        Img {
            id: id.into(),
            os: os.into(),
            platform: platform.into(),
            version: version.into(),
            size: 80 * 1024 * 1024,
            build_ok: true,
            packages: debian_packages(),
            vulns: Vec::new(),
            checks: default_checks(),
            policy_failures: Vec::new(),
            scanner: ScannerStatus::Scanned,
            kinds: BTreeMap::new(),
        }
    }

    pub fn tag(&self) -> String {
        format!(
            "goldenimages.azurecr.io/golden/{}:{}-{}",
            if self.platform == "base" {
                format!("base-{}", self.os)
            } else {
                self.platform.clone()
            },
            self.version,
            self.os
        )
    }

    pub fn build_record(&self) -> BuildRecord {
        BuildRecord {
            schema: 1,
            id: self.id.clone(),
            os: Some(self.os.clone()),
            platform: Some(self.platform.clone()),
            version: Some(self.version.clone()),
            result: if self.build_ok {
                BuildResult::Success
            } else {
                BuildResult::Failure
            },
            arch: None,
            image_id: self.build_ok.then(|| digest(&format!("{}-config", self.id))),
            tags: vec![self.tag()],
            size: self.build_ok.then_some(self.size),
            duration_seconds: 42.5,
            started_at: "2026-11-27T02:00:00Z".into(),
            base_image: (self.platform != "base")
                .then(|| format!("goldenimages.azurecr.io/golden/base-{}:12-{}", self.os, self.os)),
            base_digest: (self.platform != "base").then(|| digest(&format!("base-{}", self.os))),
            labels: BTreeMap::from([(
                "org.opencontainers.image.title".to_string(),
                self.id.clone(),
            )]),
            cache: None,
            error: (!self.build_ok).then(|| BuildError {
                message: "The command '/bin/sh -c apt-get install -y nginx' returned a non-zero code: 100".into(),
                step: Some("Step 4/9 : RUN apt-get update && apt-get install -y --no-install-recommends nginx".into()),
                last_lines: vec![
                    "Reading package lists...".into(),
                    "E: Unable to locate package nginx-extras".into(),
                    "".into(),
                ],
            }),
        }
    }

    pub fn scan_report(&self) -> ScanReport {
        let mut sev: BTreeMap<String, u64> = Severity::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), 0))
            .collect();
        let mut fixable = 0;
        let mut suppressed = 0;
        for v in &self.vulns {
            if v.suppressed.is_some() {
                suppressed += 1;
                continue;
            }
            *sev.entry(v.severity.as_str().to_string()).or_default() += 1;
            if v.fixed.is_some() {
                fixable += 1;
            }
        }
        let count = |st: CheckStatus| self.checks.iter().filter(|c| c.status == st).count() as u64;
        ScanReport {
            schema: 1,
            tool: Tool {
                name: "golden-scan".into(),
                version: "0.1.0".into(),
            },
            scanned_at: "2026-11-27T02:05:00Z".into(),
            entry_id: Some(self.id.clone()),
            image: ImageInfo {
                reference: self.tag(),
                id: Some(digest(&format!("{}-config", self.id))),
                digest: Some(digest(&format!("{}-manifest", self.id))),
                tags: vec![self.tag()],
                created: Some("2026-11-27T02:01:00Z".into()),
                architecture: Some("amd64".into()),
                size: self.size,
                user: "10001".into(),
                labels: BTreeMap::new(),
                layers: Vec::new(),
            },
            os: Some(OsInfo {
                id: self.os.clone(),
                version_id: "12".into(),
                pretty_name: "Debian GNU/Linux 12 (bookworm)".into(),
                family: self.os.clone(),
            }),
            packages: self
                .packages
                .iter()
                .map(|(n, v)| Package {
                    name: n.clone(),
                    version: v.clone(),
                    kind: "dpkg".into(),
                    source_name: None,
                    source_version: None,
                    arch: Some("amd64".into()),
                    license: None,
                    purl: Some(format!(
                        "pkg:deb/debian/{n}@{v}?arch=amd64&distro=debian-12"
                    )),
                    ..Package::default()
                })
                .collect(),
            compliance: self.checks.clone(),
            hardening: None,
            vulnerabilities: VulnerabilitySection {
                status: self.scanner,
                scanner: (self.scanner == ScannerStatus::Scanned).then(|| "trivy 0.69.3".into()),
                note: (self.scanner != ScannerStatus::Scanned)
                    .then(|| "trivy binary not found on PATH".into()),
                items: self.vulns.clone(),
            },
            policy: PolicyVerdict {
                policy: "configs/policy.yaml".into(),
                passed: self.policy_failures.is_empty(),
                failures: self.policy_failures.clone(),
                notes: Vec::new(),
            },
            summary: Summary {
                vulnerabilities: sev,
                suppressed,
                fixable,
                compliance_pass: count(CheckStatus::Pass),
                compliance_fail: count(CheckStatus::Fail),
                compliance_warn: count(CheckStatus::Warn),
                packages: if self.kinds.is_empty() {
                    self.packages.len() as u64
                } else {
                    self.kinds.values().sum()
                },
                packages_by_kind: self.kinds.clone(),
                ..Summary::default()
            },
            warnings: Vec::new(),
        }
    }
}

pub fn debian_packages() -> Vec<(String, String)> {
    [
        ("base-files", "12.4+deb12u8"),
        ("bash", "5.2.15-2+b7"),
        ("ca-certificates", "20230311"),
        ("libc6", "2.36-9+deb12u9"),
        ("libssl3", "3.0.15-1~deb12u1"),
        ("openssl", "3.0.15-1~deb12u1"),
        ("tzdata", "2024b-0+deb12u1"),
        ("zlib1g", "1:1.2.13.dfsg-1"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

pub fn check(id: &str, cis: &str, title: &str, status: CheckStatus) -> ComplianceResult {
    ComplianceResult {
        id: id.into(),
        title: title.into(),
        cis: Some(cis.into()),
        dockle: None,
        status,
        evidence: Vec::new(),
        remediation: None,
        suppressed: None,
    }
}

pub fn default_checks() -> Vec<ComplianceResult> {
    vec![
        check(
            "GOLDEN-USER-001",
            "4.1",
            "Image runs as a non-root user",
            CheckStatus::Pass,
        ),
        check(
            "GOLDEN-HEALTH-001",
            "4.6",
            "Image has a HEALTHCHECK",
            CheckStatus::Pass,
        ),
        check(
            "GOLDEN-SETUID-001",
            "4.8",
            "No setuid or setgid binaries",
            CheckStatus::Pass,
        ),
        check(
            "GOLDEN-SECRETS-001",
            "4.10",
            "No secrets in the image",
            CheckStatus::Pass,
        ),
    ]
}

pub fn vuln(
    id: &str,
    pkg: &str,
    installed: &str,
    fixed: Option<&str>,
    sev: Severity,
) -> Vulnerability {
    Vulnerability {
        id: id.into(),
        package: pkg.into(),
        installed: installed.into(),
        fixed: fixed.map(str::to_string),
        status: if fixed.is_some() { "fixed" } else { "affected" }.into(),
        severity: sev,
        cvss: Some(7.5),
        title: Some(format!("{pkg}: issue tracked as {id}")),
        url: Some(format!(
            "https://avd.aquasec.com/nvd/{}",
            id.to_ascii_lowercase()
        )),
        layer: None,
        pkg_path: None,
        suppressed: None,
        purl: None,
        vex: None,
    }
}

/// Write the documents of `imgs` as a CI run would download them: one folder per job.
pub fn write_set(dir: &Path, imgs: &[Img]) {
    for i in imgs {
        // Artifact folder names are safe even when the id is hostile.
        let folder: String =
            i.id.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
        i.build_record()
            .write(
                &dir.join(format!("build-{folder}"))
                    .join("build-record.json"),
            )
            .unwrap();
        if i.build_ok {
            i.scan_report()
                .write(&dir.join(format!("scan-{folder}")).join("report.json"))
                .unwrap();
        }
    }
}

/// The all-green run.
pub fn green() -> Vec<Img> {
    let mut base = Img::new("base-debian", "debian", "base", "12");
    base.size = 74 * 1024 * 1024 + 123_456;
    base.vulns = vec![
        vuln(
            "CVE-2024-2961",
            "libc6",
            "2.36-9+deb12u9",
            Some("2.36-9+deb12u10"),
            Severity::Medium,
        ),
        vuln(
            "CVE-2023-50495",
            "ncurses-base",
            "6.4-4",
            None,
            Severity::Low,
        ),
    ];
    let mut nginx = Img::new("nginx-1.26-debian", "debian", "nginx", "1.26");
    nginx.size = 96 * 1024 * 1024;
    nginx
        .packages
        .push(("nginx".into(), "1.26.3-1~bookworm".into()));
    nginx.vulns = base.vulns.clone();
    let mut python = Img::new("python-3.11-debian", "debian", "python", "3.11");
    python.size = 140 * 1024 * 1024;
    python
        .packages
        .push(("python3.11".into(), "3.11.2-6+deb12u5".into()));
    vec![base, nginx, python]
}

/// The previous run the green run is compared with.
pub fn baseline() -> Vec<Img> {
    let mut imgs = green();
    // base-debian: one vulnerability fixed since, one new now; it grew.
    imgs[0].size -= 2 * 1024 * 1024;
    imgs[0].vulns = vec![
        vuln(
            "CVE-2023-50495",
            "ncurses-base",
            "6.4-4",
            None,
            Severity::Low,
        ),
        vuln(
            "CVE-2024-45490",
            "libexpat1",
            "2.5.0-1",
            Some("2.5.0-1+deb12u1"),
            Severity::Critical,
        ),
    ];
    imgs[0].packages.retain(|(n, _)| n != "ca-certificates");
    imgs[0]
        .packages
        .push(("libexpat1".into(), "2.5.0-1".into()));
    for p in &mut imgs[0].packages {
        if p.0 == "openssl" || p.0 == "libssl3" {
            p.1 = "3.0.14-1~deb12u2".into();
        }
    }
    // nginx shrank; python is not in the baseline (a new image).
    imgs[1].size += 1024 * 1024;
    imgs.truncate(2);
    imgs
}

/// Failures of every kind.
pub fn mixed() -> Vec<Img> {
    let mut imgs = green();
    // nginx: build failed.
    imgs[1].build_ok = false;
    // python: policy failed (a critical with a fix, a failing compliance check with evidence).
    let p = &mut imgs[2];
    p.vulns.push(vuln(
        "CVE-2024-45490",
        "libexpat1",
        "2.5.0-1",
        Some("2.5.0-1+deb12u1"),
        Severity::Critical,
    ));
    p.vulns.push(vuln(
        "CVE-2024-6232",
        "python3.11",
        "3.11.2-6",
        Some("3.11.2-6+deb12u3"),
        Severity::High,
    ));
    let mut sup = vuln(
        "CVE-2022-0563",
        "util-linux",
        "2.38.1-5",
        None,
        Severity::Low,
    );
    sup.suppressed = Some("not reachable: no setuid chfn (expires 2027-01-01)".into());
    p.vulns.push(sup);
    // A CRITICAL with a fix that a VEX statement says does not affect the image.
    let mut vex = vuln(
        "CVE-2024-45491",
        "libexpat1",
        "2.5.0-1",
        Some("2.5.0-1+deb12u1"),
        Severity::Critical,
    );
    vex.vex = Some(VexApplied {
        status: VexStatus::NotAffected,
        justification: Some(VexJustification::VulnerableCodeNotInExecutePath),
        impact_statement: Some("python never parses XML with expat here".into()),
        action_statement: None,
        timestamp: Some("2026-01-10T10:00:00Z".into()),
        source: "configs/vex/python.json#/statements/0".into(),
    });
    vex.suppressed = Some("VEX not_affected (vulnerable_code_not_in_execute_path): python never parses XML with expat here [configs/vex/python.json#/statements/0]".into());
    p.vulns.push(vex);
    p.checks[2].status = CheckStatus::Fail;
    p.checks[2].evidence = vec![
        "/usr/bin/passwd (mode 4755)".into(),
        "/usr/bin/chsh (mode 4755)".into(),
    ];
    p.checks[2].remediation = Some("remove the setuid bit: chmod u-s <file>".into());
    p.checks[1].status = CheckStatus::Warn;
    p.checks[1].evidence = vec!["HEALTHCHECK uses curl, which is not installed".into()];
    p.policy_failures = vec![
        PolicyFailure {
            rule: "severity-threshold".into(),
            message: "1 CRITICAL vulnerability with a fix (threshold: HIGH with fix)".into(),
            ids: vec!["CVE-2024-45490".into(), "CVE-2024-6232".into()],
        },
        PolicyFailure {
            rule: "required-check".into(),
            message: "GOLDEN-SETUID-001 failed".into(),
            ids: vec!["GOLDEN-SETUID-001".into()],
        },
    ];
    // openjdk: built, scanner unavailable, but policy passed.
    let mut jdk = Img::new("openjdk-17-debian", "debian", "openjdk", "17");
    jdk.scanner = ScannerStatus::Unavailable;
    imgs.push(jdk);
    // tomcat: built, its scan report is missing (written separately: no scan folder).
    imgs.push(Img::new("tomcat-10-debian", "debian", "tomcat", "10"));
    imgs
}

/// Write the mixed set plus broken files of each kind.
pub fn write_mixed(dir: &Path) {
    let imgs = mixed();
    for i in &imgs {
        let rec = i.build_record();
        rec.write(
            &dir.join(format!("build-{}", i.id))
                .join("build-record.json"),
        )
        .unwrap();
        if i.build_ok && i.id != "tomcat-10-debian" {
            i.scan_report()
                .write(&dir.join(format!("scan-{}", i.id)).join("report.json"))
                .unwrap();
        }
    }
    // dotnet: build record fine, scan report truncated (corrupt) in the same job folder.
    let dotnet = Img::new("dotnet-8.0-debian", "debian", "dotnet", "8.0");
    let job = dir.join("job-dotnet-8.0-debian");
    dotnet
        .build_record()
        .write(&job.join("build-record.json"))
        .unwrap();
    let text = serde_json::to_string_pretty(&dotnet.scan_report()).unwrap();
    std::fs::write(job.join("report.json"), &text[..text.len() / 3]).unwrap();
    // aspnet: an empty report next to its build record.
    let aspnet = Img::new("aspnet-8.0-debian", "debian", "aspnet", "8.0");
    let job = dir.join("job-aspnet-8.0-debian");
    aspnet
        .build_record()
        .write(&job.join("build-record.json"))
        .unwrap();
    std::fs::write(job.join("report.json"), "").unwrap();
    // springboot: a report from a newer scanner (schema 2).
    let sb = Img::new("springboot-3-debian", "debian", "springboot", "3");
    let job = dir.join("job-springboot-3-debian");
    sb.build_record()
        .write(&job.join("build-record.json"))
        .unwrap();
    let mut v = serde_json::to_value(sb.scan_report()).unwrap();
    v["schema"] = serde_json::json!(2);
    std::fs::write(
        job.join("report.json"),
        serde_json::to_string_pretty(&v).unwrap(),
    )
    .unwrap();
    // A SARIF file beside a report is not ours and is ignored.
    std::fs::write(
        dir.join("scan-base-debian/report.sarif.json"),
        r#"{"version":"2.1.0","runs":[]}"#,
    )
    .unwrap();
    // An orphan file that is not JSON at all, alone in its folder.
    std::fs::create_dir_all(dir.join("stray")).unwrap();
    std::fs::write(dir.join("stray/build-record.json"), "\u{0}\u{1}garbage").unwrap();
}

/// Hostile strings where untrusted text goes: package names, titles, evidence, image names.
pub fn hostile() -> Vec<Img> {
    let mut i = Img::new(
        "evil|img<script>alert(1)</script>",
        "debian",
        "nginx",
        "1.0\n| injected | row |",
    );
    i.vulns = vec![
        Vulnerability {
            title: Some(
                "Ping @octocat and @github/security-team, see #1 and owner/repo#2 <img src=x onerror=alert(1)> [click](http://evil.example) ![pixel](http://evil.example/p.png) `code` **bold** $x^2$ <!-- golden-report:local:configs/build-config.yaml -->"
                    .into(),
            ),
            url: Some("javascript:alert(1)".into()),
            ..vuln(
                "CVE-2024-0001|x",
                "pkg|with|pipes\nand newline <b>",
                "1.0`",
                Some("2.0 @admin"),
                Severity::Critical,
            )
        },
        Vulnerability {
            title: Some("line1\r\nline2 \u{202E}desrever\u{202C} <details><summary>x</summary>".into()),
            url: Some("https://ok.example/a)b".into()),
            ..vuln("GHSA-xxxx-yyyy", "@scope/pkg", "1", None, Severity::High)
        },
    ];
    i.checks[0].status = CheckStatus::Fail;
    i.checks[0].evidence = vec![
        "USER root\n</details>\n\n# Heading injected".into(),
        "::set-output name=x::y @everyone".into(),
        "<!-- golden-report:golden-images:configs/build-config.yaml --> ![pixel](http://evil.example/p.png) [click](http://evil.example) `code` $x^2$ ~~gone~~ @octocat #1".into(),
    ];
    i.policy_failures = vec![PolicyFailure {
        rule: "severity|threshold".into(),
        message: "<a href=http://x>click</a>".into(),
        ids: vec!["@octocat".into()],
    }];
    vec![i]
}

/// 60 images, each with many findings, to push the comment over its limit.
pub fn sixty() -> Vec<Img> {
    many(60)
}

/// `n` images with 120 vulnerabilities and a failing check with 25 evidence lines each.
pub fn many(n: usize) -> Vec<Img> {
    (0..n)
        .map(|n| {
            let mut i = Img::new(
                &format!("platform{n:02}-1.{n}-debian"),
                "debian",
                &format!("platform{n:02}"),
                &format!("1.{n}"),
            );
            i.vulns = (0..120)
                .map(|k| {
                    let sev = Severity::ALL[k % 5];
                    vuln(
                        &format!("CVE-2024-{:05}", n * 1000 + k),
                        &format!("libpackage{k}-with-a-long-name"),
                        "1.2.3-4+deb12u1",
                        (k % 2 == 0).then_some("1.2.3-4+deb12u2"),
                        sev,
                    )
                })
                .collect();
            i.checks[2].status = CheckStatus::Fail;
            i.checks[2].evidence = (0..25)
                .map(|k| format!("/usr/lib/bin{k} (mode 4755)"))
                .collect();
            i.policy_failures = vec![PolicyFailure {
                rule: "severity-threshold".into(),
                message: "CRITICAL vulnerabilities with a fix".into(),
                ids: (0..30)
                    .map(|k| format!("CVE-2024-{:05}", n * 1000 + k))
                    .collect(),
            }];
            i
        })
        .collect()
}

/// (name, writer) of every committed fixture set.
type Writer = Box<dyn Fn(&Path)>;

pub fn committed_sets() -> Vec<(&'static str, Writer)> {
    vec![
        ("green", Box::new(|d: &Path| write_set(d, &green()))),
        ("baseline", Box::new(|d: &Path| write_set(d, &baseline()))),
        ("mixed", Box::new(write_mixed)),
        ("hostile", Box::new(|d: &Path| write_set(d, &hostile()))),
    ]
}

fn list(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn committed_fixtures_match_the_generator() {
    let update = std::env::var_os("GOLDEN_UPDATE_FIXTURES").is_some();
    for (name, writer) in committed_sets() {
        let tmp = tempfile::tempdir().unwrap();
        writer(tmp.path());
        let committed = fixtures_dir().join(name);
        if update {
            let _ = std::fs::remove_dir_all(&committed);
            writer(&committed);
        }
        let want = list(tmp.path());
        let have = if committed.exists() {
            list(&committed)
        } else {
            BTreeMap::new()
        };
        assert_eq!(
            want.keys().collect::<Vec<_>>(),
            have.keys().collect::<Vec<_>>(),
            "tests/fixtures/report/{name} is stale: rerun with GOLDEN_UPDATE_FIXTURES=1"
        );
        for (k, v) in &want {
            assert!(
                have.get(k) == Some(v),
                "tests/fixtures/report/{name}/{k} is stale: rerun with GOLDEN_UPDATE_FIXTURES=1"
            );
        }
    }
}
