#!/usr/bin/env bash
# upstreams.yml under act: the weekly job that pins the current digests of moved upstream tags.
# A plain loopback docker-registry stands in for docker.io and registry.access.redhat.com
# (GOLDEN_REGISTRY_MAP); the shipped catalog's three upstreams are pinned to what the stand-in
# serves, then the alpine tag is re-pushed (stale) and the ubi tag is never pushed (error). A fake
# `gh` on PATH records what the job asks of GitHub. Asserts:
#   - run 1: the job pushes branch golden/upstreams to the repository with exactly the alpine
#     digest changed, opens ONE pull request (gh pr list finds none, gh pr create) whose body
#     lists the stale row, and then fails on the unresolved ubi upstream, naming it;
#   - run 2 (the pull request exists): the branch is force-pushed again and the pull request is
#     edited, not opened a second time.
# shellcheck source=tests/workflows/lib.sh
. "$(dirname "$0")/lib.sh"
require_tools docker curl

rm -rf "$WORK"
mkdir -p "$WORK/bin"
fixture_repo "$WORK/repo"
# This workflow reads the shipped catalog (three upstreams), not the offline fixture catalog.
cp "$ROOT/configs/build-config.yaml" "$WORK/repo/configs/build-config.yaml"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
REG="127.0.0.1:$port"
"$ROOT/scripts/registry.sh" start --port "$port" --dir "$WORK/registry" >/dev/null || fail "the stand-in registry did not start"
trap '"$ROOT/scripts/registry.sh" stop --dir "$WORK/registry" >/dev/null 2>&1 || true; docker rmi -f "$(cat "$WORK/images" 2>/dev/null)" >/dev/null 2>&1 || true' EXIT
: >"$WORK/images"

# push_tiny NAME:TAG CONTENT: a one-file image pushed to the stand-in; prints its digest.
push_tiny() {
  local ref="$REG/$1" dir
  dir="$(mktemp -d "$WORK/img.XXXXXX")"
  printf '%s\n' "$2" >"$dir/content"
  tar -C "$dir" -cf - content | docker import - "$ref" >/dev/null || fail "docker import $ref"
  echo "$ref" >>"$WORK/images"
  docker push "$ref" | sed -nE 's/.*digest: (sha256:[0-9a-f]{64}).*/\1/p' | tail -n 1
}
cfg="$WORK/repo/configs/build-config.yaml"
pin() { # pin IMAGE:TAG DIGEST: point the catalog's upstream line for IMAGE:TAG at DIGEST
  grep -qF "upstream: $1@sha256:" "$cfg" || fail "the catalog has no upstream $1"
  sed -i -E "s#(upstream: $1)@sha256:[0-9a-f]{64}#\1@$2#" "$cfg"
}
debian="$(push_tiny library/debian:bookworm-slim debian)"
alpine_old="$(push_tiny library/alpine:3.20 alpine-old)"
[ -n "$debian" ] && [ -n "$alpine_old" ] || fail "docker push printed no digest"
pin docker.io/library/debian:bookworm-slim "$debian"
pin docker.io/library/alpine:3.20 "$alpine_old"
git -C "$WORK/repo" -c user.name=golden-test -c user.email=test@invalid commit --quiet -am "fixture: upstreams pinned to the stand-in"
alpine_new="$(push_tiny library/alpine:3.20 alpine-new)"
[ -n "$alpine_new" ] && [ "$alpine_new" != "$alpine_old" ] || fail "re-pushing alpine:3.20 did not move the tag"
ok "stand-in registry: debian pinned and current, alpine moved, ubi tag absent"

# The fake gh: records its arguments; `pr list` answers from $WORK/pr-number (empty: no PR).
cat >"$WORK/bin/gh" <<EOF
#!/usr/bin/env bash
printf '%s\n' "\$*" >>"$WORK/gh.log"
case "\$1 \$2" in
  "auth setup-git") ;;
  "pr list") cat "$WORK/pr-number" 2>/dev/null || true ;;
  "pr create") [ -n "\$GH_TOKEN" ] || { echo "gh: GH_TOKEN is empty" >&2; exit 4; }
    for a in "\$@"; do case "\$a" in *pr-body.md) cp "\$a" "$WORK/pr-body.md" ;; esac; done
    echo 7 >"$WORK/pr-number"; echo "https://github.com/$FIXTURE_SLUG/pull/7" ;;
  "pr edit") for a in "\$@"; do case "\$a" in *pr-body.md) cp "\$a" "$WORK/pr-body-edited.md" ;; esac; done ;;
  *) echo "gh (fake): unexpected \$*" >&2; exit 1 ;;
