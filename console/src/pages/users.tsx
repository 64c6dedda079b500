import { useState } from "preact/hooks";
import { FORM_QUERY, Failure, unwrap, type Client } from "../api.js";
import { CHAINS, identifiersOf, userHref, type Chain, type User } from "../format.js";
import { FailureNotice, Loading, Notice, Page, Status, When, focusPage, useAction, useLoad, usePages, Choices } from "../ui.js";

type Lookup = "email" | "external_id" | "address" | "username";
const LOOKUPS: [Lookup, string][] = [
  ["email", "Email"],
  ["external_id", "External id"],
  ["address", "Wallet address"],
  ["username", "Username"],
];

/** Newest users first, a page at a time (of a status, with a username); a lookup by one
 * identifier; a form to create one. */
export function Users({ client }: { client: Client }) {
  const [status, setStatus] = useState<"" | "active" | "disabled">("");
  // Usernames are not unique: a search by username filters the list instead of finding one.
  const [username, setUsername] = useState<string | null>(null);
  const { cursor, restart, pager } = usePages();
  const [found, setFound] = useState<{ query: string; user: User | null } | null>(null);
  const page = useLoad(
    () =>
      unwrap(
        client.GET("/v1/users", {
          params: {
            query: {
              query: {
                limit: 20,
                ...(cursor ? { cursor } : {}),
                ...(status ? { status } : {}),
                ...(username ? { username } : {}),
              },
            },
          },
          querySerializer: FORM_QUERY,
        }),
      ),
    [client, cursor, status, username],
  );
  const listing = page.data && "users" in page.data ? page.data : null;
  return (
    <Page title="Users">
      <Search
        client={client}
        onFound={setFound}
        onUsername={(name) => {
          setFound(null);
          setUsername(name);
          restart();
        }}
      />
      {found && (
        <div role="status" aria-live="polite">
          {found.user ? (
            <UserTable caption={`Found by ${found.query}`} users={[found.user]} />
          ) : (
            <Notice>No user of this app has {found.query}.</Notice>
          )}
          <button type="button" onClick={() => setFound(null)}>
            Back to the list
          </button>
        </div>
      )}
      {!found && (
        <>
          <div class="toolbar">
            <label for="status-filter">Status</label>
            <select
              id="status-filter"
              value={status}
              onChange={(e) => {
                setStatus(e.currentTarget.value as typeof status);
                restart();
              }}
            >
              <option value="">Any</option>
              <option value="active">Active</option>
              <option value="disabled">Disabled</option>
            </select>
            <button type="button" onClick={page.reload}>
              Refresh
            </button>
            {username && (
              <button
                type="button"
                onClick={() => {
                  setUsername(null);
                  restart();
                  focusPage();
                }}
              >
                Show every username
              </button>
            )}
          </div>
          <Loading loaded={page} />
          {listing && (
            <>
              <UserTable
                caption={username ? `Users with username ${username}, newest first` : "Users, newest first"}
                users={listing.users}
                empty={username ? `No ${status ? `${status} ` : ""}user has username ${username}.` : undefined}
              />
              {pager(listing.next_cursor)}
            </>
          )}
        </>
      )}
      <CreateUser client={client} />
    </Page>
  );
}

function Search({
  client,
  onFound,
  onUsername,
}: {
  client: Client;
  onFound: (found: { query: string; user: User | null }) => void;
  onUsername: (username: string) => void;
}) {
  const [by, setBy] = useState<Lookup>("email");
  const [value, setValue] = useState("");
  const action = useAction();
  return (
    <form
      role="search"
      class="toolbar"
      onSubmit={(event) => {
        event.preventDefault();
        const text = value.trim();
        if (by === "username") {
          onUsername(text);
          return;
        }
        const query = `${LOOKUPS.find(([key]) => key === by)?.[1].toLowerCase()} ${text}`;
        void action.run(async () => {
          try {
            // The lookup reads the identifier from the body, so it stays out of access logs.
            const body = by === "email" ? { email: text } : by === "external_id" ? { external_id: text } : { address: text };
            const user = await unwrap(client.POST("/v1/users/lookup", { body }));
            onFound({ query, user });
          } catch (error) {
            if (error instanceof Failure && error.status === 404) onFound({ query, user: null });
            else throw error;
          }
        });
      }}
    >
      <label for="search-by">Search by</label>
      <select id="search-by" value={by} onChange={(e) => setBy(e.currentTarget.value as Lookup)}>
        {LOOKUPS.map(([key, label]) => (
          <option key={key} value={key}>
            {label}
          </option>
        ))}
      </select>
      <label for="search-value" class="visually-hidden">
        Search for
      </label>
      <input id="search-value" type="search" required value={value} onInput={(e) => setValue(e.currentTarget.value)} />
      <button type="submit" disabled={action.busy}>
        Search
      </button>
      <FailureNotice failure={action.failure} />
    </form>
  );
}

export function UserTable({ caption, users, empty = "No users yet." }: { caption: string; users: User[]; empty?: string }) {
  if (users.length === 0) return <Notice>{empty}</Notice>;
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">User</th>
          <th scope="col">Identifiers</th>
          <th scope="col">Wallets</th>
          <th scope="col">Status</th>
          <th scope="col">Created</th>
        </tr>
      </thead>
      <tbody>
        {users.map((user) => (
          <tr key={user.id}>
            <td>
              <a href={userHref(user.id)}>
                <code>{user.id}</code>
              </a>
            </td>
            <td>
              {identifiersOf(user).map(([name, value]) => (
                <div key={name}>
                  <span class="muted">{name}</span> {value}
                </div>
              ))}
            </td>
            <td>
              {user.wallets.length === 0 && <span class="muted">none</span>}
              {user.wallets.map((wallet) => (
                <div key={wallet.chain_type}>
                  {wallet.chain_type} <Status value={wallet.status} />
                </div>
              ))}
            </td>
            <td>
              <Status value={user.status} />
            </td>
            <td>
              <When at={user.created_at} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function CreateUser({ client }: { client: Client }) {
  const [email, setEmail] = useState("");
  const [externalId, setExternalId] = useState("");
  const [username, setUsername] = useState("");
  const [chains, setChains] = useState<Chain[]>(["ethereum"]);
  const action = useAction();
  return (
    <details class="panel">
      <summary>Create a user</summary>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void action.run(async () => {
            const user = await unwrap(
              client.POST("/v1/users", {
                body: {
                  email: email.trim() || null,
                  external_id: externalId.trim() || null,
                  username: username.trim() || null,
                  wallets: chains.map((chain_type) => ({ chain_type })),
                },
              }),
            );
            location.hash = userHref(user.id);
          });
        }}
      >
        <label for="new-email">Email</label>
        <input id="new-email" type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        <label for="new-external-id">External id</label>
        <input id="new-external-id" value={externalId} onInput={(e) => setExternalId(e.currentTarget.value)} />
        <label for="new-username">Username</label>
        <input id="new-username" value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        <Choices legend="Wallets" options={CHAINS} chosen={chains} onChange={setChains} />
        <button type="submit" disabled={action.busy}>
          Create user
        </button>
      </form>
      <FailureNotice failure={action.failure} />
    </details>
  );
}
