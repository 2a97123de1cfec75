//! Command line (clap derive). Every flag can also come from a `GOLDEN_*` environment variable;
//! a list-valued one may hold several values (see README.md). `golden-push IMAGE --to REF` is
//! short for `golden-push push IMAGE --to REF` ([`with_default_subcommand`]).
//!
//! The doc comments of the flags are clap's help text, printed verbatim (`[:TAG]` is not a link).
#![allow(rustdoc::broken_intra_doc_links)]

use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "golden-push",
    version,
    about = "Push images to Azure Container Registry (or any OCI registry) natively: ACR auth from GitHub OIDC, parallel deterministic gzip, resumable uploads; plus index, copy, attach, referrers.",
    after_help = "`golden-push IMAGE --to REF` is short for `golden-push push IMAGE --to REF`. Exit codes: 0 success (verify: verified), 1 (verify) not verified, 2 usage or runtime error."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Args, Debug)]
pub struct Global {
    /// Auth method: auto (GitHub OIDC, service principal, token, docker config, anonymous — in
    /// that order), github-oidc, service-principal, token, docker-config, anonymous.
    #[arg(long, global = true, env = "GOLDEN_AUTH", default_value = "auto")]
    pub auth: String,
    /// Allow plain HTTP to a registry that is not on loopback (loopback registries always use HTTP).
    #[arg(long, global = true, env = "GOLDEN_INSECURE", value_parser = BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub insecure: bool,
    /// Retries of a failed request (connection errors, 429, 5xx), with exponential backoff.
    #[arg(long, global = true, env = "GOLDEN_RETRIES", default_value_t = 5)]
    pub retries: u32,
    /// Blobs transferred at the same time.
    #[arg(long, global = true, env = "GOLDEN_JOBS", default_value_t = 4)]
    pub jobs: usize,
    /// Upload chunk size in MiB (blobs up to this size go in one request).
    #[arg(
        long,
        global = true,
        env = "GOLDEN_CHUNK_SIZE",
        default_value_t = 8,
        value_name = "MIB"
    )]
    pub chunk_size: usize,
    /// Output on stdout: text or json.
    #[arg(long, global = true, env = "GOLDEN_FORMAT", value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// No progress lines on stderr.
    #[arg(long, short, global = true, env = "GOLDEN_QUIET", value_parser = BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Push an engine image or docker-archive:PATH to REGISTRY/REPO:TAG (the default command).
    Push(PushArgs),
    /// Build an OCI image index from per-platform manifests already in the registry.
    Index(IndexArgs),
    /// Copy an image (or index) between repositories or registries, by digest.
    Copy(CopyArgs),
    /// Push a file (scan report, SBOM) as an OCI artifact whose subject is an image.
    Attach(AttachArgs),
    /// List the artifacts attached to an image.
    Referrers(ReferrersArgs),
    /// Copy what a destination registry lacks: every tag of each source repository, by digest,
    /// with referrers (replication). Idempotent: a second run copies nothing and says so.
    Sync(SyncArgs),
    /// Delete old dated (`-YYYYMMDD`) and commit (`sha-<hex>`) tags of a staging repository:
    /// never a release tag, never a digest a kept tag or kept index reaches.
    Purge(PurgeArgs),
    /// Promote staged images to the release location by digest: check each (scan report
    /// passed), copy all with referrers, attach an audit record, then move the release tags —
    /// all images together or none.
    Promote(PromoteArgs),
    /// Write the credential golden-push uses for REGISTRY (an ACR: the refresh token exchanged
    /// from GitHub OIDC or a service principal) to the Docker CLI config, for tools that read
    /// only that file (actions/attest-build-provenance with push-to-registry, docker, oras).
    Login(LoginArgs),
    /// Sign an image in the registry and attach its SLSA provenance (Sigstore bundles as
    /// referrers).
    Sign(SignArgs),
    /// Check an image's signature, provenance and signed scan report: exit 0 verified, 1 not.
    Verify(VerifyArgs),
    /// Generate an ECDSA P-256 signing key (PKCS#8 PEM, mode 0600) and its public key (FILE.pub).
    Keygen(KeygenArgs),
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The registry host, e.g. goldenimages.azurecr.io.
    #[arg(env = "GOLDEN_LOGIN_REGISTRY")]
    pub registry: String,
    /// The Docker CLI config folder (default: $DOCKER_CONFIG, else ~/.docker).
    #[arg(long, value_name = "DIR")]
    pub docker_config: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct PushArgs {
    /// Engine image (name or id) or docker-archive:PATH.
    #[arg(env = "GOLDEN_IMAGE")]
    pub image: String,
    /// Target REGISTRY/REPOSITORY:TAG (default: the plan entry's first tag).
    #[arg(long, env = "GOLDEN_TO")]
    pub to: Option<String>,
    /// More tags in the same repository (repeat, or comma/newline separated; default: the plan
    /// entry's other tags in that repository).
    #[arg(long = "tag", env = "GOLDEN_TAGS")]
    pub tags: Vec<String>,
    /// The plan entry: its JSON, an id in --plan, or a file holding it (same meaning as in
    /// golden-build and golden-scan).
    #[arg(long, env = "GOLDEN_ENTRY")]
    pub entry: Option<String>,
    /// Plan file in which --entry is an id.
    #[arg(long, env = "GOLDEN_PLAN", value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Image id written into the record (default: the entry's id, else the target repository).
    #[arg(long, env = "GOLDEN_ID")]
    pub id: Option<String>,
    /// Files to attach to the pushed digest before any tag moves: FILE or FILE=ARTIFACT_TYPE
    /// (repeat, or one per line). A scan report gets the pushed digest as image.digest first.
    #[arg(long = "attach", env = "GOLDEN_ATTACH", value_name = "FILE[=TYPE]")]
    pub attach: Vec<String>,
    /// Write the push record (golden-contracts PushRecord, JSON) here, atomically; written on
    /// failure too, saying which tags moved.
    #[arg(long, env = "GOLDEN_RECORD", value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Multi-arch: push to `<target>-<SUFFIX>` alone and record the real tags for `index --records`.
    #[arg(long, env = "GOLDEN_ARCH_SUFFIX", value_name = "SUFFIX")]
    pub arch_suffix: Option<String>,
    /// Base image in the same registry whose layers can be reused and mounted (default: the
    /// image's org.opencontainers.image.base.name label).
    #[arg(long, env = "GOLDEN_BASE")]
    pub base: Option<String>,
    /// Manifest annotation KEY=VALUE (repeat, or one per line).
    #[arg(long = "annotation", env = "GOLDEN_ANNOTATIONS")]
    pub annotations: Vec<String>,
    /// gzip level (1 fastest .. 9 smallest).
    #[arg(long, env = "GOLDEN_COMPRESSION_LEVEL", default_value_t = crate::push::DEFAULT_LEVEL, value_parser = clap::value_parser!(u32).range(1..=9))]
    pub compression_level: u32,
    /// Compression threads (default: all cores).
    #[arg(long, env = "GOLDEN_THREADS")]
    pub threads: Option<usize>,
    /// Where to remember diff-id → blob digests (default $XDG_CACHE_HOME/golden-push or ~/.cache/golden-push).
    #[arg(long, env = "GOLDEN_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Do not read or write the local layer cache.
    #[arg(long, env = "GOLDEN_NO_CACHE", value_parser = BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub no_cache: bool,
    /// Directory for the temporary export and compressed layers (default: the system temp dir).
    #[arg(long, env = "GOLDEN_WORK_DIR")]
    pub work_dir: Option<PathBuf>,
    /// Read layers of a local engine from its overlay2 layer store when readable (auto), or
    /// always use the engine export (off). Layers read from the store are verified against
    /// their diff-ids.
    #[arg(long, env = "GOLDEN_LAYER_STORE", value_enum, default_value_t = LayerStoreMode::Auto)]
    pub layer_store: LayerStoreMode,
    /// Upload layers larger than a chunk while they compress (true), or compress each layer
    /// completely and ask the registry (HEAD) before sending it (false).
    #[arg(long, env = "GOLDEN_STREAM_UPLOADS", value_parser = BoolishValueParser::new(), default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub stream_uploads: bool,
    #[command(flatten)]
    pub signing: SigningArgs,
    /// After signing, `verify` the pushed digest with this policy (its keys plus the signer's
    /// own) before any tag moves; not verified = no tag moves.
    #[arg(long, env = "GOLDEN_VERIFY_POLICY", value_name = "FILE")]
    pub verify_policy: Option<PathBuf>,
}

