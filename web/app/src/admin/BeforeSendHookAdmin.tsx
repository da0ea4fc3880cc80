import { isParleyError, type BeforeSendFailurePolicy, type BeforeSendHook, type BeforeSendHookWithSecret, type ParleyServer } from '@parley/client';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiError } from './ApiError';
import { SecretNotice } from './SecretNotice';

/** The API's bounds and default for `timeout_ms` (docs/bots.md, "Before-send hook"). */
const TIMEOUT = { min: 50, max: 5000, default: 500 };

/**
 * The app's before-send hook: what it is (or that there is none), a form to set it, and
 * rotate/remove. Its secret is shown once, after it was created or rotated. A missing hook is the
 * API's 404; any other failure is shown as the API put it.
 */
export function BeforeSendHookAdmin({ server }: { server: ParleyServer }) {
  /** undefined while loading, null when the app has no hook. */
  const [hook, setHook] = useState<BeforeSendHook | null>();
  const [fresh, setFresh] = useState<{ secret: string; rotated: boolean }>();
  const [busy, setBusy] = useState<string>();
  const [error, setError] = useState<{ action: string; error: unknown }>();
  const [status, setStatus] = useState<string>();
  const [confirmRemove, setConfirmRemove] = useState(false);

  const load = useCallback(async () => {
    try {
      setHook(await server.getBeforeSendHook());
    } catch (err) {
      if (isParleyError(err, 'not_found')) setHook(null);
      else setError({ action: 'Could not load the before-send hook', error: err });
    }
  }, [server]);

  useEffect(() => {
    void load();
  }, [load]);

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

  function keep(h: BeforeSendHookWithSecret, showSecret: { rotated: boolean } | undefined) {
    const { secret, ...rest } = h;
    setHook(rest);
    setFresh(showSecret ? { secret, rotated: showSecret.rotated } : undefined);
  }

  const save = (req: { url: string; timeout_ms: number; on_failure: BeforeSendFailurePolicy }) =>
    act('save', hook ? 'Could not change the hook' : 'Could not set the hook', async () => {
      const created = !hook;
      // Only a new hook's secret is news: a change keeps the secret.
      keep(await server.putBeforeSendHook(req), created ? { rotated: false } : undefined);
      return created ? 'Hook set: every message is sent to it before it is stored.' : 'Hook saved.';
    });

  const rotate = () =>
    act('rotate', 'Could not rotate the hook’s secret', async () => {
      keep(await server.rotateBeforeSendHookSecret(), { rotated: true });
      return 'Secret rotated.';
    });

  const remove = () =>
    act('remove', 'Could not remove the hook', async () => {
      await server.deleteBeforeSendHook();
      setHook(null);
      setFresh(undefined);
      setConfirmRemove(false);
      return 'Hook removed: messages are stored as sent.';
    });

  return (
    <section className="admin-card admin-hook" aria-labelledby="hook-title">
      <h2 id="hook-title">Before-send hook</h2>
      <p className="small muted">
        Parley sends every message of the app to this URL before storing it, signed like a webhook; the hook answers allow, reject (with a
        reason the sender sees) or rewrite (the text to store instead).
      </p>
      {fresh && (
        <SecretNotice
          secret={fresh.secret}
          rotated={fresh.rotated}
          name="Hook signing secret"
          checker="the hook"
          onDismiss={() => setFresh(undefined)}
        />
      )}
      {hook === undefined && !error && <p className="muted">Loading the hook…</p>}
      {hook === null && (
        <p className="muted" data-testid="hook-none">
          No before-send hook: messages are stored as sent.
        </p>
      )}
      {hook && <HookFacts hook={hook} />}
      {hook !== undefined && <HookForm key={hook?.updated_at ?? 'new'} hook={hook} busy={busy === 'save'} onSave={save} />}
      {hook && (
        <div className="endpoint-actions" role="group" aria-label="Hook actions">
          <button type="button" onClick={rotate} disabled={!!busy} aria-busy={busy === 'rotate'}>
            Rotate hook secret
          </button>
          <button type="button" className="danger" onClick={() => setConfirmRemove(true)} disabled={!!busy}>
            Remove hook
          </button>
        </div>
      )}
      {hook && confirmRemove && (
        <div className="confirm" role="alertdialog" aria-labelledby="confirm-remove-title" aria-describedby="confirm-remove-text">
          <strong id="confirm-remove-title">Remove the before-send hook?</strong>{' '}
          <span id="confirm-remove-text">Messages are then stored as sent, judged by nobody.</span>
          <button type="button" className="danger" onClick={remove} disabled={!!busy} autoFocus>
            Remove
          </button>
          <button type="button" onClick={() => setConfirmRemove(false)}>
            Cancel
          </button>
        </div>
      )}
      <p className="action-status" role="status">
        {status}
      </p>
      {error && <ApiError error={error.error} action={error.action} />}
    </section>
  );
}

