import { createHmac, webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ParleyServer } from '../../src/server.js';
import { WebhookVerificationError, timingSafeEqual, verifyWebhook, type VerifyWebhookOptions } from '../../src/webhooks.js';
import { fakeFetch } from './fakes.js';

// The Standard Webhooks test vector (also in tests/unit/webhooks_test.cpp).
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const ts = 1614265330;
const body = '{"test": 2432232314}';
const signature = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
const otherSecret = 'whsec_' + Buffer.from('another secret of 24 b!!').toString('base64');

const headers = (sig = signature, timestamp = String(ts)) => ({ 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': sig });
const now = new Date(ts * 1000);

/** Signs independently of the SDK, with node:crypto. */
function sign(key: string, msgId: string, timestamp: number, raw: string): string {
  const mac = createHmac('sha256', Buffer.from(key.replace(/^whsec_/, ''), 'base64'));
  return `v1,${mac.update(`${msgId}.${timestamp}.${raw}`).digest('base64')}`;
}

async function failure(opts: VerifyWebhookOptions): Promise<WebhookVerificationError> {
  const e = await verifyWebhook(opts).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(WebhookVerificationError);
  return e as WebhookVerificationError;
}

describe('verifyWebhook', () => {
  it('accepts the Standard Webhooks test vector and answers the parsed body', async () => {
    expect(sign(secret, id, ts, body)).toBe(signature);
    expect(await verifyWebhook({ secret, headers: headers(), body, now })).toEqual({ test: 2432232314 });
    // fetch Headers, bytes, a number for now, the secret without its prefix
    const h = new Headers(headers());
    expect(await verifyWebhook({ secret: secret.slice(6), headers: h, body: new TextEncoder().encode(body), now: ts * 1000 })).toEqual({
      test: 2432232314,
    });
    expect(await verifyWebhook({ secret, headers: headers(), body: Buffer.from(body), now })).toEqual({ test: 2432232314 });
    // header names in any case (a plain object as some frameworks give)
    const upper = { 'Webhook-Id': id, 'Webhook-Timestamp': String(ts), 'Webhook-Signature': signature };
    expect(await verifyWebhook({ secret, headers: upper, body, now })).toEqual({ test: 2432232314 });
    // an explicit SubtleCrypto (Node 18 has no global one without a flag)
    expect(await verifyWebhook({ secret, headers: headers(), body, now, subtle: webcrypto.subtle })).toEqual({ test: 2432232314 });
  });

  it('refuses a wrong secret', async () => {
    const e = await failure({ secret: otherSecret, headers: headers(), body, now });
    expect(e.code).toBe('invalid_signature');
    expect(e.message).toMatch(/no webhook signature matches/);
  });

  it('refuses a tampered body, id or signature', async () => {
    expect((await failure({ secret, headers: headers(), body: '{"test": 2432232315}', now })).code).toBe('invalid_signature');
    expect((await failure({ secret, headers: { ...headers(), 'webhook-id': 'msg_other' }, body, now })).code).toBe('invalid_signature');
    const flipped = signature.slice(0, -3) + 'AE=';
    expect((await failure({ secret, headers: headers(flipped), body, now })).code).toBe('invalid_signature');
    expect((await failure({ secret, headers: headers('v2,' + signature.slice(3)), body, now })).code).toBe('invalid_signature');
    expect((await failure({ secret, headers: headers('v1,not base64!'), body, now })).code).toBe('invalid_signature');
  });

  it('refuses a timestamp outside the tolerance, and a signed timestamp changed', async () => {
    expect(await verifyWebhook({ secret, headers: headers(), body, now: new Date((ts + 300) * 1000) })).toEqual({ test: 2432232314 });
    const old = await failure({ secret, headers: headers(), body, now: new Date((ts + 301) * 1000) });
    expect(old.code).toBe('timestamp_too_old');
    expect(old.message).toMatch(/301 s old/);
    expect((await failure({ secret, headers: headers(), body, now: new Date((ts - 301) * 1000) })).code).toBe('timestamp_too_new');
    expect((await failure({ secret, headers: headers(), body, now: new Date((ts + 11) * 1000), toleranceSeconds: 10 })).code).toBe(
      'timestamp_too_old',
    );
    // by default against the real clock: 2021 is long past
    expect((await failure({ secret, headers: headers(), body })).code).toBe('timestamp_too_old');
    // a fresh timestamp with the old signature
    expect((await failure({ secret, headers: headers(signature, String(ts + 1)), body, now })).code).toBe('invalid_signature');
  });

  it('accepts any one of several secrets, and any one of several signatures', async () => {
    expect(await verifyWebhook({ secrets: [otherSecret, secret], headers: headers(), body, now })).toEqual({ test: 2432232314 });
    expect((await failure({ secrets: [otherSecret], headers: headers(), body, now })).code).toBe('invalid_signature');
    // during a rotation Parley signs with both secrets: either one alone verifies
    const both = `${sign(otherSecret, id, ts, body)} ${signature}`;
    expect(await verifyWebhook({ secret, headers: headers(both), body, now })).toEqual({ test: 2432232314 });
    expect(await verifyWebhook({ secret: otherSecret, headers: headers(both), body, now })).toEqual({ test: 2432232314 });
  });

  it('refuses missing or malformed headers and a body that is not JSON', async () => {
    const { 'webhook-signature': _, ...unsigned } = headers();
    expect((await failure({ secret, headers: unsigned, body, now })).code).toBe('missing_header');
    expect((await failure({ secret, headers: { ...headers(), 'webhook-id': '' }, body, now })).code).toBe('missing_header');
    expect((await failure({ secret, headers: { ...headers(), 'webhook-id': [id, id] }, body, now })).code).toBe('missing_header');
    expect((await failure({ secret, headers: headers(signature, '1614265330.5'), body, now })).code).toBe('invalid_timestamp');
    const text = 'not json';
    const e = await failure({ secret, headers: headers(sign(secret, id, ts, text)), body: text, now });
    expect(e.code).toBe('invalid_body');
  });

  it('throws a TypeError for a missing or malformed secret', async () => {
    await expect(verifyWebhook({ secrets: [], headers: headers(), body, now })).rejects.toBeInstanceOf(TypeError);
    await expect(verifyWebhook({ secret: 'whsec_***', headers: headers(), body, now })).rejects.toThrow(/base64/);
    await expect(verifyWebhook({ secret, headers: headers(), body: { test: 1 } as unknown as string, now })).rejects.toThrow(/raw body/);
  });

  it('compares in constant time over equal lengths', () => {
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3]))).toBe(false);
  });
});

