#!/usr/bin/env python3
"""Local stand-ins for the remote actions the workflows use, for runs under nektos/act.

scripts/act.sh maps each pinned `owner/repo@sha` to a folder under tests/act-standins with
`--local-repository`; every stand-in's action.yml calls this script with one subcommand. Inputs
arrive as INPUT_* environment variables (set by the action.yml), state lives in folders that
scripts/act.sh passes in the environment:

  GOLDEN_ACT_ARTIFACTS  this run's artifacts, one folder per artifact name
  GOLDEN_ACT_CACHE      the repository's cache, one tar per key (kept across runs)
  GOLDEN_ACT_RECORDS    what the recorder stand-ins received (SARIF uploads, attestations)
  GOLDEN_ACT_REPOS      owner/repo -> local git repository: `owner/repo=DIR` items joined by `;`

A stand-in that is asked for something it cannot honour fails with an error naming the input.
"""

import fnmatch
import glob
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path


class StandinError(Exception):
    pass


def die(msg: str) -> None:
    raise StandinError(msg)


def inp(name: str, default: str = "") -> str:
    return os.environ.get("INPUT_" + name.upper().replace("-", "_"), default)


def state_dir(var: str) -> Path:
    value = os.environ.get(var, "")
    if not value:
        die(f"{var} is not set: run the workflow through scripts/act.sh")
    p = Path(value)
    p.mkdir(parents=True, exist_ok=True)
    return p


def output(name: str, value: str) -> None:
    path = os.environ.get("GITHUB_OUTPUT")
    if not path:
        die("GITHUB_OUTPUT is not set")
    if "\n" in value:
        die(f"output {name} would span lines")
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{name}={value}\n")


def log(msg: str) -> None:
    print(f"[act stand-in] {msg}", flush=True)


def lines(value: str) -> list[str]:
    return [ln.strip() for ln in value.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def boolean(name: str, default: str) -> bool:
    v = inp(name, default).strip().lower() or default
    if v not in ("true", "false"):
        die(f"input `{name}` must be true or false, got `{v}`")
    return v == "true"


def unsupported(names: dict[str, str]) -> None:
    """Fail when an input the stand-in does not emulate is set to anything but its default."""
    for name, default in names.items():
        v = inp(name, default)
        if v != default:
            die(f"input `{name}` (`{v}`) is not supported by this stand-in; only its default `{default}` is")


def expand_braces(pattern: str) -> list[str]:
    m = re.search(r"\{([^{}]*)\}", pattern)
    if not m:
        return [pattern]
    out = []
    for alt in m.group(1).split(","):
        out.extend(expand_braces(pattern[: m.start()] + alt + pattern[m.end() :]))
    return out


def matches(name: str, pattern: str) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in expand_braces(pattern))


def home(p: str) -> str:
    return os.path.expanduser(p)


