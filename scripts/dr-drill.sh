#!/usr/bin/env bash
# dr-drill.sh: the disaster-recovery drill of docs/disaster-recovery.md, on this machine, with
# real registries (what `make dr-drill` runs; tests/shell/test-recovery-drill.sh runs it in the
# gate). Three loopback docker-registry instances play staging, the primary (release) registry
# and the DR secondary:
#
#   1. stage: each local golden image is scanned (golden-scan, Trivy off) and pushed to
#      staging/golden-staging/<name> with its dated and commit tags, report and SBOM attached,
#      signed with SLSA provenance (a drill key, `golden-push keygen`) before its tags moved
#   2. promote: `golden-push promote` (scan report passed and `verify` with the drill key →
#      copy by digest with referrers → signed audit record → release tags) to primary/golden
#   3. replicate: `golden-push sync` primary → secondary (signed replication records); a second
#      sync copies nothing
#   4. disaster: the primary's storage is wiped (registry stopped, data removed, restarted
#      empty) — nothing pulls from it any more
#   5. fail over: every release tag pulls from the secondary (the engine itself pulls one) with
#      the same digest, and its referrers (reports, SBOM, signatures, audit records) are all
#      there: `golden-push verify` passes on the secondary with the drill's public key, and the
#      timeline shows the promotion and replication records signed
#   6. restore: `golden-push sync` secondary → primary; the primary serves every release tag
#      again, same digests, same referrers, and verifies
#   7. prints the figures: replication and restore times, the data loss window (RPO: what was
#      promoted after the last replication) and the time to serve again (RTO)
#
# Usage: scripts/dr-drill.sh [--keep] [--no-setup]
#   --keep      leave the registries running at the end
#   --no-setup  skip scripts/setup.sh (everything it installs is already there)
# Environment: GOLDEN_DRILL_IMAGES  engine images to drill with (space-separated; default: the
#              hardened Debian base and the nginx platform image — built first when the engine
#              lacks them, as `make base-debian platforms` would; other images must exist)
# Exit: 0 the drill passed, 1 a check failed (named), 2 setup error.
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
PROG=dr-drill.sh
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 2; }
fail() { printf '%s: FAILED: %s\n' "$PROG" "$*" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }
ok() { printf '   ok  %s\n' "$*"; }

keep=0 setup=1
for a in "$@"; do
  case "$a" in
    --keep) keep=1 ;;
    --no-setup) setup=0 ;;
    -h | --help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $a (see --help)" ;;
  esac
done

if [ "$setup" = 1 ]; then scripts/setup.sh || die "scripts/setup.sh failed"; fi
for t in docker-registry skopeo jq docker curl; do
  command -v "$t" >/dev/null 2>&1 || die "$t not found: run scripts/setup.sh"
done
docker info >/dev/null 2>&1 || die "no Docker engine: run scripts/ensure-docker.sh"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug"
cargo build --quiet --locked --bin golden-push --bin golden-scan --bin golden-report || die "cargo build failed"
GP="$BIN/golden-push"
GS="$BIN/golden-scan"
GR="$BIN/golden-report"

DEFAULT_BASE=goldenimages.azurecr.io/golden/base-debian:12
DEFAULT_PLATFORM=goldenimages.azurecr.io/golden/nginx:1.22-debian
IMAGES="${GOLDEN_DRILL_IMAGES:-$DEFAULT_BASE $DEFAULT_PLATFORM}"
for img in $IMAGES; do
  docker image inspect "$img" >/dev/null 2>&1 && continue
  case "$img" in
    "$DEFAULT_BASE")
      printf 'building the hardened Debian base (scripts/build-base.sh debian)...\n'
      scripts/build-base.sh debian >"${TMPDIR:-/tmp}/dr-drill-base.log" 2>&1 || die "building $img failed (${TMPDIR:-/tmp}/dr-drill-base.log)" ;;
    "$DEFAULT_PLATFORM")
      docker image inspect "$DEFAULT_BASE" >/dev/null 2>&1 || {
        printf 'building the hardened Debian base (scripts/build-base.sh debian)...\n'
        scripts/build-base.sh debian >"${TMPDIR:-/tmp}/dr-drill-base.log" 2>&1 || die "building $DEFAULT_BASE failed (${TMPDIR:-/tmp}/dr-drill-base.log)"
      }
      printf 'building nginx-1.22-debian (scripts/build-platforms.sh)...\n'
      scripts/build-platforms.sh --only nginx-1.22-debian >"${TMPDIR:-/tmp}/dr-drill-nginx.log" 2>&1 || die "building $img failed (${TMPDIR:-/tmp}/dr-drill-nginx.log)" ;;
    *) die "image $img is not in the engine: build it first or change GOLDEN_DRILL_IMAGES" ;;
  esac
  docker image inspect "$img" >/dev/null 2>&1 || die "$img is still not in the engine after building it"
