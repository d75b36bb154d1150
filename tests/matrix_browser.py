#!/usr/bin/python3
"""nsgsim matrix --html as a user sees it: headless Chromium (Debian's
chromium and chromium-driver, through python3-selenium) opens the page from
disk with the network cut off, the test reads every rendered cell and
compares it with `nsgsim matrix --json`, clicks cells and checks the panel
lists the cell's regions and deciding rules, checks the page asked for
nothing outside itself, and saves screenshots under build/ (matrix.png,
matrix-nic.png)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

NSGSIM = os.environ.get("NSGSIM", "./build/nsgsim")
OUT = os.environ.get("NSGSIM_BUILD", "build")
EXAMPLE = ["--env", "fixtures/example/env", "--service-tags",
           "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json"]


# Markup in a name ('/' is not allowed in one: the loader falls back to the id's leaf).
HOSTILE = '<!--<script>document.title=1<img src=x onerror="document.title=1">'


def run_matrix(by, html, env=None):
    args = EXAMPLE if env is None else ["--env", env] + EXAMPLE[2:]
    out = subprocess.run([NSGSIM, "matrix", "-q", *args, "--by", by, "--json", "--html", html],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def browser():
    opts = Options()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1800,1100", "--proxy-server=http://127.0.0.1:9",
              "--proxy-bypass-list=<-loopback>", "--host-resolver-rules=MAP * ~NOTFOUND"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def check(drv, by, failures):
    html = os.path.abspath(os.path.join(OUT, f"matrix-{by}.html"))
    data = run_matrix(by, html)
    drv.get("file://" + html)
    if drv.find_element(By.TAG_NAME, "body").get_attribute("data-ready") != "1":
        failures.append(f"{by}: the page's script did not finish")
        return
    heads = [th.text for th in drv.find_elements(By.CSS_SELECTOR, "table.matrix thead th")][1:]
    if heads != [c["name"] for c in data["columns"]]:
        failures.append(f"{by}: columns {heads} != {[c['name'] for c in data['columns']]}")
    rows = [th.text for th in drv.find_elements(By.CSS_SELECTOR, "table.matrix tbody th")]
    if rows != [r["name"] for r in data["rows"]]:
        failures.append(f"{by}: rows {rows} != {[r['name'] for r in data['rows']]}")
    # Every cell as rendered: its text (textContent: what the table shows,
    # without the CSS dash of an empty cell), its place and its colour class.
    cells = drv.execute_script(
        "return Array.from(document.querySelectorAll('td.cell')).map(function (td) {"
        " return [Number(td.dataset.row), Number(td.dataset.col), td.dataset.from,"
        " td.dataset.to, td.textContent, td.className,"
        " getComputedStyle(td).backgroundColor]; });")
    nc = len(data["columns"])
    if len(cells) != len(data["cells"]):
        failures.append(f"{by}: {len(cells)} cells rendered, the JSON has {len(data['cells'])}")
    for i, j, frm, to, text, cls, bg in cells:
        want = data["cells"][i * nc + j]
        if (frm, to, text) != (want["from"], want["to"], want["summary"]):
            failures.append(f"{by}: cell ({i},{j}) shows {(frm, to, text)}, the JSON says "
                            f"{(want['from'], want['to'], want['summary'])}")
        level = 0 if not want["allowed"] else 4 if want["summary"] == "all" else None
        if level is not None and f"open{level}" not in cls.split():
            failures.append(f"{by}: cell ({i},{j}) '{text}' has class {cls}, want open{level}")
        if want["partial"] != ("partial" in cls.split()):
            failures.append(f"{by}: cell ({i},{j}) partial is {want['partial']}, class {cls}")
        if level == 4 and bg == "rgba(0, 0, 0, 0)":
            failures.append(f"{by}: cell ({i},{j}) is open to everything but not coloured")
    # Click a cell without regions, then one with (a partly open one when
    # there is one, for the screenshot): the panel says what the JSON says.
    cs = data["cells"]
    empty = [k for k, c in enumerate(cs) if not c["regions"]]
    some = ([k for k, c in enumerate(cs) if c["regions"] and c["summary"] != "all"] or
            [k for k, c in enumerate(cs) if c["regions"]])
    if not empty or not some:
        failures.append(f"{by}: no cell with and without regions to click")
    for k in empty[:1] + some[:1]:
        want = cs[k]
        td = drv.find_element(By.CSS_SELECTOR,
                              f'td.cell[data-row="{k // nc}"][data-col="{k % nc}"]')
        td.click()
        head = drv.find_element(By.CSS_SELECTOR, "#detail h2").text
        if head != f"{want['from']} \u2192 {want['to']}":
            failures.append(f"{by}: the panel of ({want['from']}, {want['to']}) is headed {head}")
        shown = drv.execute_script(
            "return Array.from(document.querySelectorAll('#detail tr.region')).map(function (tr) {"
            " return Array.from(tr.children).map(function (c) { return c.textContent; }); });")
        if len(shown) != len(want["regions"]):
            failures.append(f"{by}: the panel lists {len(shown)} regions, the JSON "
                            f"{len(want['regions'])}")
        for row, reg in zip(shown, want["regions"]):
            rule = reg["decidedBy"]["rule"] or "(no rule: allowed by default)"
            if row[0] != ",".join(reg["protocols"]) or row[6] != rule:
                failures.append(f"{by}: panel row {row} does not match region {reg}")
    if by == "subnet":
        drv.save_screenshot(os.path.join(OUT, "matrix.png"))
    if by == "nic":
        drv.save_screenshot(os.path.join(OUT, "matrix-nic.png"))
    # Nothing was fetched but the file itself.
    for entry in drv.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            url = msg["params"]["request"]["url"]
            if not url.startswith("file://" + html):
                failures.append(f"{by}: the page requested {url}")
    for entry in drv.get_log("browser"):
        if entry.get("level") == "SEVERE":
            failures.append(f"{by}: console error: {entry['message']}")


def check_hostile_name(drv, tmp, failures):
    """A NIC named like markup shows as text and runs nothing."""
    env = os.path.join(tmp, "env")
    shutil.copytree("fixtures/example/env", env)
    path = os.path.join(env, "nic-dev1.json")
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text.replace('"name": "vm-dev1-nic"', '"name": %s' % json.dumps(HOSTILE)))
    html = os.path.join(tmp, "hostile.html")
    data = run_matrix("nic", html, env)
    if HOSTILE not in [c["name"] for c in data["columns"]]:
        failures.append("hostile: the renamed NIC is not a column")
    drv.get("file://" + html)
    heads = [th.text for th in drv.find_elements(By.CSS_SELECTOR, "table.matrix thead th")]
    if HOSTILE not in heads:
        failures.append(f"hostile: the name is not shown as text: {heads}")
    if drv.find_elements(By.TAG_NAME, "img") or drv.title == "1":
        failures.append("hostile: markup in a name was interpreted")
    if drv.find_element(By.TAG_NAME, "body").get_attribute("data-ready") != "1":
        failures.append("hostile: the page's script did not finish")


def main():
    os.makedirs(OUT, exist_ok=True)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        drv = browser()
        try:
            for by in ("subnet", "nic", "asg"):
                check(drv, by, failures)
            check_hostile_name(drv, tmp, failures)
        finally:
            drv.quit()
    for f in failures[:30]:
        print("FAIL:", f)
    if failures:
        sys.exit(1)
    print(f"matrix_browser: the rendered cells of three matrices match --json; screenshots in "
          f"{OUT}/matrix.png and {OUT}/matrix-nic.png")


if __name__ == "__main__":
    main()
