// Bots through ParleyServer against the real server (docs/bots.md): the app marks a user as a bot
// when minting its token, everyone sees the mark, and a webhook endpoint acting for the bot hears
// only the channels the bot is a member of.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParleyClient } from '../../src/client.js';
import { ParleyError } from '../../src/errors.js';
import { ParleyServer } from '../../src/server.js';
import { ParleyProcess, signIn, waitFor } from './setup.js';

let server: ParleyProcess;
let app: ParleyServer;
let alice: ParleyClient;
let receiver: Server;
let receiverUrl: string;

beforeAll(async () => {
  server = await ParleyProcess.start({ args: ['--outbound-allow', '127.0.0.1/32', '--jobs-poll-ms', '50'] });
  const demo = server.demo();
  app = new ParleyServer({ baseUrl: server.baseUrl, apiKey: demo.api_key, apiSecret: demo.api_secret });
  alice = await signIn(server, 'alice');
  // The endpoints' receiver: the delivery log is what the tests read.
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  alice?.close();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  await server?.dispose();
});

describe('bots through ParleyServer', () => {
  it('marks a bot when minting its token; everyone sees the mark, and only the app changes it', async () => {
    const pair = await app.mintToken({ user_id: 'helper', name: 'Helper', bot: true });
    expect(pair.user).toMatchObject({ id: 'helper', name: 'Helper', bot: true });
    expect(await app.getUser('helper')).toMatchObject({ bot: true });
    expect(await alice.getUser('helper')).toMatchObject({ id: 'helper', bot: true });
    expect(await alice.getUser('alice')).toMatchObject({ bot: false });
    expect((await alice.listUsers({ q: 'helper' })).items).toEqual([expect.objectContaining({ id: 'helper', bot: true })]);

    // Minting again without the flag keeps it; false unmarks it.
    expect((await app.mintToken({ user_id: 'helper' })).user.bot).toBe(true);
    expect((await app.mintToken({ user_id: 'helper', bot: false })).user.bot).toBe(false);
    expect((await app.mintToken({ user_id: 'helper', bot: true })).user.bot).toBe(true);

    // The bot is a user like any other: it posts with its own token.
    const bot = new ParleyClient({ baseUrl: server.baseUrl, token: pair.access_token });
    expect(await bot.getUser('helper')).toMatchObject({ bot: true });
  });

  it('creates an endpoint for a bot user only, and fixes it at create', async () => {
    await app.mintToken({ user_id: 'helper', bot: true });
    const refused = await app
      .createWebhook({ url: `${receiverUrl}/alice`, event_types: ['*'], bot_user_id: 'alice' })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ParleyError);
    expect(refused).toMatchObject({ status: 422, code: 'validation_failed', details: { field: 'bot_user_id' } });
    await expect(app.createWebhook({ url: `${receiverUrl}/x`, event_types: ['*'], bot_user_id: 'nobody' })).rejects.toMatchObject({
      status: 422,
      code: 'validation_failed',
    });

    const hook = await app.createWebhook({ url: `${receiverUrl}/helper`, event_types: ['message.new'], bot_user_id: 'helper' });
    expect(hook).toMatchObject({ bot_user_id: 'helper', enabled: true });
    expect(await app.getWebhook(hook.id)).toMatchObject({ bot_user_id: 'helper' });
    expect((await app.listWebhooks()).find((w) => w.id === hook.id)).toMatchObject({ bot_user_id: 'helper' });

    const ordinary = await app.createWebhook({ url: `${receiverUrl}/all`, event_types: ['channel.created'] });
    expect(ordinary.bot_user_id).toBeNull();

    // Not a field of the update request; the server refuses it too.
    // @ts-expect-error bot_user_id cannot be changed after create
    await expect(app.updateWebhook(hook.id, { bot_user_id: 'alice' })).rejects.toMatchObject({ status: 400, details: { field: 'bot_user_id' } });
    expect((await app.getWebhook(hook.id)).bot_user_id).toBe('helper');

    await app.deleteWebhook(hook.id);
    await app.deleteWebhook(ordinary.id);
  });

  it('delivers to a bot’s endpoint only the events of the bot’s channels', async () => {
    await app.mintToken({ user_id: 'scout', name: 'Scout', bot: true });
    const hook = await app.createWebhook({ url: `${receiverUrl}/scout`, event_types: ['message.new'], bot_user_id: 'scout' });
    const withBot = await alice.createChannel({ type: 'group', name: 'with scout', members: ['scout'] });
    const withoutBot = await alice.createChannel({ type: 'group', name: 'without scout' });
    await alice.sendMessage(withoutBot.id, { text: 'the bot never hears this' });
    await alice.sendMessage(withBot.id, { text: 'hello scout' });

    const heard = await waitFor(
      async () => (await app.listWebhookDeliveries(hook.id)).items.find((d) => d.state === 'succeeded'),
      10_000,
      'the delivery of the bot’s channel',
    );
    expect(heard.payload).toMatchObject({ type: 'message.new', data: { channel_id: withBot.id, message: { text: 'hello scout' } } });
    await new Promise((r) => setTimeout(r, 300));
    const all = (await app.listWebhookDeliveries(hook.id)).items;
    expect(all.map((d) => (d.payload as { data: { channel_id: string } }).data.channel_id)).toEqual([withBot.id]);
    await app.deleteWebhook(hook.id);
  });
});
