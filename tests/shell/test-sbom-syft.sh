#!/usr/bin/env bash
# golden-scan's language packages against syft's on the real platform images (issue 14): for the
# Debian tomcat, springboot and python images, every Java archive and Python distribution syft
# lists (name and version) is in golden-scan's report and SBOMs, and nothing more; any
# difference fails with both sides listed. Both SBOMs of each image are validated: CycloneDX
# 1.6 against its schema, SPDX 2.3 with the SPDX project's validator (spdx-tools).
#
# syft runs on the same `docker save` archive with its java and python catalogers
# (`--select-catalogers java,python`); syft's `binary` findings (the JVM executable) are not
# archives and are left out. syft writes `UNKNOWN` for a version it could not find; golden-scan
# leaves it empty: both compare as empty.
#
# Real engine, real syft (.venv, from scripts/requirements-dev.txt); a missing one fails.
set -Eeuo pipefail
# shellcheck source=tests/shell/lib/platform.sh
. "$(dirname "$0")/lib/platform.sh"

SYFT=$PT_ROOT/.venv/bin/syft
CHECK_JSONSCHEMA=$PT_ROOT/.venv/bin/check-jsonschema
PYSPDXTOOLS=$PT_ROOT/.venv/bin/pyspdxtools
CDX_SCHEMA=$PT_ROOT/tests/fixtures/third-party/schemas/bom-1.6.schema.json
for tool in "$SYFT" "$CHECK_JSONSCHEMA" "$PYSPDXTOOLS"; do
  [ -x "$tool" ] || pt_die "$tool is missing: run scripts/setup.sh"
done
pt_require_engine

scan_bin="${CARGO_TARGET_DIR:-$PT_ROOT/target}/debug/golden-scan"
(cd "$PT_ROOT" && cargo build -q -p golden-scan) || pt_die "golden-scan could not be built"

# compare PLATFORM MIN_JARS MIN_PYTHON: the image's language packages, ours against syft's.
compare() {
  local platform=$1 min_java=$2 min_python=$3 image dir archive ours theirs diff
  image=$(pt_image "$platform")
  dir=$PT_TMP/$platform
  mkdir -p "$dir"
  archive=$dir/image.tar
  docker save -o "$archive" "$image" || pt_die "docker save $image failed"

  if ! "$scan_bin" "docker-archive:$archive" --trivy off --format json -o "$dir/out" \
    >"$dir/report.json" 2>"$dir/scan.err"; then
    # Exit 1 is a policy verdict; the report is what is compared.
    [ -s "$dir/report.json" ] || { fail "$platform: golden-scan wrote no report"; tail -n 20 "$dir/scan.err"; return; }
  fi
  "$SYFT" "docker-archive:$archive" -q --select-catalogers java,python -o "json=$dir/syft.json" \
    2>"$dir/syft.err" || { fail "$platform: syft failed"; tail -n 20 "$dir/syft.err"; return; }

  ours=$dir/ours.txt
  theirs=$dir/theirs.txt
  jq -r '.packages[]
      | select(.kind == "maven" or .kind == "pypi")
      | "\(if .kind == "maven" then "java" else "python" end) \(.name) \(.version)"' \
    "$dir/report.json" | sort >"$ours"
  jq -r '.artifacts[]
      | select(.type == "java-archive" or .type == "python")
      | "\(if .type == "java-archive" then "java" else "python" end) \(.name) \(if .version == "UNKNOWN" then "" else .version end)"' \
    "$dir/syft.json" | sort >"$theirs"

  local n_java n_python
  n_java=$(grep -c '^java ' "$theirs" || true)
  n_python=$(grep -c '^python ' "$theirs" || true)
  # A syft that found nothing would make the comparison empty: the images are known to hold
  # at least these many.
  if [ "$n_java" -ge "$min_java" ] && [ "$n_python" -ge "$min_python" ]; then
    ok "$platform: syft lists $n_java Java archive(s) and $n_python Python package(s)"
  else
    fail "$platform: syft lists $n_java Java archive(s) and $n_python Python package(s), expected at least $min_java and $min_python"
  fi
  if diff=$(diff "$theirs" "$ours"); then
    ok "$platform: golden-scan lists the same $(wc -l <"$ours") language packages as syft (name and version)"
  else
    fail "$platform: golden-scan and syft differ (< only syft, > only golden-scan):"
    printf '%s\n' "$diff" | grep '^[<>]' | sed 's/^/    | /'
  fi

  # Each language package in both SBOMs (by purl), which must be valid.
  local purls missing_cdx missing_spdx
  purls=$(jq -r '.packages[] | select(.kind == "maven" or .kind == "pypi") | .purl' "$dir/report.json" | sort -u)
  missing_cdx=$(comm -23 <(printf '%s\n' "$purls") <(jq -r '.components[].purl // empty' "$dir/out/sbom.cdx.json" | sort -u) | grep . || true)
  missing_spdx=$(comm -23 <(printf '%s\n' "$purls") \
    <(jq -r '.packages[].externalRefs[]? | select(.referenceType == "purl") | .referenceLocator' "$dir/out/sbom.spdx.json" | sort -u) | grep . || true)
  if [ -z "$missing_cdx" ] && [ -z "$missing_spdx" ]; then
    ok "$platform: every language package is in sbom.cdx.json and sbom.spdx.json"
  else
    fail "$platform: language packages missing from the SBOMs: cdx [${missing_cdx//$'\n'/ }] spdx [${missing_spdx//$'\n'/ }]"
  fi
  check "$platform: sbom.cdx.json is valid CycloneDX 1.6" \
    "$CHECK_JSONSCHEMA" --schemafile "$CDX_SCHEMA" "$dir/out/sbom.cdx.json"
  check "$platform: sbom.spdx.json is valid SPDX 2.3" "$PYSPDXTOOLS" -i "$dir/out/sbom.spdx.json"
  if [ "$n_java" -gt 0 ]; then
    check "$platform: report.md counts the Maven packages" \
      grep -q "| Packages | .*maven $n_java" "$dir/out/report.md"
  fi
  rm -f "$archive"
}

compare tomcat 30 0
compare springboot 2 0
compare python 0 1

pt_done
