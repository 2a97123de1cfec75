//! Trivy: run `trivy image --format json` or read an existing report, and normalise it to our
//! vulnerability schema. Every field Trivy marks `omitempty` may be missing; the pre-0.20 bare
//! array format and `SchemaVersion` 1 are read with a warning.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use golden_contracts::scan::{OsInfo, Package, Severity, Vulnerability};
use serde::Deserialize;

use crate::error::ScanError;

/// `--trivy`: `auto` (from PATH), `off`, or a path to the binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrivyMode {
    Auto,
    Off,
    Path(PathBuf),
}

impl TrivyMode {
    pub fn parse(s: &str) -> TrivyMode {
        match s.trim() {
            "" | "auto" => TrivyMode::Auto,
            "off" | "false" | "none" | "disabled" => TrivyMode::Off,
            p => TrivyMode::Path(PathBuf::from(p)),
        }
    }
}

/// What Trivy should scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrivyTarget {
    /// An engine image name/id or a registry reference.
    Image(String),
    /// A docker-archive / OCI archive file or OCI layout directory (`--input`).
    Input(PathBuf),
}

#[derive(Debug, Clone, Default)]
pub struct TrivyOptions {
    pub cache_dir: Option<PathBuf>,
    pub skip_db_update: bool,
    /// OCI repository of the vulnerability DB (`--db-repository`; Trivy adds the tag `:2`).
    pub db_repository: Option<String>,
    /// OCI repository of the Java DB (`--java-db-repository`; Trivy adds `:1`).
    pub java_db_repository: Option<String>,
}

impl TrivyOptions {
    /// Where the vulnerability DB comes from, for messages: the repository given, else
    /// `TRIVY_DB_REPOSITORY`, else Trivy's default; with the cache directory when the DB is
    /// not updated.
    pub fn db_source(&self) -> String {
        let repo = self
            .db_repository
            .clone()
            .or_else(|| {
                std::env::var("TRIVY_DB_REPOSITORY")
                    .ok()
                    .filter(|s| !s.trim().is_empty())
            })
            .map(|r| format!("repository {r}"))
            .unwrap_or_else(|| "Trivy's default DB repository".into());
        match (&self.cache_dir, self.skip_db_update) {
            (Some(d), true) => format!(
                "{repo}, cached in {} (--skip-db-update: not downloaded again)",
                d.display()
            ),
            (None, true) => format!("{repo}, cached (--skip-db-update: not downloaded again)"),
            (Some(d), false) => format!("{repo}, cache {}", d.display()),
            (None, false) => repo,
        }
    }
}

