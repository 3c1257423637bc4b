"""The web UI in a real browser: Debian's headless Chromium driven by Selenium against a
real server. Sign in, submit a job and watch its logs arrive, see a metric chart, run a
pipeline and watch its DAG turn green, send a prediction through the form; names are
shown as text, never run (XSS), and the pages load under a strict CSP.

Chromium and chromedriver come from `make browser` (apt-get, as root); where they could
be installed that way but are missing, these tests fail with the command that installs
them; elsewhere (not root, no apt-get) they are skipped with that command as the reason. Set MINIFLOW_UI_SCREENSHOTS=DIR
to keep screenshots of the main pages (docs/ui/ holds the committed ones).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import httpx
import pytest
from platform_helpers import submit, wait_for, wait_job

MINIFLOW = str(Path(sys.executable).parent / "miniflow")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
INSTALL = "run `make browser` (as root: apt-get install -y chromium chromium-driver)"
SMALL = {"cpu": 0.2, "memory_mb": 512}
XSS_NAME = '<img src=x onerror="window.__xss=1">'


@pytest.fixture(scope="module")
def browser():
    missing = [p for p in (CHROMIUM, DRIVER) if not Path(p).exists()]
    if missing and os.geteuid() == 0 and shutil.which("apt-get"):
        # `make test` runs `make browser` first, which installs them here: not finding
        # them means that install failed, which must not pass unnoticed
        pytest.fail(f"the browser tests need {', '.join(missing)}: {INSTALL}")
    if missing:
        pytest.skip(f"no headless Chromium and no way to install it here: {INSTALL}")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("the browser tests need selenium: pip install -e '.[test]'")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def alice_token(server):
    return server.new_user("carol")


@pytest.fixture(scope="module")
def carol(server, alice_token):
    with server.client(alice_token) as c:
        yield c


@pytest.fixture(scope="module")
def signed_in(browser, server, alice_token):
    from selenium.webdriver.common.by import By

    browser.get(server.url + "/")
    find(browser, By.ID, "token-input").send_keys("mfp_wrong")
    browser.find_element(By.ID, "signin-button").click()
    err = wait_for(lambda: browser.find_element(By.ID, "signin-error").text, what="sign-in error")
    assert "unknown or revoked" in err
    box = browser.find_element(By.ID, "token-input")
    box.clear()
    box.send_keys(alice_token)
    browser.find_element(By.ID, "signin-button").click()
    wait_for(lambda: browser.find_element(By.ID, "who").text == "carol", what="signed in")
    assert alice_token not in browser.current_url
    return browser


def find(driver, by, value, timeout=20):
    from selenium.common.exceptions import NoSuchElementException

    def found():
        try:
            return driver.find_element(by, value)
        except NoSuchElementException:
            return None

    return wait_for(found, timeout, what=f"element {value}")


def text(driver, by, value) -> str:
    """The element's text, or "" while it is not on the page (or is being redrawn)."""
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        found = driver.find_elements(by, value)
        return found[0].text if found else ""
    except StaleElementReferenceException:
        return ""


def run_ids(driver) -> list[str]:
    """The runs table's order, read in one script (the table is redrawn on search)."""
    return driver.execute_script(
        "return [...document.querySelectorAll('#runs-table input')].map(e => e.dataset.run)"
    )


def go(driver, server, hash_):
    driver.get(f"{server.url}/{hash_}")


def shot(driver, name, tmp_path_factory):
    out = os.environ.get("MINIFLOW_UI_SCREENSHOTS")
    where = Path(out) if out else tmp_path_factory.getbasetemp() / "ui"
    where.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(where / f"{name}.png"))


def problems(driver):
    """Console errors other than expected failed requests (e.g. a 4xx the page shows)."""
    return [
        e["message"] for e in driver.get_log("browser")
        if e["level"] == "SEVERE" and "Failed to load resource" not in e["message"]
    ]  # fmt: skip


