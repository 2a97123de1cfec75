#!/usr/bin/env python3
"""The catalog site in a real browser (headless Debian chromium over the DevTools protocol):

  python3 tests/browser/test_site.py --site DIR --hostile DIR --input DIR --artifacts DIR

--site is `golden-report site` of `catalog_input.py browser` (its input given as --input, to
know what must be listed), --hostile the site of tests/fixtures/report/hostile. Checks: the
index lists every image; search, OS, platform and architecture filters narrow it; a column sorts; the pages
read without JavaScript; an image page shows its CVE table and package search narrows it; no
request leaves any page (every request counted); no console error or exception; the hostile
site runs nothing but the catalog's own script (no dialog, no foreign element or link). A
control page with one external image and one unhashed script proves the request counter and
the console check can see what they must refuse. Screenshots (PNG) of the index (light and
dark) and one image page go to --artifacts; each page's load time is printed.
Exit 0 when every check passed, 1 when one failed, 2 when the browser is missing.
"""
import argparse
import json
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import cdp  # noqa: E402

FAILS = []


def check(ok, what):
    print(("ok   - " if ok else "FAIL - ") + what)
    if not ok:
        FAILS.append(what)


def site_url(root, rel):
    return (root / rel).resolve().as_uri()


def outgoing(events, root, since=0):
    """Requests other than navigations to documents of the site itself."""
    base = root.resolve().as_uri() + "/"
    out = []
    for e in events[since:]:
        if e["method"] != "Network.requestWillBeSent":
            continue
        url = e["params"]["request"]["url"]
        kind = e["params"].get("type")
        if not (kind == "Document" and url.startswith(base)):
            out.append(f"{kind} {url}")
    return out


def console_errors(events, since=0):
    out = []
    for e in events[since:]:
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.exceptionThrown":
            out.append("exception: " + json.dumps(p.get("exceptionDetails", {}))[:300])
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
            out.append("console: " + json.dumps(p.get("args", []))[:300])
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
            out.append("log: " + p["entry"].get("text", "")[:300])
    return out


def dialogs(events, since=0):
    return [e for e in events[since:] if e["method"] == "Page.javascriptDialogOpening"]


def visible_rows(b, table="#images"):
    return b.eval(f"Array.from(document.querySelectorAll('{table} tbody tr')).filter(r => !r.hidden).map(r => r.getAttribute('data-name') || r.cells[0].textContent)")


def load_ms(b):
    return b.eval("performance.getEntriesByType('navigation')[0].loadEventEnd")


