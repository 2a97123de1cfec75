//! The merged image filesystem: layer facts applied in manifest order with overlay semantics
//! (`.wh.<name>` deletes, `.wh..wh..opq` hides a directory's lower content, a non-directory
//! hides a lower directory's children). Metadata for every path, contents only for the files
//! the scanner keeps. Symlinks are resolved in memory only, with a hop limit.

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;

use crate::layer::{Content, Kind, LayerFacts};

/// Symlink hops allowed while resolving one path (Linux uses 40).
pub const MAX_SYMLINK_HOPS: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: Kind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    pub link: Option<Box<str>>,
    /// Index of the layer (in manifest order) the final version came from.
    pub layer: usize,
    /// Shared with the layer facts and every hardlink to the same file (never copied).
    pub content: Option<Content>,
}

#[derive(Debug, Default)]
pub struct Fs {
    nodes: BTreeMap<Box<str>, Node>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("`/{path}`: more than {MAX_SYMLINK_HOPS} symlink hops (a symlink loop?)")]
    Loop { path: String },
}

fn remove_under(nodes: &mut BTreeMap<Box<str>, Node>, dir: &str) -> usize {
    if dir.is_empty() {
        let n = nodes.len();
        nodes.clear();
        return n;
    }
    let prefix = format!("{dir}/");
    let keys: Vec<Box<str>> = nodes
        .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
        .take_while(|(k, _)| k.starts_with(&prefix))
        .map(|(k, _)| k.clone())
        .collect();
    for k in &keys {
        nodes.remove(k);
    }
    keys.len()
}

