import type { ParleyServer, WebhookWithSecret } from '@parley/client';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError } from './ApiError';

interface Props {
  server: ParleyServer;
  /** From GET /v1/webhooks/event-types; undefined while loading. */
  eventTypes: string[] | undefined;
  onCreated: (w: WebhookWithSecret) => void;
  onCancel: () => void;
}

/**
 * Creates an endpoint: URL, description, the events it gets (all, or picked ones) and, optionally,
 * the bot user it acts for (fixed once created). The server validates.
 */
export function EndpointForm({ server, eventTypes, onCreated, onCancel }: Props) {
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [bot, setBot] = useState('');
  const [all, setAll] = useState(true);
  const [picked, setPicked] = useState<string[]>([]);
  const [enabled, setEnabled] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const first = useRef<HTMLInputElement>(null);

  useEffect(() => first.current?.focus(), []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const desc = description.trim();
      const botUserId = bot.trim();
      onCreated(
        await server.createWebhook({
          url: url.trim(),
          event_types: all ? ['*'] : picked,
          ...(desc ? { description: desc } : {}),
          ...(botUserId ? { bot_user_id: botUserId } : {}),
          enabled,
        }),
      );
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const toggle = (t: string, on: boolean) => setPicked((p) => (on ? [...p, t] : p.filter((x) => x !== t)));

  return (
    <section className="admin-card" aria-labelledby="new-endpoint-title">
      <h2 id="new-endpoint-title">New endpoint</h2>
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor="endpoint-url">URL</label>
          <input
            id="endpoint-url"
            ref={first}
            type="url"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            placeholder="https://example.com/parley-webhooks"
            aria-describedby="endpoint-url-hint"
            required
          />
          <span id="endpoint-url-hint" className="small muted">
            http:// or https://. Private and loopback addresses are refused unless the server allows them (<code>--outbound-allow</code>).
          </span>
        </div>
        <div className="field">
          <label htmlFor="endpoint-description">Description (optional)</label>
          <input id="endpoint-description" value={description} onChange={(e) => setDescription(e.target.value)} maxLength={500} />
        </div>
        <div className="field">
          <label htmlFor="endpoint-bot">Acts for bot (user id, optional)</label>
          <input
            id="endpoint-bot"
            value={bot}
            onChange={(e) => setBot(e.target.value)}
            autoComplete="off"
            spellCheck={false}
            aria-describedby="endpoint-bot-hint"
          />
          <span id="endpoint-bot-hint" className="small muted">
            A bot user of this app (marked when its token is minted with <code>"bot": true</code>). The endpoint then gets only the events of
            the channels the bot is a member of. It cannot be changed later.
          </span>
        </div>
        <fieldset className="event-types">
          <legend>Event types</legend>
          <label className="check">
            <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} /> All events (*)
          </label>
          {eventTypes === undefined && <p className="small muted">Loading event types…</p>}
          <div className="event-type-grid">
            {eventTypes?.map((t) => (
              <label key={t} className="check">
                <input type="checkbox" checked={all || picked.includes(t)} disabled={all} onChange={(e) => toggle(t, e.target.checked)} />{' '}
                <code>{t}</code>
              </label>
            ))}
          </div>
        </fieldset>
        <label className="check">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Enabled
        </label>
        {error !== undefined && <ApiError error={error} action="Could not create the endpoint" />}
        <div className="dialog-actions">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
            Create endpoint
          </button>
        </div>
      </form>
    </section>
  );
}