function HookFacts({ hook }: { hook: BeforeSendHook }) {
  return (
    <dl className="facts" aria-label="The hook">
      <dt>URL</dt>
      <dd className="endpoint-title" data-testid="hook-url">
        {hook.url}
      </dd>
      <dt>Timeout</dt>
      <dd>{hook.timeout_ms} ms</dd>
      <dt>When it fails</dt>
      <dd>{hook.on_failure === 'allow' ? 'the message is stored as sent (fail open)' : 'the sender gets 503 unavailable (fail closed)'}</dd>
      <dt>Created</dt>
      <dd>
        <time dateTime={hook.created_at}>{new Date(hook.created_at).toLocaleString()}</time>
      </dd>
      <dt>Changed</dt>
      <dd>
        <time dateTime={hook.updated_at}>{new Date(hook.updated_at).toLocaleString()}</time>
      </dd>
    </dl>
  );
}

interface FormProps {
  /** null: no hook yet (the form creates one). */
  hook: BeforeSendHook | null;
  busy: boolean;
  onSave: (req: { url: string; timeout_ms: number; on_failure: BeforeSendFailurePolicy }) => void;
}

/** Sets the hook's URL, timeout and failure policy; starts from the hook's values. The server validates. */
function HookForm({ hook, busy, onSave }: FormProps) {
  const [url, setUrl] = useState(hook?.url ?? '');
  const [timeout, setTimeoutMs] = useState(String(hook?.timeout_ms ?? TIMEOUT.default));
  const [onFailure, setOnFailure] = useState<BeforeSendFailurePolicy>(hook?.on_failure ?? 'allow');

  function submit(e: FormEvent) {
    e.preventDefault();
    onSave({ url: url.trim(), timeout_ms: Number(timeout), on_failure: onFailure });
  }

  return (
    <form onSubmit={submit} aria-label={hook ? 'Change the hook' : 'Set a hook'}>
      <div className="field">
        <label htmlFor="hook-url">Hook URL</label>
        <input
          id="hook-url"
          type="url"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          placeholder="https://mod.example/check"
          aria-describedby="hook-url-hint"
          required
        />
        <span id="hook-url-hint" className="small muted">
          http:// or https://. Private and loopback addresses are refused unless the server allows them (<code>--outbound-allow</code>).
        </span>
      </div>
      <div className="field">
        <label htmlFor="hook-timeout">Timeout (ms)</label>
        <input
          id="hook-timeout"
          type="number"
          inputMode="numeric"
          min={TIMEOUT.min}
          max={TIMEOUT.max}
          step={1}
          value={timeout}
          onChange={(e) => setTimeoutMs(e.target.value)}
          aria-describedby="hook-timeout-hint"
          required
        />
        <span id="hook-timeout-hint" className="small muted">
          {TIMEOUT.min} to {TIMEOUT.max}. One sender&apos;s messages are judged one at a time, so this bounds how fast a sender may send.
        </span>
      </div>
      <div className="field">
        <label htmlFor="hook-on-failure">When the hook fails (timeout, error, bad answer)</label>
        <select id="hook-on-failure" value={onFailure} onChange={(e) => setOnFailure(e.target.value as BeforeSendFailurePolicy)}>
          <option value="allow">store the message as sent (fail open)</option>
          <option value="reject">refuse it: the sender gets 503 unavailable (fail closed)</option>
        </select>
      </div>
      <div className="dialog-actions">
        <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
          {hook ? 'Save hook' : 'Set hook'}
        </button>
      </div>
    </form>
  );
}
