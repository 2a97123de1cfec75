//! Build cache sources (`--cache-from`) on a fresh engine: golden-build pulls each source from
//! its registry before the build, so the classic builder reuses the published image's layers.
//! Real engine, real registries (scripts/registry.sh); images are pushed with skopeo and
//! removed from the engine (with every intermediate image of their build) before the rebuild,
//! as on a fresh runner.

use std::path::Path;
use std::process::Command;

use crate::base_pull::{Registry, read_json, require};
use crate::common::*;

/// The markers the RUN steps print: computed by the shell (`$((1+1))`), so the text appears in
/// the output only when the step really runs (the step line shows the unexpanded command).
const RAN_ONE: &str = "RAN-ONE-2";
const RAN_TWO: &str = "RAN-TWO-4";

fn write_context(dir: &Path, changing: &str) {
    let bb = busybox();
    write_tree(
        dir,
        &[
            (
                "Dockerfile",
                &format!(
                    "FROM {bb}\n\
                     RUN echo \"RAN-ONE-$((1+1))\" && mkdir -p /a && echo one > /a/one\n\
                     COPY changing.txt /changing.txt\n\
                     RUN echo \"RAN-TWO-$((2+2))\" && cat /changing.txt > /a/two\n"
                ),
            ),
            ("changing.txt", changing),
        ],
    );
}

/// Build the context in `dir` with golden-build (fixed label date, no docker config).
fn build(dir: &Path, tag: &str, extra: &[&str], envs: &[(&str, &str)]) -> Out {
    let mut c = golden_build(dir);
    c.env("SOURCE_DATE_EPOCH", "1700000000")
        .env("DOCKER_CONFIG", dir.join("no-docker-config"))
        .args(["--repo-root", ".", "--context", ".", "-t", tag])
        .args(["--record", "record.json"])
        .args(extra);
    for (k, v) in envs {
        c.env(k, v);
    }
    run(&mut c)
}

