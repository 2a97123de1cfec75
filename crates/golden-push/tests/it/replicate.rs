//! Replication and retention against real registries: `copy` carries referrers (recursively)
//! between registries with and without the referrers API, concurrent `attach` calls keep every
//! referrer in the tag schema, `sync` copies what the destination lacks and nothing on a
//! second run, `purge` removes old per-run tags and never a released digest.

use crate::front;
use crate::support::{Registry, golden_push, skopeo, small_archive};

async fn push(archive: &std::path::Path, to: &str) -> String {
    let run = golden_push(
        &[&format!("docker-archive:{}", archive.display()), "--to", to],
        &[],
    )
    .await;
    run.ok();
    run.output("digest").to_string()
}

async fn attach(subject: &str, file: &std::path::Path, artifact_type: &str) -> String {
    let run = golden_push(
        &[
            "attach",
            subject,
            &file.display().to_string(),
            "--artifact-type",
            artifact_type,
        ],
        &[],
    )
    .await;
    run.ok();
    run.output("digest").to_string()
}

/// The referrers of `subject` as (digest, artifactType) pairs, sorted.
async fn referrers(subject: &str) -> Vec<(String, String)> {
    let run = golden_push(&["referrers", subject, "--format", "json"], &[]).await;
    run.ok();
    let mut v: Vec<(String, String)> = run
        .json()
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", run.stdout))
        .iter()
        .map(|d| {
            (
                d["digest"].as_str().unwrap().to_string(),
                d["artifactType"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

const REPORT: &str = "application/vnd.golden.scan-report.v1+json";
const SBOM: &str = "application/vnd.cyclonedx+json";
const BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const AUDIT: &str = "application/vnd.golden.audit.v1+json";

#[tokio::test(flavor = "multi_thread")]
async fn registry_copy_carries_referrers_with_and_without_the_referrers_api() {
    let a = Registry::start();
    let b = Registry::start();
    let c_behind = Registry::start();
    let c = front::start(c_behind.host()).await;
    let dir = tempfile::tempdir().unwrap();
    let archive = small_archive(dir.path(), "carry", "amd64");
    let src = format!("{}/staging/app:1", a.host());
    let digest = push(&archive, &src).await;
    let subject = format!("{}/staging/app@{digest}", a.host());
    let report = dir.path().join("report.json");
    std::fs::write(&report, br#"{"verdict":"pass"}"#).unwrap();
    let sbom = dir.path().join("sbom.cdx.json");
    std::fs::write(&sbom, br#"{"bomFormat":"CycloneDX"}"#).unwrap();
    let sig = dir.path().join("report.sigstore.json");
    std::fs::write(
        &sig,
        br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#,
    )
    .unwrap();
    let report_digest = attach(&subject, &report, REPORT).await;
    attach(&subject, &sbom, SBOM).await;
    // A signature of the report: a referrer of a referrer.
    let sig_digest = attach(
        &format!("{}/staging/app@{report_digest}", a.host()),
        &sig,
        BUNDLE,
    )
    .await;
    let want = referrers(&subject).await;
    assert_eq!(want.len(), 2, "{want:?}");

    // 1. Without the API on both sides (tag schema → tag schema).
    let run = golden_push(
        &[
            "copy",
            &src,
            &format!("{}/release/app", b.host()),
            "--format",
            "json",
        ],
        &[],
    )
    .await;
    run.ok();
    assert_eq!(run.output("referrers"), "3", "{}", run.stderr);
    let at_b = format!("{}/release/app@{digest}", b.host());
    assert_eq!(referrers(&at_b).await, want);
    assert_eq!(
        referrers(&format!("{}/release/app@{report_digest}", b.host())).await,
        vec![(sig_digest.clone(), BUNDLE.to_string())],
        "the report's signature came along"
    );
    // The copied referrers are byte-identical (same digests) and readable.
    skopeo(
        &format!("{}/release/app@{sig_digest}", b.host()),
        true,
        None,
    )
    .unwrap();

    // 2. To a registry with the API (tag schema → API): listed by the API, no tag-schema tag.
    let run = golden_push(&["copy", &src, &format!("{}/release/app", c.host)], &[]).await;
    run.ok();
    let at_c = format!("{}/release/app@{digest}", c.host);
    assert_eq!(referrers(&at_c).await, want);
    assert!(
        c.state.lock().unwrap().listings > 0,
        "the front's referrers API was used"
    );
    let tags = golden_push(&["referrers", &at_c], &[]).await;
    tags.ok();
    let listed = skopeo_tags(&format!("{}/release/app", c_behind.host()));
    assert!(
        !listed.iter().any(|t| t.starts_with("sha256-")),
        "a registry with the referrers API gets no tag-schema tag: {listed:?}"
    );

    // 3. From the API side to a registry without it (API → tag schema), and `--no-referrers`.
    let d = Registry::start();
    let run = golden_push(
        &[
            "copy",
            &format!("{}/release/app:1", c.host),
            &format!("{}/dr/app", d.host()),
        ],
        &[],
    )
    .await;
    run.ok();
    assert_eq!(
        referrers(&format!("{}/dr/app@{digest}", d.host())).await,
        want
    );
    let run = golden_push(
        &[
            "copy",
            &src,
            &format!("{}/bare/app", d.host()),
            "--no-referrers",
        ],
        &[],
    )
    .await;
    run.ok();
    assert!(
        referrers(&format!("{}/bare/app@{digest}", d.host()))
            .await
            .is_empty()
    );
}

fn skopeo_tags(repo: &str) -> Vec<String> {
    let out = std::process::Command::new("skopeo")
        .args([
            "list-tags",
            "--tls-verify=false",
            &format!("docker://{repo}"),
        ])
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_concurrent_attach_calls_keep_every_referrer() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let archive = small_archive(dir.path(), "race", "amd64");
    let digest = push(&archive, &format!("{}/golden/race:1", reg.host())).await;
    let subject = format!("{}/golden/race@{digest}", reg.host());
    // Eight attach processes at once on a registry without the referrers API: each reads the
    // tag-schema index, adds its entry and writes it back — the lost-update race.
    let mut files = Vec::new();
    for i in 0..8 {
        let f = dir.path().join(format!("r{i}.json"));
        std::fs::write(&f, format!("{{\"n\":{i}}}")).unwrap();
        files.push(f);
    }
    let runs =
        futures_util::future::join_all(files.iter().map(|f| attach(&subject, f, REPORT))).await;
    let mut attached = runs.clone();
    attached.sort();
    let listed: Vec<String> = referrers(&subject)
        .await
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    assert_eq!(listed, attached, "every concurrent attach is listed");
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_sync_copies_what_is_missing_and_nothing_the_second_time() {
    let a = Registry::start();
    let b = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let x = small_archive(dir.path(), "sync-x", "amd64");
    let y = small_archive(dir.path(), "sync-y", "arm64");
    let dx = push(&x, &format!("{}/golden/nginx:1.22-debian", a.host())).await;
    push(
        &x,
        &format!("{}/golden/nginx:1.22-debian-20261207", a.host()),
    )
    .await;
    let dy = push(&y, &format!("{}/golden/base:12", a.host())).await;
    let report = dir.path().join("report.json");
    std::fs::write(&report, br#"{"verdict":"pass"}"#).unwrap();
    attach(&format!("{}/golden/nginx@{dx}", a.host()), &report, REPORT).await;

    let sources = [
        format!("{}/golden/nginx", a.host()),
        format!("{}/golden/base", a.host()),
    ];
    let dry = golden_push(
        &[
            "sync",
            &sources[0],
            &sources[1],
            "--to",
            &b.host(),
            "--dry-run",
        ],
        &[],
    )
    .await;
    dry.ok();
    assert!(dry.stdout.contains("would copy"), "{}", dry.stdout);
    assert!(
        skopeo(&format!("{}/golden/base:12", b.host()), false, None).is_err(),
        "dry run copied"
    );

    let first = golden_push(&["sync", &sources[0], &sources[1], "--to", &b.host()], &[]).await;
    first.ok();
    assert_eq!(first.output("copied"), "2", "{}", first.stdout);
    assert_eq!(
        first.output("tagged"),
        "1",
        "the dated tag shares the digest: {}",
        first.stdout
    );
    assert_eq!(first.output("referrers-copied"), "1");
    assert_eq!(first.output("in-sync"), "false");
    let info: serde_json::Value = serde_json::from_str(
        &skopeo(&format!("{}/golden/base:12", b.host()), false, None).unwrap(),
    )
    .unwrap();
    assert_eq!(info["Digest"], dy.as_str());
    let at_b = referrers(&format!("{}/golden/nginx@{dx}", b.host())).await;
    assert_eq!(
        at_b.len(),
        2,
        "the report and the replication audit record: {at_b:?}"
    );
    assert!(at_b.iter().any(|(_, t)| t == AUDIT), "{at_b:?}");
    // The referrers tag at the source is not synced as an image tag.
    assert!(!first.stdout.contains("sha256-"), "{}", first.stdout);

    let second = golden_push(&["sync", &sources[0], &sources[1], "--to", &b.host()], &[]).await;
    second.ok();
    assert_eq!(second.output("in-sync"), "true", "{}", second.stdout);
    assert_eq!(second.output("copied"), "0");
    assert!(
        second.stdout.contains("in sync: 3 tag(s)"),
        "{}",
        second.stdout
    );

    // A referrer added at the source later (a new signature) is carried by the next run.
    let sig = dir.path().join("sig.json");
    std::fs::write(&sig, br#"{"sig":1}"#).unwrap();
    attach(&format!("{}/golden/nginx@{dx}", a.host()), &sig, BUNDLE).await;
    let third = golden_push(&["sync", &sources[0], "--to", &b.host()], &[]).await;
    third.ok();
    assert_eq!(third.output("referrers-copied"), "1", "{}", third.stdout);
    assert_eq!(
        referrers(&format!("{}/golden/nginx@{dx}", b.host()))
            .await
            .len(),
        3
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_purge_removes_old_run_tags_and_never_a_released_digest() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let repo = format!("{}/staging/nginx", reg.host());
    // Four runs: the release tag is on the newest; the old runs' dated tags are candidates.
    let mut digests = Vec::new();
    for (i, date) in ["20250101", "20250201", "20250301", "20250401"]
        .iter()
        .enumerate()
    {
        let archive = small_archive(dir.path(), &format!("purge-{i}"), "amd64");
        let d = push(&archive, &format!("{repo}:1.22-debian-{date}")).await;
        digests.push(d);
    }
    // The oldest run is still released under another name: its digest must survive.
    let run = golden_push(
        &[
            "copy",
            &format!("{repo}@{}", digests[0]),
            &format!("{repo}:1.22-debian-lts"),
        ],
        &[],
    )
    .await;
    run.ok();
    let run = golden_push(
        &[
            "copy",
            &format!("{repo}@{}", digests[3]),
            &format!("{repo}:1.22-debian"),
        ],
        &[],
    )
    .await;
    run.ok();
    let report = dir.path().join("report.json");
    std::fs::write(&report, br#"{"verdict":"pass"}"#).unwrap();
    attach(&format!("{repo}@{}", digests[1]), &report, REPORT).await;

    let dry = golden_push(
        &[
            "purge",
            &repo,
            "--keep",
            "1",
            "--older-than",
            "30",
            "--dry-run",
        ],
        &[],
    )
    .await;
    dry.ok();
    assert!(dry.stdout.contains("would delete"), "{}", dry.stdout);
    assert_eq!(dry.output("deleted"), "0");
    let would: Vec<&str> = dry.output("tags").lines().collect();
    assert_eq!(
        would,
        ["1.22-debian-20250201", "1.22-debian-20250301"],
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("digest also tagged 1.22-debian-lts"),
        "{}",
        dry.stdout
    );
    skopeo(&format!("{repo}@{}", digests[1]), true, None).expect("dry run deleted nothing");

    let real = golden_push(&["purge", &repo, "--keep", "1", "--older-than", "30"], &[]).await;
    real.ok();
    assert_eq!(
        real.output("deleted"),
        "2",
        "{}\n{}",
        real.stdout,
        real.stderr
    );
    for gone in &digests[1..3] {
        assert!(
            skopeo(&format!("{repo}@{gone}"), true, None).is_err(),
            "{gone} still there"
        );
    }
    for kept in [
        "1.22-debian",
        "1.22-debian-lts",
        "1.22-debian-20250401",
        "1.22-debian-20250101",
    ] {
        skopeo(&format!("{repo}:{kept}"), true, None).unwrap_or_else(|e| panic!("{kept}: {e}"));
    }
    // The deleted image's referrers went with it.
    let tags = skopeo_tags(&repo);
    assert!(!tags.iter().any(|t| t.starts_with("sha256-")), "{tags:?}");
}

/// Push `name` to staging with a dated tag and a scan report whose policy `passed`.
async fn stage(dir: &std::path::Path, host: &str, name: &str, passed: bool) -> (String, String) {
    let archive = small_archive(dir, &format!("promote-{name}"), "amd64");
    let repo = format!("{host}/staging/{name}");
    let digest = push(&archive, &format!("{repo}:1-debian-20261207")).await;
    let report = dir.join(format!("{name}-report.json"));
    std::fs::write(
        &report,
        format!(r#"{{"policy":{{"passed":{passed},"failures":[]}}}}"#),
    )
    .unwrap();
    attach(&format!("{repo}@{digest}"), &report, REPORT).await;
    (repo, digest)
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_promotion_is_all_or_nothing_and_leaves_an_audit_record() {
    let staging = Registry::start();
    let release_behind = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let mut items = Vec::new();
    for name in ["nginx", "python", "tomcat"] {
        let (repo, digest) = stage(dir.path(), &staging.host(), name, true).await;
        items.push(format!("{repo}@{digest}"));
    }
    let release_tags = |host: &str, name: &str| {
        let out = std::process::Command::new("skopeo")
            .args([
                "list-tags",
                "--tls-verify=false",
                &format!("docker://{host}/staging/{name}"),
            ])
            .output()
            .unwrap();
        if !out.status.success() {
            return Vec::new();
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["Tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };

    // The 3rd copy fails: nothing is tagged anywhere in the release registry.
    let failing = front::start_with(release_behind.host(), Some("staging/tomcat".into())).await;
    let args: Vec<&str> = ["promote"]
        .into_iter()
        .chain(items.iter().map(String::as_str))
        .collect();
    let mut with_to = args.clone();
    with_to.extend(["--to", &failing.host]);
    let run = golden_push(&with_to, &[]).await;
    run.failed();
    assert!(
        run.stderr.contains("no release tag moved"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("2 of 3 images were copied"),
        "{}",
        run.stderr
    );
    assert!(
        failing.state.lock().unwrap().failed_writes > 0,
        "the failure was injected"
    );
    for name in ["nginx", "python", "tomcat"] {
        assert!(
            release_tags(&release_behind.host(), name)
                .iter()
                .all(|t| t.starts_with("sha256-")),
            "{name} got a release tag from a failed promotion: {:?}",
            release_tags(&release_behind.host(), name)
        );
    }

    // Again without the failure: every image, its dated and moving tags, its referrers and an
    // audit record naming the environment and approver.
    let mut ok_args = args.clone();
    let host = release_behind.host();
    ok_args.extend([
        "--to",
        &host,
        "--format",
        "json",
        "--environment",
        "production",
        "--approver",
        "octocat",
    ]);
    let run = golden_push(&ok_args, &[]).await;
    run.ok();
    for name in ["nginx", "python", "tomcat"] {
        let tags = release_tags(&host, name);
        assert!(
            tags.contains(&"1-debian".to_string())
                && tags.contains(&"1-debian-20261207".to_string()),
            "{name}: {tags:?}"
        );
    }
    let report = run.json();
    assert_eq!(report["audit_records"].as_array().unwrap().len(), 3);
    let nginx = &report["images"][0];
    let at = format!("{host}/staging/nginx@{}", nginx["digest"].as_str().unwrap());
    let listed = referrers(&at).await;
    assert!(listed.iter().any(|(_, t)| t == REPORT), "{listed:?}");
    let audit: Vec<&(String, String)> = listed.iter().filter(|(_, t)| t == AUDIT).collect();
    assert_eq!(audit.len(), 1, "{listed:?}");
    let raw = skopeo(&format!("{host}/staging/nginx@{}", audit[0].0), true, None).unwrap();
    let m: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(m["annotations"]["dev.golden.audit.event"], "promotion");

    // A failed scan report: refused before anything is copied.
    let (repo, digest) = stage(dir.path(), &staging.host(), "openjdk", false).await;
    let other = Registry::start();
    let run = golden_push(
        &[
            "promote",
            &format!("{repo}@{digest}"),
            "--to",
            &other.host(),
        ],
        &[],
    )
    .await;
    run.failed();
    assert!(
        run.stderr.contains("did not pass the policy"),
        "{}",
        run.stderr
    );
    assert!(
        skopeo(
            &format!("{}/staging/openjdk@{digest}", other.host()),
            true,
            None
        )
        .is_err()
    );
    // By tag: refused (a tag can move between approval and copy).
    let run = golden_push(
        &[
            "promote",
            &format!("{repo}:1-debian-20261207"),
            "--to",
            &other.host(),
        ],
        &[],
    )
    .await;
    run.failed();
    assert!(run.stderr.contains("by digest"), "{}", run.stderr);
}

/// `promote --verify-key`: an unsigned image stops the whole promotion before anything is
/// copied; signed ones are promoted, and `--sign-key` signs each promotion audit record (a
/// bundle whose subject is the record, verified by `golden-push verify` with the public key);
/// `sync --sign-key` signs its replication records the same way.
#[tokio::test(flavor = "multi_thread")]
async fn registry_promotion_verifies_each_image_and_signs_its_audit_records() {
    let staging = Registry::start();
    let release = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = d.join("k.pem").display().to_string();
    golden_push(&["keygen", &key], &[]).await.ok();
    let public = format!("{key}.pub");
    let other = d.join("other.pem").display().to_string();
    golden_push(&["keygen", &other], &[]).await.ok();
    let env = || vec![("GITHUB_REPOSITORY", "acme/golden".to_string())];
    let (nginx, nginx_digest) = stage(d, &staging.host(), "nginx", true).await;
    let (python, python_digest) = stage(d, &staging.host(), "python", true).await;
    let nginx_at = format!("{nginx}@{nginx_digest}");
    let python_at = format!("{python}@{python_digest}");
    golden_push(&["sign", &nginx_at, "--sign-key", &key], &env())
        .await
        .ok();

    // python is unsigned: nothing is promoted, and the message names it and the rule.
    let run = golden_push(
        &[
            "promote",
            &nginx_at,
            &python_at,
            "--to",
            &release.host(),
            "--verify-key",
            &public,
        ],
        &[],
    )
    .await;
    run.failed();
    assert!(
        run.stderr.contains(&format!(
            "{python}@{}: not verified by the verify policy (failed: signature",
            &python_digest[7..19]
        )),
        "{}",
        run.stderr
    );
    let error = run.stderr.lines().find(|l| l.contains("error:")).unwrap();
    assert!(!error.contains(&format!("{nginx}@")), "{error}");
    for at in [&nginx_digest, &python_digest] {
        for name in ["nginx", "python"] {
            assert!(
                skopeo(
                    &format!("{}/staging/{name}@{at}", release.host()),
                    true,
                    None
                )
                .is_err(),
                "{name} reached the release registry"
            );
        }
    }

    // Signed with another key than the trusted one: refused too.
    golden_push(&["sign", &python_at, "--sign-key", &other], &env())
        .await
        .ok();
    let run = golden_push(
        &[
            "promote",
            &python_at,
            "--to",
            &release.host(),
            "--verify-key",
            &public,
        ],
        &[],
    )
    .await;
    run.failed();
    assert!(run.stderr.contains("not verified"), "{}", run.stderr);

    // Both signed by the trusted key: promoted, verified, audit records signed.
    golden_push(&["sign", &python_at, "--sign-key", &key], &env())
        .await
        .ok();
    let host = release.host();
    let run = golden_push(
        &[
            "promote",
            &nginx_at,
            &python_at,
            "--to",
            &host,
            "--verify-key",
            &public,
            "--sign-key",
            &key,
            "--format",
            "json",
        ],
        &[],
    )
    .await;
    run.ok();
    let report = run.json();
    for img in report["images"].as_array().unwrap() {
        assert_eq!(img["verification"]["verified"], true, "{img}");
        let rules: Vec<&str> = img["verification"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["rule"].as_str().unwrap())
            .collect();
        assert!(rules.contains(&"signature"), "{rules:?}");
    }
    let records = report["audit_records"].as_array().unwrap();
    let signatures = report["audit_signatures"].as_array().unwrap();
    assert_eq!((records.len(), signatures.len()), (2, 2), "{report}");
    let only_signature = d.join("signature-only.yaml");
    std::fs::write(
        &only_signature,
        "provenance:\n  required: false\nscan_report:\n  required: false\n",
    )
    .unwrap();
    for (name, digest) in [("nginx", &nginx_digest), ("python", &python_digest)] {
        let listed = referrers(&format!("{host}/staging/{name}@{digest}")).await;
        let audit: Vec<&String> = listed
            .iter()
            .filter(|(_, t)| t == AUDIT)
            .map(|(d, _)| d)
            .collect();
        assert_eq!(audit.len(), 1, "{listed:?}");
        let record = format!("{host}/staging/{name}@{}", audit[0]);
        let on_record = referrers(&record).await;
        assert!(
            on_record.iter().any(|(_, t)| t == BUNDLE),
            "the audit record of {name} is unsigned: {on_record:?}"
        );
        let v = golden_push(
            &[
                "verify",
                &record,
                "--key",
                &public,
                "--policy",
                &only_signature.display().to_string(),
            ],
            &[],
        )
        .await;
        assert_eq!(v.status, 0, "{}\n{}", v.stdout, v.stderr);
        // Another key does not verify it.
        let v = golden_push(
            &[
                "verify",
                &record,
                "--key",
                &format!("{other}.pub"),
                "--policy",
                &only_signature.display().to_string(),
            ],
            &[],
        )
        .await;
        assert_eq!(v.status, 1, "{}\n{}", v.stdout, v.stderr);
    }

    // Replication: each copied digest gets a signed replication record.
    let secondary = Registry::start();
    let run = golden_push(
        &[
            "sync",
            &format!("{host}/staging/nginx"),
            "--to",
            &secondary.host(),
            "--sign-key",
            &key,
            "--format",
            "json",
        ],
        &[],
    )
    .await;
    run.ok();
    let r = run.json();
    let recs = r["audit_records"].as_array().unwrap();
    assert!(!recs.is_empty(), "{r}");
    for rec in recs {
        let sig = rec["signature"].as_str().unwrap_or_default();
        assert!(
            sig.starts_with("sha256:"),
            "unsigned replication record: {r}"
        );
        let on_record = referrers(&format!(
            "{}/staging/nginx@{}",
            secondary.host(),
            rec["record"].as_str().unwrap()
        ))
        .await;
        assert!(
            on_record.iter().any(|(d, t)| t == BUNDLE && d == sig),
            "{on_record:?}"
        );
    }
}

/// A registry that refuses deletes (distribution's default, 405 UNSUPPORTED; ACR without
/// AcrDelete answers alike in spirit): the dry run still lists the plan, the real purge fails
/// with exit 2 naming the refused object and how to allow deletes, and deletes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn registry_purge_on_a_registry_that_refuses_deletes_says_so_and_deletes_nothing() {
    let reg = Registry::start_with(&["--no-delete".to_string()]);
    let dir = tempfile::tempdir().unwrap();
    let repo = format!("{}/staging/nginx", reg.host());
    let mut digests = Vec::new();
    for (i, date) in ["20250101", "20250201", "20250301"].iter().enumerate() {
        let archive = small_archive(dir.path(), &format!("nodelete-{i}"), "amd64");
        digests.push(push(&archive, &format!("{repo}:1.22-debian-{date}")).await);
    }
    let args = ["purge", &repo, "--keep", "1", "--older-than", "30"];
    let dry = golden_push(&[&args[..], &["--dry-run"]].concat(), &[]).await;
    dry.ok();
    assert_eq!(
        dry.output("tags").lines().count(),
        2,
        "{}\n{}",
        dry.stdout,
        dry.stderr
    );
    let real = golden_push(&args, &[]).await;
    real.failed();
    assert!(
        real.stderr.contains("refuses to delete")
            && real.stderr.contains("HTTP 405")
            && real.stderr.contains("storage.delete.enabled")
            && real.stderr.contains("AcrDelete"),
        "{}",
        real.stderr
    );
    for d in &digests {
        skopeo(&format!("{repo}@{d}"), true, None).unwrap_or_else(|e| panic!("{d} is gone: {e}"));
    }
}