/// The signer: a key, or an Azure Key Vault key (`push`, `sign`, and the audit records of
/// `promote` and `sync`).
#[derive(Args, Debug, Clone)]
pub struct SignerArgs {
    /// Signing key: a PKCS#8 PEM file (ECDSA P-256 or Ed25519), or the PEM itself (a secret in
    /// the environment). With it, `push` signs the pushed digest and attaches SLSA provenance
    /// before any tag moves; `promote` and `sync` sign their audit records.
    #[arg(
        long = "sign-key",
        env = "GOLDEN_SIGNING_KEY",
        value_name = "FILE|PEM",
        hide_env_values = true
    )]
    pub key: Option<String>,
    /// Sign with this Azure Key Vault key instead (an EC P-256 key id,
    /// https://VAULT.vault.azure.net/keys/NAME[/VERSION]); the Entra token comes from the same
    /// GitHub OIDC federation (or service principal) as the push.
    #[arg(
        long = "keyvault-key-id",
        env = "AZURE_KEYVAULT_KEY_ID",
        value_name = "URL"
    )]
    pub keyvault_key_id: Option<String>,
}

/// How `push` and `sign` sign.
#[derive(Args, Debug, Clone)]
pub struct SigningArgs {
    #[command(flatten)]
    pub signer: SignerArgs,
    /// Attach SLSA provenance next to the signature.
    #[arg(long, env = "GOLDEN_PROVENANCE", value_parser = BoolishValueParser::new(), default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub provenance: bool,
    /// golden-build's build record of the image (base image digest, start time) for the provenance.
    #[arg(long, env = "GOLDEN_BUILD_RECORD", value_name = "FILE")]
    pub build_record: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct SignArgs {
    /// The image in the registry (tag or digest).
    #[arg(env = "GOLDEN_SUBJECT")]
    pub image: String,
    #[command(flatten)]
    pub signing: SigningArgs,
    /// The plan entry (JSON, an id in --plan, or a file), for the provenance.
    #[arg(long, env = "GOLDEN_ENTRY")]
    pub entry: Option<String>,
    /// Plan file in which --entry is an id.
    #[arg(long, env = "GOLDEN_PLAN", value_name = "FILE")]
    pub plan: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The image in the registry (tag or digest).
    #[arg(env = "GOLDEN_SUBJECT")]
    pub image: String,
    /// Trusted public key (PEM) (repeat, or one per line); added to the policy's `keys`.
    #[arg(
        long = "key",
        env = "GOLDEN_VERIFY_KEYS",
        value_name = "PUB",
        value_delimiter = '\n'
    )]
    pub keys: Vec<PathBuf>,
    /// Verify policy (YAML, see docs/signing.md); without it: a signature, a signed provenance
    /// and a passed signed scan report are required.
    #[arg(long, env = "GOLDEN_VERIFY_POLICY", value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Where to write the private key (refused when it exists); the public key goes to FILE.pub.
    #[arg(env = "GOLDEN_KEYGEN_FILE", value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum LayerStoreMode {
    Auto,
    Off,
}

