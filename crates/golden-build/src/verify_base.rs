//! `--verify-policy`: a platform is never built on a published base that does not verify.
//!
//! Applies to the base of a platform (any job but a hardened base's own build, whose FROM is the
//! pinned upstream image) when it comes from a registry and was not rebuilt in this run (a base
//! rebuilt in the run was verified by its own push step before its tags moved). The base is
//! checked at the registry digest golden-build resolved — the digest it builds on — with
//! golden-push's verifier: the signature by a key of the policy (or its keyless identity), and
//! the provenance and signed scan report as the policy requires.

use std::path::Path;

use golden_oci::Reference;
use golden_oci::digest::is_sha256;
use golden_push::sign::PublicKey;
use golden_push::sign::policy::Policy;
use golden_push::sign::verify::verify;
use golden_registry::{Client, ClientOptions};

use crate::base::ResolvedBase;
use crate::outcome::BuildError;
use crate::spec::{Job, Options};

/// Check `base` against the policy file; `Ok` when verified or out of scope.
pub async fn check(
    job: &Job,
    opts: &Options,
    policy_file: &Path,
    base: &ResolvedBase,
) -> Result<(), BuildError> {
    let not = |why: String| BuildError::BaseNotVerified {
        reference: base.reference.clone(),
        why,
    };
    if job.base_in_run {
        return Ok(());
    }
    // A hardened base's own build starts FROM the pinned upstream image: not ours to sign.
    if job
        .entry
        .as_ref()
        .is_some_and(|e| e.stage == golden_contracts::plan::StageKind::Base)
    {
        return Ok(());
    }
    if !crate::base::names_registry(&base.reference) {
        return Ok(());
    }
    let Ok(name) = Reference::parse(&base.name) else {
        return Err(not("its name is not a registry reference".into()));
    };
    let mut own: Vec<String> = job
        .tags
        .iter()
        .filter_map(|t| Reference::parse(t).ok())
        .map(|r| r.registry)
        .collect();
    own.push(name.registry.clone());
    if !is_sha256(&base.digest) || base.digest == base.build_arg {
        return Err(not(
            "its registry digest is unknown (only the engine's image id is): pull it from the registry so the digest that is built on is the one verified".into(),
        ));
    }
    let policy = Policy::read(policy_file).map_err(|e| not(format!("policy: {e}")))?;
    let mut keys = Vec::new();
    for p in &policy.keys {
        keys.push(PublicKey::read(p).map_err(|e| not(format!("policy key: {e}")))?);
    }
    let client = Client::new(ClientOptions {
        auth: opts.auth,
        auth_hosts: own,
        ..ClientOptions::default()
    })
    .map_err(|e| not(format!("registry client: {e}")))?;
    let subject = name.with_digest(&base.digest);
    let v = verify(&client, &subject, &keys, &policy)
        .await
        .map_err(|e| not(format!("verification error: {e}")))?;
    if !v.verified {
        let detail: Vec<String> = v
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| format!("{}: {}", c.rule, golden_gha::neutralize(&c.detail)))
            .collect();
        return Err(not(format!("failed {}", detail.join("; "))));
    }
    if !opts.quiet {
        eprintln!(
            "golden-build: base {} verified ({})",
            golden_gha::neutralize(&subject.to_string()),
            v.checks
                .iter()
                .map(|c| c.rule.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}
