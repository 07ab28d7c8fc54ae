"""The browser view as a person uses it: `kpsim app` served here, driven in a real headless Chromium.

Offline is part of the contract: any request that leaves this machine, or
fails, fails the test. The comparison must equal `kpsim compare`'s summary,
and an uploaded scenario with errors must show `kpsim validate`'s file:line
messages. Screenshots of each state go to the test's tmp_path;
KPSIM_UPDATE_SCREENSHOT=1 also copies the stepped one to docs/app.png (the README's).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from kpsim.app import PlenaryView, decision
from kpsim.rules import OBJECT

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def settled(page) -> None:
    """Wait for solara's fade-in (or busy dimming) of the main area to end, so screenshots show the page as seen."""
    page.wait_for_function("() => getComputedStyle(document.querySelector('main.solara-content-main')).opacity === '1'")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(root, tmp_path):
    """`kpsim app` on a free port; killed (its whole process group) whatever the test does."""
    port = free_port()
    log_path = tmp_path / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "kpsim", "app", "--port", str(port)], cwd=root,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"kpsim app exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"kpsim app did not answer within 60 s:\n{log_path.read_text()}")
                time.sleep(0.2)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


ARCTIC = "scenarios/examples/arctic_council.yaml"  # five rules, 2,000 replications each: a comparison in under a second


def download(page, button: str) -> bytes:
    """Click a download button and return what the browser saved."""
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    return Path(info.value.path()).read_bytes()


