//! The pages: the index (every image as a table row) and one page per image. Everything from a
//! document goes through [`esc`] / [`link_or_text`]; sortable cells carry their sort key in
//! `data-sort`, filterable rows their facets in `data-*` attributes, read by the script.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use golden_contracts::scan::{ScannerStatus, Severity, Vulnerability};

use super::history::{History, chart};
use super::html::{esc, link_or_text, page};
use super::model::{Image, check_status};
use super::signing::Signed;
use crate::summary::{ImageStatus, RunSummary};

/// A download offered on an image page: label and the path relative to the site root.
#[derive(Debug, Clone)]
pub struct Download {
    pub arch: String,
    pub label: String,
    pub path: String,
}

pub fn fmt_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

fn status_text(s: ImageStatus) -> &'static str {
    match s {
        ImageStatus::Ok => "pass",
        ImageStatus::PolicyFailed => "policy failed",
        ImageStatus::BuildFailed => "build failed",
        ImageStatus::Incomplete => "incomplete",
    }
}

fn status_badge(s: ImageStatus) -> String {
    let class = if s == ImageStatus::Ok { "ok" } else { "bad" };
    format!(
        "<span class=\"badge {class}\">{}</span>",
        if s == ImageStatus::Ok {
            "✔ pass"
        } else {
            match s {
                ImageStatus::PolicyFailed => "✖ policy failed",
                ImageStatus::BuildFailed => "✖ build failed",
                _ => "✖ incomplete",
            }
        }
    )
}

fn short_digest(d: &str) -> String {
    let hex = d.strip_prefix("sha256:").unwrap_or(d);
    format!("sha256:{}", hex.chars().take(12).collect::<String>())
}

/// The digest, shortened for the eye, the full value selectable and copyable.
pub(super) fn digest_cell(d: Option<&str>) -> String {
    match d {
        Some(d) => format!(
            "<code class=\"digest\" title=\"{full}\" data-copy=\"{full}\">{short}</code>",
            full = esc(d),
            short = esc(&short_digest(d))
        ),
        None => "—".into(),
    }
}

fn cve_cells(vulns: Option<&std::collections::BTreeMap<String, u64>>) -> String {
    let mut out = String::new();
    for sev in Severity::ALL {
        match vulns {
            Some(v) => {
                let n = v.get(sev.as_str()).copied().unwrap_or(0);
                let class = if n > 0 {
                    format!("num sev-{}", sev.as_str().to_ascii_lowercase())
                } else {
                    "num".into()
                };
                let _ = write!(out, "<td class=\"{class}\" data-sort=\"{n}\">{n}</td>");
            }
            None => out.push_str("<td class=\"num\" data-sort=\"-1\">—</td>"),
        }
    }
    out
}

fn cis_text(cis: Option<(u64, u64)>) -> (String, String) {
    match cis {
        Some((p, n)) if n > 0 => {
            let pct = p as f64 * 100.0 / n as f64;
            (format!("{pct:.0}% ({p}/{n})"), format!("{pct:.3}"))
        }
        Some(_) => ("no checks".into(), "-1".into()),
        None => ("—".into(), "-1".into()),
    }
}