# ---------------------------------------------------------------- checkout
def cmd_checkout() -> None:
    unsupported(
        {
            "ssh-key": "",
            "ssh-known-hosts": "",
            "ssh-strict": "true",
            "ssh-user": "git",
            "clean": "true",
            "filter": "",
            "sparse-checkout": "",
            "sparse-checkout-cone-mode": "true",
            "fetch-tags": "false",
            "show-progress": "true",
            "lfs": "false",
            "submodules": "false",
            "set-safe-directory": "true",
            "github-server-url": "",
        }
    )
    if boolean("persist-credentials", "true"):
        die("input `persist-credentials` is true: this stand-in never stores a credential; the workflows must pass false")
    repo = inp("repository") or os.environ.get("GITHUB_REPOSITORY", "")
    ref = inp("ref") or os.environ.get("GITHUB_SHA", "")
    depth = inp("fetch-depth", "1") or "1"
    if not re.fullmatch(r"[0-9]+", depth):
        die(f"input `fetch-depth` must be a number, got `{depth}`")
    repos = {}
    for ln in lines(os.environ.get("GOLDEN_ACT_REPOS", "").replace(";", "\n")):
        k, _, v = ln.partition("=")
        repos[k.strip()] = v.strip()
    if repo not in repos:
        die(f"no local clone for repository `{repo}`: scripts/act.sh knows {sorted(repos)}")
    src = repos[repo]
    workspace = Path(os.environ["GITHUB_WORKSPACE"])
    rel = inp("path") or "."
    dest = (workspace / rel).resolve()
    if workspace.resolve() not in [dest, *dest.parents]:
        die(f"input `path` ({rel}) leaves the workspace")
    if dest.exists() and any(dest.iterdir()):
        if dest == workspace.resolve():
            # act copies the repository into the workspace; the real checkout cleans it first.
            for child in dest.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        else:
            die(f"checkout path {dest} is not empty")
    dest.mkdir(parents=True, exist_ok=True)

    def git(*args: str, cwd: Path = dest) -> str:
        r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
        if r.returncode != 0:
            die(f"git {' '.join(args)}: {r.stderr.strip()}")
        return r.stdout.strip()

    git("init", "--quiet")
    git("remote", "add", "origin", src)
    # Refs as GitHub has them: branches under refs/remotes/origin, pull-request heads under refs/pull.
    git("fetch", "--quiet", "--no-tags", "origin", "+refs/heads/*:refs/remotes/origin/*", "+refs/pull/*:refs/remotes/pull/*")
    resolved = ""
    for cand in (ref, f"origin/{ref}", f"refs/remotes/origin/{ref}", ref.replace("refs/heads/", "origin/"), ref.replace("refs/pull/", "pull/")):
        r = subprocess.run(["git", "rev-parse", "--verify", "--quiet", cand + "^{commit}"], cwd=dest, capture_output=True, text=True)
        if r.returncode == 0:
            resolved = r.stdout.strip()
            break
    if not resolved:
        die(f"ref `{ref}` not found in {repo} ({src})")
    git("checkout", "--quiet", "--detach", resolved)
    if depth != "0":
        # The history stays (a local clone is cheap); a shallow checkout only hides it on GitHub.
        pass
    output("ref", ref)
    output("commit", resolved)
    log(f"checked out {repo}@{resolved[:12]} into {rel}")


# ---------------------------------------------------------------- artifacts
def artifact_root(specs: list[str]) -> tuple[Path, list[Path]]:
    include, exclude = [], []
    for s in specs:
        (exclude if s.startswith("!") else include).append(home(s.lstrip("!")))
    files: list[Path] = []
    roots: list[str] = []
    hidden = boolean("include-hidden-files", "false")
    for s in include:
        prefix = re.split(r"[*?\[{]", s, maxsplit=1)[0]
        literal = prefix == s
        hits = glob.glob(s, recursive=True) if not literal else ([s] if os.path.exists(s) else [])
        if literal:
            roots.append(os.path.dirname(os.path.abspath(s)) if os.path.isfile(s) else os.path.abspath(s))
        else:
            roots.append(os.path.abspath(prefix if prefix.endswith("/") else os.path.dirname(prefix)))
        for h in hits:
            p = Path(h)
            if p.is_dir():
                files.extend(q for q in p.rglob("*") if q.is_file())
            elif p.is_file():
                files.append(p)
    files = [f.resolve() for f in files]
    ex = set()
    for s in exclude:
        for h in glob.glob(s, recursive=True):
            p = Path(h).resolve()
            ex.update([p] if p.is_file() else [q.resolve() for q in p.rglob("*")])
    files = sorted({f for f in files if f not in ex})
    root = (Path(os.path.commonpath(roots)) if roots else Path("/")).resolve()
    if not hidden:
        files = [f for f in files if not any(part.startswith(".") for part in f.relative_to(root).parts)]
    return root, files