def control(b):
    """The detectors must see an external request and a refused script."""
    with tempfile.TemporaryDirectory() as d:
        root = pathlib.Path(d)
        page = root / "control.html"
        page.write_text(
            "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" "
            "content=\"default-src 'none'\"><title>control</title></head><body>"
            "<img src=\"http://127.0.0.1:9/pixel.png\" alt=\"\"><script>document.title='ran'</script>"
            "</body></html>"
        )
        since = len(b.events)
        b.navigate(page.as_uri())
        time.sleep(0.2)
        b.eval("1")  # drain pending events
        ext = outgoing(b.events, root, since)
        errs = console_errors(b.events, since)
        check(any("127.0.0.1:9/pixel.png" in r for r in ext), f"control: the external image is counted as a request ({ext})")
        check(len(errs) >= 1 and b.eval("document.title") == "control", f"control: the unhashed script is refused and reported ({len(errs)} errors)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--site", type=pathlib.Path, required=True)
    ap.add_argument("--hostile", type=pathlib.Path, required=True)
    ap.add_argument("--input", type=pathlib.Path, required=True)
    ap.add_argument("--artifacts", type=pathlib.Path, required=True)
    a = ap.parse_args()

    binary = cdp.find_chromium()
    if not binary:
        print("FAIL - chromium not found: run scripts/setup.sh (Debian package chromium) or set GOLDEN_CHROMIUM")
        return 2
    a.artifacts.mkdir(parents=True, exist_ok=True)
    ids = sorted(json.loads(p.read_text())["id"] for p in a.input.rglob("build-record.json"))
    timings = []

    b = cdp.Browser(binary)
    try:
        b.open_page()
        b.send("Emulation.setDeviceMetricsOverride", {"width": 1400, "height": 800, "deviceScaleFactor": 1, "mobile": False})
        control(b)

        # --- index --------------------------------------------------------------------------
        start = len(b.events)
        b.navigate(site_url(a.site, "index.html"))
        timings.append(("index.html", load_ms(b)))
        links = b.eval("Array.from(document.querySelectorAll('#images tbody th a')).map(a => a.getAttribute('href'))")
        check(sorted(links) == sorted(f"images/{i}.html" for i in ids), f"the index lists every image ({len(ids)}: {', '.join(ids)})")
        check(b.eval("document.getElementById('filters').hidden") is False, "the script ran under the CSP (filters shown)")
        b.type_text("#q", "NGINX")
        rows = visible_rows(b)
        check(len(rows) == 1 and "nginx" in rows[0], f"search by name narrows to nginx ({rows})")
        b.type_text("#q", "")
        b.send("Input.insertText", {"text": ""})
        b.eval("(() => { const q = document.getElementById('q'); q.value = ''; q.dispatchEvent(new Event('input')); })()")
        check(len(visible_rows(b)) == len(ids), "clearing the search shows every image again")
        b.eval("(() => { const s = document.getElementById('os'); s.value = 'alpine'; s.dispatchEvent(new Event('change')); })()")
        rows = visible_rows(b)
        check(len(rows) == 1 and "alpine" in rows[0], f"the OS filter narrows to alpine ({rows})")
        check("1 of" in b.eval("document.getElementById('shown').textContent"), "the filter says how many are shown")
        b.eval("(() => { const s = document.getElementById('os'); s.value = ''; s.dispatchEvent(new Event('change')); const p = document.getElementById('arch'); p.value = 'amd64'; p.dispatchEvent(new Event('change')); })()")
        rows = visible_rows(b)
        check(len(rows) == len(ids) - 1 and not any("alpine" in r for r in rows), f"the architecture filter narrows to amd64 ({len(rows)} rows)")
        b.eval("(() => { const p = document.getElementById('arch'); p.value = ''; p.dispatchEvent(new Event('change')); const f = document.getElementById('platform'); f.value = 'base'; f.dispatchEvent(new Event('change')); })()")
        rows = visible_rows(b)
        check(len(rows) == 2 and all("base-" in r for r in rows), f"the platform filter narrows to the base images ({rows})")
        b.eval("(() => { const f = document.getElementById('platform'); f.value = ''; f.dispatchEvent(new Event('change')); })()")
        # Sort by size with the keyboard: focus the heading, press Enter.
        b.eval("Array.from(document.querySelectorAll('#images thead th')).find(t => t.textContent === 'Size').focus()")
        for kind in ("keyDown", "keyUp"):
            b.send("Input.dispatchKeyEvent", {"type": kind, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13})
        sizes = b.eval("Array.from(document.querySelectorAll('#images tbody tr')).map(r => Number(r.cells[4].getAttribute('data-sort')))")
        check(sizes == sorted(sizes) and len(set(sizes)) > 1, f"Enter on the Size heading sorts by size ({sizes})")
        b.screenshot(a.artifacts / "index.png")
        b.send("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        bg = b.eval("getComputedStyle(document.body).backgroundColor")
        check(bg == "rgb(13, 17, 23)", f"dark mode follows prefers-color-scheme ({bg})")
        b.screenshot(a.artifacts / "index-dark.png")
        b.send("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "light"}]})

        # --- an image page -------------------------------------------------------------------
        report = json.loads(next(p for p in a.input.rglob("report.json") if json.loads(p.read_text()).get("entry_id") == "nginx-1.26-debian").read_text())
        b.eval("document.querySelector('a[href=\"images/nginx-1.26-debian.html\"]').click()")
        b.wait_event("Page.loadEventFired", len(b.events) - 1)
        time.sleep(0.1)
        check(b.eval("location.pathname").endswith("/images/nginx-1.26-debian.html"), "the index links to the image page")
        timings.append(("images/nginx-1.26-debian.html", load_ms(b)))
        cves = b.eval("Array.from(document.querySelectorAll('table.vulns tbody tr')).map(r => r.cells[0].textContent)")
        want = sorted(v["id"] for v in report["vulnerabilities"]["items"])
        check(sorted(cves) == want, f"the image page shows its CVE table ({cves})")
        n = len(report["packages"])
        all_rows = visible_rows(b, "table.packages")
        check(len(all_rows) == n, f"every package listed ({len(all_rows)} of {n})")
        b.type_text("form.pkg-filter input", "libssl")
        rows = visible_rows(b, "table.packages")
        check(rows == ["libssl3"], f"package search narrows to libssl3 ({rows})")
        b.eval("(() => { const i = document.querySelector('form.pkg-filter input'); i.value = ''; i.dispatchEvent(new Event('input')); })()")
        b.eval("document.activeElement.blur(); window.scrollTo(0, 0)")
        b.screenshot(a.artifacts / "image.png")

        # --- without JavaScript: everything readable, no dead controls --------------------------
        b.send("Emulation.setScriptExecutionDisabled", {"value": True})
        b.navigate(site_url(a.site, "index.html"))
        check(b.eval("document.querySelectorAll('#images tbody tr').length") == len(ids), "without JavaScript: every image listed")
        check(b.eval("document.getElementById('filters').hidden") is True, "without JavaScript: no filter controls that would do nothing")
        b.send("Emulation.setScriptExecutionDisabled", {"value": False})

        # --- every other page: load time, nothing leaving, no error ------------------------------
        for p in sorted(a.site.glob("images/*.html")):
            b.navigate(p.resolve().as_uri())
            timings.append((f"images/{p.name}", load_ms(b)))
        b.eval("1")
        ext = outgoing(b.events, a.site, start)
        check(ext == [], f"no request leaves the site ({len(ext)}: {ext[:5]})")
        errs = console_errors(b.events, start)
        check(errs == [], f"no console error or exception ({errs[:5]})")

        # --- hostile --------------------------------------------------------------------------
        start = len(b.events)
        pages = [a.hostile / "index.html"] + sorted(a.hostile.glob("images/*.html"))
        for p in pages:
            b.navigate(p.resolve().as_uri())
            time.sleep(0.1)
            scripts = b.eval("document.scripts.length")
            foreign = b.eval("document.querySelectorAll('img, iframe, object, embed, link, base, details, form:not(.filters)').length")
            bad_links = b.eval("Array.from(document.querySelectorAll('[href]')).map(e => e.getAttribute('href')).filter(h => !/^(https?:|[.][.]?\\/|images\\/|files\\/|summary[.]json|index[.]html|#)/.test(h))")
            handlers = b.eval("Array.from(document.querySelectorAll('*')).flatMap(e => Array.from(e.attributes).map(x => x.name)).filter(n => n.startsWith('on'))")
            check(scripts == 1 and foreign == 0 and bad_links == [] and handlers == [],
                  f"hostile {p.name}: only the catalog's script, no foreign element, link or handler ({scripts}, {foreign}, {bad_links}, {handlers})")
        b.eval("1")
        check(dialogs(b.events, start) == [], "hostile: no dialog opened (nothing executed)")
        check(outgoing(b.events, a.hostile, start) == [], "hostile: no request left the page")
        check(console_errors(b.events, start) == [], "hostile: no console error (no refused inline script)")
        b.screenshot(a.artifacts / "hostile.png")
    except cdp.CdpError as e:
        check(False, f"browser: {e}")
    finally:
        b.close()

    for page, ms in timings:
        print(f"load {ms:7.1f} ms  {page}")
    if FAILS:
        print(f"{len(FAILS)} browser checks FAILED")
        return 1
    print(f"all browser checks passed; screenshots in {a.artifacts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
