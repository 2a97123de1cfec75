//! `save` and `load`: move images between matrix jobs as `docker save` archives (pull requests
//! push nothing, so the platform stage gets its base this way).
//!
//! `save` streams the engine's archive to a temporary file beside the target (gzip-compressed on
//! a blocking thread when the name ends in `.gz`) and renames it into place: a failed save never
//! leaves a half archive under the real name. `load` streams the file to the engine as it is; the
//! engine detects gzip, bzip2 and xz itself.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use bytes::Bytes;
use futures_util::StreamExt;
use golden_contracts::units::human_bytes;
use golden_engine::{Engine, EngineError};

use crate::cli::{LoadArgs, SaveArgs};

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("failed to write `{path}`")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to read `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{0}` is empty: not an image archive")]
    Empty(PathBuf),
    #[error("interrupted; no archive written")]
    Interrupted,
    #[error("the archive writer stopped unexpectedly")]
    Thread(#[source] tokio::task::JoinError),
    #[error("failed to write the step outputs")]
    Outputs(#[source] golden_gha::GhaError),
}

/// `golden-build save`: returns the bytes written.
pub async fn save(args: &SaveArgs, cwd: &Path) -> Result<u64, ArchiveError> {
    let target = cwd.join(&args.output);
    let engine = Engine::connect().await?;
    let images: Vec<String> = args
        .images
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let stream = engine.save_images_stream(&images).await?;
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let werr = |source| ArchiveError::Write {
        path: target.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(werr)?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "archive".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let gzip = name.ends_with(".gz");
    let level = args.gzip_level;
    let progress = std::io::stderr().is_terminal() && !golden_gha::in_actions();

    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    let tmp2 = tmp.clone();
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
        let file = File::create(&tmp2)?;
        let buf = BufWriter::with_capacity(1 << 20, file);
        let mut out: Box<dyn Write> = if gzip {
            Box::new(flate2::write::GzEncoder::new(
                buf,
                flate2::Compression::new(level),
            ))
        } else {
            Box::new(buf)
        };
        let mut n = 0u64;
        let mut last = Instant::now();
        while let Some(chunk) = rx.blocking_recv() {
            out.write_all(&chunk)?;
            n += chunk.len() as u64;
            if progress && last.elapsed().as_millis() >= 100 {
                last = Instant::now();
                eprint!("\rsaving: {}", human_bytes(n));
            }
        }
        out.flush()?;
        drop(out);
        if progress {
            eprint!("\r\x1b[2K");
        }
        Ok(n)
    });
    let mut failed: Option<ArchiveError> = None;
    futures_util::pin_mut!(stream);
    let interrupted = tokio::signal::ctrl_c();
    futures_util::pin_mut!(interrupted);
    loop {
        let chunk = tokio::select! {
            c = stream.next() => c,
            _ = &mut interrupted => {
                failed = Some(ArchiveError::Interrupted);
                break;
            }
        };
        match chunk {
            None => break,
            Some(Ok(c)) => {
                if tx.send(c).await.is_err() {
                    break; // the writer failed; its error is reported below
                }
            }
            Some(Err(e)) => {
                failed = Some(e.into());
                break;
            }
        }
    }
    drop(tx);
    let written = writer.await.map_err(ArchiveError::Thread)?;
    let result = match (failed, written) {
        (Some(e), _) => Err(e),
        (None, Err(source)) => Err(ArchiveError::Write {
            path: target.clone(),
            source,
        }),
        (None, Ok(n)) => {
            // Make the data durable before it gets the real name.
            File::open(&tmp)
                .and_then(|f| f.sync_all())
                .and_then(|_| std::fs::rename(&tmp, &target))
                .map_err(|source| ArchiveError::Write {
                    path: target.clone(),
                    source,
                })
                .map(|_| n)
        }
    };
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    let n = result?;
    let on_disk = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(n);
    eprintln!(
        "saved {} image(s) to {} ({}{})",
        images.len(),
        target.display(),
        human_bytes(on_disk),
        if gzip {
            format!(", {} uncompressed", human_bytes(n))
        } else {
            String::new()
        }
    );
    let mut out = golden_gha::Outputs::new();
    out.set("archive", target.display().to_string())
        .set("size", on_disk.to_string())
        .set("images", images.join("\n"));
    out.write().map_err(ArchiveError::Outputs)?;
    Ok(on_disk)
}

/// `golden-build load`: returns the engine's messages (`Loaded image: ...`).
pub async fn load(args: &LoadArgs, cwd: &Path) -> Result<Vec<String>, ArchiveError> {
    let path = cwd.join(&args.archive);
    let rerr = |source| ArchiveError::Read {
        path: path.clone(),
        source,
    };
    let meta = std::fs::metadata(&path).map_err(rerr)?;
    if meta.len() == 0 {
        return Err(ArchiveError::Empty(path));
    }
    let engine = Engine::connect().await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(8);
    let p2 = path.clone();
    let reader = tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut f = match File::open(&p2) {
            Ok(f) => f,
            Err(e) => {
                let _ = tx.blocking_send(Err(std::io::Error::new(e.kind(), e.to_string())));
                return;
            }
        };
        loop {
            let mut buf = vec![0u8; 1 << 20];
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    let body =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|i| (i, rx)) });
    let messages = engine.load_images(body).await;
    reader.await.map_err(ArchiveError::Thread)?;
    let messages = messages?;
    for m in &messages {
        println!("{m}");
    }
    let loaded: Vec<String> = messages
        .iter()
        .filter_map(|m| {
            m.strip_prefix("Loaded image: ")
                .or_else(|| m.strip_prefix("Loaded image ID: "))
                .map(|s| s.trim().to_string())
        })
        .collect();
    let mut out = golden_gha::Outputs::new();
    out.set("images", loaded.join("\n"));
    out.write().map_err(ArchiveError::Outputs)?;
    Ok(messages)
}
