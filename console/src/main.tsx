// The console: a key pasted once per tab, then the app's pages, routed by the URL's fragment
// (`#/users/…`), so the server serves one file and no path ever carries data to a log.
import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { clientFor, whenKeyRefused, type Failure } from "./api.js";
import { Login } from "./pages/login.js";
import { Users } from "./pages/users.js";
import { UserPage } from "./pages/user.js";
import { Webhooks } from "./pages/webhooks.js";
import { Deliveries } from "./pages/deliveries.js";
import { Keys } from "./pages/keys.js";
import { Allowlist } from "./pages/allowlist.js";
import { Invitations } from "./pages/invitations.js";
import { Networks } from "./pages/networks.js";
import { Import } from "./pages/import.js";
import { forgetSession, loadSession, saveSession, type Session } from "./session.js";
import { Page } from "./ui.js";

const SECTIONS: [string, string][] = [
  ["#/users", "Users"],
  ["#/import", "Import"],
  ["#/webhooks", "Webhooks"],
  ["#/keys", "Keys"],
  ["#/allowlist", "Allowlist"],
  ["#/invitations", "Invitations"],
  ["#/networks", "Networks"],
];

function useHash(): string {
  const [hash, setHash] = useState(location.hash || "#/users");
  useEffect(() => {
    const changed = () => setHash(location.hash || "#/users");
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return hash;
}

function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const [refused, setRefused] = useState<Failure | null>(null);
  const hash = useHash();
  const client = useMemo(() => (session ? clientFor(session) : null), [session]);

  useEffect(() => {
    whenKeyRefused((failure, apiKey) => {
      // Only the key this tab is signed in with: a key refused at sign-in is the form's to
      // report, and a late refusal of an earlier key is no news about the current one.
      if (!apiKey || loadSession()?.apiKey !== apiKey) return;
      forgetSession();
      setSession(null);
      setRefused(failure);
    });
  }, []);

  // A new page: move focus to its heading, so keyboard and screen-reader users start there.
  useEffect(() => {
    document.getElementById("page-title")?.focus();
  }, [hash]);

  if (!session || !client) {
    return (
      <main id="main">
        {refused && (
          <div role="alert" class="notice failure">
            The API refused the key ({refused.code}): it was revoked, or is not a key of this
            API. Paste another.
          </div>
        )}
        <Login
          onSignedIn={(next) => {
            saveSession(next);
            setRefused(null);
            setSession(next);
          }}
        />
      </main>
    );
  }

  const [, section = "users", raw] = hash.split("/");
  let id: string | undefined;
  try {
    id = raw === undefined ? undefined : decodeURIComponent(raw);
  } catch {
    id = undefined;
  }
  const page = (() => {
    switch (section) {
      case "users":
        // Keyed by the user: another user's page starts afresh (its draft, its cursor).
        return id ? <UserPage key={id} client={client} id={id} /> : <Users client={client} />;
      case "import":
        return <Import client={client} />;
      case "webhooks":
        return id ? <Deliveries key={id} client={client} id={id} /> : <Webhooks client={client} />;
      case "keys":
        return <Keys client={client} />;
      case "allowlist":
        return <Allowlist client={client} />;
      case "invitations":
        return <Invitations client={client} />;
      case "networks":
        return <Networks client={client} />;
      default:
        return (
          <Page title="No such page">
            <a href="#/users">Back to users</a>
          </Page>
        );
    }
  })();

  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById("page-title")?.focus(); }}>
        Skip to content
      </a>
      <header>
        <span class="brand">Wallet Users</span>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map(([href, label]) => (
              <li key={href}>
                <a href={href} aria-current={`#/${section}` === href ? "page" : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button
          type="button"
          onClick={() => {
            forgetSession();
            setSession(null);
          }}
        >
          Forget key
        </button>
      </header>
      <main id="main">{page}</main>
    </>
  );
}

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<App />, root);
}