def test_ui_is_served_with_a_strict_policy(server):
    r = httpx.get(server.url + "/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    csp = r.headers["content-security-policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp
        and "frame-ancestors 'none'" in csp
    )
    assert "<script>" not in r.text and "onclick" not in r.text  # no inline script anywhere
    js = httpx.get(server.url + "/ui/js/app.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    for bad in ("/ui/../router.py", "/ui/%2e%2e/router.py", "/ui/js/", "/ui/nothing.js"):
        r = httpx.get(server.url + bad)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", bad
    static = Path(__file__).parents[2] / "src/miniflow_platform/ui/static/js"
    for f in static.glob("*.js"):  # the DOM is built from text, never from HTML strings
        text = f.read_text()
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text and "eval(" not in text


def test_sign_in_submit_a_job_and_watch_its_logs(signed_in, server, carol, tmp_path_factory):
    from selenium.webdriver.common.by import By

    d = signed_in
    go(d, server, "#/jobs")
    code = "import time; print('first-line', flush=True); time.sleep(2); print('second-line')"
    find(d, By.ID, "submit-command").send_keys(f'{sys.executable} -c "{code}"')
    d.find_element(By.ID, "submit-name").send_keys("from-the-browser")
    d.find_element(By.ID, "submit-memory").send_keys("512")
    d.find_element(By.ID, "submit-button").click()
    wait_for(lambda: "#/jobs/" in d.current_url, what="the job page")
    job_id = int(d.current_url.rsplit("/", 1)[1])
    logs = find(d, By.ID, "job-logs")
    wait_for(lambda: "first-line" in logs.text, 60, what="the first log line")
    seen_early = "second-line" not in logs.text  # arrived while the job still ran
    wait_for(lambda: "second-line" in logs.text, 60, what="the second log line")
    wait_for(lambda: "SUCCEEDED" in text(d, By.ID, "job-state-badge"), 30, what="success")
    job = carol.get(f"/v1/jobs/{job_id}").json()
    assert job["name"] == "from-the-browser" and job["command"][1:3] == ["-c", code]
    assert seen_early, "the logs should stream while the job runs"
    assert "created" in d.find_element(By.ID, "state-history").text
    shot(d, "job", tmp_path_factory)
    go(d, server, "#/jobs")
    find(d, By.ID, "jobs-table")
    wait_for(lambda: "from-the-browser" in text(d, By.ID, "jobs-table"), what="list")
    shot(d, "jobs", tmp_path_factory)
    assert problems(d) == []


def test_names_are_text_not_html(signed_in, server, carol):
    from selenium.webdriver.common.by import By

    job = submit(carol, "print(1)", name=XSS_NAME, resources=SMALL)
    d = signed_in
    go(d, server, "#/jobs")
    find(d, By.ID, "jobs-table")
    wait_for(lambda: XSS_NAME in text(d, By.ID, "jobs-table"), what="the name shown as text")
    go(d, server, f"#/jobs/{job['id']}")
    wait_for(lambda: XSS_NAME in text(d, By.TAG_NAME, "h1"), what="the title")
    assert d.execute_script("return window.__xss === undefined")
    assert d.find_elements(By.CSS_SELECTOR, "main img") == []
    wait_job(carol, job["id"])


METRICS_JOB = """
from miniflow_platform import tracking_client as t
t.log_params({"lr": "%s"})
for step, v in enumerate(%s):
    t.log_metric("loss", v, step=step)
"""


def test_metric_chart_and_comparison_render(signed_in, server, carol, tmp_path_factory):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    curves = {"0.1": [1.0, 0.5, 0.25, 0.2, 0.1], "0.5": [1.0, 0.8, 0.3]}
    jobs = [
        submit(carol, METRICS_JOB % (lr, curve), name=f"lr-{lr}", experiment="ui", resources=SMALL)
        for lr, curve in curves.items()
    ]
    for j in jobs:
        assert wait_job(carol, j["id"], timeout=90)["state"] == "SUCCEEDED"
    runs = wait_for(
        lambda: (r := carol.get("/v1/experiments/ui/runs").json()["data"])
        and all(x["status"] == "SUCCEEDED" for x in r) and len(r) == 2 and r,
        what="both runs ended",
    )  # fmt: skip
    first = next(r for r in runs if r["params"]["lr"] == "0.1")
    d = signed_in
    go(d, server, f"#/runs/{first['id']}")
    chart = find(d, By.CSS_SELECTOR, "[data-metric='loss'] svg")
    line = chart.find_element(By.CSS_SELECTOR, "polyline")
    ys = [float(p.split(",")[1]) for p in line.get_attribute("points").split()]
    assert len(ys) == 5 and len(chart.find_elements(By.TAG_NAME, "circle")) == 5
    # SVG y grows downwards: a falling loss climbs on screen, in the same proportions
    span = ys[-1] - ys[0]
    assert [(y - ys[0]) / span for y in ys] == pytest.approx(
        [(v - 1.0) / (0.1 - 1.0) for v in curves["0.1"]], abs=2e-3
    )  # points are drawn to 0.1 px
    shot(d, "run", tmp_path_factory)
    go(d, server, "#/experiments/ui")
    find(d, By.ID, "runs-order").send_keys("metrics.loss asc")
    d.find_element(By.ID, "runs-search").click()
    order = [str(first["id"]), str(next(r["id"] for r in runs if r is not first))]
    wait_for(lambda: run_ids(d) == order, what="runs sorted by loss")
    find(d, By.ID, "runs-filter").send_keys("metrics.loss >")
    d.find_element(By.ID, "runs-search").click()
    assert "cannot parse" in find(d, By.ID, "runs-error").text
    d.find_element(By.ID, "runs-filter").clear()
    d.find_element(By.ID, "runs-search").click()
    wait_for(lambda: len(run_ids(d)) == 2, what="runs again")
    shot(d, "experiment", tmp_path_factory)
    for box in d.find_elements(By.CSS_SELECTOR, "#runs-table input"):
        box.click()
    d.find_element(By.ID, "compare-runs").click()
    chart = find(d, By.CSS_SELECTOR, "#compare-chart svg")
    assert len(chart.find_elements(By.CSS_SELECTOR, "polyline")) == 2
    assert Select(d.find_element(By.ID, "compare-metric")).first_selected_option.text == "loss"
    assert "params.lr" in d.find_element(By.ID, "compare-table").text
    shot(d, "compare", tmp_path_factory)
    assert problems(d) == []


def test_run_a_pipeline_and_watch_its_dag_turn_green(signed_in, server, carol, tmp_path_factory):
    from selenium.webdriver.common.by import By

    def step(name, *deps):
        code = f"import time; time.sleep(1); print('{name}')"
        return {"name": name, "command": [sys.executable, "-c", code], "depends_on": list(deps),
                "resources": {"cpu": 0.1, "memory_mb": 256}}  # fmt: skip

    steps = [
        step("prepare"),
        step("train", "prepare"),
        step("evaluate", "train"),
        step("report", "prepare"),
    ]
    r = carol.post("/v1/pipelines", json={"name": "ui-dag", "steps": steps})
    assert r.status_code == 201, r.text
    d = signed_in
    go(d, server, "#/pipelines/ui-dag")
    find(d, By.ID, "run-pipeline").click()
    wait_for(lambda: "/runs/" in d.current_url, what="the run page")

    def nodes():  # read in one script: the DAG is redrawn every second
        return dict(
            d.execute_script(
                "return [...document.querySelectorAll('#run-dag g.node')]"
                ".map(n => [n.dataset.step, n.dataset.state])"
            )
        )

    wait_for(
        lambda: nodes().get("prepare") in ("QUEUED", "RUNNING", "SUBMITTING", "SUCCEEDED"),
        60,
        what="start",
    )
    assert nodes()["evaluate"] != "SUCCEEDED"  # not green before it ran
    wait_for(lambda: set(nodes().values()) == {"SUCCEEDED"}, 120, what="every step green")
    assert set(nodes()) == {"prepare", "train", "evaluate", "report"}
    wait_for(lambda: "SUCCEEDED" in text(d, By.ID, "run-state"), 30, what="run state")
    time.sleep(1.5)  # the page stops redrawing once the run has ended
    rect = d.find_element(By.CSS_SELECTOR, "#run-dag g.node-SUCCEEDED rect")
    green = rect.value_of_css_property("fill")
    assert green == "rgb(217, 242, 225)"  # the green of .node-SUCCEEDED in app.css
    assert len(d.find_elements(By.CSS_SELECTOR, "#run-dag path.edge")) == 3
    shot(d, "pipeline", tmp_path_factory)


def test_send_a_prediction_through_the_form(signed_in, server, carol, tmp_path_factory):
    from selenium.webdriver.common.by import By
    from service_helpers import PREDICT, logit, make_model, wait_service

    base = make_model(tmp_path_factory.mktemp("uimodel") / "m", bias=0.5)
    for p in [base, *base.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    body = {"name": "ui-lr", "model_dir": str(base), "resources": {"cpu": 0.5, "memory_mb": 1024}}
    assert carol.post("/v1/services", json=body).status_code == 201
    try:
        wait_service(carol, "ui-lr", {"AVAILABLE"}, timeout=120)
        expected = carol.post("/v1/services/ui-lr:predict", json=PREDICT).json()
        d = signed_in
        go(d, server, "#/services/ui-lr")
        box = find(d, By.ID, "predict-input")
        box.clear()
        box.send_keys(json.dumps(PREDICT))
        d.find_element(By.ID, "predict-send").click()
        out = find(d, By.ID, "predict-output")
        wait_for(lambda: out.text.startswith("{"), 30, what="the prediction")
        got = json.loads(out.text)
        assert logit(got) == pytest.approx(0.5 + 1.0) and got == expected  # bias + 0.5*1 + 0.25*2
        box.clear()
        box.send_keys("{not json")
        d.find_element(By.ID, "predict-send").click()
        wait_for(lambda: "not JSON" in text(d, By.ID, "toast"), what="the JSON error")
        shot(d, "service", tmp_path_factory)
        for page in ("queue", "experiments", "pipelines", "schedules", "notebooks", "predictions"):
            go(d, server, f"#/{page}")
            find(d, By.TAG_NAME, "h1")
            wait_for(lambda: d.find_elements(By.CSS_SELECTOR, "main table, main p"), what=page)
            assert not d.find_elements(By.ID, "page-error"), d.find_element(
                By.ID, "page-error"
            ).text
            shot(d, page, tmp_path_factory)
        assert problems(d) == []
    finally:
        carol.delete("/v1/services/ui-lr")


def test_only_the_signed_in_tenants_resources(signed_in, server, carol):
    from selenium.webdriver.common.by import By

    dave = server.client(server.new_user("dave"))
    secret = submit(dave, "print(1)", name="daves-secret-job", resources=SMALL)
    d = signed_in
    go(d, server, "#/jobs")
    find(d, By.ID, "jobs-table")
    wait_for(lambda: "from-the-browser" in text(d, By.ID, "jobs-table"), what="the list")
    assert "daves-secret-job" not in d.find_element(By.ID, "main").text
    go(d, server, f"#/jobs/{secret['id']}")
    assert "not found" in find(d, By.ID, "page-error").text
    wait_job(dave, secret["id"])
    d.find_element(By.ID, "signout").click()
    find(d, By.ID, "token-input")
    assert d.execute_script("return sessionStorage.length") == 0


def test_edit_a_schedule_in_the_form(as_carol, server, carol, tmp_path_factory):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    job = {"command": [sys.executable, "-c", "pass"], "resources": SMALL}
    body = {"name": "ui-sched", "cron": "0 3 * * *", "timezone": "UTC", "job": job}
    assert carol.post("/v1/schedules", json=body).status_code == 201
    try:
        d = as_carol
        go(d, server, "#/schedules")
        find(d, By.ID, "edit-ui-sched").click()
        cron = find(d, By.ID, "sched-cron")
        assert cron.get_attribute("value") == "0 3 * * *"
        cron.clear()
        cron.send_keys("30 6 * * *")
        zone = d.find_element(By.ID, "sched-timezone")
        zone.clear()
        zone.send_keys("Asia/Tokyo")
        Select(d.find_element(By.ID, "sched-concurrency")).select_by_value("forbid")
        shot(d, "schedule-edit", tmp_path_factory)
        d.find_element(By.ID, "sched-save").click()
        wait_for(lambda: not d.find_elements(By.ID, "schedule-form"), what="the form to close")
        s = carol.get("/v1/schedules/ui-sched").json()
        assert (s["cron"], s["timezone"], s["concurrency_policy"]) == ("30 6 * * *", "Asia/Tokyo", "forbid")  # fmt: skip
        assert s["version"] == 2 and s["job"]["command"] == job["command"]  # untouched
        # 06:30 in Tokyo (UTC+9, no DST) is 21:30 UTC
        assert s["next_fire_at"].endswith("21:30:00Z") or "T21:30:00" in s["next_fire_at"]
        wait_for(
            lambda: (
                d.execute_script(
                    "return document.querySelector('.next-fire[data-name=\"ui-sched\"]').dataset.at"
                )
                == s["next_fire_at"]
            ),
            what="the new next time in the table",
        )
        # a bad cron is refused with the field named, nothing saved
        find(d, By.ID, "edit-ui-sched").click()
        cron = find(d, By.ID, "sched-cron")
        cron.clear()
        cron.send_keys("61 * * * *")
        d.find_element(By.ID, "sched-save").click()
        wait_for(lambda: "body.cron" in text(d, By.ID, "sched-error"), what="the cron error")
        assert "invalid cron expression" in text(d, By.ID, "sched-error")
        # someone else edits it while the form is open: the save is refused (409)
        assert carol.patch("/v1/schedules/ui-sched", json={"description": "cli"}).status_code == 200
        cron.clear()
        cron.send_keys("0 5 * * *")
        d.find_element(By.ID, "sched-save").click()
        wait_for(lambda: "edited since you read it" in text(d, By.ID, "sched-error"), what="409")
        assert carol.get("/v1/schedules/ui-sched").json()["cron"] == "30 6 * * *"
        assert problems(d) == []
    finally:
        carol.delete("/v1/schedules/ui-sched")


def test_capacity_page_shows_the_servers_numbers(as_carol, server, carol, admin, tmp_path_factory):
    from selenium.webdriver.common.by import By

    job = submit(carol, "import time; time.sleep(120)", name="holds-cpu", resources=SMALL)
    try:
        wait_job(carol, job["id"], {"RUNNING"})
        d = as_carol
        go(d, server, "#/queue")
        find(d, By.ID, "server-capacity")

        # the conftest server: 2 CPUs, 8192 MiB; carol's job holds 0.2 CPU and 512 MiB
        def flat(element_id: str) -> str:
            return " ".join(text(d, By.ID, element_id).split())

        wait_for(lambda: "cpu 0.2 of ∞" in flat("usage"), what="carol's cpu (no quota)")
        assert "memory 512 MiB of ∞ MiB" in flat("usage"), flat("usage")
        used = admin.get("/v1/capacity").json()["used"]
        server_text = flat("server-capacity")
        assert f"cpu {used['cpu']:g} of 2 " in server_text, server_text
        assert f"memory {used['memory_mb']} MiB of 8192 MiB" in server_text, server_text
        width = d.execute_script("return document.querySelector('#server-cpu span').style.width")
        assert float(width.rstrip("%")) == pytest.approx(100 * used["cpu"] / 2, abs=0.06)
        assert not d.find_elements(By.ID, "users-table")  # other users are an admin's view
        shot(d, "queue", tmp_path_factory)
    finally:
        carol.post(f"/v1/jobs/{job['id']}/cancel")
        wait_job(carol, job["id"])


def sign_in_as(driver, server, token: str, who: str) -> None:
    """Put ``token`` in the tab's sessionStorage, as the sign-in form does."""
    from selenium.webdriver.common.by import By

    driver.get(server.url + "/")
    driver.execute_script("sessionStorage.setItem('miniflow.token', arguments[0])", token)
    driver.refresh()  # a new load reads the token
    wait_for(lambda: text(driver, By.ID, "who").startswith(who), what=f"signed in as {who}")


@pytest.fixture
def as_carol(browser, server, alice_token):
    """The browser signed in as carol (an earlier test may have signed out)."""
    sign_in_as(browser, server, alice_token, "carol")
    return browser


@pytest.fixture
def as_admin(browser, server):
    sign_in_as(browser, server, server.admin_token, "admin")
    try:
        yield browser
    finally:
        browser.execute_script("sessionStorage.clear()")


def test_an_admin_sees_every_users_share(as_admin, server, carol, admin):
    from selenium.webdriver.common.by import By

    job = submit(carol, "import time; time.sleep(120)", name="carols", resources=SMALL)
    try:
        wait_job(carol, job["id"], {"RUNNING"})
        d = as_admin
        go(d, server, "#/queue")
        table = find(d, By.ID, "users-table")
        wait_for(lambda: "carol" in table.text, what="carol's row")
        rows = d.execute_script(
            "return [...document.querySelectorAll('#users-table tbody tr')]"
            ".map(r => [...r.cells].map(c => c.textContent))"
        )
        carol_row = next(r for r in rows if r[0] == "carol")
        assert carol_row[1] == "0.2 / ∞" and carol_row[4] == "1 / ∞"
        assert {r[0] for r in rows} == {
            u["user"] for u in admin.get("/v1/capacity").json()["users"]
        }
    finally:
        carol.post(f"/v1/jobs/{job['id']}/cancel")
        wait_job(carol, job["id"])


def test_open_a_notebook_through_the_proxy_and_run_a_cell(
    as_carol, server, carol, tmp_path_factory
):
    """JupyterLab in the browser, served through the platform's proxy: the Open button
    hands the access token over once, the page loads, a new notebook's kernel connects
    over the proxied websocket and runs a cell."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    for module in ("jupyter_server", "ipykernel", "jupyterlab"):
        pytest.importorskip(module, reason="the [notebook] extra is needed")
    r = carol.post(
        "/v1/notebooks", json={"name": "ui-nb", "resources": {"cpu": 0.5, "memory_mb": 2048}}
    )
    assert r.status_code == 201, r.text
    nb = r.json()
    d = as_carol
    home = d.current_window_handle
    try:
        wait_for(
            lambda: carol.get(f"/v1/notebooks/{nb['id']}").json()["state"] == "RUNNING",
            120,
            what="the notebook to run",
        )
        go(d, server, "#/notebooks")
        before = set(d.window_handles)
        find(d, By.ID, f"open-notebook-{nb['id']}").click()
        opened = wait_for(lambda: set(d.window_handles) - before, 30, what="the notebook's tab")
        d.switch_to.window(opened.pop())
        prefix = f"/v1/notebooks/{nb['id']}/proxy/lab"
        wait_for(lambda: prefix in d.current_url, 60, what="JupyterLab's address")
        assert "token=" not in d.current_url  # the access token moved into a cookie
        card = find(d, By.CSS_SELECTOR, ".jp-LauncherCard[data-category='Notebook']", 180)
        card.click()
        find(d, By.CSS_SELECTOR, ".jp-NotebookPanel .jp-Cell .cm-content", 120)
        # the status bar says "Python 3 (ipykernel) | Idle" once the kernel's websocket,
        # relayed by the platform's proxy, is connected
        wait_for(
            lambda: d.execute_script(
                "return [...document.querySelectorAll('.jp-StatusBar-TextItem')]"
                ".some(e => /[|] Idle/.test(e.textContent))"
            ),
            180,
            what="the kernel to connect over the websocket",
        )
        cell = find(d, By.CSS_SELECTOR, ".jp-NotebookPanel .jp-Cell .cm-content")
        cell.click()
        cell.send_keys("6 * 7")
        cell.send_keys(Keys.SHIFT, Keys.ENTER)
        out = find(d, By.CSS_SELECTOR, ".jp-NotebookPanel .jp-OutputArea-output", 120)
        wait_for(lambda: out.text.strip() == "42", 60, what="the cell's output")
        kernels = carol.get(f"/v1/notebooks/{nb['id']}/proxy/api/kernels").json()
        assert len(kernels) == 1 and kernels[0]["connections"] >= 1  # the browser's websocket
        shot(d, "notebook", tmp_path_factory)
    finally:
        if d.current_window_handle != home:
            d.close()
            d.switch_to.window(home)
        carol.delete(f"/v1/notebooks/{nb['id']}")
