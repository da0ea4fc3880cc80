import type { ParleyServer, WebhookDelivery } from '@parley/client';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './ApiError';

const PAGE_SIZE = 20;
/**
 * While a delivery on the newest page is pending, that page is fetched again: after 1 s at first,
 * then 1.5 times later each time up to 30 s (a failing endpoint stays pending for hours of retries).
 */
const POLL_FIRST_MS = 1000;
const POLL_MAX_MS = 30_000;

interface Props {
  server: ParleyServer;
  endpointId: string;
  /** Changes when the caller knows of a new delivery (e.g. a test event): the newest page is fetched again. */
  refresh: number;
}

/** Newest first (ids grow); keeps fetched rows by id, so refreshing the first page and paging back never shows one twice. */
function merge(have: WebhookDelivery[], got: WebhookDelivery[]): WebhookDelivery[] {
  const byId = new Map(have.map((d) => [d.id, d]));
  for (const d of got) byId.set(d.id, d);
  return [...byId.values()].sort((a, b) => b.id - a.id);
}

/** An endpoint's delivery log (GET /v1/webhooks/{id}/deliveries), paged with the server's cursor. */
export function DeliveryLog({ server, endpointId, refresh }: Props) {
  const [items, setItems] = useState<WebhookDelivery[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const pagedBack = useRef(false);
  const pollMs = useRef(POLL_FIRST_MS);

  const loadNewest = useCallback(async () => {
    try {
      const page = await server.listWebhookDeliveries(endpointId, { limit: PAGE_SIZE });
      setItems((have) => merge(have, page.items));
      // Once older pages are loaded, their cursor (past the oldest row) is the one to keep.
      if (!pagedBack.current) setCursor(page.next_cursor);
      setError(undefined);
    } catch (err) {
      setError(err);
    } finally {
      setLoaded(true);
    }
  }, [server, endpointId]);

  useEffect(() => {
    pollMs.current = POLL_FIRST_MS;
    void loadNewest();
  }, [loadNewest, refresh]);

  const pending = items.some((d) => d.state === 'pending');
  useEffect(() => {
    if (!pending || error !== undefined) return;
    const t = setTimeout(() => void loadNewest(), pollMs.current);
    pollMs.current = Math.min(pollMs.current * 1.5, POLL_MAX_MS);
    return () => clearTimeout(t);
  }, [pending, items, error, loadNewest]);

  async function loadOlder() {
    if (!cursor) return;
    setBusy(true);
    try {
      const page = await server.listWebhookDeliveries(endpointId, { limit: PAGE_SIZE, cursor });
      pagedBack.current = true;
      setItems((have) => merge(have, page.items));
      setCursor(page.next_cursor);
      setError(undefined);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="deliveries" aria-labelledby="deliveries-title">
      <div className="section-head">
        <h3 id="deliveries-title">Delivery log</h3>
        <button
          type="button"
          onClick={() => {
            pollMs.current = POLL_FIRST_MS;
            void loadNewest();
          }}
        >
          Refresh
        </button>
      </div>
      {error !== undefined && <ApiError error={error} action="Could not load the delivery log" />}
      {!loaded && <p className="muted">Loading deliveries…</p>}
      {loaded && items.length === 0 && error === undefined && <p className="muted">No deliveries yet. Send a test event to see one.</p>}
      {items.length > 0 && (
        <div className="table-scroll">
          <table className="delivery-table" aria-labelledby="deliveries-title">
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">State</th>
                <th scope="col">Attempts</th>
                <th scope="col">HTTP status</th>
                <th scope="col">Latency</th>
                <th scope="col">Times</th>
              </tr>
            </thead>
            {items.map((d) => (
              // One group per delivery: its figures, then what the endpoint answered (or why not).
              <tbody key={d.id} data-message-id={d.message_id} data-state={d.state}>
                <tr>
                  <td className="event">
                    <code>{d.event_type}</code>
                    <div className="small muted mono">{d.message_id}</div>
                  </td>
                  <td>
                    <span className={`pill state-${d.state}`}>{d.state}</span>
                  </td>
                  <td className="num">{d.attempts}</td>
                  <td className="num">{d.status_code ?? '—'}</td>
                  <td className="num">{d.latency_ms === null ? '—' : `${d.latency_ms} ms`}</td>
                  <td className="times">
                    <span className="muted">created</span> <Time at={d.created_at} />
                    <br />
                    <span className="muted">last change</span> <Time at={d.updated_at} />
                  </td>
                </tr>
                <tr className="outcome-row">
                  <td colSpan={6} className="outcome">
                    {d.error && (
                      <p className="error">
                        <span className="outcome-label">Error</span> {d.error}
                      </p>
                    )}
                    {d.response_excerpt && (
                      <div className="response">
                        <span className="outcome-label">Response</span>
                        <pre className="excerpt">{d.response_excerpt}</pre>
                      </div>
                    )}
                    {!d.error && !d.response_excerpt && <span className="muted">{d.state === 'pending' ? 'Not answered yet.' : 'No answer body.'}</span>}
                  </td>
                </tr>
              </tbody>
            ))}
          </table>
        </div>
      )}
      {cursor && (
        <p>
          <button type="button" onClick={() => void loadOlder()} disabled={busy} aria-busy={busy}>
            Load older deliveries
          </button>
        </p>
      )}
    </section>
  );
}

function Time({ at }: { at: string }) {
  return <time dateTime={at}>{new Date(at).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' })}</time>;
}
