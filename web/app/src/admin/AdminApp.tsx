import { useEffect, useMemo, useState } from 'react';
import { routeLink } from '../route';
import { AdminLogin } from './AdminLogin';
import { BeforeSendHookAdmin } from './BeforeSendHookAdmin';
import { forgetCredentials, loadCredentials, serverFor, type AppCredentials } from './credentials';
import { WebhooksAdmin } from './WebhooksAdmin';

/** The app admin screen (`/admin`): an app's outgoing webhooks and before-send hook, with the app's own credentials. */
export function AdminApp() {
  const [creds, setCreds] = useState<AppCredentials | undefined>(loadCredentials);
  const server = useMemo(() => (creds ? serverFor(creds) : undefined), [creds]);

  useEffect(() => {
    document.title = 'App admin · Parley';
  }, []);

  function forget() {
    forgetCredentials();
    setCreds(undefined);
  }

  return (
    <div className="admin">
      <header className="admin-head">
        <h1>
          <span className="logo" aria-hidden="true" /> Parley <span className="admin-sub">App admin</span>
        </h1>
        <nav aria-label="App admin">
          <a href="/" onClick={routeLink('/')}>
            Back to chat
          </a>
          <a href="/docs/">API docs</a>
          {creds && (
            <button type="button" className="link" onClick={forget}>
              Forget credentials
            </button>
          )}
        </nav>
      </header>
      <p className="admin-warning" role="note">
        <strong>An operator tool.</strong> The app&apos;s API key and secret entered here stay in this tab&apos;s session
        storage (gone when the tab closes) and are sent only to this server. Never ship an app&apos;s secret in a public
        build or page: the app&apos;s backend holds it.
      </p>
      <main className="admin-main">
        {creds && server ? (
          <>
            <WebhooksAdmin key={creds.apiKey} server={server} apiKey={creds.apiKey} />
            <BeforeSendHookAdmin key={`hook-${creds.apiKey}`} server={server} />
          </>
        ) : (
          <AdminLogin onSignedIn={setCreds} />
        )}
      </main>
    </div>
  );
}