def cmd_upload() -> None:
    # compression-level is accepted and has no effect: artifacts are stored as plain files.
    name = inp("name", "artifact") or "artifact"
    if "/" in name or name in (".", "..") or re.search(r'[":<>|*?\\\r\n]', name):
        die(f"input `name` `{name}` has characters an artifact name cannot have")
    specs = lines(inp("path"))
    if not specs:
        die("input `path` is required")
    retention = inp("retention-days", "0") or "0"
    if not re.fullmatch(r"[0-9]+", retention) or int(retention) > 90:
        die(f"input `retention-days` must be 0..90, got `{retention}`")
    mode = inp("if-no-files-found", "warn") or "warn"
    if mode not in ("warn", "error", "ignore"):
        die(f"input `if-no-files-found` must be warn, error or ignore, got `{mode}`")
    root, files = artifact_root(specs)
    if not files:
        msg = f"no files were found with the provided path: {', '.join(specs)}"
        if mode == "error":
            die(msg + ". No artifacts will be uploaded.")
        if mode == "warn":
            print(f"::warning::{msg}. No artifacts will be uploaded.", flush=True)
        return
    store = state_dir("GOLDEN_ACT_ARTIFACTS") / name
    if store.exists():
        if not boolean("overwrite", "false"):
            die(f"an artifact named `{name}` was already uploaded in this run (pass overwrite: true to replace it)")
        shutil.rmtree(store)
    for f in files:
        rel = f.relative_to(root)
        target = store / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, target)
    (store.parent / f".{name}.meta.json").write_text(
        json.dumps({"name": name, "files": [str(f.relative_to(root)) for f in files], "retention-days": int(retention),
                    "job": os.environ.get("GITHUB_JOB", ""), "uploaded": time.time()}))
    output("artifact-id", str(abs(hash(name)) % 10**9))
    output("artifact-url", f"file://{store}")
    log(f"uploaded artifact {name}: {len(files)} file(s) from {root}")


def other_run_store(run_id: str) -> Path:
    """The artifacts of another run (`run-id`): scripts/act.sh --run-artifacts ID=STATE."""
    if not inp("github-token"):
        die("input `run-id` needs `github-token` (the real action cannot read another run without one)")
    repo = inp("repository")
    if repo and repo != os.environ.get("GITHUB_REPOSITORY", ""):
        die(f"input `repository` ({repo}): this stand-in only reads runs of {os.environ.get('GITHUB_REPOSITORY', '')}")
    runs = {}
    for ln in lines(os.environ.get("GOLDEN_ACT_RUNS", "").replace(";", "\n")):
        k, _, v = ln.partition("=")
        runs[k.strip()] = v.strip()
    if run_id not in runs:
        die(f"run {run_id} is unknown: scripts/act.sh --run-artifacts ID=STATE knows {sorted(runs) or 'no run'}")
    store = Path(runs[run_id]) / "artifacts"
    if not store.is_dir():
        die(f"run {run_id} has no artifacts folder ({store})")
    return store


def cmd_download() -> None:
    if inp("artifact-ids"):
        die("input `artifact-ids` is not supported by this stand-in")
    name, pattern = inp("name"), inp("pattern")
    merge = boolean("merge-multiple", "false")
    dest = Path(home(inp("path") or os.environ["GITHUB_WORKSPACE"]))
    if not dest.is_absolute():
        dest = Path(os.environ["GITHUB_WORKSPACE"]) / dest
    run_id = inp("run-id")
    store = other_run_store(run_id) if run_id else state_dir("GOLDEN_ACT_ARTIFACTS")
    present = sorted(p.name for p in store.iterdir() if p.is_dir())
    if name:
        if name not in present:
            die(f"artifact not found: {name} (this run has: {', '.join(present) or 'none'})")
        shutil.copytree(store / name, dest, dirs_exist_ok=True)
        log(f"downloaded artifact {name} into {dest}")
    else:
        chosen = [p for p in present if not pattern or matches(p, pattern)]
        for p in chosen:
            shutil.copytree(store / p, dest if merge else dest / p, dirs_exist_ok=True)
        log(f"downloaded {len(chosen)} artifact(s) matching `{pattern or '*'}` into {dest}" + (" (merged)" if merge else ""))
        dest.mkdir(parents=True, exist_ok=True)
    output("download-path", str(dest))


# ---------------------------------------------------------------- cache
def cache_file(key: str) -> Path:
    if not key or len(key) > 512 or "," in key:
        die(f"cache key `{key}` is empty, longer than 512 or has a comma")
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", key)
    return state_dir("GOLDEN_ACT_CACHE") / (safe + ".tar")


def cache_paths() -> list[str]:
    ps = [home(p) for p in lines(inp("path"))]
    if not ps:
        die("input `path` is required")
    return ps


