import { ParleyError } from './errors.js';
import { Transport, type FetchLike } from './http.js';
import type { TokenPair } from './types.js';

/** What a token provider hands back: the access token, optionally with its expiry. */
export type TokenResult = string | { access_token: string; expires_at?: string };

/**
 * Gets a fresh user access token — typically by asking your backend, which mints one with
 * `POST /v1/auth/token`, or by rotating a refresh token (see `refreshTokenProvider`).
 * `reason` tells why: `initial` (no token yet), `expiring` (about to expire, or expired),
 * `rejected` (the server refused the current one).
 */
export type TokenProvider = (reason: 'initial' | 'expiring' | 'rejected') => Promise<TokenResult>;

/**
 * Holds the current access token, knows when it expires (from the JWT's `exp` unless the
 * provider says), and refreshes through the provider with at most one refresh in flight.
 */
export class TokenManager {
  private token: string | undefined;
  private expiresAtMs: number | undefined;
  private inflight: Promise<string> | undefined;
  private listeners = new Set<(token: string) => void>();
  /** Server clock minus local clock, in ms (set from the realtime `hello`). */
  clockSkewMs = 0;

  constructor(
    token: string | undefined,
    private readonly provider: TokenProvider | undefined,
    private readonly now: () => number = Date.now,
  ) {
    if (token) this.set(token);
  }

  get current(): string | undefined {
    return this.token;
  }

  get canRefresh(): boolean {
    return this.provider !== undefined;
  }

  /** Milliseconds until the token expires by the server's clock (Infinity when unknown). */
  remainingMs(): number {
    if (this.expiresAtMs === undefined) return Infinity;
    return this.expiresAtMs - (this.now() + this.clockSkewMs);
  }

  expiresAt(): number | undefined {
    return this.expiresAtMs;
  }

  /** The token, refreshed first when it has less than `minValidityMs` left. */
  async get(minValidityMs = 5_000): Promise<string> {
    if (this.inflight) return this.inflight;
    if (this.token && (this.remainingMs() > minValidityMs || !this.provider)) return this.token;
    return this.refresh(this.token ? 'expiring' : 'initial');
  }

  /** Asks the provider for a new token (joining a refresh already under way). */
  refresh(reason: 'initial' | 'expiring' | 'rejected' = 'rejected'): Promise<string> {
    if (this.inflight) return this.inflight;
    if (!this.provider) {
      return Promise.reject(
        new ParleyError({ status: 401, code: 'unauthorized', message: 'no token and no tokenProvider to get one' }),
      );
    }
    const provider = this.provider;
    this.inflight = (async () => {
      try {
        const result = await provider(reason);
        if (typeof result === 'string') this.set(result);
        else this.set(result.access_token, result.expires_at);
        return this.token!;
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  set(token: string, expiresAt?: string): void {
    this.token = token;
    const fromServer = expiresAt ? Date.parse(expiresAt) : NaN;
    this.expiresAtMs = Number.isFinite(fromServer) ? fromServer : jwtExpiry(token);
    for (const l of this.listeners) l(token);
  }

  /** Called after each token change; returns an unsubscribe function. */
  onChange(listener: (token: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The claims of a JWT (unverified); undefined when the token is not a readable JWT. */
export function jwtClaims(token: string | undefined): Record<string, unknown> | undefined {
  const part = token?.split('.')[1];
  if (!part) return undefined;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const claims: unknown = JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The `exp` claim of a JWT, in ms since the epoch. */
export function jwtExpiry(token: string): number | undefined {
  const exp = jwtClaims(token)?.exp;
  return typeof exp === 'number' ? exp * 1000 : undefined;
}

export interface RefreshTokenProviderOptions {
  baseUrl?: string;
  fetch?: FetchLike;
  /** The refresh token of the last `TokenPair`. */
  refreshToken: string;
  /** Called with every new pair; store `refresh_token` (it rotates: the old one is now spent). */
  onTokens?: (pair: TokenPair) => void;
}

/**
 * A TokenProvider that rotates a refresh token with `POST /v1/auth/refresh`. Refresh tokens are
 * single use; the TokenManager never runs two refreshes at once, so one provider per session.
 */
export function refreshTokenProvider(opts: RefreshTokenProviderOptions): TokenProvider {
  const transport = new Transport({ baseUrl: opts.baseUrl, fetch: opts.fetch }, null);
  let refreshToken = opts.refreshToken;
  return async () => {
    const pair = await transport.request<TokenPair>('POST', '/v1/auth/refresh', { body: { refresh_token: refreshToken } });
    refreshToken = pair.refresh_token;
    opts.onTokens?.(pair);
    return { access_token: pair.access_token, expires_at: pair.expires_at };
  };
}
