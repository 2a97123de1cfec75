#!/usr/bin/env python3
"""Load time of every page of a catalog site in headless chromium (scripts/bench-site.sh).

  python3 tests/browser/bench_site.py SITE_DIR

Each page is loaded twice: as published (the catalog's script runs: sorting, filters, copy
buttons) and, as the peer measured in the same run, the same page with JavaScript disabled
(the browser's cost of the HTML alone). Prints per-page milliseconds (navigation start to the
end of the load event), the slowest and the median, and the ratio of the two medians.
"""
import pathlib
import statistics
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import cdp  # noqa: E402


def measure(b, pages):
    out = []
    for p in pages:
        b.navigate(p.resolve().as_uri())
        out.append(b.eval("performance.getEntriesByType('navigation')[0].loadEventEnd"))
    return out


def main():
    site = pathlib.Path(sys.argv[1])
    binary = cdp.find_chromium()
    if not binary:
        print("bench_site.py: chromium not found: run scripts/setup.sh (Debian package chromium)")
        return 2
    pages = [site / "index.html"] + sorted(site.glob("images/*.html"))
    b = cdp.Browser(binary, timeout=60)
    try:
        b.open_page()
        # A warm-up load of each page kind, so the first measured page is not the browser's own
        # start-up.
        measure(b, pages[:2])
        with_js = measure(b, pages)
        b.send("Emulation.setScriptExecutionDisabled", {"value": True})
        no_js = measure(b, pages)
    finally:
        b.close()
    for p, a, n in zip(pages, with_js, no_js):
        print(f"  {a:8.1f} ms  (no JS {n:8.1f} ms)  {p.relative_to(site)}  {p.stat().st_size} bytes")
    slowest = max(zip(with_js, pages))
    med, med_peer = statistics.median(with_js), statistics.median(no_js)
    print(f"pages: {len(pages)}; slowest {slowest[0]:.1f} ms ({slowest[1].relative_to(site)}); "
          f"median {med:.1f} ms; median without JS {med_peer:.1f} ms; ratio {med / max(med_peer, 0.1):.2f}x")
    verdict = "within" if slowest[0] < 1000 else "OVER"
    print(f"load budget (every page under 1000 ms): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