impl Fs {
    /// Merge layers, lowest first. `names` are used in warnings. A layer listed several times
    /// is the same shared facts each time; its own warnings are reported once.
    pub fn merge(layers: Vec<(String, Arc<LayerFacts>)>) -> Fs {
        let mut fs = Fs::default();
        let mut warned: HashSet<String> = HashSet::new();
        for (index, (name, facts)) in layers.into_iter().enumerate() {
            for dir in &facts.opaque {
                remove_under(&mut fs.nodes, dir);
            }
            for path in &facts.whiteouts {
                fs.nodes.remove(path.as_str());
                remove_under(&mut fs.nodes, path);
            }
            for e in &facts.entries {
                let mut node = Node {
                    kind: e.kind,
                    mode: e.mode,
                    uid: e.uid,
                    gid: e.gid,
                    size: e.size,
                    link: e.link.clone(),
                    layer: index,
                    content: facts.contents.get(e.path.as_ref()).cloned(),
                };
                if node.kind == Kind::Hardlink {
                    let target = node.link.clone().unwrap_or_default();
                    match fs.nodes.get(target.as_ref()) {
                        Some(t) if t.kind != Kind::Hardlink => {
                            node.kind = t.kind;
                            node.mode = t.mode;
                            node.size = t.size;
                            // Shared, and only within this path's own limit.
                            match crate::layer::wanted(&e.path) {
                                Some(limit) if t.size > limit => fs.warnings.push(format!(
                                    "layer `{name}`: `/{}` (a hardlink to `/{target}`) is {} bytes, over the {limit}-byte limit for files the scanner reads; not read",
                                    e.path, t.size
                                )),
                                Some(_) if node.content.is_none() => {
                                    node.content = t.content.clone();
                                }
                                _ => {}
                            }
                        }
                        _ => {
                            fs.warnings.push(format!(
                                "layer `{name}`: hardlink `/{}` points to `/{target}`, which is in no layer at or below it; treated as an empty file",
                                e.path
                            ));
                            node.kind = Kind::File;
                            node.size = 0;
                        }
                    }
                }
                if node.kind != Kind::Dir {
                    remove_under(&mut fs.nodes, &e.path);
                }
                fs.nodes.insert(e.path.clone(), node);
            }
            if warned.insert(name) {
                fs.warnings.extend(facts.warnings.iter().cloned());
            }
        }
        fs
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node stored at exactly `path` (no symlink resolution).
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path.trim_start_matches('/'))
    }

    /// Every path and node, sorted by path.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.nodes.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// Direct children of `dir` (no symlink resolution of `dir` itself).
    pub fn children<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a str, &'a Node)> + 'a {
        let dir = dir.trim_matches('/');
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let start = prefix.clone();
        self.nodes
            .range::<str, _>((Bound::Included(start.as_str()), Bound::Unbounded))
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .filter_map(move |(k, v)| {
                let rest = &k[start.len()..];
                (!rest.is_empty() && !rest.contains('/')).then_some((k.as_ref(), v))
            })
    }

    /// Resolve `path` following symlinks in every component (in memory, with a hop limit).
    /// `Ok(None)` when some component does not exist.
    pub fn resolve(&self, path: &str) -> Result<Option<String>, ResolveError> {
        let mut pending: Vec<String> = path
            .split('/')
            .rev()
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect();
        let mut cur: Vec<String> = Vec::new();
        let mut hops = 0usize;
        while let Some(c) = pending.pop() {
            match c.as_str() {
                "." => continue,
                ".." => {
                    cur.pop();
                    continue;
                }
                _ => {}
            }
            cur.push(c);
            let joined = cur.join("/");
            // Parent directories need not have their own tar entry: a missing intermediate
            // component is an implicit directory; only the final path must exist.
            let Some(node) = self.nodes.get(joined.as_str()) else {
                continue;
            };
            if node.kind == Kind::Symlink {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(ResolveError::Loop {
                        path: path.trim_start_matches('/').to_string(),
                    });
                }
                let target = node.link.as_deref().unwrap_or("");
                cur.pop();
                if target.starts_with('/') {
                    cur.clear();
                }
                pending.extend(
                    target
                        .split('/')
                        .rev()
                        .filter(|c| !c.is_empty())
                        .map(str::to_string),
                );
            }
        }
        let joined = cur.join("/");
        if self.nodes.contains_key(joined.as_str()) {
            Ok(Some(joined))
        } else {
            Ok(None)
        }
    }

    /// Contents of a kept file, following symlinks. Errors (loops) become `None` plus a
    /// warning the caller can report.
    pub fn read(&self, path: &str) -> Result<Option<&[u8]>, ResolveError> {
        Ok(self
            .resolve(path)?
            .and_then(|p| self.nodes.get(p.as_str()))
            .and_then(|n| n.content.as_deref())
            .map(Vec::as_slice))
    }

    /// True when `path` (resolved) exists.
    pub fn exists(&self, path: &str) -> bool {
        matches!(self.resolve(path), Ok(Some(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::Entry;

    fn e(path: &str, kind: Kind, mode: u32, link: Option<&str>) -> Entry {
        Entry {
            path: path.into(),
            kind,
            mode,
            uid: 0,
            gid: 0,
            size: 1,
            link: link.map(Into::into),
        }
    }

    fn layer(entries: Vec<Entry>) -> LayerFacts {
        LayerFacts {
            entries,
            ..LayerFacts::default()
        }
    }

    #[test]
    fn whiteouts_and_opaque_dirs() {
        let l1 = layer(vec![
            e("etc", Kind::Dir, 0o755, None),
            e("etc/a", Kind::File, 0o644, None),
            e("etc/b", Kind::File, 0o644, None),
            e("opt", Kind::Dir, 0o755, None),
            e("opt/x/y", Kind::File, 0o644, None),
        ]);
        let mut l2 = layer(vec![e("opt/new", Kind::File, 0o644, None)]);
        l2.whiteouts.push("etc/a".into());
        l2.opaque.push("opt".into());
        let fs = Fs::merge(vec![
            ("l1".into(), Arc::new(l1)),
            ("l2".into(), Arc::new(l2)),
        ]);
        assert!(fs.get("etc/a").is_none());
        assert!(fs.get("etc/b").is_some());
        assert!(fs.get("opt/x/y").is_none());
        assert_eq!(fs.get("opt/new").map(|n| n.layer), Some(1));
        assert!(fs.get("opt").is_some());
    }

    #[test]
    fn file_replacing_a_directory_hides_its_children() {
        let l1 = layer(vec![
            e("d", Kind::Dir, 0o755, None),
            e("d/child", Kind::File, 0o644, None),
        ]);
        let l2 = layer(vec![e("d", Kind::File, 0o644, None)]);
        let fs = Fs::merge(vec![("1".into(), Arc::new(l1)), ("2".into(), Arc::new(l2))]);
        assert!(fs.get("d/child").is_none());
        assert_eq!(fs.len(), 1);
    }

    #[test]
    fn symlinks_resolve_and_loops_stop() {
        let mut l = layer(vec![
            e("usr/lib/os-release", Kind::File, 0o644, None),
            e(
                "etc/os-release",
                Kind::Symlink,
                0o777,
                Some("../usr/lib/os-release"),
            ),
            e("lib", Kind::Symlink, 0o777, Some("usr/lib")),
            e("a", Kind::Symlink, 0o777, Some("b")),
            e("b", Kind::Symlink, 0o777, Some("/a")),
        ]);
        l.contents.insert(
            "usr/lib/os-release".into(),
            Arc::new(b"ID=debian\n".to_vec()),
        );
        let fs = Fs::merge(vec![("l".into(), Arc::new(l))]);
        assert_eq!(
            fs.read("/etc/os-release").unwrap(),
            Some(&b"ID=debian\n"[..])
        );
        assert_eq!(
            fs.resolve("lib/os-release").unwrap().as_deref(),
            Some("usr/lib/os-release")
        );
        assert!(matches!(fs.resolve("a"), Err(ResolveError::Loop { .. })));
        assert_eq!(fs.resolve("nope/x").unwrap(), None);
    }

    #[test]
    fn hardlinks_take_the_target_or_warn() {
        let l1 = layer(vec![e("bin/su", Kind::File, 0o4755, None)]);
        let l2 = layer(vec![
            e("bin/su2", Kind::Hardlink, 0, Some("bin/su")),
            e("bin/ghost", Kind::Hardlink, 0, Some("bin/none")),
        ]);
        let fs = Fs::merge(vec![("1".into(), Arc::new(l1)), ("2".into(), Arc::new(l2))]);
        assert_eq!(fs.get("bin/su2").map(|n| n.mode), Some(0o4755));
        assert_eq!(fs.get("bin/ghost").map(|n| n.kind), Some(Kind::File));
        assert!(
            fs.warnings.iter().any(|w| w.contains("bin/ghost")),
            "{:?}",
            fs.warnings
        );
    }

    #[test]
    fn children_lists_direct_entries_only() {
        let l = layer(vec![
            e("etc/yum.repos.d/a.repo", Kind::File, 0o644, None),
            e("etc/yum.repos.d/b.repo", Kind::File, 0o644, None),
            e("etc/yum.repos.d/sub/c.repo", Kind::File, 0o644, None),
            e("etc/yum.repos.dx", Kind::File, 0o644, None),
        ]);
        let fs = Fs::merge(vec![("l".into(), Arc::new(l))]);
        let names: Vec<_> = fs.children("etc/yum.repos.d").map(|(p, _)| p).collect();
        assert_eq!(names, ["etc/yum.repos.d/a.repo", "etc/yum.repos.d/b.repo"]);
    }
}
