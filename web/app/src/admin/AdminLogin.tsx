import { useState, type FormEvent } from 'react';
import { ApiError } from './ApiError';
import { saveCredentials, serverFor, type AppCredentials } from './credentials';

/** Asks for an app's API key and secret; keeps them (in sessionStorage) only once the server accepts them. */
export function AdminLogin({ onSignedIn }: { onSignedIn: (c: AppCredentials) => void }) {
  const [apiKey, setApiKey] = useState('');
  const [apiSecret, setApiSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const c = { apiKey: apiKey.trim(), apiSecret: apiSecret.trim() };
    setBusy(true);
    setError(undefined);
    try {
      await serverFor(c).listWebhooks(); // proves the credentials
      saveCredentials(c);
      onSignedIn(c);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="admin-card" aria-labelledby="admin-login-title">
      <h2 id="admin-login-title">Sign in with app credentials</h2>
      <p>
        The webhook routes take an app&apos;s API key and secret (as the app&apos;s backend uses them), not a user&apos;s
        sign-in. A server started with <code>--demo</code> prints the demo app&apos;s key and secret on its first start;{' '}
        <code>parley app create</code> prints a new app&apos;s.
      </p>
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor="admin-api-key">API key</label>
          <input id="admin-api-key" value={apiKey} onChange={(e) => setApiKey(e.target.value)} autoComplete="off" spellCheck={false} required />
        </div>
        <div className="field">
          <label htmlFor="admin-api-secret">API secret</label>
          <input
            id="admin-api-secret"
            type="password"
            value={apiSecret}
            onChange={(e) => setApiSecret(e.target.value)}
            autoComplete="off"
            required
          />
        </div>
        {error !== undefined && <ApiError error={error} action="Could not sign in" />}
        <div className="dialog-actions">
          <button type="submit" className="primary" disabled={busy} aria-busy={busy}>
            Sign in
          </button>
        </div>
      </form>
    </section>
  );
}