# act gives every job its own RUNNER_TEMP and workspace; on GitHub they are the same path in every
# job, so a cache entry names them by placeholder (the real cache versions entries by path).
def portable(p: str) -> str:
    for var, tag in (("RUNNER_TEMP", "<runner.temp>"), ("GITHUB_WORKSPACE", "<workspace>")):
        base = os.environ.get(var, "")
        if base and (p == base or p.startswith(base.rstrip("/") + "/")):
            return tag + p[len(base.rstrip("/")) :]
    return p


def local(p: str) -> str:
    for var, tag in (("RUNNER_TEMP", "<runner.temp>"), ("GITHUB_WORKSPACE", "<workspace>")):
        if p.startswith(tag):
            return os.environ[var].rstrip("/") + p[len(tag) :]
    return p


def cmd_restore() -> None:
    unsupported({"enableCrossOsArchive": "false", "fail-on-cache-miss": "false", "lookup-only": "false"})
    key = inp("key")
    paths = cache_paths()
    cands = [cache_file(key)]
    d = state_dir("GOLDEN_ACT_CACHE")
    for prefix in lines(inp("restore-keys")):
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", prefix)
        hits = sorted(d.glob(glob.escape(safe) + "*.tar"), key=lambda p: p.stat().st_mtime, reverse=True)
        cands.extend(hits)
    hit = next((c for c in cands if c.is_file()), None)
    if hit is None:
        log(f"cache miss for {key}")
        output("cache-hit", "false")
        output("cache-primary-key", key)
        return
    with tarfile.open(hit) as t:
        meta = json.loads(t.extractfile("golden-act-cache.json").read())  # type: ignore[union-attr]
        if sorted(meta["paths"]) != sorted(map(portable, paths)):
            die(f"cache entry {hit.name} holds paths {meta['paths']}, asked for {paths} (the real cache's version check fails too)")
        for i, p in enumerate(map(local, meta["paths"])):
            members = [m for m in t.getmembers() if m.name == str(i) or m.name.startswith(f"{i}/")]
            for m in members:
                m.name = m.name[len(str(i)) :].lstrip("/")
                if not m.name:
                    continue
                t.extract(m, p, filter="data")
    exact = hit == cands[0]
    output("cache-hit", "true" if exact else "false")
    output("cache-primary-key", key)
    output("cache-matched-key", meta["key"])
    log(f"restored cache {meta['key']} ({'exact' if exact else 'restore-keys'} match)")


def cmd_save() -> None:
    unsupported({"enableCrossOsArchive": "false", "upload-chunk-size": ""})
    key = inp("key")
    paths = cache_paths()
    f = cache_file(key)
    if f.exists():
        log(f"cache {key} exists already: not saved again (the real cache is immutable too)")
        return
    tmp = f.with_suffix(".tmp")
    with tarfile.open(tmp, "w") as t:
        meta = json.dumps({"key": key, "paths": [portable(p) for p in paths]}).encode()
        info = tarfile.TarInfo("golden-act-cache.json")
        info.size = len(meta)
        t.addfile(info, io.BytesIO(meta))
        for i, p in enumerate(paths):
            if os.path.exists(p):
                t.add(p, arcname=str(i))
    tmp.rename(f)
    output("cache-id", str(abs(hash(key)) % 10**9))
    log(f"saved cache {key}")


def cmd_cache() -> None:
    # actions/cache restores in its main step and saves in a post step; composite actions have no
    # post step, so this stand-in restores only and says so.
    unsupported({"save-always": "false", "upload-chunk-size": ""})
    cmd_restore()
    print("::notice title=act stand-in::actions/cache restores only here: its post-job save is not emulated", flush=True)


