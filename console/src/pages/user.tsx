import { useEffect, useRef, useState } from "preact/hooks";
import { Failure, done, etagOf, unwrap, type Client } from "../api.js";
import { CHAINS, identifiersOf, userHref, type Chain, type User } from "../format.js";
import { mergePatch, nullPath, type Json } from "../merge_patch.js";
import { FailureNotice, Loading, Notice, Page, Status, When, useAction, useLoad, usePages } from "../ui.js";

/** How often a user with a pending wallet is read again. */
const WATCH_MS = 1500;

/** One user: identifiers, wallets (watched until none is pending), metadata, status, invitations. */
export function UserPage({ client, id }: { client: Client; id: string }) {
  const loaded = useLoad(() => unwrap(client.GET("/v1/users/{id}", { params: { path: { id } } })), [client, id]);
  const user = loaded.data;
  // Followed while a wallet is pending, one read at a time, and never after a failed read.
  const watching =
    !loaded.failure && (user?.wallets.some((wallet) => wallet.status === "pending") ?? false);
  useEffect(() => {
    if (!watching || loaded.loading) return;
    const timer = setTimeout(loaded.reload, WATCH_MS);
    return () => clearTimeout(timer);
  }, [watching, user?.version, loaded.loading]);
  const [deleted, setDeleted] = useState(false);
  const restored = () => {
    setDeleted(false);
    loaded.reload();
  };

  if (deleted) {
    return (
      <Page title="User deleted">
        <Notice>
          User <code>{id}</code> was deleted. It can be restored, with its identifiers and wallets,
          within the retention period.
        </Notice>
        <Restore client={client} id={id} onRestored={restored} />
        <a href="#/users">Back to users</a>
      </Page>
    );
  }
  if (loaded.failure instanceof Failure && loaded.failure.status === 404) {
    return (
      <Page title="No such user">
        <Notice>
          No user of this app has id <code>{id}</code>. If it was deleted within the retention period, it
          can be restored.
        </Notice>
        <Restore client={client} id={id} onRestored={restored} />
        <a href="#/users">Back to users</a>
      </Page>
    );
  }
  return (
    <Page title={user ? user.email ?? user.username ?? user.external_id ?? "User" : "User"}>
      <Loading loaded={loaded} />
      {user && (
        <>
          <Profile user={user} />
          <StatusActions client={client} user={user} onChanged={loaded.reload} onDeleted={() => setDeleted(true)} />
          <Wallets client={client} user={user} onChanged={loaded.reload} watching={watching} />
          <Metadata key={user.id} client={client} user={user} onSaved={loaded.reload} />
          <UserInvitations client={client} user={user} />
          <Timeline client={client} user={user} />
        </>
      )}
    </Page>
  );
}

function Profile({ user }: { user: User }) {
  return (
    <dl class="facts">
      <dt>Id</dt>
      <dd>
        <code data-testid="user-id">{user.id}</code>
      </dd>
      {identifiersOf(user).map(([name, value]) => (
        <>
          <dt>{name}</dt>
          <dd>{value}</dd>
        </>
      ))}
      <dt>Status</dt>
      <dd>
        <Status value={user.status} />
        {user.disabled_reason && <> — {user.disabled_reason}</>}
      </dd>
      <dt>Created</dt>
      <dd>
        <When at={user.created_at} />
      </dd>
      <dt>Updated</dt>
      <dd>
        <When at={user.updated_at} /> (version {user.version})
      </dd>
      <dt>Linked accounts</dt>
      <dd>
        {user.linked_accounts.length === 0 && <span class="muted">none</span>}
        <ul class="plain">
          {user.linked_accounts.map((account, index) => (
            <li key={index}>
              <span class="muted">{account.type}</span> {describeAccount(account as Record<string, unknown>)}
            </li>
          ))}
        </ul>
      </dd>
      <dt>Onboarded by</dt>
      <dd>
        {user.onboarding ? (
          <>
            {user.onboarding.invited_by ? (
              <a href={userHref(user.onboarding.invited_by)}>{user.onboarding.invited_by}</a>
            ) : (
              "the app"
            )}
            {user.onboarding.campaign && <> (campaign {user.onboarding.campaign})</>}
          </>
        ) : (
          <span class="muted">not invited</span>
        )}
        {" · "}
        {user.users_onboarded} user{user.users_onboarded === 1 ? "" : "s"} onboarded
      </dd>
    </dl>
  );
}

function describeAccount(account: Record<string, unknown>): string {
  for (const field of ["address", "email", "phone_number", "username", "subject", "fid", "credential_id", "custom_user_id"]) {
    const value = account[field];
    if (typeof value === "string" || typeof value === "number") return String(value);
  }
  return "";
}

