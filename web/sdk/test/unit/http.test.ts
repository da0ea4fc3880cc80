import { describe, expect, it } from 'vitest';
import { ParleyClient } from '../../src/client.js';
import { ParleyError, isParleyError } from '../../src/errors.js';
import { queryString } from '../../src/http.js';
import { ParleyAdmin, ParleyServer } from '../../src/server.js';
import { fakeFetch, fakeJwt } from './fakes.js';

const err = (status: number, code: string, details = {}) => ({ status, body: { error: { code, message: `${code}!`, details } } });

describe('REST transport', () => {
  it('throws a ParleyError with status, code, message, details, request id and Retry-After', async () => {
    const fetch = fakeFetch(() => ({ ...err(429, 'rate_limited', { limit: 'user' }), headers: { 'retry-after': '3', 'x-request-id': 'req-1' } }));
    const client = new ParleyClient({ token: 't', fetch });
    const e = await client.me().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ParleyError);
    expect(e).toMatchObject({ status: 429, code: 'rate_limited', message: 'rate_limited!', details: { limit: 'user' }, retryAfter: 3, requestId: 'req-1' });
    expect(isParleyError(e, 'rate_limited')).toBe(true);
  });

  it('reports a failed connection as network_error with status 0', async () => {
    const client = new ParleyClient({
      token: 't',
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
    });
    await expect(client.me()).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });

  it('sends the bearer token, JSON bodies, encoded path segments and query values', async () => {
    const fetch = fakeFetch(() => ({ body: { user: { id: 'a.b@c' } } }));
    const client = new ParleyClient({ baseUrl: 'http://h:1/', token: 'tok', fetch });
    await client.getUser('a.b@c/d');
    await client.listMessages('ch_1', { before_seq: 10, limit: 5, preview: true });
    await client.sendMessage('ch_1', { text: 'hi', client_msg_id: 'x' });
    expect(fetch.calls[0].path).toBe('/v1/users/a.b%40c%2Fd');
    expect(fetch.calls[0].headers.authorization).toBe('Bearer tok');
    expect(Object.fromEntries(fetch.calls[1].query)).toEqual({ before_seq: '10', limit: '5', preview: 'true' });
    expect(fetch.calls[2]).toMatchObject({ method: 'POST', body: { text: 'hi', client_msg_id: 'x' } });
    expect(fetch.calls[2].headers['content-type']).toBe('application/json');
  });

  it('answers undefined for 204', async () => {
    const client = new ParleyClient({ token: 't', fetch: fakeFetch(() => ({ status: 204 })) });
    await expect(client.deleteMessage('ch', 1)).resolves.toBeUndefined();
  });

  it('on 401 token_expired gets a new token from the tokenProvider and retries once', async () => {
    let tokens = 0;
    const fetch = fakeFetch((c) => (c.headers.authorization === 'Bearer old' ? err(401, 'token_expired') : { body: { user: { id: 'alice' } } }));
    const client = new ParleyClient({
      token: 'old',
      fetch,
      tokenProvider: async () => {
        tokens++;
        return 'new';
      },
    });
    await expect(client.me()).resolves.toEqual({ id: 'alice' });
    expect(tokens).toBe(1);
    expect(fetch.calls.map((c) => c.headers.authorization)).toEqual(['Bearer old', 'Bearer new']);
  });

  it('does not retry other 401s', async () => {
    let tokens = 0;
    const fetch = fakeFetch(() => err(401, 'token_revoked'));
    const client = new ParleyClient({ token: 't', fetch, tokenProvider: async () => `t${++tokens}` });
    await expect(client.me()).rejects.toMatchObject({ status: 401, code: 'token_revoked' });
    expect(tokens).toBe(0);
    expect(fetch.calls).toHaveLength(1);
  });

  it('asks the tokenProvider first when started without a token, and refreshes a token about to expire', async () => {
    const soon = Math.floor(Date.now() / 1000) + 2;
    const later = Math.floor(Date.now() / 1000) + 900;
    const a = fakeJwt('alice', soon, 'a');
    const b = fakeJwt('alice', later, 'b');
    const given = [a, b];
    const fetch = fakeFetch(() => ({ body: { user: {} } }));
    const client = new ParleyClient({ fetch, tokenProvider: async () => given.shift()! });
    await client.me(); // no token yet: the provider's first one, which expires within the 5 s margin...
    await client.me(); // ...so this call refreshes first
    await client.me();
    expect(fetch.calls.map((c) => c.headers.authorization)).toEqual([`Bearer ${a}`, `Bearer ${b}`, `Bearer ${b}`]);
    expect(client.userId).toBe('alice');
  });

  it('builds query strings without empty values and joins lists', () => {
    expect(queryString({ a: 1, b: undefined, c: null, d: ['x', 'y'], e: false })).toBe('?a=1&d=x%2Cy&e=false');
    expect(queryString({})).toBe('');
  });
});

describe('ParleyServer and ParleyAdmin', () => {
  it('use Basic app credentials and the admin bearer key', async () => {
    const fetch = fakeFetch((c) => (c.path === '/v1/auth/token' ? { body: { access_token: 'a' } } : { body: { items: [], next_cursor: null } }));
    await new ParleyServer({ apiKey: 'pk_1', apiSecret: 'sk_2', fetch }).mintToken({ user_id: 'dave', name: 'Dave' });
    await new ParleyAdmin({ adminKey: 'adm_x', fetch }).listApps({ limit: 2 });
    expect(fetch.calls[0].headers.authorization).toBe(`Basic ${btoa('pk_1:sk_2')}`);
    expect(fetch.calls[0].body).toEqual({ user_id: 'dave', name: 'Dave' });
    expect(fetch.calls[1]).toMatchObject({ path: '/v1/admin/apps' });
    expect(fetch.calls[1].headers.authorization).toBe('Bearer adm_x');
  });
});
