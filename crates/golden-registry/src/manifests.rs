//! Manifests, tags and referrers.

use crate::body::{MAX_TAG_PAGE, ReadError, read_capped, read_error_body};
use std::collections::BTreeMap;

use bytes::Bytes;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode};

use crate::auth::Scope;
use crate::client::Client;
use crate::digest::{is_sha256, sha256_digest};
use crate::error::RegistryError;
use crate::http::Req;
use crate::types::{Descriptor, ImageIndex, ImageManifest, ParsedManifest, to_bytes};
use golden_oci::{Reference, media};

/// Largest manifest accepted (ACR's limit is 4 MiB).
pub const MAX_MANIFEST_BYTES: usize = 8 << 20;

const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// The OCI empty JSON blob `{}` used as the config of artifacts.
pub const EMPTY_JSON: &[u8] = b"{}";

/// A manifest as the registry served it.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    /// Exactly the bytes served (their sha256 is `digest`).
    pub bytes: Bytes,
    pub media_type: String,
    pub digest: String,
}

impl FetchedManifest {
    /// Decode as an image manifest or an index.
    pub fn parse(&self) -> Result<ParsedManifest, RegistryError> {
        ParsedManifest::parse(&self.bytes, &self.media_type).map_err(|reason| {
            RegistryError::BadReply {
                registry: String::new(),
                action: "parse manifest",
                object: self.digest.clone(),
                reason,
            }
        })
    }

    /// A descriptor pointing at this manifest.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(
            self.media_type.clone(),
            self.digest.clone(),
            self.bytes.len() as u64,
        )
    }

    pub fn is_index(&self) -> bool {
        crate::types::is_index_media_type(&self.media_type)
    }
}

/// Result of [`Client::put_manifest`].
#[derive(Debug, Clone)]
pub struct PushedManifest {
    pub digest: String,
    /// The registry answered `OCI-Subject`: it indexed the `subject` (referrers API).
    pub subject_processed: bool,
}

/// Result of [`Client::attach_artifact`].
#[derive(Debug, Clone)]
pub struct Attached {
    /// Descriptor of the artifact manifest (with `artifactType` and annotations), as listed
    /// among the subject's referrers.
    pub descriptor: Descriptor,
    /// The referrers tag schema (`sha256-<hex>` index) was updated because the registry has no
    /// referrers API.
    pub used_fallback_tag: bool,
}

/// The referrers tag-schema tag for `subject_digest` (`sha256:abc…` → `sha256-abc…`).
pub fn referrers_fallback_tag(subject_digest: &str) -> String {
    let t = subject_digest.replacen(':', "-", 1);
    t.chars().take(128).collect()
}

fn strip_params(ct: &str) -> String {
    ct.split(';').next().unwrap_or_default().trim().to_string()
}

impl Client {
    /// `GET /v2/<repo>/manifests/<tag|digest>` with the OCI and docker accept types. The digest
    /// is computed from the bytes and checked against the requested digest and against the
    /// registry's `Docker-Content-Digest`.
    pub async fn get_manifest(&self, r: &Reference) -> Result<FetchedManifest, RegistryError> {
        match self.try_get_manifest(r).await? {
            Some(m) => Ok(m),
            None => Err(RegistryError::ManifestUnknown {
                reference: r.to_string(),
            }),
        }
    }