function StatusActions({
  client,
  user,
  onChanged,
  onDeleted,
}: {
  client: Client;
  user: User;
  onChanged: () => void;
  onDeleted: () => void;
}) {
  const [reason, setReason] = useState("");
  const action = useAction();
  const path = { params: { path: { id: user.id } } };
  return (
    <div class="panel">
      <h2>Status</h2>
      {user.status === "active" ? (
        <form
          class="toolbar"
          onSubmit={(event) => {
            event.preventDefault();
            void action.run(async () => {
              await unwrap(client.POST("/v1/users/{id}/disable", { ...path, body: { reason: reason.trim() || null } }));
              onChanged();
            });
          }}
        >
          <label for="disable-reason">Reason (optional)</label>
          <input id="disable-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          <button type="submit" disabled={action.busy}>
            Disable user
          </button>
        </form>
      ) : (
        <button
          type="button"
          disabled={action.busy}
          onClick={() =>
            action.run(async () => {
              await unwrap(client.POST("/v1/users/{id}/enable", path));
              onChanged();
            })
          }
        >
          Enable user
        </button>
      )}
      <button
        type="button"
        class="danger"
        disabled={action.busy}
        onClick={() => {
          if (!confirm(`Delete user ${user.id}? It can be restored within the retention period.`)) return;
          void action.run(async () => {
            await done(client.DELETE("/v1/users/{id}", path));
            onDeleted();
          });
        }}
      >
        Delete user
      </button>
      <FailureNotice failure={action.failure} />
    </div>
  );
}

/** Restores a deleted user; a refusal (retention over, an identifier taken since, a user only
 * the admin CLI can restore) is shown as the API words it. */
function Restore({ client, id, onRestored }: { client: Client; id: string; onRestored: () => void }) {
  const action = useAction();
  return (
    <div class="toolbar">
      <button
        type="button"
        disabled={action.busy}
        onClick={() =>
          action.run(async () => {
            await unwrap(client.POST("/v1/users/{id}/restore", { params: { path: { id } } }));
            onRestored();
          })
        }
      >
        Restore user
      </button>
      <FailureNotice failure={action.failure} />
    </div>
  );
}