describe('ParleyServer webhooks', () => {
  it('calls the /v1/webhooks routes and unwraps their answers', async () => {
    const webhook = { id: 'wh_1', url: 'https://example.com/hook', event_types: ['*'] };
    const fetch = fakeFetch((c) => {
      if (c.path === '/v1/webhooks' && c.method === 'GET') return { body: { items: [webhook] } };
      if (c.path === '/v1/webhooks/event-types') return { body: { items: ['message.new'] } };
      if (c.path.endsWith('/test')) return { status: 202, body: { delivery: { id: 7 } } };
      if (c.path.endsWith('/deliveries')) return { body: { items: [{ id: 7 }], next_cursor: '7' } };
      if (c.method === 'DELETE') return { status: 204 };
      return { status: c.method === 'POST' && c.path === '/v1/webhooks' ? 201 : 200, body: { webhook: { ...webhook, secret: 'whsec_x' } } };
    });
    const app = new ParleyServer({ apiKey: 'pk', apiSecret: 'sk', fetch });
    expect(await app.listWebhooks()).toEqual([webhook]);
    expect((await app.createWebhook({ url: webhook.url, event_types: ['*'] })).secret).toBe('whsec_x');
    expect(await app.listWebhookEventTypes()).toEqual(['message.new']);
    expect((await app.getWebhook('wh_1')).id).toBe('wh_1');
    expect((await app.updateWebhook('wh_1', { enabled: false })).id).toBe('wh_1');
    expect((await app.rotateWebhookSecret('wh_1', { overlap_seconds: 60 })).secret).toBe('whsec_x');
    await app.rotateWebhookSecret('wh_1');
    expect((await app.testWebhook('wh_1')).id).toBe(7);
    expect(await app.listWebhookDeliveries('wh_1', { limit: 1, cursor: '9' })).toEqual({ items: [{ id: 7 }], next_cursor: '7' });
    await app.deleteWebhook('wh/1');
    expect(fetch.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'GET /v1/webhooks',
      'POST /v1/webhooks',
      'GET /v1/webhooks/event-types',
      'GET /v1/webhooks/wh_1',
      'PATCH /v1/webhooks/wh_1',
      'POST /v1/webhooks/wh_1/rotate-secret',
      'POST /v1/webhooks/wh_1/rotate-secret',
      'POST /v1/webhooks/wh_1/test',
      'GET /v1/webhooks/wh_1/deliveries',
      'DELETE /v1/webhooks/wh%2F1',
    ]);
    expect(fetch.calls.map((c) => c.body)).toEqual([
      undefined,
      { url: webhook.url, event_types: ['*'] },
      undefined,
      undefined,
      { enabled: false },
      { overlap_seconds: 60 },
      {},
      undefined,
      undefined,
      undefined,
    ]);
    expect(fetch.calls[8].query.toString()).toBe('limit=1&cursor=9');
    expect(fetch.calls.every((c) => c.headers.authorization === `Basic ${btoa('pk:sk')}`)).toBe(true);
  });
});