#[derive(Args, Debug)]
pub struct IndexArgs {
    /// Target REGISTRY/REPOSITORY:TAG of the index (without --records).
    #[arg(
        long,
        env = "GOLDEN_TO",
        conflicts_with = "records",
        required_unless_present = "records"
    )]
    pub to: Option<String>,
    /// Per-platform manifests: digests in the target repository, or full references (without --records).
    #[arg(env = "GOLDEN_MANIFESTS", conflicts_with = "records")]
    pub manifests: Vec<String>,
    /// Push records (files, or folders searched for *push-record.json): one index per image id
    /// from its per-architecture pushes.
    #[arg(
        long,
        env = "GOLDEN_RECORDS",
        value_name = "DIR|FILE",
        value_delimiter = '\n'
    )]
    pub records: Vec<PathBuf>,
    /// With --records: the architectures every image must have (amd64,arm64). An image missing
    /// one, or whose push failed, stops everything: no index is pushed, no tag moves.
    #[arg(long, env = "GOLDEN_EXPECT_ARCH", value_name = "ARCHS")]
    pub expect_arch: Option<String>,
    /// Write the index record (golden-contracts IndexRecord, JSON) here, atomically.
    #[arg(long, env = "GOLDEN_RECORD", value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// More tags in the same repository.
    #[arg(long = "tag", env = "GOLDEN_TAGS")]
    pub tags: Vec<String>,
    /// Index annotation KEY=VALUE (repeat, or one per line).
    #[arg(long = "annotation", env = "GOLDEN_ANNOTATIONS")]
    pub annotations: Vec<String>,
    #[command(flatten)]
    pub signing: SigningArgs,
}