function Wallets({ client, user, onChanged, watching }: { client: Client; user: User; onChanged: () => void; watching: boolean }) {
  const action = useAction();
  const missing = CHAINS.filter((chain) => !user.wallets.some((wallet) => wallet.chain_type === chain));
  const request = (chain_type: Chain) =>
    action.run(async () => {
      await unwrap(client.POST("/v1/users/{id}/wallets", { params: { path: { id: user.id } }, body: { chain_type } }));
      onChanged();
    });
  return (
    <div class="panel">
      <h2>Wallets</h2>
      {watching && <p role="status">A wallet is being created; this page follows it.</p>}
      {user.wallets.length === 0 ? (
        <Notice>No wallets.</Notice>
      ) : (
        <table>
          <caption>Embedded wallets</caption>
          <thead>
            <tr>
              <th scope="col">Chain</th>
              <th scope="col">Status</th>
              <th scope="col">Address</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last error</th>
              <th scope="col">Explorers</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {user.wallets.map((wallet) => (
              <tr key={wallet.chain_type}>
                <td>{wallet.chain_type}</td>
                <td data-testid={`wallet-status-${wallet.chain_type}`}>
                  <Status value={wallet.status} />
                </td>
                <td>{wallet.address ? <code data-testid={`wallet-address-${wallet.chain_type}`}>{wallet.address}</code> : <span class="muted">not yet</span>}</td>
                <td>{wallet.attempts}</td>
                <td>{wallet.last_error ?? <span class="muted">none</span>}</td>
                <td>
                  {wallet.networks.map((network) => (
                    <div key={network.name}>
                      <a href={network.explorer_url} rel="noopener noreferrer" target="_blank">
                        {network.name}
                        <span class="visually-hidden"> (opens in a new tab)</span>
                      </a>
                    </div>
                  ))}
                </td>
                <td>
                  {wallet.status === "failed" && (
                    <button type="button" disabled={action.busy} onClick={() => request(wallet.chain_type)}>
                      Retry {wallet.chain_type} wallet
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {missing.map((chain) => (
        <button key={chain} type="button" disabled={action.busy || user.status !== "active"} onClick={() => request(chain)}>
          Add {chain} wallet
        </button>
      ))}
      <FailureNotice failure={action.failure} />
    </div>
  );
}

/**
 * The user's metadata as JSON, saved as a merge patch under `If-Match` with the version it was
 * read at. A new version (a wallet became ready, a backend wrote) replaces an untouched editor;
 * an edited one is kept, and its save is refused as changed by someone else: never lost
 * silently, never saved over the other change.
 */
function Metadata({ client, user, onSaved }: { client: Client; user: User; onSaved: () => void }) {
  const shown = (of: User) => JSON.stringify(of.custom_metadata, null, 2);
  // The version the editor's text was read at, and that text as read.
  const [base, setBase] = useState({ user, text: shown(user) });
  const [text, setText] = useState(base.text);
  const [invalid, setInvalid] = useState<string | null>(null);
  const [conflict, setConflict] = useState(false);
  const action = useAction();
  const dirty = text !== base.text;
  // Only a newer version: right after a save the editor holds the saved version while the
  // page's copy of the user is still the one before it.
  if (user.version > base.user.version && !dirty && !conflict) {
    // Set during render: Preact re-renders at once with the new version, before painting.
    setBase({ user, text: shown(user) });
    setText(shown(user));
  }
  // On a conflict the Save button is disabled: the focus goes to the way out, Reload.
  const reloadButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (conflict) reloadButton.current?.focus();
  }, [conflict]);
  const reload = () => {
    setConflict(false);
    setBase({ user, text: shown(user) });
    setText(shown(user));
    onSaved();
  };
  return (
    <div class="panel">
      <h2>Custom metadata</h2>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          let edited: unknown;
          try {
            edited = JSON.parse(text);
          } catch (error) {
            setInvalid(`Not JSON: ${String(error)}`);
            return;
          }
          if (typeof edited !== "object" || edited === null || Array.isArray(edited)) {
            setInvalid("Custom metadata is a JSON object.");
            return;
          }
          const hasNull = nullPath(edited as Json);
          if (hasNull) {
            setInvalid(`Metadata cannot hold null (at ${hasNull}): remove the key instead.`);
            return;
          }
          setInvalid(null);
          const read = base.user;
          const patch = mergePatch(read.custom_metadata as { [key: string]: Json }, edited as { [key: string]: Json });
          void action.run(async () => {
            let saved: User;
            try {
              saved = await unwrap(
                client.PATCH("/v1/users/{id}", {
                  params: { path: { id: read.id }, header: { "If-Match": etagOf(read.version) } },
                  body: { custom_metadata: patch },
                }),
              );
            } catch (error) {
              if (error instanceof Failure && error.status === 412) {
                setConflict(true);
                return;
              }
              throw error;
            }
            setBase({ user: saved, text: shown(saved) });
            setText(shown(saved));
            onSaved();
          });
        }}
      >
        <label for="metadata">Metadata (JSON object) at version {base.user.version}</label>
        <textarea id="metadata" rows={8} spellcheck={false} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        <button type="submit" disabled={action.busy || conflict}>
          Save metadata
        </button>
      </form>
      {invalid && (
        <div class="notice failure" role="alert">
          {invalid}
        </div>
      )}
      {conflict && (
        <div class="notice failure" role="alert">
          Changed by someone else since you loaded it (the user is no longer at version {base.user.version}).{" "}
          <button type="button" ref={reloadButton} onClick={reload}>
            Reload
          </button>{" "}
          to see the current version, then edit again.
        </div>
      )}
      <FailureNotice failure={action.failure} />
    </div>
  );
}

function UserInvitations({ client, user }: { client: Client; user: User }) {
  const loaded = useLoad(
    () => unwrap(client.GET("/v1/users/{id}/invitations", { params: { path: { id: user.id }, query: { limit: 20 } } })),
    [client, user.id],
  );
  return (
    <div class="panel">
      <h2>Invitations this user made</h2>
      <Loading loaded={loaded} />
      {loaded.data && loaded.data.invitations.length === 0 && <p class="muted">None.</p>}
      {loaded.data && loaded.data.invitations.length > 0 && (
        <ul class="plain">
          {loaded.data.invitations.map((invitation) => (
            <li key={invitation.id}>
              {invitation.identifier.type} {invitation.identifier.value} — <Status value={invitation.status} />
              {invitation.invitee && (
                <>
                  {" "}
                  by <a href={userHref(invitation.invitee)}>{invitation.invitee}</a>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The user's events, newest first (kept 30 days), re-read whenever the user changes. */
function Timeline({ client, user }: { client: Client; user: User }) {
  const { cursor, pager } = usePages();
  const loaded = useLoad(
    () =>
      unwrap(
        client.GET("/v1/users/{id}/events", {
          params: { path: { id: user.id }, query: { limit: 20, ...(cursor ? { cursor } : {}) } },
        }),
      ),
    [client, user.id, user.version, cursor],
  );
  return (
    <div class="panel">
      <h2>Events</h2>
      <button type="button" onClick={loaded.reload}>
        Refresh events
      </button>
      <Loading loaded={loaded} />
      {loaded.data && loaded.data.events.length === 0 && <p class="muted">No events yet.</p>}
      {loaded.data && loaded.data.events.length > 0 && (
        <table>
          <caption>Events, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Event</th>
              <th scope="col">Id</th>
            </tr>
          </thead>
          <tbody>
            {loaded.data.events.map((event) => (
              <tr key={event.id}>
                <td>
                  <When at={event.created_at} />
                </td>
                <td>{event.type}</td>
                <td>
                  <code>{event.id}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {loaded.data && pager(loaded.data.next_cursor)}
    </div>
  );
}
