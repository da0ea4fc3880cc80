// One signed-in session of the app: the SDK client and the stores the views read.
import {
  ChannelListStore,
  MemberListStore,
  MessageListStore,
  PresenceStore,
  SearchStore,
  Store,
  TypingStore,
  type Channel,
  type ParleyClient,
  type User,
} from '@parley/client';
import { useSyncExternalStore } from 'react';

/** Users by id, fetched once each. */
export class UserDirectory extends Store<{ users: Record<string, User> }> {
  private asked = new Set<string>();

  constructor(private readonly client: ParleyClient) {
    super({ users: {} });
  }

  async loadAll(): Promise<void> {
    const users: User[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.client.listUsers({ limit: 200, cursor });
      users.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor && users.length < 1000);
    this.add(users);
  }

  ensure(ids: string[]): void {
    for (const id of ids) {
      if (this.state.users[id] || this.asked.has(id)) continue;
      this.asked.add(id);
      this.client.getUser(id).then((u) => this.add([u]), () => undefined);
    }
  }

  name(id: string): string {
    return this.state.users[id]?.name || id;
  }

  /** A bot user (docs/bots.md); false while the user is not loaded. */
  isBot(id: string): boolean {
    return this.state.users[id]?.bot === true;
  }

  /** Takes a user the app changed (e.g. its own profile). */
  upsert(user: User): void {
    this.add([user]);
  }

  private add(users: User[]): void {
    const next = { ...this.state.users };
    users.forEach((u) => (next[u.id] = u));
    this.setState({ users: next });
  }
}

export class Chat {
  readonly channels: ChannelListStore;
  readonly presence: PresenceStore;
  readonly typing: TypingStore;
  readonly users: UserDirectory;
  /** The message search of the results panel (kept while the panel is closed). */
  readonly search: SearchStore;
  private readonly messageStores = new Map<string, MessageListStore>();
  private readonly memberStores = new Map<string, MemberListStore>();
  private readonly offs: (() => void)[] = [];
  private disposed = false;

  constructor(
    readonly client: ParleyClient,
    readonly me: string,
    onAuthLost: () => void,
  ) {
    this.channels = new ChannelListStore(client);
    this.presence = new PresenceStore(client);
    this.typing = new TypingStore(client);
    this.users = new UserDirectory(client);
    this.search = new SearchStore(client, { pageSize: 20 });
    this.offs.push(
      client.realtime.on('state', (s) => {
        if (s === 'closed' && !this.disposed) onAuthLost();
      }),
      this.channels.subscribe(() => this.watchDmPartners()),
    );
  }

  async start(): Promise<void> {
    void this.client.connect().catch(() => undefined);
    void this.presence.watch([this.me]);
    void this.users.loadAll().catch(() => undefined);
    await this.channels.load();
  }

  messagesFor(channelId: string): MessageListStore {
    let s = this.messageStores.get(channelId);
    if (!s) this.messageStores.set(channelId, (s = new MessageListStore(this.client, channelId, { pageSize: 30 })));
    return s;
  }

  membersFor(channelId: string): MemberListStore {
    let s = this.memberStores.get(channelId);
    if (!s) {
      this.memberStores.set(channelId, (s = new MemberListStore(this.client, channelId)));
      void s.load();
    }
    return s;
  }

  /**
   * The name to show for a channel: the other person for a DM. Prefers the list's copy
   * (search answers may lack a DM's `dm_user_ids`).
   */
  channelName(c: Channel | undefined): string {
    if (!c) return '';
    if (c.type === 'dm' && !c.dm_user_ids) c = this.channels.getSnapshot().channels.find((x) => x.id === c!.id) ?? c;
    if (c.type === 'dm') {
      const other = dmPartner(c, this.me);
      return other ? this.users.name(other) : c.name || 'Direct message';
    }
    return c.name;
  }

  dispose(): void {
    this.disposed = true;
    this.offs.forEach((f) => f());
    this.messageStores.forEach((s) => s.dispose());
    this.memberStores.forEach((s) => s.dispose());
    [this.channels, this.presence, this.typing, this.search].forEach((s) => s.dispose());
    this.client.close();
  }

  private watchDmPartners(): void {
    const partners = this.channels
      .getSnapshot()
      .channels.map((c) => (c.type === 'dm' ? dmPartner(c, this.me) : undefined))
      .filter((id): id is string => !!id);
    if (partners.length) {
      this.users.ensure(partners);
      void this.presence.watch(partners);
    }
  }
}

export function dmPartner(c: Channel, me: string): string | undefined {
  return c.dm_user_ids?.find((u) => u !== me);
}

/** Subscribes a component to an SDK store. */
export function useStore<S>(store: { subscribe(l: () => void): () => void; getSnapshot(): S }): S {
  return useSyncExternalStore(store.subscribe, store.getSnapshot);
}
