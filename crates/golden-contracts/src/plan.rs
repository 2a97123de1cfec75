//! The build plan: `golden-plan`'s output and the input of every matrix job.
//!
//! Two stages, `bases` and `platforms`, each shaped `{"include":[entry,...]}` so a workflow can
//! use `matrix: ${{ fromJSON(needs.plan.outputs.bases) }}` directly. An entry carries everything
//! a job needs and nothing it must recompute.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::Document;

pub const PLAN_SCHEMA: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub schema: u32,
    /// The event the plan was made for (`pull_request`, `push`, `schedule`, `workflow_dispatch`, `local`).
    pub event: String,
    /// `changed` or `all`.
    pub rebuild: String,
    /// Config file the plan was made from (repository-relative).
    pub config: String,
    /// Architectures every entry is built for, one job each (`amd64`, `arm64`); more than one
    /// means a multi-arch index per image. Plans written before this field read as `[]`
    /// (callers then assume `amd64`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub architectures: Vec<String>,
    pub bases: Stage,
    pub platforms: Stage,
    /// Entries the filters or change detection left out, with the reason (for the summary).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
}

impl Document for Plan {
    const KIND: &'static str = "plan";
    const SCHEMA: u32 = PLAN_SCHEMA;
    fn schema(&self) -> u32 {
        self.schema
    }
}

impl Plan {
    /// Every entry, bases first.
    pub fn entries(&self) -> impl Iterator<Item = &PlanEntry> {
        self.bases
            .include
            .iter()
            .chain(self.platforms.include.iter())
    }
    pub fn entry(&self, id: &str) -> Option<&PlanEntry> {
        self.entries().find(|e| e.id == id)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub include: Vec<PlanEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StageKind {
    Base,
    Platform,
}

/// One image to build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanEntry {
    /// Unique id: `base-<os>` or `<platform>-<version>-<os>`.
    pub id: String,
    pub stage: StageKind,
    /// Base OS: `alpine`, `debian`, `redhat`.
    pub os: String,
    /// Platform name (`nginx`, ...) or `base` for base images.
    pub platform: String,
    /// Repository name under the namespace (`base-debian`, `nginx`).
    pub name: String,
    pub version: String,
    /// Repository-relative Dockerfile path.
    pub dockerfile: String,
    /// Repository-relative build context directory.
    pub context: String,
    #[serde(default)]
    pub build_args: BTreeMap<String, String>,
    /// Full image name without tag: `<registry>/<namespace>/<name>`.
    pub image: String,
    /// Full references to apply (`<image>:<tag>`); the first is the primary one.
    pub tags: Vec<String>,
    /// Platforms: the id of the base entry this image builds FROM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// The moving tag the default branch publishes (`<image>:<version tag>`), what consumers
    /// pull, whatever tags this run gives the image: a pull request's comment compares with
    /// the image published there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Platforms: the base's primary reference (the builder resolves it to an immutable digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_image: Option<String>,
    /// Platforms: true when the base entry is rebuilt in this same plan (the `bases` stage), so
    /// the job takes the base from that stage (engine, archive artifact or pushed digest);
    /// false when the published `base_image` is used as it is.
    #[serde(default)]
    pub base_in_plan: bool,
    /// Bases: the pinned upstream image (`name:tag@sha256:...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// Repository-relative policy file the scanner applies.
    pub policy: String,
    /// OCI labels known at plan time (title, version, base name, source, revision).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Debian bases: how to bootstrap the base from the archive (no registry needed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<Bootstrap>,
    /// Package repository outside the base OS archive this image needs (`microsoft`, `apache`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_repo: Option<String>,
    /// True when the image can be built without pulling from any registry or vendor repository
    /// (a bootstrapped base and platforms on it using only the OS archive).
    pub offline: bool,
    /// Why this entry is in the plan (changed files, schedule, dispatch).
    #[serde(default)]
    pub reasons: Vec<String>,
    /// Build cache sources the build pulls first (golden-build `--cache-from`, the build
    /// action's `cache-from`): the entry's `published` moving tag for `pull_request`,
    /// `workflow_dispatch`, `push` and `local` plans; empty for `schedule` (nightly builds
    /// uncached on purpose). A missing image is a warning, never a failure.
    #[serde(default)]
    pub cache_from: Vec<String>,
    /// Build without the layer cache (`--no-cache`): true for `schedule` plans.
    #[serde(default)]
    pub no_cache: bool,
    /// Pull newer versions of the FROM images (`--pull`): true for `schedule` plans, so the
    /// nightly build picks up upstream patches.
    #[serde(default)]
    pub pull: bool,
}

/// Debian archive bootstrap settings (mmdebstrap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bootstrap {
    pub suite: String,
    pub variant: String,
    pub components: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub id: String,
    pub reason: String,
}
