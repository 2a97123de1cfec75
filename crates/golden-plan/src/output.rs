//! Rendering the plan: JSON, a human table, `$GITHUB_OUTPUT`, the step summary.

use std::fmt::Write as _;

use golden_contracts::plan::{Plan, PlanEntry};

/// The `{"include":[...]}` object of a stage, compact (for a matrix).
pub fn stage_json(entries: &[PlanEntry]) -> String {
    serde_json::json!({ "include": entries }).to_string()
}

/// Step outputs: `bases`, `platforms` (matrix objects), `has-bases`, `has-platforms`, `count`.
pub fn github_outputs(plan: &Plan) -> golden_gha::Outputs {
    let mut o = golden_gha::Outputs::new();
    o.set("bases", stage_json(&plan.bases.include))
        .set("platforms", stage_json(&plan.platforms.include))
        .set("has-bases", (!plan.bases.include.is_empty()).to_string())
        .set(
            "has-platforms",
            (!plan.platforms.include.is_empty()).to_string(),
        )
        .set(
            "count",
            (plan.bases.include.len() + plan.platforms.include.len()).to_string(),
        );
    o
}

/// A short Markdown table of what will be built and why.
pub fn summary_markdown(plan: &Plan) -> String {
    let mut s = String::new();
    let n = plan.bases.include.len() + plan.platforms.include.len();
    let _ = writeln!(
        s,
        "### Build plan ({} event, rebuild {}): {n} image{}\n",
        plan.event,
        plan.rebuild,
        if n == 1 { "" } else { "s" }
    );
    if n > 0 {
        if plan.entries().all(|e| e.no_cache) {
            let _ = writeln!(s, "Build cache: none ({}).\n", crate::NIGHTLY_CACHE_REASON);
        } else if plan.entries().any(|e| !e.cache_from.is_empty()) {
            s.push_str(
                "Build cache: each image's published moving tag (pulled first; missing = uncached).\n\n",
            );
        }
    }
    if n == 0 {
        s.push_str("Nothing to build: no change affects an image.\n");
    } else {
        s.push_str("| stage | image | primary tag | why |\n|---|---|---|---|\n");
        for e in plan.entries() {
            let stage = if e.base.is_some() { "platform" } else { "base" };
            let _ = writeln!(
                s,
                "| {stage} | `{}` | `{}` | {} |",
                e.id,
                golden_gha::markdown::md(e.tags.first().map(String::as_str).unwrap_or("")),
                golden_gha::markdown::md(&e.reasons.join("; "))
            );
        }
    }
    if !plan.skipped.is_empty() {
        let _ = writeln!(
            s,
            "\n<details><summary>{} skipped</summary>\n",
            plan.skipped.len()
        );
        for k in &plan.skipped {
            let _ = writeln!(s, "- `{}`: {}", k.id, golden_gha::markdown::md(&k.reason));
        }
        s.push_str("\n</details>\n");
    }
    s
}

/// A plain-text table for terminals.
pub fn table(plan: &Plan) -> String {
    let mut rows: Vec<[String; 4]> = vec![[
        "STAGE".into(),
        "ID".into(),
        "PRIMARY TAG".into(),
        "WHY".into(),
    ]];
    for e in plan.entries() {
        rows.push([
            if e.base.is_some() { "platform" } else { "base" }.into(),
            e.id.clone(),
            e.tags.first().cloned().unwrap_or_default(),
            e.reasons.join("; "),
        ]);
    }
    let mut w = [0usize; 3];
    for r in &rows {
        for i in 0..3 {
            w[i] = w[i].max(r[i].chars().count());
        }
    }
    let mut s = String::new();
    for r in &rows {
        let _ = writeln!(
            s,
            "{:<w0$}  {:<w1$}  {:<w2$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2]
        );
    }
    let _ = writeln!(
        s,
        "\n{} base(s), {} platform image(s); event {}, rebuild {}",
        plan.bases.include.len(),
        plan.platforms.include.len(),
        plan.event,
        plan.rebuild
    );
    for k in &plan.skipped {
        let _ = writeln!(s, "skipped {}: {}", k.id, k.reason);
    }
    s
}
