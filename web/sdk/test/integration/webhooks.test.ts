// Outgoing webhooks end to end: endpoints managed through ParleyServer, deliveries POSTed by the
// real server to a receiver in this process, verified with verifyWebhook.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paginate, type ParleyClient } from '../../src/client.js';
import { ParleyError } from '../../src/errors.js';
import type { WebhookPayload } from '../../src/events.js';
import { ParleyServer } from '../../src/server.js';
import { verifyWebhook, WebhookVerificationError } from '../../src/webhooks.js';
import { ParleyProcess, general, signIn, waitFor } from './setup.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let server: ParleyProcess;
let app: ParleyServer;
let alice: ParleyClient;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];

beforeAll(async () => {
  // Loopback receivers are refused unless allowed; poll the job queue often so deliveries are quick.
  server = await ParleyProcess.start({ args: ['--outbound-allow', '127.0.0.1/32', '--jobs-poll-ms', '50'] });
  const demo = server.demo();
  app = new ParleyServer({ baseUrl: server.baseUrl, apiKey: demo.api_key, apiSecret: demo.api_secret });
  alice = await signIn(server, 'alice');
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(req.url === '/fail' ? 500 : 200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  await server?.dispose();
});

const receivedOf = (type: string, path = '/hook') =>
  waitFor(() => received.find((r) => r.path === path && (JSON.parse(r.body) as { type: string }).type === type), 10_000, `a ${type} delivery`);

describe('webhooks through ParleyServer', () => {
  it('creates, lists, patches, rotates, tests, logs and deletes an endpoint; deliveries verify', async () => {
    const types = await app.listWebhookEventTypes();
    expect(types).toEqual(expect.arrayContaining(['message.new', 'reaction.added', 'channel.created']));
    expect(types).not.toContain('typing.start');

    const created = await app.createWebhook({ url: `${receiverUrl}/hook`, event_types: ['message.new'], description: 'sdk test' });
    expect(created).toMatchObject({
      url: `${receiverUrl}/hook`,
      event_types: ['message.new'],
      description: 'sdk test',
      enabled: true,
      disabled_reason: null,
      failures_in_a_row: 0,
      previous_secret_expires_at: null,
    });
    expect(created.secret).toMatch(/^whsec_/);

    const listed = await app.listWebhooks();
    expect(listed.map((w) => w.id)).toContain(created.id);
    expect(listed.find((w) => w.id === created.id)).not.toHaveProperty('secret');
    const got = await app.getWebhook(created.id);
    expect(got).not.toHaveProperty('secret');
    expect(got.url).toBe(created.url);

    const patched = await app.updateWebhook(created.id, { event_types: ['*'], description: 'all events' });
    expect(patched).toMatchObject({ id: created.id, event_types: ['*'], description: 'all events', enabled: true });

    const rotated = await app.rotateWebhookSecret(created.id, { overlap_seconds: 3600 });
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    expect(rotated.previous_secret_expires_at).not.toBeNull();

    // The test event: signed with both secrets while they overlap.
    const delivery = await app.testWebhook(created.id);
    expect(delivery).toMatchObject({ endpoint_id: created.id, event_type: 'webhook.test', payload: { type: 'webhook.test' } });
    expect(delivery.message_id).toMatch(/^msg_/);
    const test = await receivedOf('webhook.test');
    expect(test.headers['webhook-id']).toBe(delivery.message_id);
    expect(String(test.headers['webhook-signature']).split(' ')).toHaveLength(2);
    const payload = await verifyWebhook({ secret: rotated.secret, headers: test.headers, body: test.body });
    expect(payload).toMatchObject({ type: 'webhook.test', app_id: server.demo().app_id, data: { endpoint_id: created.id } });
    expect(Date.parse(payload.timestamp)).not.toBeNaN();
    await verifyWebhook({ secret: created.secret, headers: test.headers, body: test.body });
    await verifyWebhook({ secrets: [created.secret, rotated.secret], headers: test.headers, body: test.body });
    await expect(verifyWebhook({ secret: rotated.secret, headers: test.headers, body: `${test.body} ` })).rejects.toBeInstanceOf(
      WebhookVerificationError,
    );

    const done = await waitFor(
      async () => (await app.listWebhookDeliveries(created.id)).items.find((d) => d.id === delivery.id && d.state === 'succeeded'),
      10_000,
      'the test delivery to succeed',
    );
    expect(done).toMatchObject({ attempts: 1, status_code: 200, error: null, response_excerpt: 'ok' });
    expect(done.latency_ms).toBeGreaterThanOrEqual(0);

    // A real event, typed by its `type`.
    const channelId = await general(alice);
    const sent = await alice.sendMessage(channelId, { text: 'to the webhook' });
    const hook = await receivedOf('message.new');
    const event = await verifyWebhook<WebhookPayload>({ secret: rotated.secret, headers: hook.headers, body: hook.body });
    if (event.type !== 'message.new') throw new Error(`unexpected ${event.type}`);
    expect(event.data).toMatchObject({ channel_id: channelId, seq: sent.message.seq, message: { text: 'to the webhook', user_id: 'alice' } });

    // The log pages newest first.
    const first = await app.listWebhookDeliveries(created.id, { limit: 1 });
    expect(first.items).toHaveLength(1);
    expect(first.next_cursor).not.toBeNull();
    const all = [];
    for await (const d of paginate((cursor) => app.listWebhookDeliveries(created.id, { limit: 1, cursor }))) all.push(d);
    expect(all.map((d) => d.event_type)).toEqual(['message.new', 'webhook.test']);
    expect(all[0].id).toBe(first.items[0].id);

    await app.deleteWebhook(created.id);
    await expect(app.getWebhook(created.id)).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect((await app.listWebhooks()).map((w) => w.id)).not.toContain(created.id);
  });

  it('logs a failed attempt', async () => {
    const hook = await app.createWebhook({ url: `${receiverUrl}/fail`, event_types: ['channel.created'] });
    const delivery = await app.testWebhook(hook.id);
    const failed = await waitFor(
      async () => (await app.listWebhookDeliveries(hook.id)).items.find((d) => d.id === delivery.id && d.attempts >= 1),
      10_000,
      'the first attempt',
    );
    expect(failed).toMatchObject({ status_code: 500, response_excerpt: 'ok' });
    expect(failed.state).not.toBe('succeeded');
    await app.deleteWebhook(hook.id);
  });

  it('answers the API’s errors as ParleyError', async () => {
    const bad = await app.createWebhook({ url: `${receiverUrl}/hook`, event_types: ['no.such.event'] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ParleyError);
    expect(bad).toMatchObject({ status: 400, code: 'invalid_request', details: { field: 'event_types' } });
    expect((bad as ParleyError).message).toMatch(/no\.such\.event/);
    await expect(app.createWebhook({ url: 'ftp://example.com/x', event_types: ['*'] })).rejects.toMatchObject({
      status: 400,
      details: { field: 'url' },
    });
    await expect(app.createWebhook({ url: `${receiverUrl}/hook`, event_types: [] })).rejects.toMatchObject({ status: 400 });
    await expect(app.getWebhook('wh_doesnotexist')).rejects.toMatchObject({ status: 404, code: 'not_found' });
    await expect(app.testWebhook('wh_doesnotexist')).rejects.toMatchObject({ status: 404 });

    const hook = await app.createWebhook({ url: `${receiverUrl}/hook`, event_types: ['*'], enabled: false });
    expect(hook.enabled).toBe(false);
    // Out of range is a 422 (the reader's range check), unlike the 400s above.
    await expect(app.rotateWebhookSecret(hook.id, { overlap_seconds: 604_801 })).rejects.toMatchObject({
      status: 422,
      code: 'validation_failed',
    });
    await expect(app.testWebhook(hook.id)).rejects.toMatchObject({ status: 409, code: 'conflict' });
    await app.deleteWebhook(hook.id);

    const wrong = new ParleyServer({ baseUrl: server.baseUrl, apiKey: server.demo().api_key, apiSecret: 'wrong' });
    await expect(wrong.listWebhooks()).rejects.toMatchObject({ status: 401 });
  });
});