#[derive(Args, Debug)]
pub struct CopyArgs {
    /// Source REGISTRY/REPOSITORY:TAG or @DIGEST.
    #[arg(env = "GOLDEN_COPY_FROM")]
    pub src: String,
    /// Destination REGISTRY/REPOSITORY[:TAG] (no tag: the source's tag, or digest only).
    #[arg(env = "GOLDEN_COPY_TO")]
    pub dst: String,
    /// More tags in the destination repository.
    #[arg(long = "tag", env = "GOLDEN_TAGS")]
    pub tags: Vec<String>,
    /// Auth method for the source registry when it differs from the destination's.
    #[arg(long, env = "GOLDEN_FROM_AUTH")]
    pub from_auth: Option<String>,
    /// Copy the image alone: not its referrers (signatures, attestations, reports, SBOM, VEX),
    /// which are copied by default, recursively, before any tag is set.
    #[arg(long, env = "GOLDEN_NO_REFERRERS", value_parser = BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub no_referrers: bool,
}

#[derive(Args, Debug)]
pub struct AttachArgs {
    /// The image the artifact is about (tag or digest).
    #[arg(env = "GOLDEN_SUBJECT")]
    pub subject: String,
    /// The file to attach.
    #[arg(env = "GOLDEN_FILE")]
    pub file: PathBuf,
    /// Artifact type, e.g. application/vnd.golden.scan-report.v1+json.
    #[arg(long, env = "GOLDEN_ARTIFACT_TYPE")]
    pub artifact_type: String,
    /// Media type of the file (default: from its extension).
    #[arg(long, env = "GOLDEN_MEDIA_TYPE")]
    pub media_type: Option<String>,
    /// Manifest annotation KEY=VALUE (repeat, or one per line).
    #[arg(long = "annotation", env = "GOLDEN_ANNOTATIONS")]
    pub annotations: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ReferrersArgs {
    /// The image (tag or digest).
    #[arg(env = "GOLDEN_SUBJECT")]
    pub subject: String,
    /// Only artifacts of this type.
    #[arg(long, env = "GOLDEN_ARTIFACT_TYPE")]
    pub artifact_type: Option<String>,
}

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// Source repositories, REGISTRY/REPOSITORY (every tag of each is synced).
    #[arg(env = "GOLDEN_SYNC_FROM", value_delimiter = '\n', required = true)]
    pub sources: Vec<String>,
    /// Destination REGISTRY[/PREFIX]: each source repository keeps its path, under PREFIX.
    #[arg(long, env = "GOLDEN_SYNC_TO")]
    pub to: String,
    /// A leading path of the source repositories to drop at the destination (`golden-staging`:
    /// `golden-staging/nginx` → `PREFIX/nginx`).
    #[arg(long, env = "GOLDEN_STRIP_PREFIX")]
    pub strip_prefix: Option<String>,
    /// Auth method for the source registry when it differs from the destination's.
    #[arg(long, env = "GOLDEN_FROM_AUTH")]
    pub from_auth: Option<String>,
    /// Only list what would be copied or tagged.
    #[arg(long, env = "GOLDEN_DRY_RUN", value_parser = BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub dry_run: bool,
    /// Attach no `replication` audit record to the digests copied.
    #[arg(long, env = "GOLDEN_NO_AUDIT", value_parser = BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub no_audit: bool,
    #[command(flatten)]
    pub signing: SignerArgs,
    /// Write the result (every tag and what was done) as JSON to FILE.
    #[arg(long, env = "GOLDEN_RECORD", value_name = "FILE")]
    pub record: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct PurgeArgs {
    /// The staging repository, REGISTRY/REPOSITORY.
    #[arg(env = "GOLDEN_PURGE_REPOSITORY")]
    pub repository: String,
    /// Dated and commit tags kept per family (`1.22-debian-*`), newest first.
    #[arg(long, env = "GOLDEN_PURGE_KEEP", default_value_t = 14)]
    pub keep: usize,
    /// Only tags older than this many days are deleted.
    #[arg(
        long,
        env = "GOLDEN_PURGE_OLDER_THAN",
        value_name = "DAYS",
        default_value_t = 30
    )]
    pub older_than: u32,
    /// Print what would be deleted, delete nothing.
    #[arg(long, env = "GOLDEN_DRY_RUN", value_parser = BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub dry_run: bool,
    /// Write the plan (every tag, kept or deleted, and why) as JSON to FILE.
    #[arg(long, env = "GOLDEN_RECORD", value_name = "FILE")]
    pub record: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct PromoteArgs {
    /// Images, REGISTRY/REPOSITORY@DIGEST[=TAG,TAG] (no `=`: the staging tags on that digest
    /// plus the moving tag of each dated one). Repeat, or one per line.
    #[arg(env = "GOLDEN_PROMOTE_IMAGES", value_delimiter = '\n', required = true)]
    pub images: Vec<String>,
    /// Release location REGISTRY[/PREFIX]: each image keeps its repository path, under PREFIX.
    #[arg(long, env = "GOLDEN_PROMOTE_TO")]
    pub to: String,
    /// A leading path of the staged repositories replaced by the release location's PREFIX
    /// (the staging namespace: `golden-staging/nginx` → `PREFIX/nginx`).
    #[arg(long, env = "GOLDEN_STRIP_PREFIX")]
    pub strip_prefix: Option<String>,
    /// Promote without checking the attached scan reports (default: every image, and every
    /// child of an index, needs a scan report that passed).
    #[arg(long, env = "GOLDEN_NO_REQUIRE_REPORT", value_parser = BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub no_require_report: bool,
    /// Verify every image with this policy (YAML, see docs/signing.md: signature, signed
    /// provenance, signed scan report that passed) before anything is copied; one image not
    /// verified = nothing promoted.
    /// (Strings, not paths: a workflow passes an unset repository variable as an empty value,
    /// which means "none".)
    #[arg(long, env = "GOLDEN_VERIFY_POLICY", value_name = "FILE")]
    pub verify_policy: Option<String>,
    /// Trusted public key (PEM) for the verify policy (repeat, or one per line); added to the
    /// policy's `keys`. A key alone (no --verify-policy) verifies with the default policy.
    #[arg(
        long = "verify-key",
        env = "GOLDEN_VERIFY_KEYS",
        value_name = "PUB",
        value_delimiter = '\n'
    )]
    pub verify_keys: Vec<String>,
    /// Attach no audit record to the promoted digests.
    #[arg(long, env = "GOLDEN_NO_AUDIT", value_parser = BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub no_audit: bool,
    #[command(flatten)]
    pub signing: SignerArgs,
    /// The GitHub environment the promotion ran in (audit record).
    #[arg(long, env = "GOLDEN_PROMOTION_ENVIRONMENT")]
    pub environment: Option<String>,
    /// Who approved the deployment to that environment (audit record).
    #[arg(long, env = "GOLDEN_PROMOTION_APPROVER")]
    pub approver: Option<String>,
    /// The environment's deployment id (audit record).
    #[arg(long, env = "GOLDEN_DEPLOYMENT_ID")]
    pub deployment_id: Option<String>,
    /// Who started the promotion (audit record).
    #[arg(long, env = "GOLDEN_PROMOTION_ACTOR")]
    pub actor: Option<String>,
    /// Auth method for the staging registry when it differs from the release registry's.
    #[arg(long, env = "GOLDEN_FROM_AUTH")]
    pub from_auth: Option<String>,
    /// Write the promotion (images, digests, tags moved, referrers, audit records) as JSON to
    /// FILE (what workflows read: stdout carries workflow commands under Actions).
    #[arg(long, env = "GOLDEN_RECORD", value_name = "FILE")]
    pub record: Option<PathBuf>,
}