/// Copy `local` from the engine to the registry reference `to` (skopeo).
fn push(local: &str, to: &str, creds: Option<&str>) {
    require("skopeo");
    let mut c = Command::new("skopeo");
    c.args(["copy", "--quiet", "--dest-tls-verify=false"]);
    if let Some(cr) = creds {
        c.args(["--dest-creds", cr]);
    }
    let out = c
        .arg(format!("docker-daemon:{local}"))
        .arg(format!("docker://{to}"))
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo copy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The ids of the images a build printed (` ---> <id>` after each step, FROM's included).
fn printed_ids(build_output: &str) -> Vec<String> {
    build_output
        .lines()
        .filter_map(|l| l.trim().strip_prefix("---> "))
        .map(str::trim)
        .filter(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_string)
        .collect()
}

/// Remove `tags` from the engine, then check that no image of `build_output` but the FROM image
/// is left: the engine holds none of the layers' build cache (a fresh runner).
fn remove_all(tags: &[&str], build_output: &str, from: &str) {
    let e = engine();
    for t in tags {
        let _ = rt().block_on(e.remove_image(t, true));
    }
    let from_id = inspect(from).and_then(|i| i.id).expect("FROM image");
    for id in printed_ids(build_output) {
        if from_id.trim_start_matches("sha256:").starts_with(&id) {
            continue;
        }
        assert!(
            inspect(&id).is_none(),
            "image {id} of the earlier build is still in the engine"
        );
    }
    for t in tags {
        assert!(inspect(t).is_none(), "{t} is still in the engine");
    }
}

/// Each `Step N/M : INSTRUCTION` of the output with whether the engine used its cache.
fn steps(build_output: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for l in build_output.lines() {
        let t = l.trim();
        if t.starts_with("Step ") {
            out.push((t.to_string(), false));
        } else if t == "---> Using cache"
            && let Some(last) = out.last_mut()
        {
            last.1 = true;
        }
    }
    out
}

/// Steps after FROM that were (`true`) or were not cached, by instruction prefix.
fn cached(steps: &[(String, bool)], instruction: &str) -> Vec<bool> {
    steps
        .iter()
        .filter(|(s, _)| {
            s.split_once(" : ")
                .is_some_and(|(_, i)| i.starts_with(instruction))
        })
        .map(|(_, c)| *c)
        .collect()
}

#[test]
fn registry_cache_from_a_pulled_image_reuses_every_layer_and_rebuilds_from_a_changed_copy() {
    let reg = Registry::start(None);
    let published = format!("{}/golden-build-test/cached:1", reg.host());
    let bb = busybox();
    let d = tempfile::tempdir().expect("tempdir");
    let tag = unique_tag("cache-src");
    let mut cleanup = Cleanup::default();
    cleanup.add(&tag);
    cleanup.add(&published);
    write_context(d.path(), "first\n");

    // The published image: built, pushed, then gone from the engine with its build cache.
    let first = build(d.path(), &tag, &[], &[]);
    assert_eq!(first.code, 0, "{}", first.both());
    assert!(first.stdout.contains(RAN_ONE) && first.stdout.contains(RAN_TWO));
    let first_id = inspect(&tag).and_then(|i| i.id).expect("built");
    push(&tag, &published, None);
    remove_all(&[&tag], &first.stdout, &bb);

    // (a) The same Dockerfile with --cache-from the registry reference: pulled, every step
    // after FROM is taken from the cache, no RUN executes, and the result is the same image.
    let again = build(d.path(), &tag, &["--cache-from", &published], &[]);
    assert_eq!(again.code, 0, "{}", again.both());
    assert!(
        again.stderr.contains(&format!(
            "pulling cache image {published} (auth: anonymous)"
        )),
        "{}",
        again.both()
    );
    let s = steps(&again.stdout);
    assert!(s.len() >= 5, "FROM, RUN, COPY, RUN, LABEL: {s:?}");
    assert!(
        s.iter().skip(1).all(|(_, c)| *c),
        "every step after FROM uses the cache: {s:?}\n{}",
        again.both()
    );
    assert!(
        !again.stdout.contains(RAN_ONE) && !again.stdout.contains(RAN_TWO),
        "no RUN step executed\n{}",
        again.both()
    );
    assert_eq!(
        inspect(&tag).and_then(|i| i.id).as_deref(),
        Some(first_id.as_str())
    );
    let rec = read_json(&d.path().join("record.json"));
    assert_eq!(rec["result"], "success");
    assert_eq!(rec["cache"]["used"], serde_json::json!([published]));
    assert_eq!(rec["cache"]["missing"], serde_json::json!([]));

    // Without --cache-from the same fresh engine rebuilds everything (the cache came from the
    // pulled image, nothing else).
    remove_all(&[&tag, &published], &again.stdout, &bb);
    let uncached = build(d.path(), &tag, &[], &[]);
    assert_eq!(uncached.code, 0, "{}", uncached.both());
    assert!(
        uncached.stdout.contains(RAN_ONE) && uncached.stdout.contains(RAN_TWO),
        "{}",
        uncached.both()
    );
    assert!(
        steps(&uncached.stdout).iter().all(|(_, c)| !*c),
        "{}",
        uncached.both()
    );
    let rec = read_json(&d.path().join("record.json"));
    assert!(rec.get("cache").is_none(), "{rec}");

    // (b) One COPY'd file changed: the RUN before it is cached, the COPY and the RUN after it
    // run.
    remove_all(&[&tag], &uncached.stdout, &bb);
    write_context(d.path(), "second\n");
    let changed = build(d.path(), &tag, &["--cache-from", &published], &[]);
    assert_eq!(changed.code, 0, "{}", changed.both());
    let s = steps(&changed.stdout);
    assert_eq!(cached(&s, "RUN "), [true, false], "{s:?}");
    assert_eq!(cached(&s, "COPY "), [false], "{s:?}");
    assert!(
        !changed.stdout.contains(RAN_ONE) && changed.stdout.contains(RAN_TWO),
        "{}",
        changed.both()
    );
    cleanup.add_built(&changed.stdout);
    cleanup.add_built(&uncached.stdout);
}

#[test]
fn registry_missing_cache_source_is_a_warning_and_the_build_runs_uncached() {
    let reg = Registry::start(None);
    let never = format!("{}/golden-build-test/never-published:1", reg.host());
    // A registry that does not answer at all (nothing listens on the port).
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        let port = l.local_addr().expect("addr").port();
        drop(l);
        format!("127.0.0.1:{port}/golden-build-test/down:1")
    };
    let d = tempfile::tempdir().expect("tempdir");
    let tag = unique_tag("cache-missing");
    let mut cleanup = Cleanup::default();
    cleanup.add(&tag);
    write_context(d.path(), "x\n");
    let out = build(
        d.path(),
        &tag,
        &["--cache-from", &never],
        &[("GOLDEN_CACHE_FROM", "unused")],
    );
    // The flag wins over the variable; then both sources through the variable, one per line.
    assert_eq!(out.code, 0, "{}", out.both());
    assert!(!out.stderr.contains("`unused`"), "{}", out.both());
    assert!(
        out.stderr.contains(&format!(
            "warning: cache image `{never}` is not available, building without it: not in the registry"
        )),
        "{}",
        out.both()
    );
    assert!(out.stdout.contains(RAN_ONE), "{}", out.both());
    assert!(inspect(&tag).is_some());
    let rec = read_json(&d.path().join("record.json"));
    assert_eq!(rec["result"], "success");
    assert_eq!(rec["cache"]["used"], serde_json::json!([]));
    assert_eq!(rec["cache"]["missing"][0]["reference"], never.as_str());
    assert!(
        rec["cache"]["missing"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("manifest unknown") || r.contains("not found")),
        "{rec}"
    );
    cleanup.add_built(&out.stdout);

    let both = format!("{never}\n{down}\n");
    let out = build(d.path(), &tag, &[], &[("GOLDEN_CACHE_FROM", &both)]);
    assert_eq!(out.code, 0, "{}", out.both());
    assert!(
        out.stderr
            .contains(&format!("warning: cache image `{down}` is not available")),
        "{}",
        out.both()
    );
    let rec = read_json(&d.path().join("record.json"));
    let missing: Vec<&str> = rec["cache"]["missing"]
        .as_array()
        .expect("missing list")
        .iter()
        .filter_map(|m| m["reference"].as_str())
        .collect();
    assert_eq!(missing, [never.as_str(), down.as_str()]);
    cleanup.add_built(&out.stdout);

    // --no-cache: nothing is pulled, the record says the sources were skipped.
    let out = build(d.path(), &tag, &["--no-cache", "--cache-from", &never], &[]);
    assert_eq!(out.code, 0, "{}", out.both());
    assert!(
        !out.stderr.contains("pulling cache image"),
        "{}",
        out.both()
    );
    assert!(!out.stderr.contains("warning:"), "{}", out.both());
    let rec = read_json(&d.path().join("record.json"));
    assert_eq!(rec["cache"]["skipped_no_cache"], true);
    cleanup.add_built(&out.stdout);
}

/// The cache source's credential comes from the same resolution as the base's (`--auth`,
/// golden-registry): the environment's username/password go to the image's own registry (its
/// tag's), and to no other registry.
#[test]
fn registry_private_cache_source_gets_the_credential_of_its_own_registry_only() {
    require("htpasswd");
    const USER: &str = "golden";
    const PASSWORD: &str = "cache-s3cret?~>";
    let d = tempfile::tempdir().expect("tempdir");
    let htpasswd = d.path().join("htpasswd");
    let out = Command::new("htpasswd")
        .args(["-Bbn", USER, PASSWORD])
        .output()
        .expect("run htpasswd");
    assert!(out.status.success());
    std::fs::write(&htpasswd, &out.stdout).expect("write htpasswd");
    let reg = Registry::start(Some(&htpasswd));
    let bb = busybox();
    let published = format!("{}/golden-build-test/private-cached:1", reg.host());
    // The image is tagged for the private registry (its own registry, as a plan entry is).
    let own_tag = format!("{}/golden-build-test/private-cached:pr-1", reg.host());
    let mut cleanup = Cleanup::default();
    cleanup.add(&own_tag);
    cleanup.add(&published);
    write_context(d.path(), "private\n");
    let first = build(d.path(), &own_tag, &[], &[]);
    assert_eq!(first.code, 0, "{}", first.both());
    push(&own_tag, &published, Some(&format!("{USER}:{PASSWORD}")));
    remove_all(&[&own_tag], &first.stdout, &bb);

    let creds = [
        ("GOLDEN_REGISTRY_USERNAME", USER),
        ("GOLDEN_REGISTRY_PASSWORD", PASSWORD),
    ];
    // Tagged for another registry: the credential is not sent to the cache's registry, which
    // refuses the anonymous pull (a warning; the build runs uncached).
    let elsewhere = unique_tag("cache-elsewhere");
    cleanup.add(&elsewhere);
    let out = build(d.path(), &elsewhere, &["--cache-from", &published], &creds);
    assert_eq!(out.code, 0, "{}", out.both());
    let not_sent = format!(
        "auth: anonymous (token credentials are not sent to `{}`",
        reg.host()
    );
    assert!(
        out.stderr
            .contains(&format!("pulling cache image {published} ({not_sent}"))
            && out.stderr.contains(&format!(
                "warning: cache image `{published}` is not available, building without it: the registry refused the pull ({not_sent}"
            )),
        "{}",
        out.both()
    );
    assert!(out.stdout.contains(RAN_ONE), "{}", out.both());
    assert!(!out.both().contains(PASSWORD), "{}", out.both());
    let rec = read_json(&d.path().join("record.json"));
    assert_eq!(rec["cache"]["missing"][0]["reference"], published.as_str());
    remove_all(&[&elsewhere], &out.stdout, &bb);

    // Tagged for the cache's registry: the credential goes there, the pull succeeds and every
    // step is cached.
    let out = build(d.path(), &own_tag, &["--cache-from", &published], &creds);
    assert_eq!(out.code, 0, "{}", out.both());
    assert!(
        out.stderr
            .contains(&format!("pulling cache image {published} (auth: token")),
        "{}",
        out.both()
    );
    assert!(!out.both().contains(PASSWORD), "{}", out.both());
    let s = steps(&out.stdout);
    assert!(s.iter().skip(1).all(|(_, c)| *c), "{s:?}\n{}", out.both());
    assert!(!out.stdout.contains(RAN_ONE), "{}", out.both());
    let rec = read_json(&d.path().join("record.json"));
    assert_eq!(rec["cache"]["used"], serde_json::json!([published]));
}

/// `--pull` (the nightly's) with a base golden-build resolved: `BASE_IMAGE` is an image id the
/// engine cannot pull, so golden-build pulls instead: the published base again (even when the
/// engine has it), every other FROM image, and never a base rebuilt in this run.
#[test]
fn registry_pull_refreshes_the_published_base_and_other_from_images_but_not_the_run_base() {
    use crate::base_pull::{platform_entry, publish_base};
    let reg = Registry::start(None);
    let base_ref = format!("{}/golden-build-test/pull-base:1", reg.host());
    let (_digest, base_id) = publish_base(&base_ref, None);
    let other = format!("{}/golden-build-test/pull-other:1", reg.host());
    let mut cleanup = Cleanup::default();
    cleanup.add(&base_ref);
    cleanup.add(&other);
    push(&busybox(), &other, None);
    let d = tempfile::tempdir().expect("tempdir");
    let tag = unique_tag("pull-platform");
    cleanup.add(&tag);
    let entry = platform_entry(d.path(), "tiny-0.1-busybox", &tag, &base_ref, false);
    // A second stage on another registry image (like a builder stage on maven:3).
    write_tree(
        d.path(),
        &[(
            "Dockerfile",
            &format!(
                "ARG BASE_IMAGE\nFROM {other} AS tools\nRUN echo tools > /tools\n\
                 FROM ${{BASE_IMAGE}}\nARG BASE_IMAGE\nLABEL used-base=${{BASE_IMAGE}}\n\
                 COPY --from=tools /tools /tools\nRUN test -f /base-id\n"
            ),
        )],
    );
    let build = |entry: &str| {
        run(golden_build(d.path())
            .env("GOLDEN_ENTRY", entry)
            .env("DOCKER_CONFIG", d.path().join("no-docker-config"))
            .args(["--repo-root", ".", "--pull", "--no-cache"]))
    };
    // The engine has the base already (pulled once without --pull).
    let first = run(golden_build(d.path())
        .env("GOLDEN_ENTRY", &entry)
        .env("DOCKER_CONFIG", d.path().join("no-docker-config"))
        .args(["--repo-root", "."]));
    assert_eq!(first.code, 0, "{}", first.both());
    assert!(inspect(&base_ref).is_some());
    let out = build(&entry);
    assert_eq!(out.code, 0, "{}", out.both());
    assert!(
        out.stderr
            .contains(&format!("pulling base image (--pull) {base_ref}")),
        "{}",
        out.both()
    );
    assert!(
        out.stderr
            .contains(&format!("pulling FROM image (--pull) {other}")),
        "{}",
        out.both()
    );
    assert_eq!(labels_of(&tag)["used-base"], base_id);

    // The base rebuilt in this run (base_in_plan) is the engine's: never pulled.
    let in_run = platform_entry(d.path(), "tiny-0.1-busybox", &tag, &base_ref, true);
    write_tree(
        d.path(),
        &[(
            "Dockerfile",
            "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nARG BASE_IMAGE\nLABEL used-base=${BASE_IMAGE}\nRUN test -f /base-id\n",
        )],
    );
    let out = build(&in_run);
    assert_eq!(out.code, 0, "{}", out.both());
    assert!(!out.stderr.contains("pulling"), "{}", out.both());
    assert_eq!(labels_of(&tag)["used-base"], base_id);
}
