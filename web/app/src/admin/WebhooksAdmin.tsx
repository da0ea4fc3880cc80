import type { ParleyServer, Webhook, WebhookWithSecret } from '@parley/client';
import { useCallback, useEffect, useState } from 'react';
import { ApiError } from './ApiError';
import { EndpointDetail } from './EndpointDetail';
import { EndpointForm } from './EndpointForm';
import { SecretNotice } from './SecretNotice';

/** A secret just answered by create or rotate, shown with its endpoint until dismissed. */
interface FreshSecret {
  endpointId: string;
  secret: string;
  rotated: boolean;
  previousUntil: string | null;
}

/** The app's webhook endpoints: a list to pick from, a form for a new one, the picked one's details and log. */
export function WebhooksAdmin({ server, apiKey }: { server: ParleyServer; apiKey: string }) {
  const [endpoints, setEndpoints] = useState<Webhook[]>();
  const [eventTypes, setEventTypes] = useState<string[]>();
  const [error, setError] = useState<{ action: string; error: unknown }>();
  const [selected, setSelected] = useState<string | 'new'>();
  const [fresh, setFresh] = useState<FreshSecret>();
  const [notice, setNotice] = useState<string>();

  const reload = useCallback(async () => {
    try {
      const list = await server.listWebhooks();
      setEndpoints(list);
      setSelected((s) => s ?? list[0]?.id);
      setError(undefined);
    } catch (err) {
      setError({ action: 'Could not load the endpoints', error: err });
    }
  }, [server]);

  useEffect(() => {
    void reload();
    server.listWebhookEventTypes().then(setEventTypes, (err) => setError({ action: 'Could not load the event types', error: err }));
  }, [server, reload]);

  const upsert = (w: Webhook) => setEndpoints((list = []) => (list.some((x) => x.id === w.id) ? list.map((x) => (x.id === w.id ? w : x)) : [...list, w]));

  function pick(id: string | 'new') {
    setSelected(id);
    setNotice(undefined);
    if (fresh && fresh.endpointId !== id) setFresh(undefined); // a secret is shown once
  }

  function withSecret(w: WebhookWithSecret, rotated: boolean) {
    const { secret, ...endpoint } = w;
    upsert(endpoint);
    setSelected(w.id);
    setFresh({ endpointId: w.id, secret, rotated, previousUntil: w.previous_secret_expires_at });
  }

  const current = endpoints?.find((w) => w.id === selected);

  return (
    <div className="admin-webhooks">
      <section className="admin-list" aria-labelledby="endpoints-title">
        <div className="section-head">
          <h2 id="endpoints-title">Webhook endpoints</h2>
          <button type="button" onClick={() => pick('new')} aria-pressed={selected === 'new'}>
            New endpoint
          </button>
        </div>
        <p className="small muted">
          App key <code>{apiKey}</code>
        </p>
        <p className="action-status" role="status">
          {notice}
        </p>
        {error && <ApiError error={error.error} action={error.action} />}
        {!endpoints && !error && <p className="muted">Loading endpoints…</p>}
        {endpoints?.length === 0 && <p className="muted">No endpoints yet.</p>}
        <ul className="endpoint-list" aria-label="Endpoints">
          {endpoints?.map((w) => (
            <li key={w.id}>
              <button type="button" className="endpoint-link" aria-current={w.id === selected ? 'true' : undefined} onClick={() => pick(w.id)}>
                <span className="endpoint-url">{w.url}</span>
                <span className={`pill ${w.enabled ? 'state-succeeded' : 'state-failed'}`}>{w.enabled ? 'Enabled' : 'Disabled'}</span>
                {w.bot_user_id && <span className="small muted endpoint-bot">for bot {w.bot_user_id}</span>}
                {w.description && <span className="small muted endpoint-description">{w.description}</span>}
              </button>
            </li>
          ))}
        </ul>
      </section>
      <div className="admin-detail">
        {selected === 'new' ? (
          <EndpointForm server={server} eventTypes={eventTypes} onCreated={(w) => withSecret(w, false)} onCancel={() => pick(endpoints?.[0]?.id ?? 'new')} />
        ) : current ? (
          <>
            {fresh?.endpointId === current.id && (
              <SecretNotice secret={fresh.secret} rotated={fresh.rotated} previousUntil={fresh.previousUntil} onDismiss={() => setFresh(undefined)} />
            )}
            <EndpointDetail
              key={current.id}
              server={server}
              endpoint={current}
              onChanged={upsert}
              onRotated={(w) => withSecret(w, true)}
              onDeleted={(id) => {
                setFresh(undefined);
                setNotice(`Deleted the endpoint ${current.url}.`);
                setEndpoints((list = []) => list.filter((x) => x.id !== id));
                setSelected(endpoints?.find((x) => x.id !== id)?.id);
              }}
            />
          </>
        ) : (
          endpoints && <p className="muted admin-empty">{endpoints.length ? 'Pick an endpoint.' : 'Create an endpoint to get the app’s events.'}</p>
        )}
      </div>
    </div>
  );
}
