import { useState } from 'react';
import { ADMIN_PATH, routeLink } from '../route';
import { DEMO_USERS, demoSignIn, type StoredSession } from '../session';

/** Pick a demo user (the server must run with --demo). */
export function Login({ onSignedIn, notice }: { onSignedIn: (s: StoredSession) => void; notice?: string }) {
  const [busy, setBusy] = useState<string>();
  const [error, setError] = useState<string>();

  async function pick(user: string) {
    setBusy(user);
    setError(undefined);
    try {
      onSignedIn(await demoSignIn(user));
    } catch (e) {
      const err = e as { status?: number; message?: string };
      setError(err.status === 404 ? 'Demo sign-in is off on this server (run it with --demo).' : `Could not sign in: ${err.message ?? e}`);
    } finally {
      setBusy(undefined);
    }
  }

  return (
    <main className="login">
      <div className="login-card">
        <h1>
          <span className="logo" aria-hidden="true" /> Parley
        </h1>
        <p>Sign in as one of the demo users. Open a second window as someone else to chat.</p>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <div className="login-users" role="group" aria-label="Demo users">
          {DEMO_USERS.map((u) => (
            <button key={u} type="button" onClick={() => pick(u)} disabled={!!busy} aria-busy={busy === u}>
              Sign in as {u}
            </button>
          ))}
        </div>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <p className="small">
          <a href="/docs/">API documentation</a> ·{' '}
          <a href={ADMIN_PATH} onClick={routeLink(ADMIN_PATH)}>
            App admin (webhooks)
          </a>
        </p>
      </div>
    </main>
  );
}
