//! Expand the catalog into one plan entry per image: bases, then platform x version x base.

use std::collections::BTreeMap;

use golden_contracts::plan::{Bootstrap as PlanBootstrap, PlanEntry, StageKind};

use crate::config::{Base, Catalog};

/// What the tags depend on besides the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagContext {
    /// `YYYYMMDD` for the dated tag.
    pub date: String,
    /// Full commit SHA (the commit tag uses the first 7 characters); `None` outside git.
    pub sha: Option<String>,
    /// Moving tags (`<version>-<os>`) only from the default branch.
    pub default_branch: bool,
    /// Pull request number, for `pr-<N>` tags on pull requests.
    pub pr: Option<u64>,
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}

/// Tags for an image: moving tag (default branch only, and never in staging: `moving`
/// false), dated tag, commit tag, PR tag. The first one is the primary reference.
pub fn tags(image: &str, tag_base: &str, ctx: &TagContext, moving: bool) -> Vec<String> {
    let mut t = Vec::new();
    if ctx.default_branch {
        if moving {
            t.push(format!("{image}:{tag_base}"));
        }
        t.push(format!("{image}:{tag_base}-{}", ctx.date));
    }
    if let Some(sha) = &ctx.sha {
        t.push(format!("{image}:{tag_base}-sha-{}", short(sha)));
    }
    if let Some(pr) = ctx.pr {
        t.push(format!("{image}:{tag_base}-pr-{pr}"));
    }
    if t.is_empty() {
        // Outside git and off the default branch: still give the image a name.
        t.push(format!("{image}:{tag_base}-{}", ctx.date));
    }
    t
}

/// The release repository of `name` (its moving tags, the cache sources, the published bases).
fn image_name(c: &Catalog, name: &str) -> String {
    format!("{}/{}/{}", c.registry.host, c.registry.namespace, name)
}

/// Where `name` is pushed: the staging namespace when there is one, else the release one.
fn push_name(c: &Catalog, name: &str) -> String {
    match &c.registry.staging {
        Some(ns) => format!("{}/{}/{}", c.registry.host, ns, name),
        None => image_name(c, name),
    }
}

/// The reference a platform uses as its base when the base is not rebuilt in the same plan:
/// the published moving tag of the base.
pub fn base_published_ref(c: &Catalog, b: &Base) -> String {
    format!("{}:{}", image_name(c, &format!("base-{}", b.os)), b.version)
}

pub fn base_id(os: &str) -> String {
    format!("base-{os}")
}

pub fn platform_id(platform: &str, version: &str, os: &str) -> String {
    format!("{platform}-{version}-{os}")
}

/// Every entry of the catalog, bases first, in config order.
pub fn expand(c: &Catalog, ctx: &TagContext) -> Vec<PlanEntry> {
    let mut out = Vec::new();
    for b in &c.bases {
        let name = format!("base-{}", b.os);
        let release = image_name(c, &name);
        let image = push_name(c, &name);
        let moving = c.registry.staging.is_none();
        let mut build_args = b.build_args.clone();
        build_args.insert("UPSTREAM".into(), b.upstream.clone());
        let mut labels = BTreeMap::new();
        labels.insert(
            "org.opencontainers.image.title".into(),
            format!("golden {} {} base", b.os, b.version),
        );
        labels.insert("org.opencontainers.image.version".into(), b.version.clone());
        let (up_name, up_digest) = match b.upstream.split_once('@') {
            Some((n, d)) => (n.to_string(), Some(d.to_string())),
            None => (b.upstream.clone(), None),
        };
        labels.insert("org.opencontainers.image.base.name".into(), up_name);
        if let Some(d) = up_digest {
            labels.insert("org.opencontainers.image.base.digest".into(), d);
        }
        out.push(PlanEntry {
            id: base_id(&b.os),
            stage: StageKind::Base,
            os: b.os.clone(),
            platform: "base".into(),
            name,
            version: b.version.clone(),
            dockerfile: b.dockerfile.clone(),
            context: b.context.clone(),
            build_args,
            tags: tags(&image, &b.version, ctx, moving),
            published: Some(format!("{release}:{}", b.version)),
            image,
            base: None,
            base_image: None,
            base_in_plan: false,
            upstream: Some(b.upstream.clone()),
            policy: c.policy.clone(),
            labels,
            bootstrap: b.bootstrap.as_ref().map(|bs| PlanBootstrap {
                suite: bs.suite.clone(),
                variant: bs.variant.clone(),
                components: bs.components.clone(),
                mirror: bs.mirror.clone(),
                snapshot: bs.snapshot.clone(),
            }),
            vendor_repo: None,
            offline: b.bootstrap.is_some(),
            reasons: Vec::new(),
            cache_from: Vec::new(),
            no_cache: false,
            pull: false,
        });
    }
    for p in &c.platforms {
        for v in &p.versions {
            for os in &v.bases {
                let Some(b) = c.base(os) else { continue };
                let release = image_name(c, &p.name);
                let image = push_name(c, &p.name);
                let moving = c.registry.staging.is_none();
                let tag_base = format!("{}-{}", v.version, os);
                let mut labels = BTreeMap::new();
                labels.insert(
                    "org.opencontainers.image.title".into(),
                    format!("golden {} {} on {}", p.name, v.version, os),
                );
                labels.insert("org.opencontainers.image.version".into(), tag_base.clone());
                let base_ref = base_published_ref(c, b);
                labels.insert(
                    "org.opencontainers.image.base.name".into(),
                    base_ref.clone(),
                );
                out.push(PlanEntry {
                    id: platform_id(&p.name, &v.version, os),
                    stage: StageKind::Platform,
                    os: os.clone(),
                    platform: p.name.clone(),
                    name: p.name.clone(),
                    version: v.version.clone(),
                    dockerfile: v.dockerfile.clone(),
                    context: p.context.clone(),
                    build_args: v.build_args.clone(),
                    tags: tags(&image, &tag_base, ctx, moving),
                    published: Some(format!("{release}:{tag_base}")),
                    image,
                    base: Some(base_id(os)),
                    base_image: Some(base_ref),
                    base_in_plan: false,
                    upstream: None,
                    policy: v.policy.clone(),
                    labels,
                    bootstrap: None,
                    vendor_repo: v.vendor_repo.clone(),
                    offline: b.bootstrap.is_some() && v.vendor_repo.is_none(),
                    reasons: Vec::new(),
                    cache_from: Vec::new(),
                    no_cache: false,
                    pull: false,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_follow_the_branch_rules() {
        let mut ctx = TagContext {
            date: "20261127".into(),
            sha: Some("0123456789abcdef".into()),
            default_branch: true,
            pr: None,
        };
        assert_eq!(
            tags("r/n/x", "1-debian", &ctx, true),
            vec![
                "r/n/x:1-debian",
                "r/n/x:1-debian-20261127",
                "r/n/x:1-debian-sha-0123456"
            ]
        );
        // Staging: the same without the moving tag; the dated tag is the primary one.
        assert_eq!(
            tags("r/s/x", "1-debian", &ctx, false),
            vec!["r/s/x:1-debian-20261127", "r/s/x:1-debian-sha-0123456"]
        );
        ctx.default_branch = false;
        ctx.pr = Some(7);
        assert_eq!(
            tags("r/n/x", "1-debian", &ctx, true),
            vec!["r/n/x:1-debian-sha-0123456", "r/n/x:1-debian-pr-7"]
        );
        ctx.sha = None;
        ctx.pr = None;
        assert_eq!(tags("r/n/x", "1", &ctx, true), vec!["r/n/x:1-20261127"]);
    }
}
