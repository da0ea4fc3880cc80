import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParleyClient, paginate } from '../../src/client.js';
import { ParleyError } from '../../src/errors.js';
import { ParleyAdmin, ParleyServer } from '../../src/server.js';
import { ParleyProcess, general, signIn } from './setup.js';

let server: ParleyProcess;
let alice: ParleyClient;
let bob: ParleyClient;
let carol: ParleyClient;

beforeAll(async () => {
  server = await ParleyProcess.start();
  [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((u) => signIn(server, u)));
});
afterAll(async () => {
  await server?.dispose();
});

describe('REST against the real server', () => {
  it('answers health, the demo session, users and profile updates', async () => {
    expect(await alice.health()).toEqual({ status: 'ok' });
    expect((await alice.me()).id).toBe('alice');
    expect((await alice.updateMe({ name: 'Alice A.' })).name).toBe('Alice A.');
    expect((await bob.getUser('alice')).name).toBe('Alice A.');
    const ids: string[] = [];
    for await (const u of paginate((cursor) => alice.listUsers({ limit: 2, cursor }))) ids.push(u.id);
    expect(ids).toEqual(expect.arrayContaining(['alice', 'bob', 'carol']));
    expect((await alice.listUsers({ q: 'car' })).items.map((u) => u.id)).toEqual(['carol']);
  });

  it('throws ParleyError with the API’s status, code, message and details', async () => {
    const e = await alice.getChannel('ch_doesnotexist').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ParleyError);
    expect(e).toMatchObject({ status: 404, code: 'not_found', details: {} });
    expect((e as ParleyError).requestId).toBeTruthy();
    await expect(alice.createChannel({ type: 'group', name: '' })).rejects.toMatchObject({ status: 422, code: 'validation_failed' });
    await expect(alice.ensureDm('alice')).rejects.toMatchObject({ status: 422 });
    await expect(new ParleyClient({ baseUrl: server.baseUrl, token: 'nope' }).me()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    await expect(new ParleyClient({ baseUrl: server.baseUrl }).demoSession('mallory')).rejects.toMatchObject({ status: 422 });
  });

  it('creates groups, DMs and public channels; manages members, roles, flags, archive and delete', async () => {
    const group = await alice.createChannel({ type: 'group', name: 'Project', topic: 't', members: ['bob'] });
    expect(group).toMatchObject({ type: 'group', name: 'Project', member_count: 2, membership: { role: 'owner' } });
    expect(await alice.addMembers(group.id, ['carol'], 'moderator')).toEqual(['carol']);
    expect((await alice.setMemberRole(group.id, 'carol', 'admin')).role).toBe('admin');
    const members = await alice.listMembers(group.id);
    expect(members.items.map((m) => m.user_id)).toEqual(['alice', 'bob', 'carol']);
    expect((await bob.updateMembership(group.id, { muted: true, starred: true })).muted).toBe(true);
    expect((await alice.updateChannel(group.id, { name: 'Project X' })).name).toBe('Project X');
    await carol.removeMember(group.id, 'bob');
    await expect(bob.getChannel(group.id)).rejects.toMatchObject({ status: 404 });
    await carol.leaveChannel(group.id);
    expect((await alice.archiveChannel(group.id)).archived_at).not.toBeNull();
    await expect(alice.sendMessage(group.id, { text: 'x' })).rejects.toMatchObject({ status: 409, code: 'conflict' });
    expect((await alice.unarchiveChannel(group.id)).archived_at).toBeNull();
    await alice.deleteChannel(group.id);
    await expect(alice.getChannel(group.id)).rejects.toMatchObject({ status: 404 });

    const dm = await alice.ensureDm('bob');
    const again = await bob.ensureDm('alice');
    expect(again.channel.id).toBe(dm.channel.id);
    expect(again.created).toBe(false);
    expect(dm.channel.dm_user_ids?.sort()).toEqual(['alice', 'bob']);

    const pub = await bob.createChannel({ type: 'public', name: 'zz-public-test' });
    expect((await carol.listPublicChannels({ q: 'zz-public' })).items.map((c) => c.id)).toEqual([pub.id]);
    expect((await carol.joinChannel(pub.id)).role).toBe('member');
    expect((await carol.listChannels({ type: 'public' })).items.map((c) => c.id)).toContain(pub.id);
  });

  it('sends, pages, edits, deletes, reacts, threads, pins, saves, mentions and reads', async () => {
    const ch = await alice.createChannel({ type: 'group', name: 'History', members: ['bob', 'carol'] });
    for (let i = 1; i <= 12; i++) await alice.sendMessage(ch.id, { text: `m${i}` });
    const newest = await bob.listMessages(ch.id, { limit: 5 });
    expect(newest.items.map((m) => m.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(newest.has_more).toBe(true);
    expect((await bob.listMessages(ch.id, { before_seq: 8, limit: 5 })).items.map((m) => m.seq)).toEqual([3, 4, 5, 6, 7]);
    expect((await bob.listMessages(ch.id, { after_seq: 10 })).items.map((m) => m.seq)).toEqual([11, 12]);
    expect(await carol.markRead(ch.id, 5)).toEqual({ last_read_seq: 5, unread_count: 7 });
    expect(await alice.seenBy(ch.id, 5)).toEqual(['carol']);
    expect(await alice.seenBy(ch.id, 6)).toEqual([]);
    expect((await carol.unreadTotals()).unread_count).toBeGreaterThanOrEqual(7);

    const first = await bob.sendMessage(ch.id, { text: 'hello @carol', client_msg_id: 'cm-1' });
    expect(first.duplicate).toBe(false);
    const dup = await bob.sendMessage(ch.id, { text: 'hello @carol', client_msg_id: 'cm-1' });
    expect(dup).toMatchObject({ duplicate: true, message: { seq: first.message.seq } });
    expect(first.message.mentions).toEqual(['carol']);
    expect((await carol.listMentions()).items.map((m) => m.seq)).toContain(first.message.seq);

    expect((await bob.editMessage(ch.id, first.message.seq, { text: 'hello again @carol' })).edited_at).not.toBeNull();
    expect((await carol.getMessage(ch.id, first.message.seq)).text).toBe('hello again @carol');
    const reacted = await carol.addReaction(ch.id, first.message.seq, '👍');
    expect(reacted).toMatchObject({ reactions: { '👍': 1 }, own_reactions: ['👍'] });
    expect((await carol.removeReaction(ch.id, first.message.seq, '👍')).reactions).toEqual({});

    const reply = await carol.sendMessage(ch.id, { text: 'in thread', parent_seq: 1 });
    expect(reply.message.parent_seq).toBe(1);
    expect((await alice.listReplies(ch.id, 1)).items.map((m) => m.text)).toEqual(['in thread']);
    expect((await alice.getMessage(ch.id, 1)).reply_count).toBe(1);

    await alice.pinMessage(ch.id, 2);
    expect((await bob.listPins(ch.id)).map((m) => m.seq)).toEqual([2]);
    await alice.unpinMessage(ch.id, 2);
    await bob.saveMessage(ch.id, 3);
    expect((await bob.listSaved()).items.map((m) => m.seq)).toEqual([3]);
    await bob.unsaveMessage(ch.id, 3);

    await bob.deleteMessage(ch.id, first.message.seq);
    expect((await alice.getMessage(ch.id, first.message.seq)).deleted_at).not.toBeNull();

    await carol.markRead(ch.id);
    expect((await carol.getChannel(ch.id)).unread_count).toBe(0);
  });

  it('syncs, blocks, and answers presence', async () => {
    const id = await general(alice);
    const before = (await alice.getChannel(id)).last_seq;
    await bob.sendMessage(id, { text: 'sync me' });
    const synced = await alice.sync({ channels: { [id]: before } });
    expect(synced.channels[id].messages.map((m) => m.text)).toEqual(['sync me']);
    expect(synced.changes.added.length).toBeGreaterThan(0);
    expect(typeof synced.cursor).toBe('string');

    await carol.blockUser('bob');
    expect((await carol.listBlocks()).map((b) => b.user_id)).toEqual(['bob']);
    await expect(bob.ensureDm('carol')).rejects.toMatchObject({ status: 403 });
    await carol.unblockUser('bob');

    expect((await alice.getPresence(['bob', 'nobody'])).map((p) => p.user_id)).toEqual(['bob']);
    expect(Array.isArray(await alice.onlineMembers(id))).toBe(true);
  });

  it('logs out and refreshes with rotation and replay detection', async () => {
    const anon = new ParleyClient({ baseUrl: server.baseUrl });
    const pair = await anon.demoSession('carol');
    const next = await anon.refresh(pair.refresh_token);
    expect(next.refresh_token).not.toBe(pair.refresh_token);
    await expect(anon.refresh(pair.refresh_token)).rejects.toMatchObject({ status: 401, code: 'refresh_token_reused' });
    const other = await anon.demoSession('carol');
    await anon.logout(other.refresh_token);
    await expect(anon.refresh(other.refresh_token)).rejects.toMatchObject({ status: 401 });
  });
});

describe('ParleyServer (app credentials) and ParleyAdmin (super-admin key)', () => {
  it('mints tokens for a new user, deactivates, reactivates and revokes', async () => {
    const app = new ParleyServer({ baseUrl: server.baseUrl, apiKey: server.demo().api_key, apiSecret: server.demo().api_secret });
    const pair = await app.mintToken({ user_id: 'dave', name: 'Dave' });
    expect(pair.user).toMatchObject({ id: 'dave', name: 'Dave' });
    const dave = new ParleyClient({ baseUrl: server.baseUrl, token: pair.access_token });
    expect((await dave.me()).id).toBe('dave');
    expect((await app.deactivateUser('dave')).deactivated_at).not.toBeNull();
    expect((await app.listUsers({ include_deactivated: true, q: 'dave' })).items).toHaveLength(1);
    expect((await app.reactivateUser('dave')).deactivated_at).toBeNull();
    const fresh = await app.mintToken({ user_id: 'dave' });
    await app.revokeUserTokens('dave');
    await expect(new ParleyClient({ baseUrl: server.baseUrl, token: fresh.access_token }).me()).rejects.toMatchObject({
      status: 401,
      code: 'token_revoked',
    });
    expect((await app.getUser('alice')).id).toBe('alice');
    expect((await app.getPresence(['alice'])).length).toBe(1);

    const ch = await alice.createChannel({ type: 'group', name: 'purge' });
    const sent = await alice.sendMessage(ch.id, { text: 'secret' });
    await app.purgeMessage(ch.id, sent.message.seq);
    expect((await alice.getMessage(ch.id, sent.message.seq)).text).toBe('');
  });

  it('manages apps, keys with a confirmed rotation, and reads the audit log', async () => {
    const admin = new ParleyAdmin({ baseUrl: server.baseUrl, adminKey: server.adminKey });
    const created = await admin.createApp({ name: 'SDK test', settings: { max_message_bytes: 500 } });
    const appId = created.app.id;
    expect((await admin.getApp(appId)).settings.max_message_bytes).toBe(500);
    expect((await admin.updateApp(appId, { name: 'SDK test 2' })).name).toBe('SDK test 2');
    expect((await admin.listApps()).items.map((a) => a.id)).toContain(appId);
    const extra = await admin.createKey(appId);
    expect((await admin.listKeys(appId)).map((k) => k.key)).toEqual(expect.arrayContaining([created.api_key, extra.key.key]));
    const { confirm_token } = await admin.requestKeyRotation(appId, created.api_key);
    const rotated = await admin.confirmKeyRotation(appId, created.api_key, confirm_token);
    await expect(admin.confirmKeyRotation(appId, created.api_key, confirm_token)).rejects.toMatchObject({ status: 410, code: 'gone' });
    const app = new ParleyServer({ baseUrl: server.baseUrl, apiKey: rotated.key.key, apiSecret: rotated.api_secret });
    expect((await app.mintToken({ user_id: 'zed' })).user.id).toBe('zed');
    await admin.revokeKey(appId, extra.key.key);
    const audit = await admin.audit({ app_id: appId });
    expect(audit.items.map((e) => e.action)).toEqual(expect.arrayContaining(['app.create', 'key.rotate.confirm', 'key.revoke']));
    await admin.deleteApp(appId);
    await expect(admin.getApp(appId)).rejects.toMatchObject({ status: 404 });
    await expect(new ParleyAdmin({ baseUrl: server.baseUrl, adminKey: 'wrong' }).listApps()).rejects.toMatchObject({ status: 401 });
  });
});