/// A normalised Trivy report.
#[derive(Debug, Default)]
pub struct Normalized {
    pub items: Vec<Vulnerability>,
    /// `trivy 0.69.3` when the report says.
    pub scanner: Option<String>,
    pub warnings: Vec<String>,
    pub artifact: Option<String>,
    pub image_id: Option<String>,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub os: Option<OsInfo>,
    /// Packages listed by `--list-all-pkgs` (used when only a report is given).
    pub packages: Vec<Package>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Report {
    schema_version: Option<serde_json::Value>,
    artifact_name: Option<String>,
    metadata: Option<Metadata>,
    results: Option<Vec<TResult>>,
    trivy: Option<TrivyInfo>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct TrivyInfo {
    version: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct Metadata {
    #[serde(rename = "OS")]
    os: Option<TOs>,
    #[serde(rename = "ImageID")]
    image_id: Option<String>,
    #[serde(rename = "RepoTags")]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "RepoDigests")]
    repo_digests: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct TOs {
    family: Option<String>,
    name: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct TResult {
    class: Option<String>,
    #[serde(rename = "Type")]
    kind: Option<String>,
    vulnerabilities: Option<Vec<TVuln>>,
    packages: Option<Vec<TPkg>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct TVuln {
    #[serde(rename = "VulnerabilityID")]
    id: Option<String>,
    #[serde(rename = "PkgName")]
    pkg_name: Option<String>,
    #[serde(rename = "PkgPath")]
    pkg_path: Option<String>,
    #[serde(rename = "InstalledVersion")]
    installed: Option<String>,
    #[serde(rename = "FixedVersion")]
    fixed: Option<String>,
    #[serde(rename = "Status")]
    status: Option<String>,
    #[serde(rename = "Severity")]
    severity: Option<String>,
    #[serde(rename = "SeveritySource")]
    severity_source: Option<String>,
    #[serde(rename = "CVSS")]
    cvss: Option<BTreeMap<String, Cvss>>,
    #[serde(rename = "Layer")]
    layer: Option<TLayer>,
    #[serde(rename = "Title")]
    title: Option<String>,
    #[serde(rename = "PrimaryURL")]
    url: Option<String>,
    #[serde(rename = "PkgIdentifier")]
    identifier: Option<TIdent>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct Cvss {
    #[serde(rename = "V3Score")]
    v3: Option<f64>,
    #[serde(rename = "V40Score")]
    v40: Option<f64>,
    #[serde(rename = "V2Score")]
    v2: Option<f64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct TLayer {
    #[serde(rename = "DiffID")]
    diff_id: Option<String>,
    #[serde(rename = "Digest")]
    digest: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct TPkg {
    name: Option<String>,
    version: Option<String>,
    release: Option<String>,
    epoch: Option<i64>,
    arch: Option<String>,
    src_name: Option<String>,
    src_version: Option<String>,
    licenses: Option<Vec<String>>,
    identifier: Option<TIdent>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct TIdent {
    #[serde(rename = "PURL")]
    purl: Option<String>,
}

fn score(v: &TVuln) -> Option<f64> {
    let cvss = v.cvss.as_ref()?;
    let pick = |c: &Cvss| c.v3.or(c.v40).or(c.v2);
    if let Some(src) = &v.severity_source
        && let Some(s) = cvss.get(src).and_then(pick)
    {
        return Some(s);
    }
    if let Some(s) = cvss.get("nvd").and_then(pick) {
        return Some(s);
    }
    cvss.values()
        .filter_map(pick)
        .fold(None, |m, s| Some(m.map_or(s, |m: f64| m.max(s))))
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Parse a report: the object of Trivy 0.20 and later, or the bare array of older versions
/// (with a warning).
fn parse_report(
    bytes: &[u8],
    source: &str,
    warnings: &mut Vec<String>,
) -> Result<Report, ScanError> {
    let text = String::from_utf8_lossy(bytes);
    if text.trim().is_empty() {
        return Err(ScanError::Trivy(format!(
            "trivy report `{source}` is empty (expected Trivy JSON from `trivy image --format json`)"
        )));
    }
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        ScanError::Trivy(format!(
            "trivy report `{source}` is not JSON: {e} (line {}, column {})\n  hint: produce it with `trivy image --format json` (not table or sarif)",
            e.line(),
            e.column()
        ))
    })?;
    let report: Report = match value {
        serde_json::Value::Array(_) => {
            warnings.push(format!(
                "trivy report `{source}` uses the pre-0.20 format (a bare array, no SchemaVersion): statuses are inferred from FixedVersion; upgrade Trivy"
            ));
            let results: Vec<TResult> = serde_json::from_value(value).map_err(|e| {
                ScanError::Trivy(format!("trivy report `{source}` (legacy array format) is not readable: {e}"))
            })?;
            Report {
                results: Some(results),
                ..Report::default()
            }
        }
        serde_json::Value::Object(_) => serde_json::from_value(value).map_err(|e| {
            ScanError::Trivy(format!(
                "trivy report `{source}` has a field of an unexpected type: {e}\n  hint: is this a Trivy JSON report (`--format json`)?"
            ))
        })?,
        _ => {
            return Err(ScanError::Trivy(format!(
                "trivy report `{source}` is a JSON {} value, not a Trivy report object",
                if value.is_string() { "string" } else { "scalar" }
            )));
        }
    };
    Ok(report)
}

/// Warn about a missing, old, newer or non-numeric `SchemaVersion`.
fn check_schema_version(report: &Report, source: &str, warnings: &mut Vec<String>) {
    match report.schema_version.as_ref().map(|v| v.as_u64()) {
        None if report.results.is_some() || report.artifact_name.is_some() => warnings.push(format!(
            "trivy report `{source}` has no SchemaVersion; read as schema 2"
        )),
        None => {}
        Some(Some(2)) => {}
        Some(Some(n)) if n < 2 => warnings.push(format!(
            "trivy report `{source}` has SchemaVersion {n} (older than 2, Trivy < 0.20): read leniently, statuses inferred; upgrade Trivy"
        )),
        Some(Some(n)) => warnings.push(format!(
            "trivy report `{source}` has SchemaVersion {n}, newer than the 2 this tool knows: read leniently"
        )),
        Some(None) => warnings.push(format!(
            "trivy report `{source}` has a non-numeric SchemaVersion; read as schema 2"
        )),
    }
}

/// One listed package of a result of Trivy type `kind` and class `class`; `None` without a
/// name.
fn package(p: TPkg, kind: Option<&str>, class: &str) -> Option<Package> {
    let name = nonempty(p.name)?;
    let mut version = p.version.unwrap_or_default();
    if let Some(rel) = nonempty(p.release) {
        version = format!("{version}-{rel}");
    }
    if let Some(e) = p.epoch.filter(|e| *e > 0) {
        version = format!("{e}:{version}");
    }
    let kind = match kind {
        Some("debian" | "ubuntu") => "dpkg".to_string(),
        Some("alpine" | "wolfi" | "chainguard") => "apk".to_string(),
        Some("redhat" | "centos" | "rocky" | "alma" | "fedora" | "oracle" | "amazon") => {
            "rpm".to_string()
        }
        Some(other) => other.to_string(),
        None => class.to_string(),
    };
    Some(Package {
        name,
        version,
        kind,
        source_name: nonempty(p.src_name),
        source_version: nonempty(p.src_version),
        arch: nonempty(p.arch),
        license: p
            .licenses
            .filter(|l| !l.is_empty())
            .map(|l| l.join(" AND ")),
        purl: p.identifier.and_then(|i| nonempty(i.purl)),
        ..Package::default()
    })
}

/// Normalise a Trivy JSON report. `source` names it in messages.
pub fn normalize(bytes: &[u8], source: &str) -> Result<Normalized, ScanError> {
    let mut out = Normalized::default();
    let report = parse_report(bytes, source, &mut out.warnings)?;
    check_schema_version(&report, source, &mut out.warnings);
    out.scanner = report
        .trivy
        .and_then(|t| t.version)
        .map(|v| format!("trivy {v}"));
    out.artifact = nonempty(report.artifact_name);
    if let Some(m) = report.metadata {
        out.image_id = nonempty(m.image_id);
        out.repo_tags = m.repo_tags.unwrap_or_default();
        out.repo_digests = m.repo_digests.unwrap_or_default();
        if let Some(os) = m.os {
            let family = os.family.unwrap_or_default();
            let ours = crate::inventory::osrelease::family(&family, "");
            out.os = Some(OsInfo {
                id: family.clone(),
                version_id: os.name.clone().unwrap_or_default(),
                pretty_name: format!("{family} {}", os.name.unwrap_or_default())
                    .trim()
                    .to_string(),
                family: ours.to_string(),
            });
        }
    }
    let mut seen = HashSet::new();
    let mut missing_id = 0usize;
    for r in report.results.unwrap_or_default() {
        let class = r.class.clone().unwrap_or_default();
        for v in r.vulnerabilities.unwrap_or_default() {
            let Some(id) = nonempty(v.id.clone()) else {
                missing_id += 1;
                continue;
            };
            let package =
                nonempty(v.pkg_name.clone()).unwrap_or_else(|| "(unknown package)".into());
            let installed = nonempty(v.installed.clone()).unwrap_or_default();
            let fixed = nonempty(v.fixed.clone());
            let status = match nonempty(v.status.clone()) {
                Some(s) => s.to_ascii_lowercase(),
                None if fixed.is_some() => "fixed".into(),
                None => "affected".into(),
            };
            let pkg_path = nonempty(v.pkg_path.clone());
            if !seen.insert((
                id.clone(),
                package.clone(),
                installed.clone(),
                pkg_path.clone(),
            )) {
                continue;
            }
            out.items.push(Vulnerability {
                cvss: score(&v),
                severity: Severity::parse_lenient(v.severity.as_deref().unwrap_or("")),
                title: nonempty(v.title),
                url: nonempty(v.url),
                layer: v
                    .layer
                    .and_then(|l| nonempty(l.diff_id).or(nonempty(l.digest))),
                pkg_path,
                id,
                package,
                installed,
                fixed,
                status,
                suppressed: None,
                purl: v.identifier.and_then(|i| nonempty(i.purl)),
                vex: None,
            });
        }
        for p in r.packages.unwrap_or_default() {
            if let Some(p) = package(p, r.kind.as_deref(), &class) {
                out.packages.push(p);
            }
        }
    }
    if missing_id > 0 {
        out.warnings.push(format!(
            "trivy report `{source}`: {missing_id} vulnerability entr{} without a VulnerabilityID skipped",
            if missing_id == 1 { "y" } else { "ies" }
        ));
    }
    out.items.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.package.cmp(&b.package))
    });
    Ok(out)
}

/// Find the Trivy binary for `mode`: `None` when it is off or absent.
pub fn locate(mode: &TrivyMode) -> Result<Option<PathBuf>, ScanError> {
    match mode {
        TrivyMode::Off => Ok(None),
        TrivyMode::Path(p) => {
            if p.is_file() {
                Ok(Some(p.clone()))
            } else {
                Err(ScanError::Usage(format!(
                    "--trivy `{}` does not exist\n  hint: pass the trivy binary, `auto` (search PATH) or `off`",
                    p.display()
                )))
            }
        }
        TrivyMode::Auto => Ok(find_in_path("trivy")),
    }
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The arguments we give Trivy (without the binary).
pub fn args(target: &TrivyTarget, opts: &TrivyOptions) -> Vec<String> {
    let mut a: Vec<String> = ["image", "--format", "json", "--quiet", "--scanners", "vuln"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if let Some(d) = &opts.cache_dir {
        a.push("--cache-dir".into());
        a.push(d.display().to_string());
    }
    if let Some(r) = opts
        .db_repository
        .as_deref()
        .filter(|r| !r.trim().is_empty())
    {
        a.push("--db-repository".into());
        a.push(r.trim().to_string());
    }
    if let Some(r) = opts
        .java_db_repository
        .as_deref()
        .filter(|r| !r.trim().is_empty())
    {
        a.push("--java-db-repository".into());
        a.push(r.trim().to_string());
    }
    if opts.skip_db_update {
        a.push("--skip-db-update".into());
        // Jars (openjdk, tomcat, springboot images) need the Java DB: a cached run must not
        // fetch that one either.
        a.push("--skip-java-db-update".into());
    }
    match target {
        TrivyTarget::Input(p) => {
            a.push("--input".into());
            a.push(p.display().to_string());
        }
        TrivyTarget::Image(r) => {
            // `--` first: a reference starting with `-` is an image, never an option.
            a.push("--".into());
            a.push(r.clone());
        }
    }
    a
}

/// Variables Trivy may see. Everything else (`ACTIONS_ID_TOKEN_REQUEST_TOKEN`,
/// `AZURE_CLIENT_SECRET`, `GITHUB_TOKEN`, registry passwords, ...) is withheld: Trivy gets what
/// it needs to find its cache, certificates, proxy and engine, not the job's credentials.
pub const ENV_ALLOW: &[&str] = &[
    "PATH",
    "HOME",
    "TMPDIR",
    "USER",
    "LANG",
    "TZ",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_RUNTIME_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "DOCKER_HOST",
    "DOCKER_CONFIG",
    "DOCKER_CERT_PATH",
    "DOCKER_TLS_VERIFY",
];

/// Prefixes of variables Trivy may see (its own settings, certificate locations, locale).
pub const ENV_ALLOW_PREFIXES: &[&str] = &["TRIVY_", "SSL_CERT_", "LC_"];

/// Whether Trivy may see the variable `name`.
pub fn env_allowed(name: &str) -> bool {
    ENV_ALLOW.contains(&name) || ENV_ALLOW_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// The environment Trivy runs with: the allowed subset of `vars`.
pub fn child_env(
    vars: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
    vars.into_iter()
        .filter(|(k, _)| k.to_str().is_some_and(env_allowed))
        .collect()
}

/// Run Trivy and return its JSON report bytes, or a description of the failure.
pub async fn run(bin: &Path, target: &TrivyTarget, opts: &TrivyOptions) -> Result<Vec<u8>, String> {
    let out = tokio::process::Command::new(bin)
        .args(args(target, opts))
        .env_clear()
        .envs(child_env(std::env::vars_os()))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("failed to start `{}`: {e}", bin.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err
            .lines()
            .rev()
            .take(5)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Err(format!(
            "`{}` exited with {}: {}",
            bin.display(),
            out.status,
            if tail.is_empty() {
                "(no output)".to_string()
            } else {
                tail.join(" | ")
            }
        ));
    }
    Ok(out.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_reference_is_never_an_option() {
        let a = args(
            &TrivyTarget::Image("--config=/etc/passwd".into()),
            &TrivyOptions::default(),
        );
        assert_eq!(&a[a.len() - 2..], ["--", "--config=/etc/passwd"]);
        let a = args(
            &TrivyTarget::Input(PathBuf::from("-x.tar")),
            &TrivyOptions::default(),
        );
        assert_eq!(&a[a.len() - 2..], ["--input", "-x.tar"]);
    }

    #[test]
    fn only_allow_listed_variables_reach_trivy() {
        let vars = [
            ("PATH", "/bin"),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "t"),
            ("AZURE_CLIENT_SECRET", "s"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
            ("GITHUB_TOKEN", "g"),
            ("TRIVY_USERNAME", "u"),
            ("SSL_CERT_DIR", "/c"),
            ("LC_ALL", "C"),
            ("XTRIVY_X", "no"),
        ]
        .map(|(k, v)| (std::ffi::OsString::from(k), std::ffi::OsString::from(v)));
        let kept: Vec<String> = child_env(vars)
            .into_iter()
            .map(|(k, _)| k.into_string().unwrap())
            .collect();
        assert_eq!(kept, ["PATH", "TRIVY_USERNAME", "SSL_CERT_DIR", "LC_ALL"]);
    }

    #[test]
    fn tolerates_missing_fields() {
        let n = normalize(br#"{"SchemaVersion":2,"Results":[{"Vulnerabilities":[{"VulnerabilityID":"CVE-1"},{"PkgName":"x"}]}]}"#, "r.json").unwrap();
        assert_eq!(n.items.len(), 1);
        assert_eq!(n.items[0].status, "affected");
        assert_eq!(n.items[0].severity, Severity::Unknown);
        assert_eq!(n.warnings.len(), 1, "{:?}", n.warnings);
        let clean = normalize(br#"{"SchemaVersion":2,"ArtifactName":"x"}"#, "r.json").unwrap();
        assert!(clean.items.is_empty() && clean.warnings.is_empty());
    }

    #[test]
    fn legacy_and_bad_reports() {
        let n = normalize(br#"[{"Target":"x","Vulnerabilities":[{"VulnerabilityID":"CVE-2","PkgName":"a","FixedVersion":"2","Severity":"HIGH"}]}]"#, "old.json").unwrap();
        assert_eq!(n.items[0].status, "fixed");
        assert!(n.warnings[0].contains("pre-0.20"), "{:?}", n.warnings);
        let n = normalize(br#"{"SchemaVersion":1,"Results":[]}"#, "v1.json").unwrap();
        assert!(n.warnings[0].contains("SchemaVersion 1"));
        let e = normalize(b"{\"SchemaVersion\":2,", "cut.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("cut.json") && e.contains("line 1"), "{e}");
        let e = normalize(br#"{"Results":"nope"}"#, "t.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unexpected type"), "{e}");
        assert!(normalize(b"", "e.json").is_err());
        assert!(normalize(b"42", "n.json").is_err());
    }

    #[test]
    fn trivy_arguments() {
        let a = args(
            &TrivyTarget::Input("/x/img.tar".into()),
            &TrivyOptions {
                cache_dir: Some("/c".into()),
                skip_db_update: true,
                ..TrivyOptions::default()
            },
        );
        assert_eq!(
            a.join(" "),
            "image --format json --quiet --scanners vuln --cache-dir /c --skip-db-update --skip-java-db-update --input /x/img.tar"
        );
        let o = TrivyOptions {
            db_repository: Some("127.0.0.1:5000/trivy-db".into()),
            java_db_repository: Some(" ".into()),
            ..TrivyOptions::default()
        };
        let a = args(&TrivyTarget::Image("x".into()), &o);
        assert_eq!(
            a.join(" "),
            "image --format json --quiet --scanners vuln --db-repository 127.0.0.1:5000/trivy-db -- x"
        );
        assert_eq!(o.db_source(), "repository 127.0.0.1:5000/trivy-db");
    }
}
