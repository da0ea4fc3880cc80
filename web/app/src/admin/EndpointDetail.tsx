import type { ParleyServer, Webhook, WebhookWithSecret } from '@parley/client';
import { useState } from 'react';
import { ApiError } from './ApiError';
import { DeliveryLog } from './DeliveryLog';

interface Props {
  server: ParleyServer;
  endpoint: Webhook;
  onChanged: (w: Webhook) => void;
  onRotated: (w: WebhookWithSecret) => void;
  onDeleted: (id: string) => void;
}

/** How long the old secret keeps signing after a rotation (the API's overlap_seconds). */
const OVERLAPS: { seconds: number; label: string }[] = [
  { seconds: 0, label: 'no overlap' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '24 hours' },
  { seconds: 604_800, label: '7 days' },
];

/** One endpoint: its settings, the actions on it (test, enable/disable, rotate, delete) and its delivery log. */
export function EndpointDetail({ server, endpoint: w, onChanged, onRotated, onDeleted }: Props) {
  const [busy, setBusy] = useState<string>();
  const [error, setError] = useState<{ action: string; error: unknown }>();
  const [status, setStatus] = useState<string>();
  const [overlap, setOverlap] = useState(86_400);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [refresh, setRefresh] = useState(0);

  async function act(name: string, failure: string, work: () => Promise<string | undefined>) {
    setBusy(name);
    setError(undefined);
    setStatus(undefined);
    try {
      setStatus(await work());
    } catch (err) {
      setError({ action: failure, error: err });
    } finally {
      setBusy(undefined);
    }
  }

  const sendTest = () =>
    act('test', 'Could not send a test event', async () => {
      const d = await server.testWebhook(w.id);
      setRefresh((n) => n + 1);
      return `Test event queued as ${d.message_id}.`;
    });

  const setEnabled = (enabled: boolean) =>
    act('enable', enabled ? 'Could not enable the endpoint' : 'Could not disable the endpoint', async () => {
      onChanged(await server.updateWebhook(w.id, { enabled }));
      return enabled ? 'Endpoint enabled.' : 'Endpoint disabled: it gets no events until enabled again.';
    });

  const rotate = () =>
    act('rotate', 'Could not rotate the secret', async () => {
      onRotated(await server.rotateWebhookSecret(w.id, { overlap_seconds: overlap }));
      return 'Secret rotated.';
    });

  const remove = () =>
    act('delete', 'Could not delete the endpoint', async () => {
      await server.deleteWebhook(w.id);
      onDeleted(w.id);
      return undefined;
    });

  return (
    <section className="admin-card endpoint" aria-labelledby="endpoint-title">
      <h2 id="endpoint-title" className="endpoint-title">
        {w.url}
      </h2>
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <span className={`pill ${w.enabled ? 'state-succeeded' : 'state-failed'}`}>{w.enabled ? 'Enabled' : 'Disabled'}</span>
          {w.disabled_reason && <span> {w.disabled_reason}</span>}
        </dd>
        <dt>Acts for bot</dt>
        <dd>
          {w.bot_user_id ? (
            <>
              <code data-testid="endpoint-bot">{w.bot_user_id}</code> <span className="small muted">gets only the events of this bot’s channels</span>
            </>
          ) : (
            <span className="muted">no bot: gets the events of every channel</span>
          )}
        </dd>
        <dt>Description</dt>
        <dd>{w.description || <span className="muted">none</span>}</dd>
        <dt>Event types</dt>
        <dd>
          {w.event_types.map((t) => (
            <code key={t} className="tag">
              {t === '*' ? '* (all)' : t}
            </code>
          ))}
        </dd>
        <dt>Failed deliveries in a row</dt>
        <dd>{w.failures_in_a_row}</dd>
        {w.previous_secret_expires_at && (
          <>
            <dt>Previous secret signs until</dt>
            <dd>
              <time dateTime={w.previous_secret_expires_at}>{new Date(w.previous_secret_expires_at).toLocaleString()}</time>
            </dd>
          </>
        )}
        <dt>ID</dt>
        <dd className="mono">{w.id}</dd>
        <dt>Created</dt>
        <dd>
          <time dateTime={w.created_at}>{new Date(w.created_at).toLocaleString()}</time>
        </dd>
      </dl>

      <div className="endpoint-actions" role="group" aria-label="Endpoint actions">
        <button type="button" className="primary" onClick={sendTest} disabled={!!busy || !w.enabled} aria-busy={busy === 'test'} aria-describedby={w.enabled ? undefined : 'test-hint'}>
          Send test event
        </button>
        <button type="button" onClick={() => setEnabled(!w.enabled)} disabled={!!busy} aria-busy={busy === 'enable'}>
          {w.enabled ? 'Disable' : 'Enable'}
        </button>
        <span className="rotate">
          <label htmlFor="rotate-overlap">Old secret keeps signing for</label>{' '}
          <select id="rotate-overlap" value={overlap} onChange={(e) => setOverlap(Number(e.target.value))}>
            {OVERLAPS.map((o) => (
              <option key={o.seconds} value={o.seconds}>
                {o.label}
              </option>
            ))}
          </select>{' '}
          <button type="button" onClick={rotate} disabled={!!busy} aria-busy={busy === 'rotate'}>
            Rotate secret
          </button>
        </span>
        <button type="button" className="danger" onClick={() => setConfirmDelete(true)} disabled={!!busy}>
          Delete
        </button>
      </div>
      {!w.enabled && (
        <p id="test-hint" className="small muted">
          Enable the endpoint to send it a test event.
        </p>
      )}
      {confirmDelete && (
        <div className="confirm" role="alertdialog" aria-labelledby="confirm-delete-title" aria-describedby="confirm-delete-text">
          <strong id="confirm-delete-title">Delete this endpoint?</strong>{' '}
          <span id="confirm-delete-text">It and its delivery log are gone for good; queued deliveries fail.</span>
          <button type="button" className="danger" onClick={remove} disabled={!!busy} autoFocus>
            Delete endpoint
          </button>
          <button type="button" onClick={() => setConfirmDelete(false)}>
            Cancel
          </button>
        </div>
      )}
      <p className="action-status" role="status">
        {status}
      </p>
      {error && <ApiError error={error.error} action={error.action} />}

      <DeliveryLog key={w.id} server={server} endpointId={w.id} refresh={refresh} />
    </section>
  );
}