@pytest.mark.timeout(180)
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)")
def test_step_through_a_plenary_and_compare_the_rules(server, tmp_path, root, monkeypatch):
    from playwright.sync_api import expect, sync_playwright

    import kpsim
    from kpsim.app import summary_table
    from kpsim.scenario.load import load_scenario

    # what the page must show: `kpsim compare`'s summary, and `kpsim validate`'s messages for a file with two errors
    expected = kpsim.compare(root / ARCTIC, jobs=1)
    bad = tmp_path / "bad_scenario.yaml"
    bad.write_text((root / ARCTIC).read_text().replace("seed: 1996", "seed: -1").replace("replications:", "replicatons:"))
    monkeypatch.chdir(tmp_path)  # so that the file is named as the page names it: as uploaded
    with pytest.raises(kpsim.InputError) as bad_messages:
        load_scenario("bad_scenario.yaml")
    assert len(bad_messages.value.messages) == 2

    errors, outside, failed = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1500}, accept_downloads=True)
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: urlparse(r.url).hostname not in (None, "127.0.0.1") and outside.append(r.url))
            page.on("requestfailed", lambda r: failed.append(f"{r.url}: {r.failure}"))
            page.set_default_timeout(60_000)

            page.goto(server)
            page.get_by_text("Meeting 0 of 40").wait_for()
            expect(page).to_have_title("kpsim")
            for framework in ("Play Interval", "Render Interval", "Use Threads", "Time:"):
                assert page.get_by_text(framework).count() == 0, f"{framework!r} is shown"
            seed = page.get_by_label(re.compile("^Seed"))
            expect(seed).to_have_value("20111101")  # the scenario's seed, shown
            page.locator(".v-select", has_text="Rule").click()  # only this scenario's rules
            expect(page.get_by_role("option")).to_have_text([r.label for r in load_scenario(root / "scenarios/kp/definition_reform.yaml").rules])
            page.keyboard.press("Escape")
            stances = page.locator("img.kpsim-stances")
            text = page.locator("img.kpsim-text")
            before = stances.get_attribute("src"), text.get_attribute("src")
            settled(page)
            page.screenshot(path=tmp_path / "1_loaded.png")

            page.get_by_role("button", name="Step").click()
            page.get_by_text("Meeting 1 of 40").wait_for()
            page.get_by_role("button", name="Step").click()
            page.get_by_text("Meeting 2 of 40").wait_for()
            assert page.get_by_text("Decision: not adopted").count() + page.get_by_text("Decision: adopted").count() == 1
            after = stances.get_attribute("src"), text.get_attribute("src")
            assert after[0] != before[0], "the stance display did not change after Step"
            assert after[1] != before[1], "the text's path did not change after Step"
            settled(page)
            page.screenshot(path=tmp_path / "2_stepped.png")

            # a scenario file with errors: `kpsim validate`'s file:line messages in the page, the plenary left as it was
            page.locator("input[type=file]").set_input_files(bad)
            for message in bad_messages.value.messages:
                page.get_by_text(message).wait_for()
            assert message.startswith("bad_scenario.yaml:") and page.get_by_text("Meeting 2 of 40").is_visible()

            # another scenario, rule and seed take effect on Reset; the rule list follows the scenario
            page.locator(".v-select", has_text="Scenario").click()
            page.get_by_role("option", name="arctic_council", exact=True).click()
            expect(seed).to_have_value("1996")
            page.locator(".v-select", has_text="Rule").click()
            expect(page.get_by_role("option")).to_have_text([r.label for r in expected.scenario.rules])
            page.get_by_role("option", name="simple_majority", exact=True).click()
            page.get_by_text("Press Reset to show arctic_council").wait_for()
            page.get_by_role("button", name="Reset").click()
            page.get_by_text("Meeting 0 of 20").wait_for()  # the Arctic Council's horizon
            assert "Rule simple_majority:" in page.locator(".kpsim-decision").inner_text()
            page.get_by_role("button", name="Step").click()
            page.get_by_text("Meeting 1 of 20").wait_for()

            # the comparison is `kpsim compare`'s: the same table, the same summary.csv
            page.get_by_role("tab", name="Compare the rules").click()
            page.get_by_text(f"The same numbers as kpsim compare {ARCTIC}.").wait_for()
            page.get_by_role("button", name="Run comparison").click()
            chart = page.locator("img.kpsim-survival")
            chart.wait_for()
            heads, rows = summary_table(expected.summary, expected.scenario.calendar.horizon)
            table = page.locator("table.kpsim-summary")
            assert table.locator("th").all_inner_texts() == heads
            assert [r.locator("td").all_inner_texts() for r in table.locator("tbody tr").all()] == rows
            assert chart.evaluate("img => img.complete && img.naturalWidth") > 500
            assert download(page, "Summary (CSV)").decode() == expected.summary.to_csv(index=False)
            assert download(page, "Survival chart (PNG)").startswith(b"\x89PNG")
            expect(page.get_by_role("button", name="Make the brief")).to_be_enabled()  # made in tests/test_app.py: ~10 s
            settled(page)
            page.screenshot(path=tmp_path / "3_comparison.png")

            # a scenario uploaded with the file it extends is shown at once, and steps
            page.get_by_role("tab", name="One plenary, meeting by meeting").click()
            page.locator("input[type=file]").set_input_files([root / "scenarios/examples/arctic_council_russia_agrees.yaml", root / ARCTIC])
            page.get_by_text("arctic_council_russia_agrees.yaml: scenario arctic_council_russia_agrees (5 rules), shown now").wait_for()
            page.get_by_text("Scenario arctic_council_russia_agrees, seed 1996.").wait_for()
            page.get_by_text("Meeting 0 of 20").wait_for()
            expect(page.get_by_text(message)).to_have_count(0)  # the last upload's errors are gone
            page.get_by_role("button", name="Step").click()
            page.get_by_text("Meeting 1 of 20").wait_for()
        finally:
            browser.close()

    assert not errors, f"console errors: {errors}"
    assert not outside, f"requests left this machine (the view must work offline): {outside}"
    assert not failed, f"requests failed: {failed}"
    if os.environ.get("KPSIM_UPDATE_SCREENSHOT"):
        shutil.copy(tmp_path / "2_stepped.png", root / "docs" / "app.png")


def test_decision_lines_name_the_outvoted_and_say_censored():
    """What the counter and decision say, checked against the model without a browser."""
    view = PlenaryView("kp_definition_reform", "no_such_rule", seed=0)
    assert view.rule.label == "consensus" and "not in this scenario" in view.rule_note

    view = PlenaryView("kp_definition_reform", "simple_majority", seed=2)  # this seed adopts
    while view.running:
        view.step()
    assert view.adopted[0]
    p = view.n_participants
    objectors = [view.actor_ids[i] for i in range(p) if view.history[-1].stances[0, i] == OBJECT]
    assert objectors, "a majority adoption here outvotes someone"
    assert f"Decision: <b>adopted</b> at meeting {view.meeting}; outvoted: {', '.join(objectors)}." in decision(view)

    view = PlenaryView("kp_definition_reform", "consensus", seed=0)
    while view.running:
        view.step()
    lines = decision(view)
    assert not view.adopted[0] and lines[0].startswith("<b>Meeting 40 of 40</b>")
    assert "Decision: <b>not adopted</b> within the horizon of 40 meetings (censored)." in lines