esac
EOF
chmod +x "$WORK/bin/gh"

# What GitHub sends with a dispatch: the repository (its default branch is the pull request's base).
printf '{"inputs": {}, "repository": {"default_branch": "main", "full_name": "%s"}}\n' "$FIXTURE_SLUG" >"$WORK/event.json"
echo ghs_fake_upstreams >"$WORK/secrets"
run() { # run N: one upstreams.yml run; its log is $WORK/state-N/act.log
  local rc=0
  act_run "$WORK/state-$1" "$ROOT/.github/workflows/upstreams.yml" workflow_dispatch --repo "$WORK/repo" \
    --event-json "$WORK/event.json" \
    --env "PATH=$WORK/bin:$PATH" --secret "GITHUB_TOKEN=ghs_fake_upstreams" \
    --env "GOLDEN_REGISTRY_MAP=docker.io=$REG,registry.access.redhat.com=$REG" || rc=$?
  [ "$rc" != 0 ] || fail "run $1 passed although the ubi upstream cannot be resolved"
}

run 1
log="$WORK/state-1/act.log"
[ "$(job_result "$log" "upstreams/refresh")" = failed ] || fail "run 1: the job did not fail (see $log)"
grep -q "some upstreams could not be resolved" "$log" || fail "run 1: the last step did not say why it failed"
grep -qE "ubi9/ubi-minimal.*(not found|unknown)" "$log" || fail "run 1: the ubi row's error is not in the log"
branch="$(git -C "$WORK/repo" show golden/upstreams:configs/build-config.yaml 2>/dev/null)" || fail "run 1: no branch golden/upstreams was pushed"
want="$(git -C "$WORK/repo" show main:configs/build-config.yaml | sed "s#alpine:3.20@$alpine_old#alpine:3.20@$alpine_new#")"
[ "$branch" = "$want" ] || fail "run 1: the pushed catalog is not main's with only the alpine digest changed:
$(diff <(printf '%s\n' "$want") <(printf '%s\n' "$branch") | head -n 20)"
ok "run 1: golden/upstreams holds main's catalog with only the moved alpine digest changed"
grep -qx "pr list --head golden/upstreams --base main --state open --json number --jq .\[0\].number // empty" "$WORK/gh.log" \
  || fail "run 1: gh pr list was not asked for the open pull request of golden/upstreams: $(cat "$WORK/gh.log")"
[ "$(grep -c '^pr create' "$WORK/gh.log")" = 1 ] || fail "run 1: not exactly one gh pr create: $(cat "$WORK/gh.log")"
grep -q -- "--head golden/upstreams" <(grep '^pr create' "$WORK/gh.log") || fail "run 1: the pull request is not from golden/upstreams"
grep -qF "| \`docker.io/library/alpine\` | \`3.20\` | \`$alpine_old\` | \`$alpine_new\` |" "$WORK/pr-body.md" \
  || fail "run 1: the pull request body lacks the stale alpine row: $(cat "$WORK/pr-body.md")"
! grep -q "library/debian" "$WORK/pr-body.md" || fail "run 1: the fresh debian upstream is in the pull request body"
ok "run 1: one pull request opened from golden/upstreams, its body lists the moved tag only; the job then fails on ubi"
no_leaks "$WORK/state-1" "$WORK/secrets"

run 2
log="$WORK/state-2/act.log"
[ "$(grep -c '^pr create' "$WORK/gh.log")" = 1 ] || fail "run 2: a second pull request was opened: $(cat "$WORK/gh.log")"
grep -q '^pr edit 7 ' "$WORK/gh.log" || fail "run 2: the open pull request #7 was not edited: $(cat "$WORK/gh.log")"
cmp -s "$WORK/pr-body.md" "$WORK/pr-body-edited.md" || fail "run 2: the edited body differs from the first"
ok "run 2: the open pull request is edited, not opened again"
