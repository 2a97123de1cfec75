//! A small Trivy vulnerability DB built from a readable fixture, served from a test registry the
//! way Trivy fetches its real one, so the pinned Trivy runs here with no download host.
//!
//! - [`Fixture`]: `tests/fixtures/trivy-db/advisories.yaml` (advisories per Debian *source*
//!   package, each with the outcome the fixture's author expects in the images).
//! - [`vuln_db`]: trivy-db schema 2: `trivy.db` (BoltDB, see [`crate::bolt`]) with the buckets
//!   `<platform>` → source package → vulnerability id → advisory JSON (`FixedVersion`, empty =
//!   unfixed), `vulnerability` → id → details (`Severity`, `Title`, `Description`), and
//!   `data-source` → platform → `{ID, Name, URL}`; plus `metadata.json` (`Version` 2).
//! - [`java_db`]: an empty trivy-java-db schema 1 (`trivy-java.db`, SQLite with the `artifacts`
//!   and `indices` tables) + `metadata.json` (`Version` 1), so images with jars scan offline.
//! - [`push`]: one OCI artifact per DB (one tar.gz layer of the two files, Trivy's media types),
//!   tagged with the schema version (`2`, `1`) as Trivy asks for it; the layer carries the
//!   `org.opencontainers.image.title` annotation Trivy requires.

use std::path::Path;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use golden_oci::Reference;
use golden_registry::{AuthKind, Client, ClientOptions, Descriptor, ImageManifest};
use serde::Deserialize;

use crate::bolt::{Bucket, write};

pub const DB_LAYER_MEDIA_TYPE: &str = "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip";
pub const JAVA_DB_LAYER_MEDIA_TYPE: &str = "application/vnd.aquasec.trivy.javadb.layer.v1.tar+gzip";
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.aquasec.trivy.config.v1+json";
/// trivy-db schema (the tag Trivy asks for).
pub const DB_SCHEMA: u32 = 2;
/// trivy-java-db schema.
pub const JAVA_DB_SCHEMA: u32 = 1;

const SEVERITIES: [&str; 5] = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"];

/// What the fixture's author expects Trivy to do with an advisory in an image that has the
/// source package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// Installed source version lower than `fixed_version`: reported, status `fixed`.
    Fixed,
    /// No `fixed_version`: always reported, status `affected`.
    Affected,
    /// `fixed_version` not newer than the installed one: not reported.
    NotReported,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advisory {
    pub id: String,
    /// Debian source package (`glibc`, not `libc6`).
    pub source_package: String,
    /// Empty or absent: unfixed.
    #[serde(default)]
    pub fixed_version: String,
    pub severity: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub expect: Expect,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSource {
    pub id: String,
    pub name: String,
    pub url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    pub schema: u32,
    /// The advisory bucket, e.g. `debian 12`.
    pub platform: String,
    pub data_source: DataSource,
    pub advisories: Vec<Advisory>,
}

impl Fixture {
    pub fn load(path: &Path) -> anyhow::Result<Fixture> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the DB fixture {}", path.display()))?;
        Fixture::parse(&text, &path.display().to_string())
    }

    /// Parse and check the fixture; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> anyhow::Result<Fixture> {
        let f: Fixture = serde_saphyr::from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "{file}: {e}\n  hint: fields are schema, platform, data_source {{id, name, url}}, advisories [{{id, source_package, fixed_version, severity, title, description, expect}}]"
            )
        })?;
        if f.schema != 1 {
            bail!(
                "{file}: schema: {} is not supported (this kit reads 1)",
                f.schema
            );
        }
        if f.platform.trim().is_empty() {
            bail!("{file}: platform is empty (e.g. `debian 12`)");
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, a) in f.advisories.iter().enumerate() {
            let at = format!("{file}: advisories[{i}]");
            if a.id.trim().is_empty() || a.source_package.trim().is_empty() {
                bail!("{at}: id and source_package must not be empty");
            }
            if !seen.insert((a.source_package.clone(), a.id.clone())) {
                bail!("{at}: {} for {} is listed twice", a.id, a.source_package);
            }
            if !SEVERITIES.contains(&a.severity.as_str()) {
                bail!(
                    "{at}: severity `{}` is not one of {}",
                    a.severity,
                    SEVERITIES.join(", ")
                );
            }
            match (a.expect, a.fixed_version.trim().is_empty()) {
                (Expect::Affected, false) => bail!(
                    "{at}: expect: affected needs no fixed_version (Trivy calls a fixed advisory `fixed`)"
                ),
                (Expect::Fixed | Expect::NotReported, true) => bail!(
                    "{at}: expect: {:?} needs a fixed_version (an unfixed advisory is always reported: expect: affected)",
                    a.expect
                ),
                _ => {}
            }
        }
        Ok(f)
    }
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `metadata.json` of a DB of `version`, updated now, next update in a day (as the real one).
fn metadata(version: u32, now: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    let m = serde_json::json!({
        "Version": version,
        "NextUpdate": rfc3339(now + chrono::Duration::days(1)),
        "UpdatedAt": rfc3339(now),
        "DownloadedAt": rfc3339(now),
    });
    serde_json::to_vec(&m).unwrap_or_default()
}

