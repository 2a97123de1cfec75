#!/usr/bin/env bash
# The python platform image (Debian), against the real engine: the interpreter starts as
# non-root under --read-only --tmpfs /tmp --cap-drop ALL, Python 3.11+, the environment
# (no bytecode writes, unbuffered, no pip cache), the venv first on PATH and owned by the app
# user (a derived image pip-installs into it as uid 10001), no compilers, a stdlib HTTP
# service with HEALTHCHECK_URL, the runtime-only probe, image compliance.
set -Eeuo pipefail
# shellcheck source=tests/shell/lib/platform.sh
. "$(dirname "$0")/lib/platform.sh"

image=$(pt_image python)
echo "image: $image"
hardened=(--read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges)

info=$(pt_exec_hardened "$image" python -c '
import os, shutil, sys
print("version", "%d.%d" % sys.version_info[:2])
print("prefix", sys.prefix)
print("dont_write_bytecode", sys.dont_write_bytecode)
print("uid", os.getuid())
print("python3", shutil.which("python3"))
print("pip", shutil.which("pip"))
for name in ("PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR", "PIP_DISABLE_PIP_VERSION_CHECK"):
    print(name, os.environ.get(name))
import ssl, sqlite3, json, venv  # stdlib modules an application expects
') || pt_die "python did not start under the hardened flags"
field() { awk -v k="$1" '$1 == k { print $2 }' <<<"$info"; }
ok "python starts under --read-only --tmpfs /tmp --cap-drop ALL"
v=$(field version)
check "Python 3.11 or newer (got $v)" matches "$v" '^3\.(1[1-9]|[2-9][0-9])$'
check "runs as uid 10001" [ "$(field uid)" = 10001 ]
check "venv /opt/venv is the active prefix" [ "$(field prefix)" = /opt/venv ]
check "python3 and pip resolve to the venv" [ "$(field python3):$(field pip)" = /opt/venv/bin/python3:/opt/venv/bin/pip ]
check "PYTHONDONTWRITEBYTECODE in effect" [ "$(field dont_write_bytecode)" = True ]
check "PYTHONUNBUFFERED=1" [ "$(field PYTHONUNBUFFERED)" = 1 ]
check "PIP_NO_CACHE_DIR=1" [ "$(field PIP_NO_CACHE_DIR)" = 1 ]
check "PIP_DISABLE_PIP_VERSION_CHECK=1" [ "$(field PIP_DISABLE_PIP_VERSION_CHECK)" = 1 ]
owner=$(pt_exec_hardened "$image" stat -c '%u:%g' /opt/venv /opt/venv/bin /opt/venv/lib | sort -u | tr '\n' ' ')
check "the venv is owned by the app user (got $owner)" [ "$owner" = "10001:10001 " ]
pip_out=$(pt_exec_hardened "$image" pip --version 2>&1 || true)
check "pip runs from the venv ($pip_out)" grep -q '/opt/venv/' <<<"$pip_out"
# shellcheck disable=SC2016 # expanded by the shell in the container
compilers=$(pt_exec_hardened "$image" sh -c 'for c in cc gcc g++ c++ clang tcc; do command -v "$c"; done; ls /usr/include/python3* 2>/dev/null; true')
check "no compilers or Python headers${compilers:+ (found: $(pt_oneline "$compilers"))}" [ -z "$compilers" ]

# A derived image installs a package into the venv as the app user, without a pip cache.
d=$PT_TMP/derived
mkdir -p "$d"
python3 - "$d/goldendemo-1.0-py3-none-any.whl" <<'PY'
import base64, hashlib, sys, zipfile
files = {
    "goldendemo/__init__.py": "VALUE = 42\n",
    "goldendemo-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: goldendemo\nVersion: 1.0\n",
    "goldendemo-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for name, text in files.items():
        data = text.encode()
        z.writestr(name, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("goldendemo-1.0.dist-info/RECORD,,")
    z.writestr("goldendemo-1.0.dist-info/RECORD", "\n".join(record) + "\n")
PY
cat >"$d/Dockerfile" <<DOCKERFILE
FROM $image
COPY goldendemo-1.0-py3-none-any.whl /tmp/
RUN pip install --no-index /tmp/goldendemo-1.0-py3-none-any.whl
DOCKERFILE
if derived=$(pt_build_derived python-derived "$d"); then
  ok "a derived image pip-installs into the venv as uid 10001"
  check "the installed package imports" [ "$(pt_exec_hardened "$derived" python -c 'import goldendemo; print(goldendemo.VALUE)')" = 42 ]
  check "pip left no cache in the derived image" not pt_exec_hardened "$derived" sh -c 'ls -A /home/app/.cache/pip 2>/dev/null | grep -q .'
else
  fail "building a derived image that pip-installs into the venv failed"
fi

# A stdlib HTTP service, hardened, probed through HEALTHCHECK_URL.
c=$(pt_run python-http "$image" "${hardened[@]}" -p 127.0.0.1::8080 -e HEALTHCHECK_URL=http://127.0.0.1:8080/ \
  --health-interval 1s --health-start-period 1s -w /tmp -- python -m http.server 8080)
addr=$(pt_port "$c" 8080)
if pt_wait_http "http://$addr/" 30; then ok "an HTTP service runs under the hardened flags"; else pt_logs "$c"; fail "the HTTP service did not answer"; fi
check "health probe with HEALTHCHECK_URL: healthy" pt_wait_healthy "$c" 60
c=$(pt_run python-idle "$image" "${hardened[@]}" --health-interval 1s --health-start-period 1s --entrypoint sleep -- infinity)
check "health probe without HEALTHCHECK_URL (runtime check): healthy" pt_wait_healthy "$c" 60

pt_assert_image_compliance "$image"
pt_done
