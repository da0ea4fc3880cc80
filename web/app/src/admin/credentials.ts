// The app admin's credentials (an app's API key and secret) for /v1/webhooks. Kept only in this
// tab's sessionStorage, sent only to this page's own origin. An operator tool: an app's secret
// must never be built into a public page.
import { ParleyServer } from '@parley/client';

const KEY = 'parley.admin';

export interface AppCredentials {
  apiKey: string;
  apiSecret: string;
}

export function loadCredentials(): AppCredentials | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    const c = raw ? (JSON.parse(raw) as Partial<AppCredentials>) : undefined;
    return c?.apiKey && c.apiSecret ? { apiKey: c.apiKey, apiSecret: c.apiSecret } : undefined;
  } catch {
    return undefined;
  }
}

export function saveCredentials(c: AppCredentials): void {
  sessionStorage.setItem(KEY, JSON.stringify(c));
}

export function forgetCredentials(): void {
  sessionStorage.removeItem(KEY);
}

/** The server API with these credentials, on the page's own origin. */
export function serverFor(c: AppCredentials): ParleyServer {
  return new ParleyServer({ apiKey: c.apiKey, apiSecret: c.apiSecret });
}
