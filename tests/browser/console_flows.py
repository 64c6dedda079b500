"""The developer console in a real browser (Debian's chromium, driven by Playwright).

Run by tests/tests/suite/console.rs against a local API it starts on its own table, with the
wallet creator, the event publisher and webhook deliveries running. Every flow goes through
the console's own pages as an operator would; what the console claims is checked against the
API itself. Each page is checked with axe-core (no violation of WCAG 2.1 A/AA or axe's best
practices), no page may break its Content Security Policy, and the JavaScript of the first
load is weighed gzip-compressed. Prints one JSON line of figures; exits non-zero on a failure.

Environment: CONSOLE_BASE (the API's origin), API_KEY (an admin key of the app), CHROMIUM
(the browser), AXE_JS (axe-core's axe.min.js), SCREENSHOTS (a directory for the pages' PNGs).
"""

import gzip
import http.server
import json
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

from playwright.sync_api import expect, sync_playwright

BASE = os.environ["CONSOLE_BASE"]
KEY = os.environ["API_KEY"]
SCREENSHOTS = os.environ["SCREENSHOTS"]
JS_BUDGET = 200 * 1024
WAIT_MS = 30_000


def api(method, path, body=None, key=KEY, headers=None):
    """A call to the API itself, as a backend would make it: (status, parsed body)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


class Receiver:
    """A webhook receiver on loopback that answers 200 and keeps each delivery's id."""

    def __init__(self):
        self.ids = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                owner.ids.append(self.headers.get("webhook-id"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, predicate, what):
        deadline = time.time() + WAIT_MS / 1000
        while time.time() < deadline:
            if predicate(self.ids):
                return
            time.sleep(0.1)
        raise AssertionError(f"the receiver never got {what}: {self.ids}")


class Console:
    def __init__(self, page):
        self.page = page
        self.axe = {}
        self.csp_violations = []
        self.errors = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _console(self, message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.csp_violations.append(message.text)

    def go(self, fragment, heading):
        self.page.goto(f"{BASE}/console#{fragment}")
        self.heading(heading)

    def heading(self, text):
        expect(self.page.get_by_role("heading", level=1)).to_have_text(text, timeout=WAIT_MS)

    def check(self, name, screenshot=False):
        """axe-core on the page as it is now; a screenshot of it if asked."""
        result = self.page.evaluate(
            """async () => {
                const result = await axe.run(document, {
                    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
                });
                return {
                    passes: result.passes.length,
                    violations: result.violations.map((v) => ({
                        id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")),
                    })),
                };
            }"""
        )
        assert not result["violations"], f"axe-core on {name}: {json.dumps(result['violations'], indent=1)}"
        self.axe[name] = {"violations": 0, "rules_passed": result["passes"]}
        if screenshot:
            # A secret shown once is masked: a screenshot goes into the README.
            self.page.screenshot(
                path=os.path.join(SCREENSHOTS, f"{name}.png"),
                full_page=True,
                mask=[self.page.get_by_test_id("secret"), self.page.get_by_test_id("clients")],
            )


def first_load_js(page):
    """Signs nothing in: loads the console and weighs every script it fetched, gzip-compressed."""
    scripts = []
    page.on("response", lambda r: scripts.append(r) if r.request.resource_type == "script" else None)
    page.goto(f"{BASE}/console")
    expect(page.get_by_label("API key", exact=True)).to_be_visible(timeout=WAIT_MS)
    bodies = [r.body() for r in scripts]
    assert bodies, "the first load fetched no script"
    raw = sum(len(b) for b in bodies)
    compressed = sum(len(gzip.compress(b, compresslevel=9)) for b in bodies)
    assert compressed <= JS_BUDGET, f"first load: {compressed} bytes of gzipped JavaScript"
    return {"scripts": len(bodies), "js_bytes": raw, "js_gzip_bytes": compressed}


def sign_in(console, key):
    page = console.page
    page.get_by_label("API key", exact=True).fill(key)
    page.get_by_role("button", name="Sign in").click()


def focus_is_always_visible(page, presses=25):
    """Tabs through the page: every element that takes the focus shows an outline."""
    page.locator("body").click(position={"x": 1, "y": 1})
    seen = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
                const el = document.activeElement;
                if (!el || el === document.body) return null;
                const style = getComputedStyle(el);
                return { tag: el.tagName, text: (el.textContent || el.id || "").trim().slice(0, 40),
                         outline: style.outlineStyle, width: style.outlineWidth };
            }"""
        )
        if focused is None:
            continue
        assert focused["outline"] != "none" and focused["width"] != "0px", f"no visible focus on {focused}"
        seen.append(focused["text"])
    assert len(seen) >= 10, f"only {len(seen)} elements took the focus: {seen}"
    return len(seen)


def events_shown(page, types):
    """The user page's timeline lists each of `types` (the publisher takes a moment)."""
    table = page.get_by_role("table", name="Events, newest first")
    deadline = time.time() + WAIT_MS / 1000
    while time.time() < deadline:
        if table.count() and all(table.get_by_role("cell", name=t, exact=True).count() for t in types):
            return
        page.get_by_role("button", name="Refresh events").click()
        time.sleep(0.3)
    raise AssertionError(f"the timeline never showed {types}")


def run(console, receiver):
    page = console.page
    figures = {}
    page.on("dialog", lambda dialog: dialog.accept())

    figures["first_load"] = first_load_js(page)
    console.check("login")
    sign_in(console, "wusk_0000000000000000_notakey")
    expect(page.get_by_role("alert")).to_contain_text("401", timeout=WAIT_MS)
    sign_in(console, KEY)
    console.heading("Users")
    assert KEY not in page.url
    storage = page.evaluate("() => ({ local: localStorage.length, session: Object.values(sessionStorage) })")
    assert storage["local"] == 0 and KEY in storage["session"], storage
    assert page.context.cookies() == [], page.context.cookies()

    # Create a user and watch its wallet become ready.
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    page.get_by_text("Create a user").click()
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_role("button", name="Create user").click()
    console.heading(email)
    user_id = page.get_by_test_id("user-id").inner_text()
    expect(page.get_by_test_id("wallet-status-ethereum")).to_have_text("ready", timeout=WAIT_MS)
    address = page.get_by_test_id("wallet-address-ethereum").inner_text()
    status, found = api("GET", f"/v1/users/{user_id}")
    assert status == 200 and found["data"]["wallets"][0]["address"] == address, found
    events_shown(page, ["user.created", "user.wallet_created"])
    console.check("user", screenshot=True)

    # Find it by its address (in another hex case: any case finds it).
    console.go("/users", "Users")
    page.get_by_label("Search by", exact=True).select_option("address")
    page.get_by_label("Search for", exact=True).fill(address.lower())
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("table")).to_contain_text(user_id, timeout=WAIT_MS)
    page.get_by_role("button", name="Back to the list").click()
    expect(page.get_by_role("table")).to_contain_text(user_id, timeout=WAIT_MS)

    # Usernames are not unique: a search by one lists every user with it, in any case (and
    # "@" and "+" reach the API intact).
    name = f"@grace+{uuid.uuid4().hex[:8]}"
    namesakes = []
    for username in [name, name.upper(), name + "x"]:
        status, created = api("POST", "/v1/users", {"username": username, "wallets": []})
        assert status == 201, created
        namesakes.append(created["data"]["id"])
    page.get_by_label("Search by", exact=True).select_option("username")
    typed = name[:4].upper() + name[4:]
    page.get_by_label("Search for", exact=True).fill(typed)
    page.get_by_role("button", name="Search").click()
    named = page.get_by_role("table", name=f"Users with username {typed}, newest first")
    expect(named.get_by_role("row")).to_have_count(3, timeout=WAIT_MS)
    rows = named.get_by_role("row").all_inner_texts()
    assert namesakes[1] in rows[1] and namesakes[0] in rows[2], rows
    page.get_by_role("button", name="Show every username").click()
    expect(page.get_by_role("table", name="Users, newest first")).to_contain_text(namesakes[2], timeout=WAIT_MS)
    figures["focusable_checked"] = focus_is_always_visible(page)
    console.check("users", screenshot=True)

    # Edit its metadata while a backend changes it: the console's save is refused, not lost.
    console.go(f"/users/{user_id}", email)
    editor = page.get_by_label(re.compile("^Metadata"))
    editor.fill('{"plan": "pro"}')
    status, _ = api("PATCH", f"/v1/users/{user_id}", {"custom_metadata": {"source": "backend"}})
    assert status == 200, status
    page.get_by_role("button", name="Save metadata").click()
    expect(page.get_by_role("alert")).to_contain_text("Changed by someone else", timeout=WAIT_MS)
    status, current = api("GET", f"/v1/users/{user_id}")
    assert current["data"]["custom_metadata"] == {"source": "backend"}, current
    page.get_by_role("button", name="Reload").click()
    expect(editor).to_have_value(re.compile('"source": "backend"'), timeout=WAIT_MS)
    editor.fill('{"source": "backend", "plan": "pro"}')
    page.get_by_role("button", name="Save metadata").click()
    expect(page.get_by_label(re.compile("^Metadata"))).to_have_value(re.compile('"plan": "pro"'), timeout=WAIT_MS)
    deadline = time.time() + WAIT_MS / 1000
    while True:
        status, current = api("GET", f"/v1/users/{user_id}")
        if current["data"]["custom_metadata"] == {"source": "backend", "plan": "pro"} or time.time() > deadline:
            break
        time.sleep(0.1)
    assert current["data"]["custom_metadata"] == {"source": "backend", "plan": "pro"}, current

    # A draft outlives the user changing under it (a wallet added, then ready: two versions):
    # kept as typed, and its save refused rather than written over the change.
    editor.fill('{"source": "backend", "plan": "draft"}')
    page.get_by_role("button", name="Add solana wallet").click()
    expect(page.get_by_test_id("wallet-status-solana")).to_have_text("ready", timeout=WAIT_MS)
    expect(editor).to_have_value('{"source": "backend", "plan": "draft"}')
    page.get_by_role("button", name="Save metadata").click()
    expect(page.get_by_role("alert")).to_contain_text("Changed by someone else", timeout=WAIT_MS)
    status, current = api("GET", f"/v1/users/{user_id}")
    assert current["data"]["custom_metadata"] == {"source": "backend", "plan": "pro"}, current
    page.get_by_role("button", name="Reload").click()
    expect(editor).to_have_value(re.compile('"plan": "pro"'), timeout=WAIT_MS)

    # Disable it.
    page.get_by_label("Reason (optional)", exact=True).fill("console test")
    page.get_by_role("button", name="Disable user").click()
    expect(page.get_by_role("button", name="Enable user")).to_be_visible(timeout=WAIT_MS)
    status, current = api("GET", f"/v1/users/{user_id}")
    assert current["data"]["status"] == "disabled" and current["data"]["disabled_reason"] == "console test", current
    events_shown(page, ["user.disabled", "user.updated"])

    # Delete it, and restore it: refused while another user holds its email, then back as it
    # was, with the same wallet.
    page.get_by_role("button", name="Delete user").click()
    console.heading("User deleted")
    assert api("GET", f"/v1/users/{user_id}")[0] == 404
    status, usurper = api("POST", "/v1/users", {"email": email, "wallets": []})
    assert status == 201, usurper
    page.get_by_role("button", name="Restore user").click()
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("409 conflict", timeout=WAIT_MS)
    expect(refusal).to_contain_text("email")
    assert api("GET", f"/v1/users/{user_id}")[0] == 404
    assert api("DELETE", f"/v1/users/{usurper['data']['id']}")[0] == 204
    page.get_by_role("button", name="Restore user").click()
    console.heading(email)
    expect(page.get_by_test_id("wallet-address-ethereum")).to_have_text(address, timeout=WAIT_MS)
    status, back = api("GET", f"/v1/users/{user_id}")
    assert status == 200 and back["data"]["wallets"][0]["address"] == address, back
    assert back["data"]["status"] == "disabled" and back["data"]["custom_metadata"]["plan"] == "pro", back

    # Register a webhook endpoint, see a delivery, redeliver it.
    console.go("/webhooks", "Webhooks")
    page.get_by_text("Register an endpoint").click()
    page.get_by_label("URL", exact=True).fill(receiver.url)
    page.get_by_role("button", name="Register endpoint").click()
    expect(page.get_by_test_id("secret")).to_have_text(re.compile("^whsec_"), timeout=WAIT_MS)
    expect(page.get_by_role("table")).to_contain_text(receiver.url, timeout=WAIT_MS)
    console.check("webhooks", screenshot=True)
    grace = f"grace-{uuid.uuid4().hex[:8]}@example.com"
    status, created = api("POST", "/v1/users", {"email": grace, "wallets": []})
    assert status == 201, created
    receiver.wait_for(lambda ids: len(ids) >= 1, "the user.created delivery")
    event_id = receiver.ids[0]
    page.get_by_role("link", name="Deliveries").first.click()
    console.heading("Deliveries")
    row = page.get_by_role("row").filter(has_text=event_id)
    deadline = time.time() + WAIT_MS / 1000
    while row.count() == 0 and time.time() < deadline:
        page.get_by_role("button", name="Refresh").click()
        time.sleep(0.3)
    expect(row.first).to_contain_text("delivered")
    expect(row.first).to_contain_text("200")
    row.first.get_by_role("button", name=re.compile("^Redeliver")).click()
    expect(page.get_by_role("status").filter(has_text="queued for redelivery")).to_be_visible(timeout=WAIT_MS)
    # A redelivery is a new message of the same event: its webhook-id extends the event's.
    receiver.wait_for(lambda ids: sum(i.startswith(event_id) for i in ids) >= 2, "the redelivery")
    deadline = time.time() + WAIT_MS / 1000
    while row.count() < 2 and time.time() < deadline:
        page.get_by_role("button", name="Refresh").click()
        time.sleep(0.3)
    assert row.count() >= 2, f"the redelivery's attempt is not listed: {row.count()}"
    console.check("deliveries", screenshot=True)

    # From one user's page to another's: nothing of the first (a metadata draft) stays.
    console.go(f"/users/{user_id}", email)
    page.get_by_label(re.compile("^Metadata")).fill('{"draft": true}')
    page.goto(f"{BASE}/console#/users/{created['data']['id']}")
    console.heading(grace)
    expect(page.get_by_label(re.compile("^Metadata"))).to_have_value("{}")

    # Allowlist, invitations, networks.
    console.go("/allowlist", "Allowlist")
    page.get_by_label("Type", exact=True).select_option("email_domain")
    page.get_by_label("Value", exact=True).fill("example.org")
    page.get_by_role("button", name="Add entry").click()
    expect(page.get_by_role("table")).to_contain_text("example.org", timeout=WAIT_MS)
    console.check("allowlist")
    page.get_by_role("button", name="Remove example.org").click()
    expect(page.get_by_text("No entries.")).to_be_visible(timeout=WAIT_MS)
    # The button went with its row: the focus went to the page's heading, not to nowhere.
    assert page.evaluate("() => document.activeElement.id") == "page-title"
    status, entries = api("GET", "/v1/allowlist")
    assert entries["data"]["entries"] == [], entries

    console.go("/invitations", "Invitations")
    page.get_by_label("Identifier", exact=True).fill("lin@example.com")
    page.get_by_label("Campaign (optional)", exact=True).fill("console")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("table")).to_contain_text("lin@example.com", timeout=WAIT_MS)
    console.check("invitations")
    page.get_by_role("button", name=re.compile("^Revoke")).click()
    expect(page.get_by_role("table")).to_contain_text("revoked", timeout=WAIT_MS)
    assert page.evaluate("() => document.activeElement.id") == "page-title"

    console.go("/networks", "App networks")
    page.get_by_text("Add a network").click()
    page.get_by_label("Chain id", exact=True).fill("11155111")
    page.get_by_label("Name", exact=True).fill("Sepolia")
    page.get_by_label(re.compile("^Explorer URL")).fill("https://sepolia.etherscan.io/address/{address}")
    page.get_by_role("button", name="Add network").click()
    expect(page.get_by_role("table")).to_contain_text("Sepolia", timeout=WAIT_MS)
    status, settings = api("GET", "/v1/app/settings")
    assert any(n.get("chain_id") == 11155111 for n in settings["data"]["networks"]), settings
    console.check("networks")

    # Import a CSV: one row created, one refused as a duplicate of the first, each reported.
    console.go("/import", "Import users")
    duplicate = f"imp-{uuid.uuid4().hex[:8]}@example.com"
    csv = f"email,plan\n{duplicate},gold\n{duplicate},silver\n".encode()
    page.get_by_label("File", exact=True).set_input_files({"name": "users.csv", "mimeType": "text/csv", "buffer": csv})
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("2 of 2 rows sent")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_role("status").filter(has_text="1 created, 1 refused")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("conflict")
    status, found = api("POST", "/v1/users/lookup", {"email": duplicate})
    assert status == 200 and found["data"]["custom_metadata"] == {"plan": "gold"}, found
    console.check("import")
    # The same file again: each batch carries the key of its rows, so the API replays it.
    before = api("GET", "/v1/users?limit=100")[1]["data"]["users"]
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status").filter(has_text="1 created, 1 refused")).to_be_visible(timeout=WAIT_MS)
    after = api("GET", "/v1/users?limit=100")[1]["data"]["users"]
    assert [u["id"] for u in after] == [u["id"] for u in before], "importing the file again created users"

    # Keys: issue one (shown once; it works, within its scopes), revoke it, then revoke the
    # console's own key and see the console refuse it.
    console.go("/keys", "API keys")
    expect(page.get_by_role("table")).to_contain_text("this console's key", timeout=WAIT_MS)
    page.get_by_text("Issue a key").click()
    page.get_by_role("button", name="Issue key").click()
    secret = page.get_by_test_id("secret")
    expect(secret).to_have_text(re.compile("^wusk_"), timeout=WAIT_MS)
    issued = secret.inner_text()
    # The dialects' credentials are shown with it, once: the API cannot show them again.
    clients = json.loads(page.get_by_test_id("clients").inner_text())
    assert clients["original"]["api_key"] and clients["original"]["api_secret"], clients
    assert api("GET", "/v1/users?limit=1", key=issued)[0] == 200
    assert api("GET", "/v1/keys", key=issued)[0] == 403
    console.check("keys", screenshot=True)
    issued_id = issued.split("_")[1]
    page.get_by_role("button", name=f"Revoke key {issued_id}").click()
    expect(page.get_by_role("row").filter(has_text=issued_id)).to_contain_text("revoked", timeout=WAIT_MS)
    assert api("GET", "/v1/users?limit=1", key=issued)[0] == 401
    own_id = KEY.split("_")[1]
    page.get_by_role("button", name=f"Revoke key {own_id}").click()
    expect(page.get_by_role("alert")).to_contain_text("The API refused the key", timeout=WAIT_MS)
    assert page.evaluate("() => sessionStorage.length") == 0
    sign_in(console, KEY)
    expect(page.get_by_role("alert").filter(has_text="401 unauthorized")).to_be_visible(timeout=WAIT_MS)
    console.heading("Sign in with an API key")
    console.check("refused")

    assert not console.csp_violations, console.csp_violations
    assert not console.errors, console.errors
    figures["axe"] = console.axe
    return figures


def main():
    os.makedirs(SCREENSHOTS, exist_ok=True)
    receiver = Receiver()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ["CHROMIUM"], args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        # Before any page script, in every page: not subject to the page's CSP, as a tag would be.
        context.add_init_script(path=os.environ["AXE_JS"])
        page = context.new_page()
        try:
            figures = run(Console(page), receiver)
        except BaseException:
            page.screenshot(path=os.path.join(SCREENSHOTS, "failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    sys.exit(main())
