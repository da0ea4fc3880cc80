#!/usr/bin/env node
// An example Parley bot (docs/bots.md): it answers every message that mentions it, in the
// message's thread. Node 18+, no dependencies.
//
// At start it signs in as a bot user with the app's credentials, creates (or takes over) a
// webhook endpoint that acts for the bot — so it hears only the channels it was added to — and
// then serves that endpoint: each request's Standard Webhooks signature is checked, and a
// message.new that mentions the bot gets a reply through the REST API.
//
//   PARLEY_URL=http://localhost:8080 PARLEY_APP_KEY=… PARLEY_APP_SECRET=… node bot.mjs
//
// Environment: PARLEY_URL, PARLEY_APP_KEY, PARLEY_APP_SECRET (required); BOT_ID (default
// "echo"), BOT_NAME ("Echo bot"), PORT (8090; 0 picks a free one), PUBLIC_URL (how Parley reaches
// this process; default http://127.0.0.1:PORT). Parley refuses private and loopback addresses
// unless it runs with --outbound-allow naming them (e.g. 127.0.0.1/32 for a bot on the same host).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) {
    console.error(`echo-bot: set ${name}`);
    process.exit(2);
  }
  return v;
};
const parley = env('PARLEY_URL').replace(/\/$/, '');
const appAuth = 'Basic ' + Buffer.from(`${env('PARLEY_APP_KEY')}:${env('PARLEY_APP_SECRET')}`).toString('base64');
const botId = env('BOT_ID', 'echo');
const botName = env('BOT_NAME', 'Echo bot');

async function api(method, path, auth, body) {
  const res = await fetch(parley + path, {
    method,
    headers: { authorization: auth, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : {};
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${json.error?.code}: ${json.error?.message}`);
  return json;
}

// The bot's access token, minted again shortly before it expires.
let token = { value: '', expiresAt: 0 };
async function botAuth() {
  if (Date.now() > token.expiresAt - 60_000) {
    const t = await api('POST', '/v1/auth/token', appAuth, { user_id: botId, name: botName, bot: true });
    token = { value: t.access_token, expiresAt: Date.now() + t.expires_in * 1000 };
  }
  return 'Bearer ' + token.value;
}

// Standard Webhooks: HMAC-SHA256 of "id.timestamp.body" with the base64 key after "whsec_".
function verified(secret, headers, body) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
  return signatures.split(' ').some((s) => {
    if (!s.startsWith('v1,')) return false;
    const given = Buffer.from(s.slice(3), 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

const seen = new Set(); // webhook-ids answered: deliveries come at least once
async function onEvent(event) {
  if (event.type !== 'message.new') return;
  const m = event.data.message;
  if (m.user_id === botId || !m.mentions.includes(botId)) return;
  const said = m.text.replaceAll(`@${botId}`, '').trim();
  await api('POST', `/v1/channels/${encodeURIComponent(m.channel_id)}/messages`, await botAuth(), {
    text: `@${m.user_id} you said: ${said || '(nothing)'}`,
    parent_seq: m.parent_seq ?? m.seq,
    client_msg_id: `echo-${m.channel_id}-${m.seq}`, // a retried delivery cannot answer twice
  });
}

let secret = '';
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (req.method !== 'POST' || !verified(secret, req.headers, body)) {
      res.writeHead(401).end();
      return;
    }
    const id = req.headers['webhook-id'];
    res.writeHead(204).end(); // answer at once; Parley retries what is not acknowledged
    if (seen.has(id)) return;
    seen.add(id);
    if (seen.size > 10_000) seen.clear();
    onEvent(JSON.parse(body.toString('utf8'))).catch((e) => console.error('echo-bot:', e.message));
  });
});

server.listen(Number(env('PORT', '8090')), '127.0.0.1', async () => {
  const port = server.address().port;
  const url = env('PUBLIC_URL', `http://127.0.0.1:${port}`) + '/webhook';
  try {
    await botAuth(); // creates the bot user
    const { items } = await api('GET', '/v1/webhooks', appAuth);
    const mine = items.find((w) => w.url === url && w.bot_user_id === botId);
    // The secret is shown only on create and rotation: take over an existing endpoint by rotating.
    const hook = mine
      ? (await api('POST', `/v1/webhooks/${mine.id}/rotate-secret`, appAuth, { overlap_seconds: 0 })).webhook
      : (
          await api('POST', '/v1/webhooks', appAuth, {
            url,
            event_types: ['message.new'],
            bot_user_id: botId,
            description: `${botName} (examples/echo-bot)`,
          })
        ).webhook;
    secret = hook.secret;
    if (!hook.enabled) await api('PATCH', `/v1/webhooks/${hook.id}`, appAuth, { enabled: true });
    console.log(`echo-bot: listening ${port} as ${botId}, endpoint ${hook.id}`);
  } catch (e) {
    console.error('echo-bot: start-up failed:', e.message);
    process.exit(1);
  }
});