pub const SUBCOMMANDS: [&str; 13] = [
    "login",
    "promote",
    "push",
    "index",
    "copy",
    "attach",
    "referrers",
    "sync",
    "purge",
    "sign",
    "verify",
    "keygen",
    "help",
];

/// `golden-push IMAGE --to REF` → `golden-push push IMAGE --to REF`.
pub fn with_default_subcommand(mut args: Vec<String>) -> Vec<String> {
    let first = args.get(1).map(String::as_str);
    let keep = matches!(first, Some(a) if SUBCOMMANDS.contains(&a) || ["-h", "--help", "-V", "--version"].contains(&a));
    if !keep {
        args.insert(1.min(args.len()), "push".to_string());
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split_list;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bare_image_means_push() {
        let v = |s: &[&str]| with_default_subcommand(s.iter().map(|x| x.to_string()).collect());
        assert_eq!(
            v(&["gp", "img", "--to", "r/a"]),
            ["gp", "push", "img", "--to", "r/a"]
        );
        assert_eq!(v(&["gp", "copy", "a", "b"]), ["gp", "copy", "a", "b"]);
        assert_eq!(v(&["gp", "--help"]), ["gp", "--help"]);
        assert_eq!(v(&["gp"]), ["gp", "push"]);
        let cli = Cli::try_parse_from(v(&[
            "gp",
            "img",
            "--to",
            "127.0.0.1:5000/a:1",
            "--tag",
            "x,y",
        ]))
        .unwrap();
        match cli.cmd {
            Cmd::Push(p) => assert_eq!(split_list(&p.tags), ["x", "y"]),
            other => panic!("{other:?}"),
        }
    }
}
