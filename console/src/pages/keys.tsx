import { useState } from "preact/hooks";
import { done, ownKeyRevoked, unwrap, type Client, type components } from "../api.js";
import { Choices, FailureNotice, focusPage, Loading, Page, ShownOnce, Status, When, useAction, useLoad } from "../ui.js";

type Scope = components["schemas"]["Scope"];
const SCOPES: Scope[] = ["users:read", "users:write", "wallets:sign", "webhooks", "admin"];

/** The app's keys: their scopes and use; issue one (shown once), revoke one. */
export function Keys({ client }: { client: Client }) {
  const loaded = useLoad(() => unwrap(client.GET("/v1/keys")), [client]);
  const [issued, setIssued] = useState<{ key: string; clients: string } | null>(null);
  const [scopes, setScopes] = useState<Scope[]>(["users:read", "users:write"]);
  const action = useAction();
  return (
    <Page title="API keys">
      {issued && <ShownOnce title="New API key" secret={issued.key} />}
      {issued && (
        <ShownOnce
          title="Its credentials for Original's, Privy's, OST's and the find-or-create clients"
          secret={issued.clients}
          testId="clients"
        />
      )}
      <Loading loaded={loaded} />
      {loaded.data && (
        <table>
          <caption>Keys, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Scopes</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {loaded.data.keys.map((key) => (
              <tr key={key.key_id}>
                <td>
                  <code>{key.key_id}</code>
                  {key.current && <div class="muted">this console's key</div>}
                </td>
                <td>{key.scopes.join(", ")}</td>
                <td>
                  <Status value={key.revoked_at ? "revoked" : "live"} />
                  {key.revoked_at && (
                    <div class="muted">
                      <When at={key.revoked_at} />
                    </div>
                  )}
                </td>
                <td>
                  <When at={key.created_at} />
                </td>
                <td>
                  <When at={key.last_used_at} />
                </td>
                <td>
                  {!key.revoked_at && (
                    <button
                      type="button"
                      class="danger"
                      disabled={action.busy}
                      onClick={() => {
                        const warning = key.current ? " This is the key this console uses: it will be signed out." : "";
                        if (!confirm(`Revoke key ${key.key_id}? Requests with it are refused from then on.${warning}`)) return;
                        void action.run(async () => {
                          await done(client.DELETE("/v1/keys/{id}", { params: { path: { id: key.key_id } } }));
                          if (key.current) return ownKeyRevoked();
                          focusPage();
                          loaded.reload();
                        });
                      }}
                    >
                      Revoke<span class="visually-hidden"> key {key.key_id}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <FailureNotice failure={action.failure} />
      <details class="panel">
        <summary>Issue a key</summary>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void action.run(async () => {
              const key = await unwrap(client.POST("/v1/keys", { body: { scopes } }));
              setIssued({ key: key.api_key, clients: JSON.stringify(key.clients) });
              loaded.reload();
            });
          }}
        >
          <Choices legend="Scopes" options={SCOPES} chosen={scopes} onChange={setScopes} />
          <button type="submit" disabled={action.busy}>
            Issue key
          </button>
        </form>
      </details>
    </Page>
  );
}
