//! Engine integration tests (real engine; `docker_*` tests run one at a time and fail, never
//! skip, when no engine answers: run scripts/ensure-docker.sh).

use bytes::Bytes;
use futures_util::StreamExt;
use golden_engine::{BuildEvent, BuildOptions, Engine, EngineError};

async fn engine() -> Engine {
    Engine::connect()
        .await
        .unwrap_or_else(|e| panic!("docker engine required: run scripts/ensure-docker.sh ({e})"))
}

fn one_chunk(
    b: Vec<u8>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::iter([Ok(Bytes::from(b))])
}

fn tar_of(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data, mode) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(*mode);
        h.set_mtime(1_700_000_000);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, *data).expect("append");
    }
    b.into_inner().expect("tar")
}

/// Build `files` (a context holding a Dockerfile) and return the image id.
async fn build(e: &Engine, tag: &str, files: &[(&str, &[u8], u32)]) -> String {
    let opts = BuildOptions {
        dockerfile: "Dockerfile".into(),
        tag: Some(tag.to_string()),
        ..BuildOptions::default()
    };
    let events: Vec<_> = e
        .build_image(&opts, one_chunk(tar_of(files)))
        .collect()
        .await;
    events
        .into_iter()
        .find_map(|ev| match ev.expect("build") {
            BuildEvent::ImageId(id) => Some(id),
            _ => None,
        })
        .expect("aux image id")
}

#[tokio::test]
async fn docker_tag_save_load_and_remove() {
    let e = engine().await;
    let pid = std::process::id();
    let t1 = format!("golden-engine-test-image:{pid}");
    let t2 = format!("golden-engine-test-image:{pid}-second");
    let dockerfile: &[u8] = b"FROM scratch\nCOPY marker /etc/marker\nLABEL a=b\nENV X=1\n";
    let id = build(
        &e,
        &t1,
        &[
            ("Dockerfile", dockerfile, 0o644),
            ("marker", b"golden\n", 0o644),
        ],
    )
    .await;
    assert!(id.starts_with("sha256:"), "{id}");
    let img = e.inspect_image(&t1).await.expect("built");
    assert_eq!(img.id.as_deref(), Some(id.as_str()));
    let cfg = img.config.expect("config");
    assert_eq!(
        cfg.labels.unwrap_or_default().get("a").map(String::as_str),
        Some("b")
    );
    assert!(cfg.env.unwrap_or_default().iter().any(|v| v == "X=1"));

    e.tag_image(&id, &t2).await.expect("tag");
    assert_eq!(
        e.inspect_image(&t2)
            .await
            .expect("second tag")
            .id
            .as_deref(),
        Some(id.as_str())
    );
    assert!(matches!(
        e.tag_image("golden-engine-test-absent:x", &t2).await,
        Err(EngineError::ImageNotFound(_))
    ));

    let mut archive = Vec::new();
    let n = e
        .save_images(&[t1.clone(), t2.clone()], &mut archive)
        .await
        .expect("save");
    assert_eq!(n as usize, archive.len());
    let names: Vec<String> = tar::Archive::new(&archive[..])
        .entries()
        .expect("tar")
        .map(|x| {
            x.expect("entry")
                .path()
                .expect("path")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert!(names.iter().any(|n| n == "manifest.json"), "{names:?}");
    assert!(matches!(
        e.save_images(
            &["golden-engine-test-absent:x".to_string()],
            &mut Vec::new()
        )
        .await,
        Err(EngineError::ImageNotFound(_))
    ));

    e.remove_image(&t1, false).await.expect("remove first tag");
    e.remove_image(&t2, false).await.expect("remove second tag");
    assert!(matches!(
        e.inspect_image(&t1).await,
        Err(EngineError::ImageNotFound(_))
    ));
    assert!(matches!(
        e.remove_image(&t1, false).await,
        Err(EngineError::ImageNotFound(_))
    ));

    let messages = e.load_images(one_chunk(archive)).await.expect("load");
    assert!(
        messages.iter().any(|m| m == &format!("Loaded image: {t1}")),
        "{messages:?}"
    );
    assert_eq!(
        e.inspect_image(&t2).await.expect("loaded").id.as_deref(),
        Some(id.as_str())
    );
    let refused = e.load_images(one_chunk(b"not an archive".to_vec())).await;
    assert!(
        matches!(refused, Err(EngineError::Refused { .. })),
        "{refused:?}"
    );
    e.remove_image(&t1, false).await.expect("cleanup");
    e.remove_image(&t2, false).await.expect("cleanup");
}

#[tokio::test]
async fn docker_build_streams_output_and_reports_failures() {
    let e = engine().await;
    let tag = format!("golden-engine-test-build:{}", std::process::id());
    let ctx = tar_of(&[
        ("Dockerfile", b"FROM scratch\nCOPY f /f\nLABEL k=v\n", 0o644),
        ("f", b"data", 0o644),
    ]);
    let opts = BuildOptions {
        dockerfile: "Dockerfile".into(),
        tag: Some(tag.clone()),
        labels: [("api".to_string(), "label".to_string())].into(),
        ..BuildOptions::default()
    };
    let events: Vec<_> = e.build_image(&opts, one_chunk(ctx)).collect().await;
    let mut id = None;
    let mut text = String::new();
    for ev in events {
        match ev.expect("no error") {
            BuildEvent::Output(t) => text.push_str(&t),
            BuildEvent::ImageId(i) => id = Some(i),
            BuildEvent::Status { .. } => {}
        }
    }
    assert!(text.contains("Step 1/"), "{text}");
    let id = id.expect("aux image id");
    let img = e.inspect_image(&tag).await.expect("built");
    assert_eq!(img.id.as_deref(), Some(id.as_str()));
    let labels = img.config.and_then(|c| c.labels).unwrap_or_default();
    assert_eq!(labels.get("api").map(String::as_str), Some("label"));
    e.remove_image(&tag, false).await.expect("cleanup");

    // A Dockerfile the builder rejects is a build failure, not a transport error.
    let bad = tar_of(&[("Dockerfile", b"FROM scratch\nNOTANINSTRUCTION x\n", 0o644)]);
    let opts = BuildOptions {
        dockerfile: "Dockerfile".into(),
        ..BuildOptions::default()
    };
    let events: Vec<_> = e.build_image(&opts, one_chunk(bad)).collect().await;
    let failure = events.into_iter().find_map(|ev| match ev {
        Err(EngineError::BuildFailed { message }) => Some(message),
        _ => None,
    });
    let failure = failure.expect("build failure reported");
    assert!(
        failure.to_lowercase().contains("unknown instruction"),
        "{failure}"
    );

    // A missing Dockerfile in the context too.
    let opts = BuildOptions {
        dockerfile: "nope/Dockerfile".into(),
        ..BuildOptions::default()
    };
    let events: Vec<_> = e
        .build_image(&opts, one_chunk(tar_of(&[("f", b"x", 0o644)])))
        .collect()
        .await;
    assert!(
        events
            .iter()
            .any(|ev| matches!(ev, Err(EngineError::BuildFailed { .. }))),
        "{events:?}"
    );
}
