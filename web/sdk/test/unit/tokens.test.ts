import { describe, expect, it } from 'vitest';
import { TokenManager, jwtExpiry, refreshTokenProvider } from '../../src/tokens.js';
import { fakeFetch, fakeJwt } from './fakes.js';

describe('TokenManager', () => {
  it('runs one refresh at a time however many callers ask', async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const tm = new TokenManager(undefined, async () => {
      calls++;
      await gate;
      return 'fresh';
    });
    const all = Promise.all([tm.get(), tm.get(), tm.refresh(), tm.get()]);
    release();
    expect(await all).toEqual(['fresh', 'fresh', 'fresh', 'fresh']);
    expect(calls).toBe(1);
  });

  it('reads the expiry from the JWT, or from the provider when it gives one, and applies clock skew', () => {
    const exp = Math.floor(Date.now() / 1000) + 100;
    const tm = new TokenManager(fakeJwt('alice', exp), undefined);
    expect(tm.expiresAt()).toBe(exp * 1000);
    tm.clockSkewMs = 50_000; // the server's clock is ahead
    expect(tm.remainingMs()).toBeLessThanOrEqual(50_000);
    tm.set('opaque', '2030-01-01T00:00:00.000Z');
    expect(tm.expiresAt()).toBe(Date.parse('2030-01-01T00:00:00.000Z'));
    expect(jwtExpiry('not-a-jwt')).toBeUndefined();
  });

  it('without a provider and without a token, fails with unauthorized', async () => {
    await expect(new TokenManager(undefined, undefined).get()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('notifies listeners of each new token', async () => {
    const tm = new TokenManager('a', async () => 'b');
    const seen: string[] = [];
    tm.onChange((t) => seen.push(t));
    await tm.refresh();
    expect(seen).toEqual(['b']);
  });
});

describe('refreshTokenProvider', () => {
  it('rotates the refresh token on every call and reports each pair', async () => {
    let n = 0;
    const fetch = fakeFetch((c) => ({
      body: { access_token: `at${++n}`, expires_at: '2030-01-01T00:00:00.000Z', refresh_token: `rt${n}`, presented: c.body },
    }));
    const pairs: string[] = [];
    const provider = refreshTokenProvider({ refreshToken: 'rt0', fetch, onTokens: (p) => pairs.push(p.refresh_token) });
    expect(await provider('expiring')).toEqual({ access_token: 'at1', expires_at: '2030-01-01T00:00:00.000Z' });
    await provider('expiring');
    expect(fetch.calls.map((c) => c.body)).toEqual([{ refresh_token: 'rt0' }, { refresh_token: 'rt1' }]);
    expect(fetch.calls.every((c) => c.headers.authorization === undefined && c.path === '/v1/auth/refresh')).toBe(true);
    expect(pairs).toEqual(['rt1', 'rt2']);
  });
});
