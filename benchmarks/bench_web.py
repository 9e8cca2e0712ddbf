"""How fast the explorer answers a change: the JSON endpoints over HTTP and, with Playwright, the page in Chromium.

    python benchmarks/bench_web.py [--repeat 9] [--no-browser]

Starts ``upconv serve``'s server in a thread on a free port of 127.0.0.1 and
times, per configuration (outputs up to 16x16 and a few larger ones), the
median wall time of ``/api/views`` and ``/api/checkerboard`` (server compute
+ JSON + loopback HTTP) and their payload; and in the browser, from an edit
of an input value, the time until the four views are on screen (the frame
after drawing them; ``page ms``, the page's own ``performance.now()``,
requests included) and until the checkerboard story is too (``all ms``),
and the CPU time all Chromium processes used per edit (``cpu ms``, from
/proc: a load-independent measure of the work).
Results are in benchmarks/README.md ("Explorer").
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import tempfile
import threading
import time
import urllib.parse
import urllib.request

CONFIGS = [  # (dims, size, kernel_size, stride, padding, output_padding)
    (2, 2, 3, 2, 0, 0),    # the seeds' 5x5
    (1, 16, 3, 2, 0, 0),   # 33
    (2, 4, 4, 2, 1, 0),    # 8x8
    (2, 6, 5, 3, 2, 1),    # 16x16
    (2, 8, 4, 2, 1, 0),    # 16x16
    (2, 8, 3, 2, 1, 1),    # 16x16
    (2, 16, 1, 1, 0, 0),   # 16x16 (256 stamps)
    (2, 8, 4, 4, 0, 0),    # 32x32, larger than the target
]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_cpu_s() -> float:
    """CPU seconds used so far by every Chromium process (Linux /proc; 0 elsewhere)."""
    total = 0
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(stat[: -len("stat")] + "cmdline", "rb") as f:
                if b"chromium" not in f.read():
                    continue
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.0


def query(cfg) -> str:
    dims, size, k, s, p, a = cfg
    return urllib.parse.urlencode({"dims": dims, "size": size, "kernel_size": k, "stride": s, "padding": p,
                                   "output_padding": a, "dilation": 1})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    from upconv.web.server import bind, make_server, warm_up

    sock = bind(0)
    server = make_server(sock)
    warm_up()
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    print(f"{'configuration':<28} {'out':>7} {'views ms':>9} {'kB':>6} {'board ms':>9} {'kB':>6} {'page ms':>8} "
          f"{'all ms':>7} {'cpu ms':>7}")
    browser = None
    if not args.no_browser and os.access("/usr/bin/chromium", os.X_OK):
        from playwright.sync_api import sync_playwright

        pw = sync_playwright().start()
        browser = pw.chromium.launch_persistent_context(tempfile.mkdtemp(), executable_path="/usr/bin/chromium",
                                                       headless=True, args=ARGS,
                                                       viewport={"width": 1500, "height": 1000})
        page = browser.new_page()
    for cfg in CONFIGS:
        q = query(cfg)
        row = []
        out = None
        for path in ("api/views", "api/checkerboard"):
            times, size = [], 0
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                with urllib.request.urlopen(f"{base}{path}?{q}") as r:
                    body = r.read()
                times.append(1e3 * (time.perf_counter() - t0))
                size = len(body)
            if out is None:
                import json

                out = "x".join(map(str, json.loads(body)["config"]["out_size"]))
            row += [statistics.median(times), size / 1e3]
        page_ms = all_ms = cpu_ms = float("nan")
        if browser is not None:
            page.goto(f"{base}?{q}")
            page.wait_for_selector("body[data-ready]")
            time.sleep(0.5)
            samples, totals = [], []
            cpu0 = chromium_cpu_s()
            for i in range(args.repeat):
                before = page.evaluate("document.body.dataset.ready")
                # an edit of the first input value, as typing does it (no pointer or layout work of the driver)
                page.evaluate("v => { const e = document.querySelector(\"#x-values input[data-i='0']\"); "
                              "e.value = v; e.dispatchEvent(new Event('input')); }", str(i % 5 + 1))
                page.wait_for_function("b => document.body.dataset.ready !== b", arg=before, polling=20)
                samples.append(float(page.evaluate("document.body.dataset.updateMs")))
                totals.append(float(page.evaluate("document.body.dataset.totalMs")))
            cpu_ms = 1e3 * (chromium_cpu_s() - cpu0) / args.repeat
            page_ms, all_ms = statistics.median(samples), statistics.median(totals)
        name = "d{} in{} k{} s{} p{} a{}".format(*cfg)
        print(f"{name:<28} {out:>7} {row[0]:9.1f} {row[1]:6.0f} {row[2]:9.1f} {row[3]:6.0f} {page_ms:8.1f} "
              f"{all_ms:7.1f} {cpu_ms:7.0f}")
    if browser is not None:
        browser.close()
        pw.stop()
    server.should_exit = True
    thread.join(5)


if __name__ == "__main__":
    main()
