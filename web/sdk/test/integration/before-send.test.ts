// The before-send hook through ParleyServer against the real server (docs/bots.md, "Before-send
// hook"): a hook in this process verifies every call with verifyWebhook and judges the text;
// users sending through the SDK see rejections as ParleyErrors with the reason, and rewrites as
// the stored text.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParleyClient } from '../../src/client.js';
import { ParleyError } from '../../src/errors.js';
import { ParleyServer } from '../../src/server.js';
import type { BeforeSendAnswer, BeforeSendPayload } from '../../src/types.js';
import { verifyWebhook } from '../../src/webhooks.js';
import { ParleyProcess, general, signIn } from './setup.js';

const REASON = 'no swearing here';

let server: ParleyProcess;
let app: ParleyServer;
let alice: ParleyClient;
let channelId: string;
let hook: Server;
let hookUrl: string;
/** The secret the hook verifies with: set from what putBeforeSendHook answered. */
let secret = '';
/** Every call the hook got, verified or not. */
const calls: { verified: boolean; payload?: BeforeSendPayload }[] = [];

/** Rejects texts starting with "no", answers "shout …" upper-cased, allows the rest. */
function judge(text: string): BeforeSendAnswer {
  if (text.startsWith('no')) return { action: 'reject', reason: REASON };
  if (text.startsWith('shout ')) return { action: 'rewrite', text: text.toUpperCase() };
  return { action: 'allow' };
}

