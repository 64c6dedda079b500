// Pieces every page uses: loading data, showing a failure, statuses in words (colour only
// repeats what the text says), secrets shown once with a copy button.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { Failure } from "./api.js";

export interface Loaded<T> {
  data: T | null;
  failure: Failure | null;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change and on `reload()`; keeps the last data while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [loading, setLoading] = useState(true);
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setLoading(true);
    load().then(
      (value) => {
        if (!current) return;
        setData(value);
        setFailure(null);
        setLoading(false);
      },
      (error: unknown) => {
        if (!current) return;
        setFailure(asFailure(error));
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [...deps, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { data, failure, loading, reload };
}

export function asFailure(error: unknown): Failure {
  return error instanceof Failure ? error : new Failure(0, "console_error", String(error));
}

/** Moves the keyboard focus to the page's heading: where it goes when what held it is gone. */
export function focusPage(): void {
  document.getElementById("page-title")?.focus();
}

/**
 * Runs an action, tracking whether it is under way and how it failed. Its button is disabled
 * while it runs, which drops the focus: once done, the focus goes back to that button, or to
 * the page's heading if it is gone or still disabled. A button that goes later, with a row a
 * reload removes, is the action's to handle: it calls `focusPage()` itself.
 */
export function useAction(): {
  busy: boolean;
  failure: Failure | null;
  run: (action: () => Promise<void>) => Promise<void>;
  clear: () => void;
} {
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Failure | null>(null);
  const run = useCallback(async (action: () => Promise<void>) => {
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    setBusy(true);
    setFailure(null);
    try {
      await action();
    } catch (error) {
      setFailure(asFailure(error));
    } finally {
      setBusy(false);
      // After the render that re-enables the button.
      setTimeout(() => {
        if (document.activeElement && document.activeElement !== document.body) return;
        if (focused?.isConnected && !(focused as HTMLButtonElement).disabled) focused.focus();
        else focusPage();
      }, 0);
    }
  }, []);
  return { busy, failure, run, clear: () => setFailure(null) };
}

export function FailureNotice({ failure }: { failure: Failure | null }) {
  if (!failure) return null;
  return (
    <div class="notice failure" role="alert">
      <strong>{failure.status ? `${failure.status} ${failure.code}` : failure.code}:</strong>{" "}
      {failure.message}
      {failure.details.length > 0 && (
        <ul>
          {failure.details.map((detail) => (
            <li key={detail.field}>
              <code>{detail.field || "body"}</code> {detail.message}
            </li>
          ))}
        </ul>
      )}
      {failure.requestId && <div class="muted">request {failure.requestId}</div>}
    </div>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <div class="notice" role="status">
      {children}
    </div>
  );
}

/** A status as a word beside a dot: the word carries the meaning, the dot only echoes it. */
export function Status({ value }: { value: string }) {
  return (
    <span class={`status status-${value}`}>
      <span class="dot" aria-hidden="true" />
      {value}
    </span>
  );
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setCopied(true);
        } catch {
          setCopied(false);
        }
      }}
    >
      {copied ? "Copied" : label}
    </button>
  );
}

/** A secret the API shows once: the operator must copy it now. */
export function ShownOnce({ title, secret, testId = "secret" }: { title: string; secret: string; testId?: string }) {
  return (
    <div class="notice once" role="status">
      <strong>{title}</strong> — shown once; copy it now, the API will not show it again.
      <div class="secret">
        <code data-testid={testId}>{secret}</code>
        <CopyButton text={secret} label="Copy" />
      </div>
    </div>
  );
}

export function When({ at }: { at: string | null | undefined }) {
  if (!at) return <span class="muted">—</span>;
  return <time dateTime={at}>{at.replace("T", " ").replace(/\.\d+Z$/, "Z")}</time>;
}

export function Loading({ loaded }: { loaded: Loaded<unknown> }) {
  if (loaded.failure) return <FailureNotice failure={loaded.failure} />;
  if (loaded.loading && loaded.data === null) return <p role="status">Loading…</p>;
  return null;
}

export function Page({ title, children }: { title: string; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${title} · Wallet Users console`;
  }, [title]);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        {title}
      </h1>
      {children}
    </section>
  );
}

/** Cursor paging: the cursor of the page shown, and the cursors before it to go back to. */
export function usePages(): {
  cursor: string | undefined;
  restart: () => void;
  pager: (next: string | null) => preact.JSX.Element;
} {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  // A function, not a component: a component made here would be a new one on every render,
  // remounting its buttons and losing the keyboard focus. `aria-disabled`, not `disabled`: a
  // button that reaches the last page keeps the focus it was clicked with.
  const first = cursors.length < 2;
  const pager = (next: string | null) => (
    <div class="toolbar">
      <button type="button" aria-disabled={first} onClick={() => !first && setCursors(cursors.slice(0, -1))}>
        Previous page
      </button>
      <button type="button" aria-disabled={!next} onClick={() => next && setCursors([...cursors, next])}>
        Next page
      </button>
    </div>
  );
  return { cursor: cursors[cursors.length - 1], restart: () => setCursors([undefined]), pager };
}

/** A group of checkboxes: which of `options` are chosen, in the order they were chosen. */
export function Choices<T extends string>({
  legend,
  options,
  chosen,
  onChange,
}: {
  legend: string;
  options: readonly T[];
  chosen: T[];
  onChange: (chosen: T[]) => void;
}) {
  return (
    <fieldset>
      <legend>{legend}</legend>
      {options.map((option) => (
        <label key={option} class="inline">
          <input
            type="checkbox"
            checked={chosen.includes(option)}
            onChange={(e) =>
              onChange(e.currentTarget.checked ? [...chosen, option] : chosen.filter((kept) => kept !== option))
            }
          />{" "}
          {option}
        </label>
      ))}
    </fieldset>
  );
}

/** A labelled `<select>` of plain values. */
export function Select<T extends string>({
  id,
  label,
  options,
  value,
  onChange,
}: {
  id: string;
  label: string;
  options: readonly T[];
  value: T;
  onChange: (value: T) => void;
}) {
  return (
    <>
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value as T)}>
        {options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
    </>
  );
}
