#!/usr/bin/env python3
"""Drives the console's pages in a real headless Chromium (Debian's chromium and
chromium-driver, through Selenium from PyPI) and checks what a person sees.

    console_pages.py BASE_URL OPERATOR_TOKEN ACCOUNT ACCOUNT_TOKEN EXPECTED_JSON [SCREENSHOT_DIR]

EXPECTED_JSON is `meetmeter report --policy ... --format json` for the current month: every
amount on the pages must be the one it prints, to the cent. Prints one line per check and
exits 1 at the first that fails.
"""
import json
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

base, operator_token, account, account_token, expected_path = sys.argv[1:6]
shots = sys.argv[6] if len(sys.argv) > 6 else None
expected = json.load(open(expected_path))
period = expected["period"]
dues = {a["account"]: a["due"] for a in expected["accounts"]}


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        sys.exit(1)


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"]:
    options.add_argument(flag)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(120)


def errors():
    """What the page's console said at level SEVERE (script errors, refused loads, 404s)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def sign_in(token, accepted=True):
    """Submits the form and waits for its answer (the next page, or the refusal) to be shown."""
    driver.get(base + "/console/login")
    form = driver.find_element(By.CSS_SELECTOR, "form.login")
    driver.find_element(By.ID, "token").send_keys(token)
    form.find_element(By.TAG_NAME, "button").click()
    WebDriverWait(driver, 60).until(EC.staleness_of(form))
    if accepted:
        WebDriverWait(driver, 60).until(lambda d: not d.current_url.endswith("/console/login"))


def shot(name):
    if shots:
        driver.save_screenshot(f"{shots}/{name}.png")


try:
    driver.get(base + "/console/")
    check(driver.current_url.endswith("/console/login"), "a browser without a token is sent to sign in")
    sign_in("not-a-token-at-all-0000", accepted=False)
    check("not known" in driver.page_source, "a wrong token is refused on the page")
    errors()  # the refusal's 401 is the page's answer, not a fault

    sign_in(operator_token)
    driver.get(base + f"/console/?period={period}")
    rows = driver.find_elements(By.CSS_SELECTOR, "#accounts tr[data-account]")
    shown = {r.get_attribute("data-account"): r.find_element(By.CSS_SELECTOR, "td[data-field=due]").text for r in rows}
    check(shown == dues, f"the operator sees every account's due as report prints it: {shown}")
    check(any(d != "0.00" for d in dues.values()), "and something is due")
    total = driver.find_element(By.CSS_SELECTOR, "td[data-field=total]").text
    check(total == expected["total"], f"and the total {total} == {expected['total']}")
    said = errors()
    check(said == [], f"no console errors on the accounts page: {said}")
    shot("accounts")

    driver.find_element(By.CSS_SELECTOR, f"#accounts tr[data-account='{account}'] a").click()
    WebDriverWait(driver, 60).until(lambda d: "/console/accounts/" in d.current_url)
    due = driver.find_element(By.ID, "due").text
    check(due == dues[account], f"{account}'s page shows its due {due} == {dues[account]}")
    bars = driver.find_elements(By.CSS_SELECTOR, "svg.plot rect.bar")
    check(len(bars) > 0, f"its usage is drawn: {len(bars)} bars")
    days = driver.find_elements(By.CSS_SELECTOR, "svg.usage[data-by=day] rect.bar")
    weeks = driver.find_elements(By.CSS_SELECTOR, "svg.usage[data-by=week] rect.bar")
    check(len(days) > 0 and len(weeks) > 0, f"per day ({len(days)} bars) and per week ({len(weeks)} bars)")
    check(all(b.get_attribute("data-cycle").startswith(period + "-") for b in days)
          and all("-W" in b.get_attribute("data-cycle") for b in weeks), "each bar labelled with its day or its ISO week")
    amounts = [r.find_element(By.CSS_SELECTOR, "td[data-field=amount]").text for r in driver.find_elements(By.CSS_SELECTOR, "#lines tr[data-item]")]
    wanted = [l["amount"] for l in expected["lines"] if l["account"] == account]
    check(amounts == wanted, f"its statement's lines are report's: {len(amounts)} lines")
    said = errors()
    check(said == [], f"no console errors on the account page: {said}")
    shot("account")

    meetings = driver.find_elements(By.CSS_SELECTOR, "#meetings tr[data-meeting] a")
    check(len(meetings) > 0, f"the account's meetings are listed: {len(meetings)}")
    meetings[0].click()
    WebDriverWait(driver, 60).until(lambda d: "/console/meetings/" in d.current_url)
    lanes = driver.find_elements(By.CSS_SELECTOR, "svg.timeline rect.presence")
    check(len(lanes) > 0, f"a meeting's timeline draws each presence: {len(lanes)} bars")
    shaded = driver.find_elements(By.CSS_SELECTOR, "svg.timeline rect.stretch")
    check(len(shaded) > 0, f"and shades its stretches by whether and why they are billed: {len(shaded)}")
    rows = driver.find_elements(By.CSS_SELECTOR, "#presence tr[data-user]")
    check(len(rows) == len(lanes), "each presence with the records behind it")
    said = errors()
    check(said == [], f"no console errors on the meeting page: {said}")
    # Some meeting of the account shows live collaboration's grace period on its timeline.
    driver.back()
    hrefs = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "#meetings tr[data-meeting] a")]

    def first_meeting_showing(selector):
        """The first of the account's meetings whose page has an element matching `selector`."""
        for href in hrefs:
            driver.get(href)
            if driver.find_elements(By.CSS_SELECTOR, selector):
                return href
        return None

    graced = first_meeting_showing("svg.timeline rect.stretch.grace")
    check(graced is not None, f"a meeting's timeline shows the grace period after the last moderator left ({len(hrefs)} meetings looked at)")
    paused = first_meeting_showing("svg.timeline rect.stretch.background-pause")
    check(paused is not None, "a meeting's timeline shows the whiteboard paused while a client was in the background")
    driver.get(graced)
    shot("meeting")
    marks = driver.find_elements(By.CSS_SELECTOR, "svg.timeline a circle.mark")
    check(len(marks) > 0, f"the records are marks on the timeline: {len(marks)}")
    record = marks[0].get_attribute("data-record")
    driver.execute_script("arguments[0].closest('a').dispatchEvent(new MouseEvent('click', {bubbles: true}))", marks[0])
    WebDriverWait(driver, 60).until(lambda d: "/records/" in d.current_url)
    shown_id = driver.find_element(By.CSS_SELECTOR, "#record tr[data-field=id] td").text
    check(shown_id == record, f"a mark opens its record: {shown_id}")
    check(record in driver.find_element(By.CSS_SELECTOR, "pre.line").text, "with the line as it was sent")
    said = errors()
    check(said == [], f"no console errors on the meeting and record pages: {said}")
    shot("record")

    driver.get(base + f"/console/recordings?period={period}")
    recs = driver.find_elements(By.CSS_SELECTOR, "#recordings tr[data-recording]")
    check(len(recs) > 0, f"the operator sees the period's recordings: {len(recs)}")

    driver.get(base + f"/console/hosts?period={period}")
    hosts = driver.find_elements(By.CSS_SELECTOR, "#hosts tr[data-host]")
    check(len(hosts) > 0, "the operator sees the hosts")
    states = {h.get_attribute("data-state") for h in hosts}
    check(states <= {"current", "catching-up", "silent", "no-heartbeat"} and states, f"each with its state: {states}")
    shot("hosts")

    driver.set_window_size(390, 844)
    driver.get(base + f"/console/?period={period}")
    wide = driver.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")
    check(not wide, "on a phone-sized screen the page does not scroll sideways")
    shot("accounts-phone")
    driver.set_window_size(1280, 900)

    button = driver.find_element(By.CSS_SELECTOR, "header form button")
    button.click()
    WebDriverWait(driver, 60).until(EC.staleness_of(button))
    driver.get(base + "/console/")
    check(driver.current_url.endswith("/console/login"), "signing out forgets the token")

    sign_in(account_token)
    driver.get(base + f"/console/?period={period}")
    listed = [r.get_attribute("data-account") for r in driver.find_elements(By.CSS_SELECTOR, "#accounts tr[data-account]")]
    check(listed == [account], f"an account token sees its own account only: {listed}")
    for other in [a for a in dues if a != account]:
        driver.get(base + f"/console/accounts/{other}?period={period}")
        check("Not found" in driver.find_element(By.TAG_NAME, "h1").text, f"and not {other}'s page")
    driver.get(base + "/console/hosts")
    check("Not found" in driver.find_element(By.TAG_NAME, "h1").text, "nor the hosts")
    driver.get(base + f"/console/recordings?period={period}")
    owners = {r.find_elements(By.TAG_NAME, "td")[2].text for r in driver.find_elements(By.CSS_SELECTOR, "#recordings tr[data-recording]")}
    check(owners == {account}, f"and only its own recordings: {owners}")
finally:
    driver.quit()
print("all checks passed")