# ---------------------------------------------------------------- recorders
def cmd_upload_sarif() -> None:
    unsupported({"wait-for-processing": "true", "ref": "", "sha": ""})
    src = Path(inp("sarif_file") or "../results")
    if not src.is_file():
        die(f"input `sarif_file`: {src} is not a file (directories are not supported by this stand-in)")
    schema_path = os.environ.get("GOLDEN_ACT_SARIF_SCHEMA", "")
    if not schema_path or not os.path.isfile(schema_path):
        die("GOLDEN_ACT_SARIF_SCHEMA does not name the SARIF 2.1.0 schema: run through scripts/act.sh")
    try:
        import jsonschema  # from the project's .venv (check-jsonschema depends on it)
    except ImportError:
        die("python module jsonschema is missing: run scripts/setup.sh")
    try:
        doc = json.loads(src.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        die(f"{src}: not JSON: {e}")
    schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        die(f"{src}: not valid SARIF 2.1.0 at /{'/'.join(map(str, e.path))}: {e.message} ({len(errors)} error(s))")
    category = inp("category")
    out = state_dir("GOLDEN_ACT_RECORDS") / "sarif"
    out.mkdir(exist_ok=True)
    n = len(list(out.glob("*.sarif"))) + 1
    stored = out / f"{n:03d}.sarif"
    shutil.copy2(src, stored)
    (out / f"{n:03d}.json").write_text(json.dumps({"category": category, "file": str(src), "job": os.environ.get("GITHUB_JOB", ""),
                                                  "runs": len(doc.get("runs", []))}))
    output("sarif-id", f"act-{n}")
    log(f"SARIF {src} is valid; stored as {stored} (category `{category}`)")


def attest_subjects() -> list[dict]:
    path, digest, name = inp("subject-path"), inp("subject-digest"), inp("subject-name")
    subjects = []
    if path:
        import hashlib

        for spec in lines(path):
            for h in sorted(glob.glob(home(spec), recursive=True)):
                if os.path.isfile(h):
                    subjects.append({"name": os.path.basename(h), "sha256": hashlib.sha256(Path(h).read_bytes()).hexdigest()})
        if not subjects:
            die(f"input `subject-path` matched no file: {path}")
    elif digest and name:
        if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
            die(f"input `subject-digest` must be sha256:<64 hex>, got `{digest}`")
        subjects.append({"name": name, "sha256": digest.split(":", 1)[1]})
    else:
        die("give `subject-path`, or `subject-digest` with `subject-name`")
    return subjects


def registry_push_target() -> str | None:
    """With push-to-registry, what the real action needs: a subject-name that is an image
    repository (no tag, no digest) and Docker config credentials for its registry (the action
    reads only that file). Returns the registry host."""
    if not boolean("push-to-registry", "false"):
        return None
    name = inp("subject-name")
    if not name or not inp("subject-digest"):
        die("input `push-to-registry` needs `subject-name` (REGISTRY/REPOSITORY) and `subject-digest`")
    if "@" in name or re.search(r":[^/]*$", name):
        die(f"input `subject-name` must name a repository without tag or digest when pushing, got `{name}`")
    host = name.split("/", 1)[0]
    cfg = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
    try:
        auths = json.loads(cfg.read_text()).get("auths", {})
    except (OSError, ValueError) as e:
        die(f"push-to-registry: no readable Docker config at {cfg} ({e}): log in to {host} first")
    if not any(k == host or k.endswith("://" + host) for k in auths):
        die(f"push-to-registry: the Docker config {cfg} has no credentials for {host}: log in first")
    return host


def record_attestation(kind: str, extra: dict) -> None:
    subjects = attest_subjects()
    pushed = registry_push_target()
    out = state_dir("GOLDEN_ACT_RECORDS") / "attestations"
    out.mkdir(exist_ok=True)
    n = len(list(out.glob("*.json"))) + 1
    rec = out / f"{n:03d}.json"
    rec.write_text(json.dumps({"kind": kind, "subjects": subjects, "workflow": os.environ.get("GITHUB_WORKFLOW", ""),
                               "push_to_registry": pushed, **extra}, indent=1))
    output("bundle-path", str(rec))
    output("attestation-id", str(n))
    output("attestation-url", f"https://github.com/{os.environ.get('GITHUB_REPOSITORY', '')}/attestations/{n}")
    where = f"; would be pushed to {pushed} (Docker config credentials present)" if pushed else ""
    log(f"recorded a {kind} attestation for {len(subjects)} subject(s) in {rec} (nothing is signed){where}")


def cmd_attest() -> None:
    unsupported({"show-summary": "true"})
    record_attestation("provenance", {})


def cmd_attest_sbom() -> None:
    unsupported({"show-summary": "true"})
    sbom = inp("sbom-path")
    if not sbom:
        die("input `sbom-path` is required")
    p = Path(home(sbom))
    try:
        doc = json.loads(p.read_text())
    except (OSError, ValueError) as e:
        die(f"input `sbom-path`: {p} is not a readable JSON SBOM ({e})")
    if doc.get("spdxVersion"):
        fmt = "spdx"
    elif doc.get("bomFormat") == "CycloneDX":
        fmt = "cyclonedx"
    else:
        die(f"input `sbom-path`: {p} is neither SPDX nor CycloneDX JSON")
    if p.stat().st_size > 16 << 20:
        die(f"input `sbom-path`: {p} is over the real action's 16 MB limit")
    record_attestation("sbom", {"sbom_format": fmt})


def cmd_upload_pages() -> None:
    name = inp("name", "github-pages") or "github-pages"
    src = Path(home(inp("path", "_site/") or "_site/"))
    if not src.is_absolute():
        src = Path(os.environ["GITHUB_WORKSPACE"]) / src
    if not src.is_dir():
        die(f"input `path`: {src} is not a folder")
    retention = inp("retention-days", "1") or "1"
    if not re.fullmatch(r"[0-9]+", retention) or int(retention) > 90:
        die(f"input `retention-days` must be 0..90, got `{retention}`")
    store = state_dir("GOLDEN_ACT_ARTIFACTS") / name
    if store.exists():
        die(f"an artifact named `{name}` was already uploaded in this run")
    store.mkdir(parents=True)
    n = 0
    # Like the real action: a tar of the folder's contents without hidden files, links dereferenced.
    with tarfile.open(store / "artifact.tar", "w") as tar:
        for f in sorted(src.rglob("*")):
            rel = f.relative_to(src)
            if any(part.startswith(".") for part in rel.parts) or not f.is_file():
                continue
            tar.add(f, arcname=str(rel))
            n += 1
    (store.parent / f".{name}.meta.json").write_text(json.dumps({"name": name, "files": ["artifact.tar"],
        "retention-days": int(retention), "job": os.environ.get("GITHUB_JOB", ""), "uploaded": time.time()}))
    output("artifact_id", str(abs(hash(name)) % 10**9))
    log(f"uploaded the Pages artifact {name}: {n} file(s) from {src}")


def cmd_deploy_pages() -> None:
    unsupported({"preview": "false"})
    name = inp("artifact_name", "github-pages") or "github-pages"
    tar_path = state_dir("GOLDEN_ACT_ARTIFACTS") / name / "artifact.tar"
    if not tar_path.is_file():
        die(f"no Pages artifact `{name}` with an artifact.tar in this run (upload it with actions/upload-pages-artifact)")
    out = state_dir("GOLDEN_ACT_RECORDS") / "pages"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir()
    with tarfile.open(tar_path) as tar:
        for m in tar.getmembers():
            if m.name.startswith("/") or ".." in Path(m.name).parts or not (m.isfile() or m.isdir()):
                die(f"the Pages artifact holds an entry Pages would refuse: {m.name}")
        tar.extractall(out, filter="data")
    if not (out / "index.html").is_file():
        die("the Pages artifact has no index.html at its root")
    repo = os.environ.get("GITHUB_REPOSITORY", "owner/repo")
    owner, _, name_ = repo.partition("/")
    url = f"https://{owner}.github.io/{name_}/"
    output("page_url", url)
    log(f"deployed (recorded in {out}): {url}")


COMMANDS = {
    "checkout": cmd_checkout,
    "upload-artifact": cmd_upload,
    "download-artifact": cmd_download,
    "cache": cmd_cache,
    "cache-restore": cmd_restore,
    "cache-save": cmd_save,
    "upload-sarif": cmd_upload_sarif,
    "attest": cmd_attest,
    "attest-sbom": cmd_attest_sbom,
    "upload-pages-artifact": cmd_upload_pages,
    "deploy-pages": cmd_deploy_pages,
}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
        print(f"usage: standin.py {{{','.join(COMMANDS)}}}", file=sys.stderr)
        sys.exit(2)
    try:
        COMMANDS[sys.argv[1]]()
    except StandinError as e:
        msg = str(e).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        print(f"::error title=act stand-in {sys.argv[1]}::{msg}", flush=True)
        sys.exit(1)