/// `trivy.db` and `metadata.json` of the fixture.
pub fn vuln_db(f: &Fixture) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let mut root = Bucket::new();
    let e = |e: String| anyhow::anyhow!("building trivy.db: {e}");
    {
        let platform = root.bucket(&f.platform).map_err(e)?;
        for a in &f.advisories {
            let adv = serde_json::json!({ "FixedVersion": a.fixed_version.trim() });
            platform
                .bucket(&a.source_package)
                .map_err(e)?
                .put(&a.id, serde_json::to_vec(&adv)?)
                .map_err(e)?;
        }
    }
    {
        let vulns = root.bucket("vulnerability").map_err(e)?;
        for a in &f.advisories {
            // VendorSeverity keyed by the data source: Trivy takes the severity from the
            // advisory's own source (SeveritySource `debian`), as with the real DB.
            let level = SEVERITIES
                .iter()
                .position(|s| *s == a.severity)
                .unwrap_or(0);
            let mut d = serde_json::json!({
                "Title": a.title,
                "Severity": a.severity,
                "VendorSeverity": { f.data_source.id.clone(): level },
            });
            if !a.description.is_empty() {
                d["Description"] = a.description.clone().into();
            }
            vulns.put(&a.id, serde_json::to_vec(&d)?).map_err(e)?;
        }
    }
    let ds = serde_json::json!({
        "ID": f.data_source.id,
        "Name": f.data_source.name,
        "URL": f.data_source.url,
    });
    root.bucket("data-source")
        .map_err(e)?
        .put(&f.platform, serde_json::to_vec(&ds)?)
        .map_err(e)?;
    Ok((
        write(&root).map_err(e)?,
        metadata(DB_SCHEMA, chrono::Utc::now()),
    ))
}

/// An empty trivy-java-db: `trivy-java.db` (SQLite) and `metadata.json`.
pub fn java_db() -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("trivy-java.db");
    let c = rusqlite::Connection::open(&path).context("cannot create trivy-java.db")?;
    c.execute_batch(
        "CREATE TABLE artifacts(id INTEGER PRIMARY KEY, group_id TEXT, artifact_id TEXT);
         CREATE TABLE indices(artifact_id INTEGER, version TEXT, sha1 BLOB, archive_type TEXT,
           foreign key (artifact_id) references artifacts(id));
         CREATE UNIQUE INDEX artifacts_idx ON artifacts(artifact_id, group_id);
         CREATE INDEX indices_artifact_idx ON indices(artifact_id);
         CREATE UNIQUE INDEX indices_sha1_idx ON indices(sha1);",
    )
    .context("cannot create the Java DB tables")?;
    drop(c);
    Ok((
        std::fs::read(&path)?,
        metadata(JAVA_DB_SCHEMA, chrono::Utc::now()),
    ))
}

/// A gzipped tar of `files` (name, bytes), mode 0644, as Trivy's DB layers are.
pub fn targz(files: &[(&str, &[u8])]) -> anyhow::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(crate::now());
        h.set_cksum();
        tar.append_data(&mut h, name, *data)?;
    }
    Ok(tar.into_inner()?.finish()?)
}

/// Push `layer` as a Trivy DB artifact to `repository` (`host:port/path`, tagged `tag`).
/// Returns the manifest digest.
pub async fn push(
    repository: &str,
    tag: &str,
    layer: Vec<u8>,
    layer_media_type: &str,
) -> anyhow::Result<String> {
    let repo = Reference::parse(repository)
        .map_err(|e| anyhow::anyhow!("--repository `{repository}`: {e}"))?;
    if repo.tag.is_some() || repo.digest.is_some() {
        bail!("--repository `{repository}`: give the repository without a tag (`{tag}` is added)");
    }
    let client = Client::new(ClientOptions {
        auth: AuthKind::Anonymous,
        ..ClientOptions::default()
    })?;
    let config = Bytes::from_static(b"{}");
    let (config_digest, _) = client.ensure_blob(&repo, config.clone()).await?;
    let layer_len = layer.len() as u64;
    let (layer_digest, _) = client.ensure_blob(&repo, Bytes::from(layer)).await?;
    let mut m = ImageManifest::new(Descriptor::new(
        CONFIG_MEDIA_TYPE,
        config_digest,
        config.len() as u64,
    ));
    let mut layer = Descriptor::new(layer_media_type, layer_digest, layer_len);
    // Trivy refuses a layer without a title (the file name it saves the download as).
    layer.annotations.insert(
        "org.opencontainers.image.title".into(),
        if layer_media_type == JAVA_DB_LAYER_MEDIA_TYPE {
            "javadb.tar.gz".into()
        } else {
            "db.tar.gz".into()
        },
    );
    m.layers.push(layer);
    let bytes = Bytes::from(golden_registry::types::to_bytes(&m));
    let pushed = client
        .put_manifest(&repo, tag, bytes, golden_oci::media::OCI_MANIFEST)
        .await?;
    Ok(pushed.digest)
}

