import { useState } from "preact/hooks";
import { done, unwrap, type Client, type components } from "../api.js";
import { Choices, FailureNotice, focusPage, Loading, Notice, Page, ShownOnce, Status, When, useAction, useLoad } from "../ui.js";

type EventType = components["schemas"]["WebhookEventType"];
const EVENT_TYPES: EventType[] = [
  "user.created",
  "user.updated",
  "user.deleted",
  "user.disabled",
  "user.enabled",
  "user.wallet_created",
  "user.wallet_failed",
  "user.wallet_signed",
  "user.wallet_key_exported",
  "invitation.accepted",
  "webhook_endpoint.created",
];
/** The API takes at most this many event types per endpoint. */
const MAX_EVENTS = 5;

/** The app's endpoints: register one, rotate its secret, delete it, see its deliveries. */
export function Webhooks({ client }: { client: Client }) {
  const loaded = useLoad(() => unwrap(client.GET("/v1/webhooks")), [client]);
  const [secret, setSecret] = useState<{ title: string; value: string } | null>(null);
  const action = useAction();
  return (
    <Page title="Webhooks">
      {secret && <ShownOnce title={secret.title} secret={secret.value} />}
      <Loading loaded={loaded} />
      {loaded.data && loaded.data.endpoints.length === 0 && <Notice>No endpoints yet.</Notice>}
      {loaded.data && loaded.data.endpoints.length > 0 && (
        <table>
          <caption>Endpoints, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Events</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {loaded.data.endpoints.map((endpoint) => (
              <tr key={endpoint.id}>
                <td>
                  <a href={`#/webhooks/${endpoint.id}`}>{endpoint.url}</a>
                  <div class="muted">
                    <code>{endpoint.id}</code>
                  </div>
                </td>
                <td>{endpoint.events.join(", ")}</td>
                <td>
                  <Status value={endpoint.status} />
                  {endpoint.disabled_reason && <div class="muted">{endpoint.disabled_reason}</div>}
                </td>
                <td>
                  <When at={endpoint.created_at} />
                </td>
                <td class="actions">
                  <a href={`#/webhooks/${endpoint.id}`}>Deliveries</a>
                  <button
                    type="button"
                    disabled={action.busy}
                    onClick={() =>
                      action.run(async () => {
                        const rotated = await unwrap(
                          client.POST("/v1/webhooks/{id}/rotate-secret", { params: { path: { id: endpoint.id } } }),
                        );
                        setSecret({ title: `New signing secret of ${endpoint.url}`, value: rotated.secret });
                      })
                    }
                  >
                    Rotate secret
                  </button>
                  <button
                    type="button"
                    class="danger"
                    disabled={action.busy}
                    onClick={() => {
                      if (!confirm(`Delete the endpoint ${endpoint.url}? Deliveries to it stop.`)) return;
                      void action.run(async () => {
                        await done(client.DELETE("/v1/webhooks/{id}", { params: { path: { id: endpoint.id } } }));
                        focusPage();
                        loaded.reload();
                      });
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <FailureNotice failure={action.failure} />
      <Register
        client={client}
        onRegistered={(url, value) => {
          setSecret({ title: `Signing secret of ${url}`, value });
          loaded.reload();
        }}
      />
    </Page>
  );
}

function Register({ client, onRegistered }: { client: Client; onRegistered: (url: string, secret: string) => void }) {
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<EventType[]>(["user.created", "user.wallet_created"]);
  const action = useAction();
  return (
    <details class="panel">
      <summary>Register an endpoint</summary>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void action.run(async () => {
            const created = await unwrap(client.POST("/v1/webhooks", { body: { url: url.trim(), events } }));
            onRegistered(created.url, created.secret);
            setUrl("");
          });
        }}
      >
        <label for="webhook-url">URL</label>
        <input id="webhook-url" type="url" required value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
        <Choices legend={`Events (at most ${MAX_EVENTS})`} options={EVENT_TYPES} chosen={events} onChange={setEvents} />
        <button type="submit" disabled={action.busy}>
          Register endpoint
        </button>
      </form>
      <FailureNotice failure={action.failure} />
    </details>
  );
}
