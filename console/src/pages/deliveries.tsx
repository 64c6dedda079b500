import { useState } from "preact/hooks";
import { unwrap, type Client } from "../api.js";
import { FailureNotice, Loading, Notice, Page, Status, When, useAction, useLoad } from "../ui.js";

/** One endpoint's delivery attempts, newest first; any event can be sent to it again. */
export function Deliveries({ client, id }: { client: Client; id: string }) {
  const loaded = useLoad(
    () => unwrap(client.GET("/v1/webhooks/{id}/deliveries", { params: { path: { id }, query: { limit: 50 } } })),
    [client, id],
  );
  const [queued, setQueued] = useState<string | null>(null);
  const action = useAction();
  return (
    <Page title="Deliveries">
      <p>
        Endpoint <code>{id}</code> · <a href="#/webhooks">all endpoints</a>
      </p>
      <button type="button" onClick={loaded.reload}>
        Refresh
      </button>
      {queued && <Notice>Event {queued} queued for redelivery to this endpoint.</Notice>}
      <FailureNotice failure={action.failure} />
      <Loading loaded={loaded} />
      {loaded.data && loaded.data.deliveries.length === 0 && <Notice>No delivery attempts yet.</Notice>}
      {loaded.data && loaded.data.deliveries.length > 0 && (
        <table>
          <caption>Delivery attempts, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Attempt</th>
              <th scope="col">At</th>
              <th scope="col">Outcome</th>
              <th scope="col">Response</th>
              <th scope="col">Duration</th>
              <th scope="col">Next retry</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {loaded.data.deliveries.map((attempt) => (
              <tr key={`${attempt.event_id}-${attempt.attempted_at}-${attempt.attempt}`}>
                <td>
                  {attempt.event_type}
                  <div class="muted">
                    <code>{attempt.event_id}</code>
                  </div>
                </td>
                <td>{attempt.attempt}</td>
                <td>
                  <When at={attempt.attempted_at} />
                </td>
                <td>
                  <Status value={attempt.outcome} />
                </td>
                <td>{attempt.status_code ?? attempt.error}</td>
                <td>{attempt.duration_ms} ms</td>
                <td>
                  <When at={attempt.next_retry_at} />
                </td>
                <td>
                  <button
                    type="button"
                    disabled={action.busy}
                    onClick={() =>
                      action.run(async () => {
                        await unwrap(
                          client.POST("/v1/events/{id}/redeliver", {
                            params: { path: { id: attempt.event_id } },
                            body: { endpoint_id: id },
                          }),
                        );
                        setQueued(attempt.event_id);
                      })
                    }
                  >
                    Redeliver<span class="visually-hidden"> {attempt.event_id}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}