beforeAll(async () => {
  hook = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      verifyWebhook<BeforeSendPayload>({ secret, headers: req.headers, body: Buffer.concat(chunks) }).then(
        (payload) => {
          calls.push({ verified: true, payload });
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(judge(payload.data.message.text)));
        },
        () => {
          calls.push({ verified: false });
          res.writeHead(401).end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/judge`;
  // The hook is on loopback, which outgoing calls may not reach unless allowed.
  server = await ParleyProcess.start({ args: ['--outbound-allow', '127.0.0.1/32'] });
  const demo = server.demo();
  app = new ParleyServer({ baseUrl: server.baseUrl, apiKey: demo.api_key, apiSecret: demo.api_secret });
  alice = await signIn(server, 'alice');
  channelId = await general(alice);
});
afterAll(async () => {
  alice?.close();
  await new Promise<void>((resolve) => (hook ? hook.close(() => resolve()) : resolve()));
  await server?.dispose();
});

const rejection = (p: Promise<unknown>) => p.then(() => expect.fail('the send was not rejected'), (e: unknown) => e);

describe('the before-send hook through ParleyServer', () => {
  it('is managed by the app: none, put, get without the secret, change, rotate, delete', async () => {
    await expect(app.getBeforeSendHook()).rejects.toMatchObject({ status: 404, code: 'not_found' });
    // A new hook needs a URL; the timeout is bounded.
    await expect(app.putBeforeSendHook({ timeout_ms: 300 })).rejects.toBeInstanceOf(ParleyError);
    await expect(app.putBeforeSendHook({ url: hookUrl, timeout_ms: 10 })).rejects.toMatchObject({ code: 'validation_failed' });

    const put = await app.putBeforeSendHook({ url: hookUrl });
    expect(put).toMatchObject({ url: hookUrl, timeout_ms: 500, on_failure: 'allow' });
    expect(put.secret).toMatch(/^whsec_/);
    const got = await app.getBeforeSendHook();
    expect(got).not.toHaveProperty('secret');
    expect(got).toMatchObject({ url: hookUrl, timeout_ms: 500, on_failure: 'allow', created_at: put.created_at });

    const changed = await app.putBeforeSendHook({ timeout_ms: 2000, on_failure: 'reject' });
    expect(changed).toMatchObject({ url: hookUrl, timeout_ms: 2000, on_failure: 'reject', secret: put.secret });
    const rotated = await app.rotateBeforeSendHookSecret();
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(put.secret);

    await app.deleteBeforeSendHook();
    await expect(app.getBeforeSendHook()).rejects.toMatchObject({ status: 404 });
    await expect(app.deleteBeforeSendHook()).rejects.toMatchObject({ status: 404 });
    await expect(app.rotateBeforeSendHookSecret()).rejects.toMatchObject({ status: 404 });
    // A user's token is not enough.
    await expect(alice.http.request('GET', '/v1/hooks/before-send')).rejects.toMatchObject({ status: 403 });
  });

  it('judges every send: a rejection is a forbidden ParleyError with the reason, a rewrite is stored', async () => {
    secret = (await app.putBeforeSendHook({ url: hookUrl, timeout_ms: 2000, on_failure: 'reject' })).secret;
    calls.length = 0;

    const fine = await alice.sendMessage(channelId, { text: 'hello hook', client_msg_id: 'bs-fine' });
    expect(fine.message.text).toBe('hello hook');

    const no = await rejection(alice.sendMessage(channelId, { text: 'no way' }));
    expect(no).toBeInstanceOf(ParleyError);
    expect(no).toMatchObject({ status: 403, code: 'forbidden', details: { reason: REASON } });
    expect((no as ParleyError).message).toContain(REASON);

    const loud = await alice.sendMessage(channelId, { text: 'shout quietly' });
    expect(loud.message.text).toBe('SHOUT QUIETLY');

    // Over the socket too: the error frame becomes the same ParleyError (no HTTP status).
    await alice.connect();
    const wsNo = await rejection(alice.realtime.sendMessage(channelId, { text: 'not over the socket either' }));
    expect(wsNo).toMatchObject({ status: 0, code: 'forbidden', details: { reason: REASON } });
    const wsLoud = await alice.realtime.sendMessage(channelId, { text: 'shout socket' });
    expect(wsLoud.message.text).toBe('SHOUT SOCKET');

    // The rejected messages were never stored.
    const texts = (await alice.listMessages(channelId, { limit: 10 })).items.map((m) => m.text);
    expect(texts.slice(-3)).toEqual(['hello hook', 'SHOUT QUIETLY', 'SHOUT SOCKET']);
    expect(texts.some((t) => t.startsWith('no'))).toBe(false);

    // Every call was signed with the hook's secret and carried the message as sent.
    expect(calls).toHaveLength(5);
    expect(calls.every((c) => c.verified)).toBe(true);
    expect(calls[0].payload).toMatchObject({
      type: 'message.before_send',
      app_id: server.demo().app_id,
      data: { message: { text: 'hello hook', channel_id: channelId, user_id: 'alice', attachments: [], parent_seq: null, client_msg_id: 'bs-fine' } },
    });
    expect(Date.parse(calls[0].payload!.timestamp)).not.toBeNaN();

    // A rotated secret: the hook still verifying with the old one refuses the call, and the
    // hook failing closed turns that into 503 unavailable for the sender.
    const rotated = await app.rotateBeforeSendHookSecret();
    await expect(alice.sendMessage(channelId, { text: 'signed anew' })).rejects.toMatchObject({ status: 503, code: 'unavailable' });
    expect(calls.at(-1)?.verified).toBe(false);
    secret = rotated.secret;
    expect((await alice.sendMessage(channelId, { text: 'signed anew' })).message.text).toBe('signed anew');
  });

  it('judges nothing once deleted', async () => {
    secret = (await app.putBeforeSendHook({ url: hookUrl })).secret;
    await expect(alice.sendMessage(channelId, { text: 'no, not yet' })).rejects.toMatchObject({ code: 'forbidden' });
    await app.deleteBeforeSendHook();
    const before = calls.length;
    expect((await alice.sendMessage(channelId, { text: 'no one judges this' })).message.text).toBe('no one judges this');
    expect((await alice.sendMessage(channelId, { text: 'shout unheard' })).message.text).toBe('shout unheard');
    expect(calls).toHaveLength(before);
  });
});