/// The index page.
pub fn index(images: &[Image], summary: &RunSummary, history: &History) -> String {
    let oses: BTreeSet<&str> = images.iter().filter_map(|i| i.os.as_deref()).collect();
    let arches: BTreeSet<&str> = images.iter().flat_map(|i| i.arches()).collect();
    let platforms: BTreeSet<&str> = images
        .iter()
        .filter_map(|i| i.platform.as_deref())
        .collect();
    let mut b = String::new();
    let failed = images.iter().filter(|i| i.status.failed()).count();
    let _ = write!(
        b,
        "<h1>Golden image catalog</h1>\n<p class=\"lead\">{n} image{s}, {failed} failing. Generated {when}{run}.{hist}</p>\n",
        n = images.len(),
        s = if images.len() == 1 { "" } else { "s" },
        when = esc(&summary.generated_at),
        run = match summary.run.run_url.as_deref() {
            Some(u) => format!(" by {}", link_or_text(Some(u), "this run")),
            None => String::new(),
        },
        hist = if history.runs > 1 {
            format!(" History: {} runs.", history.runs)
        } else {
            String::new()
        }
    );
    // Controls are hidden until the script runs: without it, they would do nothing.
    b.push_str("<form class=\"filters\" id=\"filters\" hidden>\n");
    b.push_str("<label for=\"q\">Search by name</label> <input type=\"search\" id=\"q\" autocomplete=\"off\">\n");
    b.push_str("<label for=\"os\">OS</label> <select id=\"os\"><option value=\"\">all</option>");
    for o in &oses {
        let _ = write!(b, "<option>{}</option>", esc(o));
    }
    b.push_str("</select>\n<label for=\"platform\">Platform</label> <select id=\"platform\"><option value=\"\">all</option>");
    for p in &platforms {
        let _ = write!(b, "<option>{}</option>", esc(p));
    }
    b.push_str("</select>\n<label for=\"arch\">Architecture</label> <select id=\"arch\"><option value=\"\">all</option>");
    for a in &arches {
        let _ = write!(b, "<option>{}</option>", esc(a));
    }
    b.push_str("</select>\n<output id=\"shown\" for=\"q os platform arch\"></output>\n</form>\n");
    b.push_str("<div class=\"scroll\"><table id=\"images\" class=\"sortable\">\n<caption>Images (select a column heading to sort)</caption>\n<thead><tr>");
    for (h, class) in [
        ("Image", ""),
        ("Tag", ""),
        ("Digest", ""),
        ("Arch", ""),
        ("Size", "num"),
        (
            "<abbr title=\"Compressed (pushed) size\">Pushed</abbr>",
            "num",
        ),
        ("Rebuilt", ""),
        ("Status", ""),
        (
            "<abbr title=\"Critical vulnerabilities\">Crit</abbr>",
            "num",
        ),
        ("<abbr title=\"High vulnerabilities\">High</abbr>", "num"),
        ("<abbr title=\"Medium vulnerabilities\">Med</abbr>", "num"),
        ("<abbr title=\"Low vulnerabilities\">Low</abbr>", "num"),
        (
            "<abbr title=\"Vulnerabilities of unknown severity\">Unk</abbr>",
            "num",
        ),
        ("CIS", "num"),
        ("Signed", ""),
    ] {
        let _ = write!(b, "<th scope=\"col\" class=\"{class}\">{h}</th>");
    }
    b.push_str("</tr></thead>\n<tbody>\n");
    for i in images {
        let arches = i.arches();
        let (cis, cis_sort) = cis_text(i.cis());
        let signed = i.signed();
        let _ = writeln!(
            b,
            "<tr data-name=\"{id} {name}\" data-os=\"{os}\" data-platform=\"{platform}\" data-arch=\"{arch}\"><th scope=\"row\" data-sort=\"{id}\"><a href=\"images/{slug}.html\" title=\"{name}\">{id}</a></th><td data-sort=\"{tag}\">{tagc}</td><td>{digest}</td><td>{archs}</td><td class=\"num\" data-sort=\"{size}\">{sizet}</td><td class=\"num\" data-sort=\"{comp}\">{compt}</td><td data-sort=\"{rebuilt}\"><time title=\"{rebuilt}\">{rebuilt_day}</time></td><td data-sort=\"{st}\">{badge}</td>{cves}<td class=\"num\" data-sort=\"{cis_sort}\">{cis}</td><td data-sort=\"{signed}\">{signed}</td></tr>",
            id = esc(&i.id),
            name = esc(&i.name),
            os = esc(i.os.as_deref().unwrap_or("")),
            platform = esc(i.platform.as_deref().unwrap_or("")),
            arch = esc(&arches.join(" ")),
            slug = esc(&i.slug),
            tag = esc(&i.primary_tag().unwrap_or_default()),
            tagc = i
                .primary_tag()
                .map(|t| format!("<code>{}</code>", esc(&t)))
                .unwrap_or_else(|| "—".into()),
            digest = digest_cell(i.digest().as_deref()),
            archs = if arches.is_empty() {
                "—".into()
            } else {
                esc(&arches.join(", "))
            },
            size = i.size().unwrap_or(0),
            sizet = i.size().map(fmt_size).unwrap_or_else(|| "—".into()),
            comp = i.compressed().unwrap_or(0),
            compt = i.compressed().map(fmt_size).unwrap_or_else(|| "—".into()),
            rebuilt = esc(i.rebuilt().unwrap_or("—")),
            rebuilt_day = esc(i.rebuilt().map(|r| r.get(..10).unwrap_or(r)).unwrap_or("—")),
            st = status_text(i.status),
            badge = status_badge(i.status),
            cves = cve_cells(i.vulns().as_ref()),
            signed = signed.as_str(),
        );
    }
    b.push_str("</tbody>\n</table></div>\n");
    b.push_str("<p class=\"note\">Sizes are the largest architecture's; vulnerability counts are the worst architecture's counted (not accepted) findings; the CIS pass rate counts passed checks over passed, warned and failed ones. Machine-readable: <a href=\"summary.json\">summary.json</a>.</p>\n");
    page("Golden image catalog", "", &b)
}

