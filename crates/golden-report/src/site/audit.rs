//! Audit timelines on the image pages: every `history-*.json` under the site's input (any
//! depth; found by [`crate::discover`], which never reads them as documents) holds what
//! `golden-report history IMAGE --format json` prints ([`History`]). A timeline whose digest is
//! one this run pushed for an image (the index, one of its manifests, an architecture's push)
//! is shown on that image's page, events oldest first, every string escaped.
//!
//! Nothing here fails the site: a file that cannot be read, is not such a document, or names a
//! digest no image of the run has is a warning naming the file, and is left out.

use std::path::Path;

use super::html::esc;
use super::model::Image;
use super::pages::digest_cell;
use crate::history::{History, sort_events};
use crate::summary::{Problem, ProblemKind, ProblemSeverity};

/// Largest timeline file read.
pub const MAX_FILE: u64 = 16 * 1024 * 1024;
/// Most events shown per timeline; the command prints the rest.
pub const MAX_EVENTS: usize = 500;

fn warning(path: &str, message: String) -> Problem {
    Problem {
        kind: ProblemKind::History,
        severity: ProblemSeverity::Warning,
        path: Some(path.to_string()),
        image: None,
        message: format!("audit history: {message}; not shown"),
    }
}

/// Read the timelines at `paths` (relative to `input`): each one parsed, or a warning.
pub fn read(input: &Path, paths: &[String]) -> (Vec<(String, History)>, Vec<Problem>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for rel in paths {
        let p = input.join(rel);
        match std::fs::metadata(&p) {
            Ok(m) if m.len() > MAX_FILE => {
                problems.push(warning(
                    rel,
                    format!("{} bytes, more than {MAX_FILE}", m.len()),
                ));
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                problems.push(warning(rel, format!("failed to read: {e}")));
                continue;
            }
        }
        let bytes = match std::fs::read(&p) {
            Ok(b) => b,
            Err(e) => {
                problems.push(warning(rel, format!("failed to read: {e}")));
                continue;
            }
        };
        match serde_json::from_slice::<History>(&bytes) {
            Ok(h) => out.push((rel.clone(), h)),
            Err(e) => problems.push(warning(
                rel,
                format!(
                    "not a timeline as `golden-report history IMAGE --format json` prints it ({})",
                    golden_gha::escape_controls(&e.to_string())
                ),
            )),
        }
    }
    (out, problems)
}

/// Give each timeline to the image that pushed its digest; the others are warnings, and so is
/// a second timeline of the same digest (the first, in path order, is shown).
pub fn attach(images: &mut [Image], timelines: Vec<(String, History)>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (path, h) in timelines {
        let owner = images
            .iter()
            .position(|i| i.pushed_digests().contains(&h.digest.as_str()));
        let Some(n) = owner else {
            problems.push(warning(
                &path,
                format!(
                    "{} is not a digest this run pushed (the timeline is of {})",
                    golden_gha::quote(&h.digest, 80),
                    golden_gha::quote(&h.image, 120)
                ),
            ));
            continue;
        };
        let img = &mut images[n];
        if img.timelines.iter().any(|t| t.digest == h.digest) {
            problems.push(warning(
                &path,
                format!(
                    "a second timeline of {} for {}",
                    golden_gha::quote(&h.digest, 80),
                    golden_gha::quote(&img.id, 120)
                ),
            ));
            continue;
        }
        img.timelines.push(h);
    }
    problems
}

/// The "Audit history" section of an image page: the command that prints the timeline (to
/// copy), then every timeline the input had for the image. Empty for an image this run did not
/// push and has no timeline of.
pub fn section(i: &Image) -> String {
    let refs = i.history_references();
    if refs.is_empty() && i.timelines.is_empty() {
        return String::new();
    }
    let mut b = String::from(
        "<section aria-labelledby=\"audit\"><h2 id=\"audit\">Audit history</h2>\n<p>The image's timeline of build, scan, signature, provenance, promotion and replication events, read from its OCI referrers (audit records marked signed or unsigned by their own Sigstore bundle):</p>\n",
    );
    for (arch, r) in &refs {
        if let Some(a) = arch {
            b.push_str(&format!("<h3>{}</h3>\n", esc(a)));
        }
        let cmd = esc(&crate::history::command(r));
        b.push_str(&format!(
            "<pre><code data-copy=\"{cmd}\">{cmd}</code></pre>\n"
        ));
    }
    for h in &i.timelines {
        b.push_str(&timeline(h));
    }
    b.push_str("</section>\n");
    b
}

/// One timeline as a table, oldest first.
fn timeline(h: &History) -> String {
    let digest = |d: &str| {
        if d.is_empty() {
            "—".to_string()
        } else {
            digest_cell(Some(d))
        }
    };
    let mut events = h.events.clone();
    sort_events(&mut events);
    let mut b = format!(
        "<div class=\"scroll\"><table class=\"timeline\"><caption>Timeline of <code>{}</code> {} ({} event{})</caption><thead><tr><th scope=\"col\">Time</th><th scope=\"col\">Event</th><th scope=\"col\">Detail</th><th scope=\"col\">Artifact</th><th scope=\"col\">Attached to</th></tr></thead><tbody>",
        esc(&h.image),
        digest(&h.digest),
        events.len(),
        if events.len() == 1 { "" } else { "s" }
    );
    for e in events.iter().take(MAX_EVENTS) {
        let time = if e.time.is_empty() {
            "—".to_string()
        } else {
            format!("<time>{}</time>", esc(&e.time))
        };
        b.push_str(&format!(
            "<tr><td>{time}</td><th scope=\"row\">{}</th><td>{}</td><td>{}<br><code>{}</code></td><td>{}</td></tr>",
            esc(&e.event),
            esc(&e.detail),
            digest(&e.artifact),
            esc(&e.artifact_type),
            digest(&e.subject),
        ));
    }
    b.push_str("</tbody></table></div>\n");
    if events.len() > MAX_EVENTS {
        b.push_str(&format!(
            "<p class=\"note\">{} more events: the command above prints them all.</p>\n",
            events.len() - MAX_EVENTS
        ));
    }
    b
}