    /// Like [`Client::get_manifest`], `None` when the manifest (or tag) does not exist.
    pub async fn try_get_manifest(
        &self,
        r: &Reference,
    ) -> Result<Option<FetchedManifest>, RegistryError> {
        let reg = self.registry(&r.registry)?;
        let reference = r.manifest_reference().to_string();
        let url = self.url(&reg, &r.repository, &format!("manifests/{reference}"))?;
        let req = Req::new(Method::GET, url, "get manifest", r.to_string())
            .header(ACCEPT, MANIFEST_ACCEPT);
        let resp = self
            .execute(&reg, &req, &[Scope::pull(&r.repository)])
            .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            let e = self
                .error_for(&reg, &r.repository, resp, "get manifest", &r.to_string())
                .await;
            return match e {
                RegistryError::ManifestUnknown { .. } => Ok(None),
                other => Err(other),
            };
        }
        if !resp.status().is_success() {
            return Err(self
                .error_for(&reg, &r.repository, resp, "get manifest", &r.to_string())
                .await);
        }
        let header_digest = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(strip_params)
            .unwrap_or_default();
        if resp
            .content_length()
            .is_some_and(|l| l as usize > MAX_MANIFEST_BYTES)
        {
            return Err(RegistryError::BadReply {
                registry: reg.host.clone(),
                action: "get manifest",
                object: r.to_string(),
                reason: format!("larger than {MAX_MANIFEST_BYTES} bytes"),
            });
        }
        let bytes = read_capped(resp, MAX_MANIFEST_BYTES)
            .await
            .map_err(|e| match e {
                ReadError::Transport(source) => RegistryError::Transport {
                    registry: reg.host.clone(),
                    action: "get manifest",
                    object: r.to_string(),
                    attempts: 1,
                    source,
                },
                too_large => RegistryError::BadReply {
                    registry: reg.host.clone(),
                    action: "get manifest",
                    object: r.to_string(),
                    reason: too_large.to_string(),
                },
            })?;
        let digest = sha256_digest(&bytes);
        if let Some(want) = &r.digest
            && want.starts_with("sha256:")
            && *want != digest
        {
            return Err(RegistryError::DigestMismatch {
                what: format!("manifest {r}"),
                expected: want.clone(),
                actual: digest,
            });
        }
        if let Some(h) = &header_digest
            && h.starts_with("sha256:")
            && *h != digest
        {
            return Err(RegistryError::DigestMismatch {
                what: format!("manifest {r} (Docker-Content-Digest)"),
                expected: h.clone(),
                actual: digest,
            });
        }
        let media_type = if crate::types::is_index_media_type(&content_type)
            || crate::types::is_manifest_media_type(&content_type)
        {
            content_type
        } else {
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| {
                    v.get("mediaType")
                        .and_then(|m| m.as_str())
                        .map(str::to_string)
                })
                .unwrap_or(content_type)
        };
        Ok(Some(FetchedManifest {
            bytes,
            media_type,
            digest,
        }))
    }

    /// `HEAD` a manifest: its descriptor, `None` when absent. Falls back to `GET` when the
    /// registry does not send `Docker-Content-Digest`.
    pub async fn head_manifest(&self, r: &Reference) -> Result<Option<Descriptor>, RegistryError> {
        let reg = self.registry(&r.registry)?;
        let url = self.url(
            &reg,
            &r.repository,
            &format!("manifests/{}", r.manifest_reference()),
        )?;
        let req = Req::new(Method::HEAD, url, "check manifest", r.to_string())
            .header(ACCEPT, MANIFEST_ACCEPT);
        let resp = self
            .execute(&reg, &req, &[Scope::pull(&r.repository)])
            .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(self
                .error_for(&reg, &r.repository, resp, "check manifest", &r.to_string())
                .await);
        }
        let h = resp.headers();
        let digest = h
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .filter(|d| is_sha256(d))
            .map(str::to_string);
        let media_type = h
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(strip_params);
        let size = resp.content_length();
        match (digest, media_type, size) {
            (Some(d), Some(mt), Some(sz))
                if crate::types::is_index_media_type(&mt)
                    || crate::types::is_manifest_media_type(&mt) =>
            {
                Ok(Some(Descriptor::new(mt, d, sz)))
            }
            _ => Ok(self.try_get_manifest(r).await?.map(|m| m.descriptor())),
        }
    }

    /// `PUT /v2/<repo>/manifests/<reference>` (a tag, or the digest of `bytes`). Verifies the
    /// registry's `Docker-Content-Digest`. A rejected manifest comes back with the registry's
    /// error body.
    pub async fn put_manifest(
        &self,
        repo: &Reference,
        reference: &str,
        bytes: Bytes,
        media_type: &str,
    ) -> Result<PushedManifest, RegistryError> {
        let digest = sha256_digest(&bytes);
        if reference.contains(':') && reference != digest {
            return Err(RegistryError::DigestMismatch {
                what: "manifest to push".into(),
                expected: reference.to_string(),
                actual: digest,
            });
        }
        let reg = self.target(&repo.registry)?;
        let url = self.url(&reg, &repo.repository, &format!("manifests/{reference}"))?;
        let shown = if reference.contains(':') {
            format!("{}@{reference}", repo.name())
        } else {
            format!("{}:{reference}", repo.name())
        };
        let req = Req::new(Method::PUT, url, "push manifest", shown.clone())
            .header(CONTENT_TYPE, media_type)
            .body(bytes);
        let resp = self
            .execute(&reg, &req, &[Scope::push(&repo.repository)])
            .await?;
        let status = resp.status();
        if !status.is_success() {
            if status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY {
                let body = crate::error::ErrorBody::parse(&read_error_body(resp).await);
                return Err(RegistryError::ManifestRejected {
                    reference: shown,
                    status: status.as_u16(),
                    body,
                });
            }
            return Err(self
                .error_for(&reg, &repo.repository, resp, "push manifest", &shown)
                .await);
        }
        if let Some(got) = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            && got != digest
        {
            return Err(RegistryError::DigestMismatch {
                what: format!("manifest stored at {shown}"),
                expected: digest,
                actual: got.to_string(),
            });
        }
        let subject_processed = resp.headers().contains_key("oci-subject");
        Ok(PushedManifest {
            digest,
            subject_processed,
        })
    }

    /// Every tag of a repository (follows `Link: <...>; rel="next"` pagination).
    pub async fn list_tags(&self, repo: &Reference) -> Result<Vec<String>, RegistryError> {
        let reg = self.registry(&repo.registry)?;
        let mut url = self.url(&reg, &repo.repository, "tags/list")?;
        url.query_pairs_mut().append_pair("n", "1000");
        let mut tags = Vec::new();
        for _ in 0..1000 {
            let req = Req::new(Method::GET, url.clone(), "list tags of", repo.name());
            let resp = self
                .execute(&reg, &req, &[Scope::pull(&repo.repository)])
                .await?;
            if !resp.status().is_success() {
                return Err(self
                    .error_for(&reg, &repo.repository, resp, "list tags of", &repo.name())
                    .await);
            }
            let next = resp
                .headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .and_then(|l| {
                    l.split(',')
                        .find(|p| p.contains("rel=\"next\"") || p.contains("rel=next"))
                        .and_then(|p| p.split(';').next())
                        .map(|u| {
                            u.trim()
                                .trim_start_matches('<')
                                .trim_end_matches('>')
                                .to_string()
                        })
                });
            #[derive(serde::Deserialize)]
            struct TagList {
                #[serde(default)]
                tags: Option<Vec<String>>,
            }
            let bad = |reason: String| RegistryError::BadReply {
                registry: reg.host.clone(),
                action: "list tags of",
                object: repo.name(),
                reason,
            };
            let page = read_capped(resp, MAX_TAG_PAGE)
                .await
                .map_err(|e| bad(e.to_string()))?;
            let list: TagList = serde_json::from_slice(&page).map_err(|e| bad(e.to_string()))?;
            tags.extend(list.tags.unwrap_or_default());
            match next {
                Some(n) => {
                    url = reg.base.join(&n).map_err(|e| RegistryError::BadReply {
                        registry: reg.host.clone(),
                        action: "list tags of",
                        object: repo.name(),
                        reason: format!("bad Link header: {e}"),
                    })?
                }
                None => break,
            }
        }
        Ok(tags)
    }

    /// The digest of `r` (itself when pinned, else resolved with `HEAD`).
    pub async fn resolve_digest(&self, r: &Reference) -> Result<Descriptor, RegistryError> {
        match self.head_manifest(r).await? {
            Some(d) => Ok(d),
            None => Err(RegistryError::ManifestUnknown {
                reference: r.to_string(),
            }),
        }
    }

    /// Artifacts whose `subject` is `subject` (resolved to a digest first when it is a tag),
    /// optionally only those of `artifact_type`. Uses the referrers API
    /// (`GET /v2/<repo>/referrers/<digest>`) and falls back to the referrers tag schema
    /// (`<repo>:sha256-<hex>`, an index) when the registry does not have it (404).
    pub async fn referrers(
        &self,
        subject: &Reference,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, RegistryError> {
        let digest = match &subject.digest {
            Some(d) => d.clone(),
            None => self.resolve_digest(subject).await?.digest,
        };
        let mut list = match self.referrers_api(subject, &digest, artifact_type).await? {
            Some(l) => l,
            None => self.referrers_fallback(subject, &digest).await?.manifests,
        };
        if let Some(t) = artifact_type {
            list.retain(|d| d.artifact_type.as_deref() == Some(t));
        }
        Ok(list)
    }

    /// `None` when the registry has no referrers API.
    async fn referrers_api(
        &self,
        subject: &Reference,
        digest: &str,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<Descriptor>>, RegistryError> {
        let reg = self.registry(&subject.registry)?;
        let mut url = self.url(&reg, &subject.repository, &format!("referrers/{digest}"))?;
        if let Some(t) = artifact_type {
            url.query_pairs_mut().append_pair("artifactType", t);
        }
        let req = Req::new(Method::GET, url, "list referrers of", digest)
            .header(ACCEPT, media::OCI_INDEX);
        let resp = self
            .execute(&reg, &req, &[Scope::pull(&subject.repository)])
            .await?;
        match resp.status().as_u16() {
            200 => {}
            // No referrers API (distribution 2.8 has no such route): use the tag schema.
            404 | 400 | 405 => return Ok(None),
            _ => {
                return Err(self
                    .error_for(&reg, &subject.repository, resp, "list referrers of", digest)
                    .await);
            }
        }
        let bytes = read_capped(resp, MAX_MANIFEST_BYTES)
            .await
            .map_err(|e| match e {
                ReadError::Transport(source) => RegistryError::Transport {
                    registry: reg.host.clone(),
                    action: "list referrers of",
                    object: digest.to_string(),
                    attempts: 1,
                    source,
                },
                too_large => RegistryError::BadReply {
                    registry: reg.host.clone(),
                    action: "list referrers of",
                    object: digest.to_string(),
                    reason: too_large.to_string(),
                },
            })?;
        let index: ImageIndex =
            serde_json::from_slice(&bytes).map_err(|e| RegistryError::BadReply {
                registry: reg.host.clone(),
                action: "list referrers of",
                object: digest.to_string(),
                reason: format!("not an image index: {e}"),
            })?;
        Ok(Some(index.manifests))
    }

    async fn referrers_fallback(
        &self,
        subject: &Reference,
        digest: &str,
    ) -> Result<ImageIndex, RegistryError> {
        let tag_ref = subject.with_tag(&referrers_fallback_tag(digest));
        match self.try_get_manifest(&tag_ref).await? {
            None => Ok(ImageIndex::new()),
            Some(m) => match m.parse()? {
                ParsedManifest::Index(i) => Ok(i),
                ParsedManifest::Image(_) => Err(RegistryError::BadReply {
                    registry: subject.registry.clone(),
                    action: "read referrers tag",
                    object: tag_ref.to_string(),
                    reason: "the referrers tag points at an image manifest, not an index".into(),
                }),
            },
        }
    }

    /// Upload `data` as blob `digest` unless the repository already has it. True when uploaded.
    pub async fn ensure_blob(
        &self,
        repo: &Reference,
        data: Bytes,
    ) -> Result<(String, bool), RegistryError> {
        let digest = sha256_digest(&data);
        if self.blob_exists(repo, &digest).await?.is_some() {
            return Ok((digest, false));
        }
        self.upload_bytes(repo, data, &digest).await?;
        Ok((digest, true))
    }

    /// Push an OCI artifact whose `subject` is `subject` (resolved to its digest): the empty
    /// config, one layer per file, the manifest (by digest, never tagged), then — when the
    /// registry did not answer `OCI-Subject` and has no referrers API — the subject's
    /// referrers tag-schema index is updated.
    pub async fn attach_artifact(
        &self,
        subject: &Reference,
        artifact_type: &str,
        files: Vec<(Bytes, String, BTreeMap<String, String>)>,
        annotations: BTreeMap<String, String>,
    ) -> Result<Attached, RegistryError> {
        if artifact_type.trim().is_empty() || !artifact_type.contains('/') {
            return Err(RegistryError::Invalid(format!(
                "artifact type `{artifact_type}` is not a media type (like application/vnd.golden.scan-report.v1+json)"
            )));
        }
        let subject_desc = self.resolve_digest(subject).await?;
        let repo = subject.with_digest(&subject_desc.digest);
        self.authorize(&repo.registry, &[Scope::push(&repo.repository)])
            .await?;
        let (config_digest, _) = self
            .ensure_blob(&repo, Bytes::from_static(EMPTY_JSON))
            .await?;
        let mut manifest = ImageManifest::new(Descriptor::new(
            media::OCI_EMPTY,
            config_digest,
            EMPTY_JSON.len() as u64,
        ));
        manifest.artifact_type = Some(artifact_type.to_string());
        for (data, media_type, ann) in files {
            let size = data.len() as u64;
            let (digest, _) = self.ensure_blob(&repo, data).await?;
            let mut d = Descriptor::new(media_type, digest, size);
            d.annotations = ann;
            manifest.layers.push(d);
        }
        manifest.subject = Some(Descriptor::new(
            subject_desc.media_type.clone(),
            subject_desc.digest.clone(),
            subject_desc.size,
        ));
        manifest.annotations = annotations.clone();
        let bytes = Bytes::from(to_bytes(&manifest));
        let size = bytes.len() as u64;
        let digest = sha256_digest(&bytes);
        let pushed = self
            .put_manifest(&repo, &digest, bytes, media::OCI_MANIFEST)
            .await?;
        let mut descriptor = Descriptor::new(media::OCI_MANIFEST, pushed.digest.clone(), size);
        descriptor.artifact_type = Some(artifact_type.to_string());
        descriptor.annotations = annotations;
        let used_fallback_tag = self
            .link_referrer(
                &repo,
                &subject_desc.digest,
                &descriptor,
                pushed.subject_processed,
            )
            .await?;
        Ok(Attached {
            descriptor,
            used_fallback_tag,
        })
    }
}

/// How many times [`Client::link_referrer`] re-reads, merges and rewrites the referrers tag
/// when a concurrent writer dropped the entry it just wrote.
const FALLBACK_WRITE_ATTEMPTS: u32 = 6;

impl Client {
    /// Make `descriptor` (an artifact manifest already stored in `repo`) listed among the
    /// referrers of `subject_digest`. Nothing to do when the registry indexed the subject
    /// itself (`subject_processed`, the `OCI-Subject` answer) or has the referrers API; else the
    /// referrers tag schema (`<repo>:sha256-<hex>`, an index) is updated. True when it was.
    ///
    /// The tag schema is a read-modify-write without a lock: two writers that read the same
    /// index both write it, the second without the first's entry. So after each write the
    /// index is read back (after a short, jittered pause that lets a concurrent writer land)
    /// and, when the entry is gone, merged and written again — every writer checks its own
    /// entry, so every entry ends up listed (or the call fails saying so).
    pub async fn link_referrer(
        &self,
        repo: &Reference,
        subject_digest: &str,
        descriptor: &Descriptor,
        subject_processed: bool,
    ) -> Result<bool, RegistryError> {
        if subject_processed
            || self
                .referrers_api(repo, subject_digest, None)
                .await?
                .is_some()
        {
            return Ok(false);
        }
        let tag = referrers_fallback_tag(subject_digest);
        for attempt in 0..FALLBACK_WRITE_ATTEMPTS {
            let mut index = self.referrers_fallback(repo, subject_digest).await?;
            if attempt > 0
                && index
                    .manifests
                    .iter()
                    .any(|d| d.digest == descriptor.digest)
            {
                return Ok(true);
            }
            if !index
                .manifests
                .iter()
                .any(|d| d.digest == descriptor.digest)
            {
                index.manifests.push(descriptor.clone());
            }
            index.media_type = Some(media::OCI_INDEX.to_string());
            self.put_manifest(repo, &tag, Bytes::from(to_bytes(&index)), media::OCI_INDEX)
                .await?;
            // Let a writer that read the index before this write finish its own write, then
            // check that this entry survived it.
            let jitter = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::from(d.subsec_nanos()) % 100);
            let pause = 50 + u64::from(attempt) * 100 + jitter;
            tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            let after = self.referrers_fallback(repo, subject_digest).await?;
            if after
                .manifests
                .iter()
                .any(|d| d.digest == descriptor.digest)
            {
                return Ok(true);
            }
            tracing::debug!(
                subject = subject_digest,
                referrer = %descriptor.digest,
                "a concurrent write dropped the referrer from the tag schema: merging again"
            );
        }
        Err(RegistryError::Invalid(format!(
            "the referrers tag {}:{tag} lost the entry {} to concurrent writers {FALLBACK_WRITE_ATTEMPTS} times in a row; run the attach again",
            repo.name(),
            descriptor.digest
        )))
    }

    /// `DELETE /v2/<repo>/manifests/<digest>`: the manifest and every tag pointing at it.
    /// `Ok(false)` when it did not exist. A registry that refuses deletes (distribution without
    /// `storage.delete.enabled`, 405) gives an error that says so.
    pub async fn delete_manifest(&self, r: &Reference) -> Result<bool, RegistryError> {
        let reg = self.registry(&r.registry)?;
        let url = self.url(
            &reg,
            &r.repository,
            &format!("manifests/{}", r.manifest_reference()),
        )?;
        let req = Req::new(Method::DELETE, url, "delete manifest", r.to_string());
        let resp = self
            .execute(&reg, &req, &[Scope::delete(&r.repository)])
            .await?;
        match resp.status().as_u16() {
            200..=299 => Ok(true),
            404 => Ok(false),
            _ => match self
                .error_for(&reg, &r.repository, resp, "delete manifest", &r.to_string())
                .await
            {
                // distribution without deletes: 405 UNSUPPORTED; a store that forbids them by
                // policy answers with UNSUPPORTED or DENIED under another status.
                RegistryError::Status {
                    status,
                    body,
                    object,
                    ..
                } if status == 405 || body.has_code("UNSUPPORTED") => {
                    Err(RegistryError::DeleteRefused {
                        registry: reg.host.clone(),
                        object,
                        status,
                        body,
                    })
                }
                other => Err(other),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_tag_follows_the_spec() {
        let d = "sha256:4b50eb66f977b4062683ff434ef18ac191da862dbe966961bc11990cf5791a8d";
        assert_eq!(
            referrers_fallback_tag(d),
            "sha256-4b50eb66f977b4062683ff434ef18ac191da862dbe966961bc11990cf5791a8d"
        );
        assert!(
            golden_oci::Reference::parse(&format!("r.io/a:{}", referrers_fallback_tag(d))).is_ok()
        );
    }

    #[test]
    fn content_type_params_are_dropped() {
        assert_eq!(
            strip_params("application/json; charset=utf-8"),
            "application/json"
        );
    }
}