fn vuln_state(v: &Vulnerability) -> String {
    let mut parts = Vec::new();
    if let Some(x) = &v.vex {
        let mut s = format!("VEX {}", x.status.as_str());
        if let Some(j) = x.justification {
            s.push_str(&format!(": {}", j.as_str()));
        }
        if let Some(i) = &x.impact_statement {
            s.push_str(&format!(" — {i}"));
        }
        parts.push(esc(&s));
    }
    if let Some(r) = &v.suppressed {
        parts.push(format!("accepted: {}", esc(r)));
    }
    if parts.is_empty() {
        esc(if v.status.is_empty() {
            "counted"
        } else {
            &v.status
        })
    } else {
        parts.join("<br>")
    }
}

/// `https://SERVER/OWNER/REPO` of the run, from its run URL (`SERVER/OWNER/REPO/actions/runs/N`)
/// and repository; `None` for a local run.
fn repo_url(run: &crate::summary::RunInfo) -> Option<String> {
    let repo = run.repository.as_deref()?;
    let url = run.run_url.as_deref()?;
    let (server, _) = url.split_once(&format!("/{repo}/actions/"))?;
    Some(format!("{server}/{repo}"))
}

/// One image's page. `images` is the whole catalog (to link base images); `run` names the
/// repository the Dockerfile link points into.
pub fn image(
    i: &Image,
    images: &[Image],
    history: &History,
    downloads: &[Download],
    run: &crate::summary::RunInfo,
) -> String {
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<p class=\"crumbs\"><a href=\"../index.html\">All images</a></p>\n<h1>{} {}</h1>",
        esc(&i.name),
        status_badge(i.status)
    );

    b.push_str("<section aria-labelledby=\"pull\"><h2 id=\"pull\">Pull</h2>\n");
    match i.pinned() {
        Some(p) => {
            let _ = writeln!(
                b,
                "<pre><code data-copy=\"docker pull {p}\">docker pull {p}</code></pre>",
                p = esc(&p)
            );
        }
        None => b.push_str("<p>Not pushed by this run: no digest to pin.</p>\n"),
    }
    let tags = i.tags();
    if !tags.is_empty() {
        b.push_str("<h3>Tags</h3><ul class=\"tags\">");
        for t in &tags {
            let _ = write!(b, "<li><code>{}</code></li>", esc(t));
        }
        b.push_str("</ul>\n");
    }
    b.push_str("</section>\n");

    // Facts.
    b.push_str(
        "<section aria-labelledby=\"facts\"><h2 id=\"facts\">Facts</h2><dl class=\"facts\">",
    );
    let mut fact = |k: &str, v: String| {
        let _ = write!(b, "<dt>{k}</dt><dd>{v}</dd>");
    };
    fact("Id", format!("<code>{}</code>", esc(&i.id)));
    for (k, v) in [
        ("OS", &i.os),
        ("Platform", &i.platform),
        ("Version", &i.version),
    ] {
        if let Some(v) = v {
            fact(k, esc(v));
        }
    }
    let arches = i.arches();
    fact(
        "Architectures",
        if arches.is_empty() {
            "—".into()
        } else {
            esc(&arches.join(", "))
        },
    );
    if let Some(d) = i.index.as_ref().and_then(|x| x.digest.as_deref()) {
        fact("Index digest", digest_cell(Some(d)));
    }
    for e in &i.entries {
        let label = if e.arch == crate::arch_rows::NO_ARCH {
            "Digest".to_string()
        } else {
            format!("Digest ({})", e.arch)
        };
        if let Some(d) = e.summary.digest.as_deref() {
            fact(&esc(&label), digest_cell(Some(d)));
        }
    }
    fact("Size", i.size().map(fmt_size).unwrap_or_else(|| "—".into()));
    fact(
        "Compressed",
        i.compressed().map(fmt_size).unwrap_or_else(|| "—".into()),
    );
    fact("Last rebuilt", esc(i.rebuilt().unwrap_or("—")));
    fact("Signed", i.signed().as_str().into());
    let (cis, _) = cis_text(i.cis());
    fact("CIS pass rate", esc(&cis));
    // Source: the OCI labels of the build.
    let labels = i
        .entries
        .iter()
        .find_map(|e| e.build.as_ref().map(|b| &b.doc.labels));
    if let Some(l) = labels {
        let rev = l.get("org.opencontainers.image.revision");
        let src = l.get("org.opencontainers.image.source");
        if let Some(src) = src {
            fact(
                "Source",
                link_or_text(
                    Some(&match rev {
                        Some(r) if src.starts_with("https://github.com/") => {
                            format!("{}/tree/{r}", src.trim_end_matches('/'))
                        }
                        _ => src.clone(),
                    }),
                    src,
                ),
            );
        }
        if let Some(r) = rev {
            fact("Source commit", format!("<code>{}</code>", esc(r)));
        }
        if let Some(df) = &i.dockerfile {
            let url = match (rev, repo_url(run)) {
                (Some(r), Some(base)) => Some(format!("{base}/blob/{r}/{df}")),
                _ => None,
            };
            fact(
                "Dockerfile",
                format!("<code>{}</code>", link_or_text(url.as_deref(), df)),
            );
        }
        if let Some(c) = l.get("org.opencontainers.image.created") {
            fact("Created", esc(c));
        }
    }
    b.push_str("</dl></section>\n");

    // Base image chain: each base found in the catalog is followed.
    b.push_str("<section aria-labelledby=\"base\"><h2 id=\"base\">Base image chain</h2>\n");
    let mut chain = String::new();
    let mut cur = i;
    let mut seen = vec![i.id.clone()];
    for _ in 0..8 {
        let Some(bld) = cur.entries.iter().find_map(|e| e.build.as_ref()) else {
            break;
        };
        let Some(base) = bld.doc.base_image.as_deref() else {
            break;
        };
        let found = images
            .iter()
            .find(|o| !seen.contains(&o.id) && o.tags().iter().any(|t| t == base));
        let _ = write!(
            chain,
            "<li>{}{}</li>",
            match found {
                Some(o) => format!(
                    "<a href=\"{}.html\"><code>{}</code></a>",
                    esc(&o.slug),
                    esc(base)
                ),
                None => format!("<code>{}</code>", esc(base)),
            },
            bld.doc
                .base_digest
                .as_deref()
                .map(|d| format!(" @ {}", digest_cell(Some(d))))
                .unwrap_or_default()
        );
        match found {
            Some(o) => {
                seen.push(o.id.clone());
                cur = o;
            }
            None => break,
        }
    }
    if chain.is_empty() {
        b.push_str("<p>No base image recorded (built from scratch or from the archive).</p>\n");
    } else {
        let _ = writeln!(b, "<ol class=\"chain\">{chain}</ol>");
    }
    b.push_str("</section>\n");

    // History.
    if let Some(series) = history.series.get(&i.id) {
        let sizes: Vec<(String, u64)> = series
            .iter()
            .filter_map(|(t, p)| Some((t.clone(), p.size?)))
            .collect();
        let vulns: Vec<(String, u64)> = series
            .iter()
            .filter_map(|(t, p)| Some((t.clone(), p.vulns?)))
            .collect();
        let charts: Vec<String> = [
            chart("Size", &sizes, fmt_size),
            chart("Vulnerabilities", &vulns, |v| v.to_string()),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !charts.is_empty() {
            let _ = writeln!(
                b,
                "<section aria-labelledby=\"history\"><h2 id=\"history\">History</h2><div class=\"charts\">{}</div></section>",
                charts.join("")
            );
        }
    }

    for e in &i.entries {
        let multi = i.entries.len() > 1;
        let suffix = if multi {
            format!(" ({})", esc(&e.arch))
        } else {
            String::new()
        };
        let anchor = super::model::arch_slug(&e.arch);
        let Some(scan) = &e.scan else {
            let _ = writeln!(
                b,
                "<section><h2>Scan{suffix}</h2><p>No scan report for this architecture.</p></section>"
            );
            continue;
        };
        let r = &scan.doc;
        // Policy.
        let _ = write!(
            b,
            "<section aria-labelledby=\"policy-{anchor}\"><h2 id=\"policy-{anchor}\">Policy{suffix}</h2><p>{} <code>{}</code></p>",
            if r.policy.passed {
                "Passed policy"
            } else {
                "Failed policy"
            },
            esc(&r.policy.policy)
        );
        if !r.policy.failures.is_empty() {
            b.push_str("<ul>");
            for f in &r.policy.failures {
                let _ = write!(
                    b,
                    "<li><code>{}</code>: {}{}</li>",
                    esc(&f.rule),
                    esc(&f.message),
                    if f.ids.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", esc(&f.ids.join(", ")))
                    }
                );
            }
            b.push_str("</ul>");
        }
        b.push_str("</section>\n");

        // Vulnerabilities.
        let _ = write!(
            b,
            "<section aria-labelledby=\"vulns-{anchor}\"><h2 id=\"vulns-{anchor}\">Vulnerabilities{suffix}</h2>"
        );
        if let Some(n) = &r.vulnerabilities.note {
            let _ = write!(b, "<p class=\"note\">{}</p>", esc(n));
        }
        if r.vulnerabilities.status != ScannerStatus::Scanned {
            let _ = write!(
                b,
                "<p><strong>Not scanned for vulnerabilities</strong> (scanner {}).</p>",
                match r.vulnerabilities.status {
                    ScannerStatus::Disabled => "disabled",
                    ScannerStatus::Unavailable => "unavailable",
                    _ => "failed",
                }
            );
        } else if r.vulnerabilities.items.is_empty() {
            b.push_str("<p>No vulnerabilities found.</p>");
        } else {
            let mut items: Vec<&Vulnerability> = r.vulnerabilities.items.iter().collect();
            items.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
            let _ = write!(
                b,
                "<div class=\"scroll\"><table class=\"sortable vulns\"><caption>{} vulnerabilities</caption><thead><tr><th scope=\"col\">Id</th><th scope=\"col\">Severity</th><th scope=\"col\">Package</th><th scope=\"col\">Installed</th><th scope=\"col\">Fixed in</th><th scope=\"col\">Status / VEX</th><th scope=\"col\">Title</th></tr></thead><tbody>",
                items.len()
            );
            for v in items {
                let sev = v.severity.as_str();
                let _ = write!(
                    b,
                    "<tr><th scope=\"row\">{}</th><td class=\"sev-{}\" data-sort=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    link_or_text(v.url.as_deref(), &v.id),
                    sev.to_ascii_lowercase(),
                    v.severity as u8,
                    sev,
                    esc(&v.package),
                    esc(&v.installed),
                    esc(v.fixed.as_deref().unwrap_or("—")),
                    vuln_state(v),
                    esc(v.title.as_deref().unwrap_or("")),
                );
            }
            b.push_str("</tbody></table></div>");
        }
        b.push_str("</section>\n");

        // CIS checks.
        let _ = write!(
            b,
            "<section aria-labelledby=\"cis-{anchor}\"><h2 id=\"cis-{anchor}\">CIS checks{suffix}</h2>"
        );
        if r.compliance.is_empty() {
            b.push_str("<p>No checks ran.</p>");
        } else {
            b.push_str("<div class=\"scroll\"><table class=\"checks\"><caption>Compliance checks with their evidence</caption><thead><tr><th scope=\"col\">Check</th><th scope=\"col\">CIS</th><th scope=\"col\">Status</th><th scope=\"col\">Title</th><th scope=\"col\">Evidence</th></tr></thead><tbody>");
            for c in &r.compliance {
                let st = check_status(c.status);
                let mut ev = String::new();
                if !c.evidence.is_empty() {
                    ev.push_str("<ul>");
                    for x in &c.evidence {
                        let _ = write!(ev, "<li><code>{}</code></li>", esc(x));
                    }
                    ev.push_str("</ul>");
                }
                if let Some(s) = &c.suppressed {
                    let _ = write!(ev, "<p>accepted: {}</p>", esc(s));
                }
                if let Some(rem) = &c.remediation {
                    let _ = write!(ev, "<p>Fix: {}</p>", esc(rem));
                }
                let _ = write!(
                    b,
                    "<tr><th scope=\"row\"><code>{}</code></th><td>{}</td><td class=\"check-{st}\">{st}</td><td>{}</td><td>{}</td></tr>",
                    esc(&c.id),
                    esc(c.cis.as_deref().unwrap_or("—")),
                    esc(&c.title),
                    ev
                );
            }
            b.push_str("</tbody></table></div>");
        }
        b.push_str("</section>\n");

        // Packages.
        let _ = write!(
            b,
            "<section aria-labelledby=\"pkgs-{anchor}\"><h2 id=\"pkgs-{anchor}\">Packages{suffix}</h2><p>{} packages.</p>",
            r.packages.len()
        );
        if !r.packages.is_empty() {
            let _ = write!(
                b,
                "<form class=\"filters pkg-filter\" hidden><label for=\"pq-{anchor}\">Search packages</label> <input type=\"search\" id=\"pq-{anchor}\" data-filter=\"pkgs-table-{anchor}\" autocomplete=\"off\"> <output for=\"pq-{anchor}\"></output></form><div class=\"scroll\"><table class=\"sortable packages\" id=\"pkgs-table-{anchor}\"><caption>Installed packages</caption><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Version</th><th scope=\"col\">Ecosystem</th><th scope=\"col\">License</th></tr></thead><tbody>"
            );
            for p in &r.packages {
                let _ = write!(
                    b,
                    "<tr><th>{n}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&p.version),
                    esc(&p.kind),
                    esc(p.license.as_deref().unwrap_or("")),
                    n = esc(&p.name),
                );
            }
            b.push_str("</tbody></table></div>");
        }
        b.push_str("</section>\n");
    }

    // Downloads.
    b.push_str("<section aria-labelledby=\"downloads\"><h2 id=\"downloads\">Downloads</h2>");
    if downloads.is_empty() {
        b.push_str("<p>No documents.</p>");
    } else {
        b.push_str("<ul>");
        for d in downloads {
            let _ = write!(
                b,
                "<li><a href=\"../{}\">{}</a>{}</li>",
                esc(&d.path),
                esc(&d.label),
                if d.arch == crate::arch_rows::NO_ARCH {
                    String::new()
                } else {
                    format!(" ({})", esc(&d.arch))
                }
            );
        }
        b.push_str("</ul>");
    }
    b.push_str("</section>\n");

    // Signatures and provenance.
    b.push_str("<section aria-labelledby=\"prov\"><h2 id=\"prov\">Signature and provenance</h2>");
    let prov = i.provenance();
    let signed = i.signed();
    let _ = write!(
        b,
        "<p>Signed: <strong>{}</strong>{}</p>",
        signed.as_str(),
        match signed {
            Signed::Unknown => " (no push record in this run)",
            Signed::No => " (no Sigstore bundle among the pushed referrers)",
            Signed::Yes => "",
        }
    );
    if !prov.is_empty() {
        b.push_str("<ul>");
        for p in &prov {
            let _ = write!(
                b,
                "<li>{} ({}): <code>{}</code> {}</li>",
                p.kind,
                esc(&p.arch),
                esc(&p.artifact_type),
                digest_cell(Some(&p.digest))
            );
        }
        b.push_str("</ul>");
    }
    b.push_str("</section>\n");

    b.push_str(&super::audit::section(i));

    page(&format!("{} — golden image catalog", i.name), "../", &b)
}