/// Build both DBs from `fixture` and push them: the vulnerability DB to `db_repository:2`,
/// the empty Java DB to `java_repository:1` when given. `out`, when given, also gets the
/// files (`db/trivy.db`, `db/metadata.json`, `java-db/...`), laid out like Trivy's cache.
pub async fn publish(
    fixture: &Path,
    db_repository: &str,
    java_repository: Option<&str>,
    out: Option<&Path>,
) -> anyhow::Result<Vec<String>> {
    let f = Fixture::load(fixture)?;
    let (db, meta) = vuln_db(&f)?;
    let mut lines = Vec::new();
    if let Some(o) = out {
        std::fs::create_dir_all(o.join("db"))?;
        std::fs::write(o.join("db/trivy.db"), &db)?;
        std::fs::write(o.join("db/metadata.json"), &meta)?;
    }
    let layer = targz(&[("trivy.db", &db), ("metadata.json", &meta)])?;
    let d = push(
        db_repository,
        &DB_SCHEMA.to_string(),
        layer,
        DB_LAYER_MEDIA_TYPE,
    )
    .await
    .with_context(|| format!("cannot push the vulnerability DB to {db_repository}"))?;
    lines.push(format!(
        "{db_repository}:{DB_SCHEMA}@{d} ({} advisories)",
        f.advisories.len()
    ));
    if let Some(java) = java_repository {
        let (jdb, jmeta) = java_db()?;
        if let Some(o) = out {
            std::fs::create_dir_all(o.join("java-db"))?;
            std::fs::write(o.join("java-db/trivy-java.db"), &jdb)?;
            std::fs::write(o.join("java-db/metadata.json"), &jmeta)?;
        }
        let layer = targz(&[("trivy-java.db", &jdb), ("metadata.json", &jmeta)])?;
        let d = push(
            java,
            &JAVA_DB_SCHEMA.to_string(),
            layer,
            JAVA_DB_LAYER_MEDIA_TYPE,
        )
        .await
        .with_context(|| format!("cannot push the Java DB to {java}"))?;
        lines.push(format!("{java}:{JAVA_DB_SCHEMA}@{d} (empty Java DB)"));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = "schema: 1\nplatform: debian 12\ndata_source: {id: debian, name: d, url: 'urn:x'}\nadvisories:\n  - {id: CVE-1, source_package: glibc, fixed_version: '2.36-99', severity: CRITICAL, title: t, expect: fixed}\n";

    #[test]
    fn fixture_errors_name_the_field() {
        assert_eq!(Fixture::parse(OK, "f.yaml").unwrap().advisories.len(), 1);
        let bad = |from: &str, to: &str| {
            Fixture::parse(&OK.replace(from, to), "f.yaml")
                .unwrap_err()
                .to_string()
        };
        let e = bad("CRITICAL", "SEVERE");
        assert!(e.contains("advisories[0]") && e.contains("SEVERE"), "{e}");
        let e = bad("expect: fixed", "expect: affected");
        assert!(e.contains("needs no fixed_version"), "{e}");
        let e = bad("title: t", "titel: t");
        assert!(e.starts_with("f.yaml") && e.contains("titel"), "{e}");
        let e = bad("schema: 1", "schema: 3");
        assert!(e.contains("schema: 3"), "{e}");
    }

    #[test]
    fn db_has_the_buckets_trivy_reads() {
        let f = Fixture::parse(OK, "f.yaml").unwrap();
        let (db, meta) = vuln_db(&f).unwrap();
        let m: serde_json::Value = serde_json::from_slice(&meta).unwrap();
        assert_eq!(m["Version"], 2);
        for needle in [
            &b"debian 12"[..],
            b"glibc",
            b"vulnerability",
            b"data-source",
            br#"{"FixedVersion":"2.36-99"}"#,
            br#""Severity":"CRITICAL""#,
        ] {
            assert!(
                db.windows(needle.len()).any(|w| w == needle),
                "{}",
                String::from_utf8_lossy(needle)
            );
        }
        let (jdb, jmeta) = java_db().unwrap();
        assert!(jdb.starts_with(b"SQLite format 3\0"));
        assert!(String::from_utf8_lossy(&jmeta).contains("\"Version\":1"));
    }
}
