// The signed-in user's session: a demo token pair kept in sessionStorage (per tab, so two tabs
// can be two users), refreshed through the rotating refresh token.
import { ParleyClient, refreshTokenProvider, type TokenPair } from '@parley/client';

const KEY = 'parley.session';

export interface StoredSession {
  userId: string;
  accessToken: string;
  expiresAt: string;
  refreshToken: string;
}

export const DEMO_USERS = ['alice', 'bob', 'carol'] as const;

export function loadSession(): StoredSession | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as StoredSession) : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(pair: TokenPair): StoredSession {
  const s: StoredSession = {
    userId: pair.user.id,
    accessToken: pair.access_token,
    expiresAt: pair.expires_at,
    refreshToken: pair.refresh_token,
  };
  sessionStorage.setItem(KEY, JSON.stringify(s));
  return s;
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

/** Asks the server for a demo user's token pair (only while it runs with --demo). */
export async function demoSignIn(userId: string): Promise<StoredSession> {
  return saveSession(await new ParleyClient().demoSession(userId));
}

/** A client for the stored session; every rotated pair is stored again. */
export function clientFor(session: StoredSession): ParleyClient {
  const client = new ParleyClient({
    token: session.accessToken,
    tokenProvider: refreshTokenProvider({ refreshToken: session.refreshToken, onTokens: saveSession }),
  });
  client.tokens.set(session.accessToken, session.expiresAt);
  return client;
}

/** Ends the session on the server too (best effort). */
export async function signOut(client: ParleyClient): Promise<void> {
  const s = loadSession();
  clearSession();
  client.close();
  if (s) await client.logout(s.refreshToken).catch(() => undefined);
}