done

WORK="$ROOT/.cache/dr-drill"
rm -rf "$WORK"
mkdir -p "$WORK"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -A HOST
start() { # start NAME: a registry with its data in $WORK/NAME
  local p
  p="$(free_port)"
  "$ROOT/scripts/registry.sh" start --port "$p" --dir "$WORK/$1" >/dev/null || die "registry $1 did not start"
  HOST[$1]="127.0.0.1:$p"
}
stop_all() {
  [ "$keep" = 1 ] && return 0
  for r in staging primary secondary; do "$ROOT/scripts/registry.sh" stop --dir "$WORK/$r" >/dev/null 2>&1 || true; done
}
trap stop_all EXIT
for r in staging primary secondary; do start "$r"; done
STAGING="${HOST[staging]}" PRIMARY="${HOST[primary]}" SECONDARY="${HOST[secondary]}"
printf 'registries: staging %s, primary %s, secondary %s\n' "$STAGING" "$PRIMARY" "$SECONDARY"

# golden-push with nothing from the caller's environment but PATH and HOME: loopback
# registries, anonymous.
gp() { env -i PATH="$PATH" HOME="$HOME" GOLDEN_CACHE_DIR="$WORK/push-cache" "$GP" "$@"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
# referrers_of REF: the referrers' artifact types, sorted, one per line — without the audit
# records, which each copy adds to (a replication is an event of its own).
referrers_of() { gp referrers "$1" --format json | jq -r '.[].artifactType | select(. != "application/vnd.golden.audit.v1+json")' | sort; }
digest_at() { skopeo inspect --raw --tls-verify=false "docker://$1" 2>/dev/null | sha256sum | awk '{print "sha256:" $1}'; }

step "1. stage: scan, push and sign each image in $STAGING/golden-staging"
# The drill's signing key (the nightly's GOLDEN_SIGNING_KEY secret plays this part on GitHub).
KEY="$WORK/drill-signing-key.pem"
gp keygen "$KEY" >"$WORK/keygen.log" 2>&1 || { cat "$WORK/keygen.log" >&2; die "golden-push keygen failed"; }
day="$(date -u +%Y%m%d)"
sha="$(git rev-parse --short=7 HEAD 2>/dev/null || echo 0000000)"
items=()
for img in $IMAGES; do
  name="${img##*/}"; name="${name%%:*}"
  tag="${img##*:}"
  out="$WORK/scan-$name"
  rc=0
  env -i PATH="$PATH" HOME="$HOME" "$GS" "$img" --output "$out" --trivy off >"$WORK/scan-$name.log" 2>&1 || rc=$?
  [ "$rc" = 0 ] || fail "golden-scan $img exited $rc (policy failed or error: $WORK/scan-$name.log)"
  gp push "$img" --to "$STAGING/golden-staging/$name:$tag-$day" --tag "$tag-sha-$sha" \
    --attach "$out/report.json" --attach "$out/sbom.cdx.json" --sign-key "$KEY" --record "$WORK/push-$name.json" >"$WORK/push-$name.log" 2>&1 \
    || { cat "$WORK/push-$name.log" >&2; fail "staging $img failed"; }
  digest="$(jq -r .digest "$WORK/push-$name.json")"
  items+=("$STAGING/golden-staging/$name@$digest")
  ok "$name $tag: $digest (report and SBOM attached, signed with provenance)"
done

step "2. promote to $PRIMARY/golden (verify, copy with referrers, signed audit record, tags last)"
gp promote "${items[@]}" --to "$PRIMARY/golden" --strip-prefix golden-staging --verify-key "$KEY.pub" --sign-key "$KEY" \
  --environment dr-drill --actor "$(id -un)" --record "$WORK/promotion.json" >"$WORK/promote.log" 2>&1 \
  || { cat "$WORK/promote.log" >&2; fail "promotion failed"; }
jq -e '(.images | all(.verification.verified == true)) and (.audit_signatures | length) == (.images | length)' "$WORK/promotion.json" >/dev/null \
  || fail "the promotion did not verify every image and sign every audit record: $(cat "$WORK/promotion.json")"
mapfile -t released < <(jq -r '.tags_moved[]' "$WORK/promotion.json")
declare -A want_digest want_refs
for t in "${released[@]}"; do
  repo="${t%:*}"
  want_digest[$t]="$(digest_at "$t")"
  want_refs[$t]="$(referrers_of "$repo@${want_digest[$t]}")"
done
ok "${#released[@]} release tags on the primary; referrers of each: $(printf '%s' "${want_refs[${released[0]}]}" | tr '\n' ' ')and the promotion audit record"

step "3. replicate: primary -> secondary"
repos="$(jq -r '.images[].destination' "$WORK/promotion.json")"
t0="$(now)"
# shellcheck disable=SC2086 # one argument per repository
gp sync $repos --to "$SECONDARY" --sign-key "$KEY" --record "$WORK/sync-1.json" >"$WORK/sync-1.log" 2>&1 || { cat "$WORK/sync-1.log" >&2; fail "replication failed"; }
replicated_in="$(secs "$t0" "$(now)")"
t_replicated="$(date -u +%H:%M:%S)"
ok "$(jq -r '"\(.copied) copied, \(.tagged) tagged, \(.referrers_copied) referrers"' "$WORK/sync-1.json") in ${replicated_in}s"
# shellcheck disable=SC2086
gp sync $repos --to "$SECONDARY" --sign-key "$KEY" --record "$WORK/sync-2.json" >"$WORK/sync-2.log" 2>&1 || fail "the second replication failed"
jq -e '.copied == 0 and .tagged == 0 and .referrers_copied == 0' "$WORK/sync-2.json" >/dev/null \
  || fail "the second replication copied again: $(cat "$WORK/sync-2.log")"
ok "second replication: $(grep -o 'in sync.*' "$WORK/sync-2.log")"

step "4. disaster: the primary's storage is lost"
t_disaster="$(now)"
"$ROOT/scripts/registry.sh" stop --dir "$WORK/primary" >/dev/null
rm -rf "$WORK/primary/data"
"$ROOT/scripts/registry.sh" start --port "${PRIMARY##*:}" --dir "$WORK/primary" >/dev/null || die "the primary did not restart"
for t in "${released[@]}"; do
  if skopeo inspect --raw --tls-verify=false "docker://$t" >/dev/null 2>&1; then fail "$t still pulls from the wiped primary"; fi
done
ok "the primary is empty: no release tag pulls from it"

step "5. fail over: everything pulls from the secondary"
for t in "${released[@]}"; do
  s="$SECONDARY/${t#"$PRIMARY"/}"
  got="$(digest_at "$s")"
  [ "$got" = "${want_digest[$t]}" ] || fail "$s is $got on the secondary, was ${want_digest[$t]}"
  refs="$(referrers_of "${s%:*}@$got")"
  [ "$refs" = "${want_refs[$t]}" ] || fail "the referrers of $s differ on the secondary: [$(echo "$refs" | tr '\n' ' ')] vs [$(echo "${want_refs[$t]}" | tr '\n' ' ')]"
  # Signature, signed provenance and signed passed scan report, checked on the secondary alone.
  gp verify "$s" --key "$KEY.pub" >"$WORK/verify-secondary.log" 2>&1 \
    || { cat "$WORK/verify-secondary.log" >&2; fail "$s does not verify on the secondary"; }
done
first="$SECONDARY/${released[0]#"$PRIMARY"/}"
docker pull -q "$first" >/dev/null || fail "the engine cannot pull $first"
docker image inspect --format '{{join .RepoDigests " "}}' "$first" | grep -qF "${want_digest[${released[0]}]}" \
  || fail "the engine pulled $first at another digest"
docker rmi "$first" >/dev/null 2>&1 || true
# The audit trail came along: the image's timeline, read from the secondary, has the scan and
# then the promotion (with its environment).
env -i PATH="$PATH" HOME="$HOME" "$GR" history "$first" --record "$WORK/history.json" >"$WORK/history.txt" 2>&1 \
  || { cat "$WORK/history.txt" >&2; fail "golden-report history $first failed"; }
jq -e '[.events[].event] | (index("scanned") != null) and (index("promoted") != null) and (index("replicated") != null) and (index("scanned") < index("promoted")) and (index("promoted") < index("replicated"))' "$WORK/history.json" >/dev/null \
  || fail "the timeline on the secondary lacks the scan, the promotion or the replication, in that order: $(cat "$WORK/history.txt")"
jq -e '.events[] | select(.event == "promoted") | .detail | contains("environment dr-drill")' "$WORK/history.json" >/dev/null \
  || fail "the promotion event does not name its environment: $(cat "$WORK/history.txt")"
jq -e '[.events[] | select(.event == "promoted" or .event == "replicated")] | length >= 2 and all(.signed_by != null)' "$WORK/history.json" >/dev/null \
  || fail "the promotion and replication records on the secondary are not all signed: $(cat "$WORK/history.txt")"
served_again="$(secs "$t_disaster" "$(now)")"
ok "${#released[@]} release tags pull from the secondary at the same digest with the same referrers, and verify with the drill key (the engine pulled $first)"
ok "the audit trail is on the secondary: golden-report history shows $(jq -r '[.events[].event] | join(", ")' "$WORK/history.json")"
sed 's/^/      /' "$WORK/history.txt"

step "6. restore the primary from the secondary"
sec_repos="$(for r in $repos; do echo "$SECONDARY/${r#"$PRIMARY"/}"; done)"
t0="$(now)"
# shellcheck disable=SC2086
gp sync $sec_repos --to "$PRIMARY" --record "$WORK/restore.json" >"$WORK/restore.log" 2>&1 || { cat "$WORK/restore.log" >&2; fail "the restore failed"; }
restored_in="$(secs "$t0" "$(now)")"
for t in "${released[@]}"; do
  got="$(digest_at "$t")"
  [ "$got" = "${want_digest[$t]}" ] || fail "the restored $t is $got, was ${want_digest[$t]}"
  refs="$(referrers_of "${t%:*}@$got")"
  [ "$refs" = "${want_refs[$t]}" ] || fail "the restored referrers of $t differ"
  gp verify "$t" --key "$KEY.pub" >"$WORK/verify-restored.log" 2>&1 \
    || { cat "$WORK/verify-restored.log" >&2; fail "the restored $t does not verify"; }
done
ok "the primary serves every release tag again: same digests, same referrers, verified (${restored_in}s)"

step "7. figures"
bytes="$(jq '[.images[] | .digest] | length' "$WORK/promotion.json")"
printf '   images: %s, release tags: %s\n' "$bytes" "${#released[@]}"
printf '   replication (primary -> secondary): %ss; last replicated at %s UTC\n' "$replicated_in" "$t_replicated"
printf '   RPO: promotions after the last replication (the schedule runs replicate.yml nightly and after every promotion: at most one promotion)\n'
printf '   RTO here: %ss from the loss to serving from the secondary (a registry switch), %ss to restore the primary\n' "$served_again" "$restored_in"
printf '\ndr-drill: PASSED\n'
