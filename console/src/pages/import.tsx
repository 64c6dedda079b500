import { useState } from "preact/hooks";
import { unwrap, type Client, type components } from "../api.js";
import { userHref } from "../format.js";
import { parseRows, type Row } from "../rows.js";
import { FailureNotice, Notice, Page, useAction } from "../ui.js";

type Result = components["schemas"]["ImportItemResult"];
/** The batch route takes at most this many users a request. */
const BATCH = 100;

/** Imports a file of users in batches, with a progress bar and a report per row. */
export function Import({ client }: { client: Client }) {
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [report, setReport] = useState<{ row: number; result: Result }[]>([]);
  const action = useAction();
  const created = report.filter(({ result }) => result.status === 201).length;
  return (
    <Page title="Import users">
      <p>
        A JSON array of users, JSON Lines (one per line), or CSV with a header row (<code>email</code>,{" "}
        <code>external_id</code>, <code>username</code>; other columns become custom metadata). Each row is
        created as <code>POST /v1/users</code> would create it; rows are sent {BATCH} at a time.
      </p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (!file) return;
          void action.run(async () => {
            const text = await file.text();
            const rows = parseRows(file.name, text);
            setReport([]);
            setProgress({ done: 0, total: rows.length });
            const all: { row: number; result: Result }[] = [];
            for (let start = 0; start < rows.length; start += BATCH) {
              const batch: Row[] = rows.slice(start, start + BATCH);
              // The same file's same batch gets the same key: importing it again after a
              // failure replays what was done instead of creating rows twice.
              const key = await batchKey(text, start);
              const answer = await unwrap(
                client.POST("/v1/users/batch", { params: { header: { "Idempotency-Key": key } }, body: { users: batch } }),
              );
              all.push(...answer.results.map((result) => ({ row: start + result.index + 1, result })));
              setReport([...all]);
              setProgress({ done: Math.min(start + BATCH, rows.length), total: rows.length });
            }
          });
        }}
      >
        <label for="import-file">File</label>
        <input
          id="import-file"
          type="file"
          accept=".json,.jsonl,.ndjson,.csv,application/json,text/csv"
          required
          onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
        />
        <button type="submit" disabled={action.busy || !file}>
          Import
        </button>
      </form>
      <FailureNotice failure={action.failure} />
      {progress && (
        <div class="panel">
          <label for="import-progress">
            {progress.done} of {progress.total} rows sent
          </label>
          <progress id="import-progress" max={progress.total || 1} value={progress.done} />
          <Notice>
            {created} created, {report.length - created} refused.
          </Notice>
        </div>
      )}
      {report.length > 0 && (
        <table>
          <caption>Report, one line per row</caption>
          <thead>
            <tr>
              <th scope="col">Row</th>
              <th scope="col">Status</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {report.map(({ row, result }) => (
              <tr key={row}>
                <td>{row}</td>
                <td>{result.status}</td>
                <td>
                  {"user" in result ? (
                    <a href={userHref(result.user.id)}>created {result.user.id}</a>
                  ) : (
                    <>
                      {result.error.code}: {result.error.message}
                      {result.error.details.map((detail) => (
                        <div key={detail.field} class="muted">
                          {detail.field} {detail.message}
                        </div>
                      ))}
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}

/** An idempotency key for the batch starting at row `start` of a file: a digest of both. */
async function batchKey(text: string, start: number): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${start}\n${text}`));
  const hex = Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `import-${hex.slice(0, 40)}`;
}
