#!/usr/bin/env python3
"""Input folders for `golden-report site`, made from the committed report fixtures
(tests/fixtures/report/, generated from the contract types by golden-report's Rust tests).

  catalog_input.py browser DIR   the green run (3 Debian images, amd64) plus an Alpine base
                                 image on arm64: something for the OS and platform filters
  catalog_input.py sixty DIR [--packages N] [--vulns N]
                                 60 images with full package lists (default 400 packages and
                                 120 vulnerabilities each): the size and load-time benchmark

Only the fields the documents really carry are changed (ids, tags, digests, OS, architecture,
packages, vulnerabilities); everything else is the fixture as committed.
"""
import argparse
import copy
import hashlib
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
GREEN = ROOT / "tests/fixtures/report/green"
SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]


def digest(seed):
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


def load(rel):
    return json.loads((GREEN / rel).read_text())


def write(path, doc):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")


def with_arch(build, scan, arch):
    build = copy.deepcopy(build)
    scan = copy.deepcopy(scan)
    build["arch"] = arch
    scan["image"]["architecture"] = arch
    for p in scan["packages"]:
        p["arch"] = arch
    return build, scan


def browser(out):
    for name in ["base-debian", "nginx-1.26-debian", "python-3.11-debian"]:
        b, s = with_arch(load(f"build-{name}/build-record.json"), load(f"scan-{name}/report.json"), "amd64")
        write(out / name / "build-record.json", b)
        write(out / name / "report.json", s)
    b, s = with_arch(load("build-base-debian/build-record.json"), load("scan-base-debian/report.json"), "arm64")
    iid = digest("base-alpine-config")
    b.update(id="base-alpine", os="alpine", version="3.20", image_id=iid,
             tags=["goldenimages.azurecr.io/golden/base-alpine:3.20-alpine"])
    s["entry_id"] = "base-alpine"
    s["image"].update(id=iid, digest=digest("base-alpine-manifest"),
                      reference="goldenimages.azurecr.io/golden/base-alpine:3.20-alpine",
                      tags=["goldenimages.azurecr.io/golden/base-alpine:3.20-alpine"])
    s["os"] = {"id": "alpine", "version_id": "3.20.3", "pretty_name": "Alpine Linux v3.20", "family": "alpine"}
    s["packages"] = [
        {"name": n, "version": v, "kind": "apk", "arch": "arm64"}
        for n, v in [("alpine-baselayout", "3.6.5-r0"), ("busybox", "1.36.1-r29"),
                     ("musl", "1.2.5-r0"), ("ca-certificates-bundle", "20240705-r0")]
    ]
    write(out / "base-alpine" / "build-record.json", b)
    write(out / "base-alpine" / "report.json", s)


def sixty(out, packages, vulns):
    b0 = load("build-nginx-1.26-debian/build-record.json")
    s0 = load("scan-nginx-1.26-debian/report.json")
    for n in range(60):
        ident = f"platform{n:02d}-1.{n}-debian"
        tag = f"goldenimages.azurecr.io/golden/platform{n:02d}:1.{n}-debian"
        b, s = copy.deepcopy(b0), copy.deepcopy(s0)
        iid = digest(ident + "-config")
        b.update(id=ident, platform=f"platform{n:02d}", version=f"1.{n}", image_id=iid, tags=[tag])
        s["entry_id"] = ident
        s["image"].update(id=iid, digest=digest(ident + "-manifest"), reference=tag, tags=[tag])
        s["packages"] = [
            {"name": f"lib{k:03d}-package-name", "version": f"{k}.{n}.3-1+deb12u{k % 9}",
             "kind": "dpkg" if k % 5 else "python", "arch": "amd64", "license": "GPL-2+",
             "purl": f"pkg:deb/debian/lib{k:03d}-package-name@{k}.{n}.3-1?arch=amd64&distro=debian-12"}
            for k in range(packages)
        ]
        items = []
        counts = {sev: 0 for sev in SEVERITIES}
        for k in range(vulns):
            sev = SEVERITIES[k % 5]
            counts[sev] += 1
            items.append({
                "id": f"CVE-2024-{n * 1000 + k:05d}", "package": f"lib{k % packages:03d}-package-name",
                "installed": "1.2.3-4+deb12u1", "fixed": "1.2.3-4+deb12u2" if k % 2 == 0 else None,
                "status": "fixed" if k % 2 == 0 else "affected", "severity": sev,
                "title": f"A flaw in lib{k:03d} allows a remote attacker to cause a denial of service",
                "url": f"https://avd.example/nvd/CVE-2024-{n * 1000 + k:05d}",
            })
        s["vulnerabilities"]["items"] = [{k: v for k, v in i.items() if v is not None} for i in items]
        s["summary"]["vulnerabilities"] = counts
        s["summary"]["packages"] = packages
        s["summary"]["fixable"] = sum(1 for i in items if "fixed" in i)
        write(out / ident / "build-record.json", b)
        write(out / ident / "report.json", s)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("set", choices=["browser", "sixty"])
    ap.add_argument("dir", type=pathlib.Path)
    ap.add_argument("--packages", type=int, default=400)
    ap.add_argument("--vulns", type=int, default=120)
    a = ap.parse_args()
    if not GREEN.is_dir():
        sys.exit(f"catalog_input.py: {GREEN} missing (the committed report fixtures)")
    if a.set == "browser":
        browser(a.dir)
    else:
        sixty(a.dir, a.packages, a.vulns)


if __name__ == "__main__":
    main()
