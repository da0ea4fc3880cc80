import { ParleyError } from './errors.js';
import { FileCache, type FileCacheOptions } from './files.js';
import { Transport, seg, type AuthStrategy, type QueryValue, type TransportOptions, type UploadProgress } from './http.js';
import { Realtime, type ReconnectOptions, type WebSocketCtor } from './realtime.js';
import { TokenManager, jwtClaims, type TokenProvider } from './tokens.js';
import type {
  Block,
  Channel,
  ChannelQuery,
  ChannelSearchResult,
  CreateChannelRequest,
  CreateUploadRequest,
  CreateUploadResult,
  FilePurpose,
  EditMessageRequest,
  Health,
  Membership,
  MembershipFlags,
  MentionQuery,
  Message,
  MessagePage,
  MessageQuery,
  Page,
  PageQuery,
  ParleyFile,
  Presence,
  ProfileUpdate,
  PublicChannelQuery,
  ReadResult,
  ReplyQuery,
  Role,
  SearchChannelsOptions,
  SearchPage,
  SearchParams,
  SearchSuggestOptions,
  SearchSuggestions,
  SendMessageRequest,
  SendMessageResult,
  SyncRequest,
  SyncResponse,
  TokenPair,
  UnreadTotals,
  UpdateChannelRequest,
  User,
  UserQuery,
} from './types.js';

export interface ParleyClientOptions extends TransportOptions {
  /** A user access token to start with. */
  token?: string;
  /** Gets a fresh token: at start without `token`, on `401 token_expired`, before reconnects and expiry. */
  tokenProvider?: TokenProvider;
  /** WebSocket constructor: the global one by default (browsers); in Node 20 pass `WebSocket` from `ws`. */
  WebSocket?: WebSocketCtor;
  /** Realtime endpoint; default: `baseUrl` with ws(s) + `/v1/ws` (the page's origin when baseUrl is empty). */
  wsUrl?: string;
  reconnect?: ReconnectOptions;
  commandTimeoutMs?: number;
  refreshBeforeExpiryMs?: number;
  pingIntervalMs?: number;
  /** The cache of files and their signed URLs behind `getFiles`. */
  fileCache?: FileCacheOptions;
}

/** Options of `uploadFile` and `uploadFileDirect`. */
export interface UploadOptions {
  /** Default `attachment`. */
  purpose?: FilePurpose;
  /** The file's name (default: the File's `name`, or `file` for a Blob). */
  name?: string;
  /** Upload progress of the bytes (the server's processing after the last byte is not included). */
  onProgress?: (p: UploadProgress) => void;
  /** Cancels the upload: the call then fails with code `aborted`. */
  signal?: AbortSignal;
}

/**
 * Parley for one user: typed calls for every user-token route of docs/api.md, and a realtime
 * connection (`client.realtime`, started by `connect()`). Errors are `ParleyError`s.
 */
export class ParleyClient {
  readonly tokens: TokenManager;
  readonly http: Transport;
  private readonly opts: ParleyClientOptions;
  private rt: Realtime | undefined;
  /** Files by id with fresh URLs (see FileCache). */
  readonly files: FileCache;

  constructor(opts: ParleyClientOptions = {}) {
    this.opts = opts;
    this.tokens = new TokenManager(opts.token, opts.tokenProvider);
    const tokens = this.tokens;
    const auth: AuthStrategy = {
      header: async () => `Bearer ${await tokens.get()}`,
      shouldRetry: async (err) => {
        if (err.code !== 'token_expired' || !tokens.canRefresh) return false;
        await tokens.refresh('expiring');
        return true;
      },
    };
    this.http = new Transport(opts, auth);
    this.files = new FileCache((ids) => this.fetchFiles(ids), opts.fileCache);
  }

  /** The user the current token belongs to (its `sub`), when it is a readable JWT. */
  get userId(): string | undefined {
    return this.rt?.helloFrame?.user_id ?? jwtSubject(this.tokens.current);
  }

  /** The realtime connection (created on first use). */
  get realtime(): Realtime {
    if (!this.rt) {
      const WS = this.opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
      if (!WS) {
        throw new ParleyError({
          status: 0,
          code: 'invalid_request',
          message: "no WebSocket available: pass the WebSocket option (in Node: import { WebSocket } from 'ws')",
        });
      }
      this.rt = new Realtime({
        url: this.opts.wsUrl ?? wsUrlFor(this.http.baseUrl),
        tokens: this.tokens,
        WebSocket: WS,
        rest: { listMessages: (id, q) => this.listMessages(id, q) },
        reconnect: this.opts.reconnect,
        commandTimeoutMs: this.opts.commandTimeoutMs,
        refreshBeforeExpiryMs: this.opts.refreshBeforeExpiryMs,
        pingIntervalMs: this.opts.pingIntervalMs,
      });
    }
    return this.rt;
  }

  /** Opens the realtime connection (see Realtime.connect). */
  connect(): Promise<void> {
    return this.realtime.connect();
  }

  /** Closes the realtime connection for good. */
  close(): void {
    this.rt?.dispose();
  }

  // ---- health -----------------------------------------------------------------------------

  health(): Promise<Health> {
    return this.http.request('GET', '/health', { auth: null });
  }

  // ---- auth (no access token needed) -------------------------------------------------------

  /** Rotates a refresh token: a new pair; the old refresh token is spent. */
  refresh(refreshToken: string): Promise<TokenPair> {
    return this.http.request('POST', '/v1/auth/refresh', { auth: null, body: { refresh_token: refreshToken } });
  }

  /** Revokes the refresh token's session. */
  logout(refreshToken: string): Promise<void> {
    return this.http.request('POST', '/v1/auth/logout', { auth: null, body: { refresh_token: refreshToken } });
  }

  /** Development only (server runs with --demo): a token pair for alice, bob or carol. */
  demoSession(userId: string): Promise<TokenPair> {
    return this.http.request('POST', '/v1/demo/session', { auth: null, body: { user_id: userId } });
  }

  // ---- users ------------------------------------------------------------------------------

  async me(): Promise<User> {
    return (await this.http.request<{ user: User }>('GET', '/v1/users/me')).user;
  }

  async updateMe(update: ProfileUpdate): Promise<User> {
    return (await this.http.request<{ user: User }>('PATCH', '/v1/users/me', { body: update })).user;
  }

  async getUser(userId: string): Promise<User> {
    return (await this.http.request<{ user: User }>('GET', `/v1/users/${seg(userId)}`)).user;
  }

  listUsers(query: UserQuery = {}): Promise<Page<User>> {
    return this.http.request('GET', '/v1/users', { query: { ...query } });
  }

  // ---- blocks -----------------------------------------------------------------------------

  blockUser(userId: string): Promise<void> {
    return this.http.request('PUT', `/v1/users/me/blocks/${seg(userId)}`);
  }

  unblockUser(userId: string): Promise<void> {
    return this.http.request('DELETE', `/v1/users/me/blocks/${seg(userId)}`);
  }

  async listBlocks(): Promise<Block[]> {
    return (await this.http.request<{ items: Block[] }>('GET', '/v1/users/me/blocks')).items;
  }

  // ---- channels ---------------------------------------------------------------------------

  async createChannel(req: CreateChannelRequest): Promise<Channel> {
    return (await this.http.request<{ channel: Channel }>('POST', '/v1/channels', { body: req })).channel;
  }

  /** The DM with a user, created on first use (`created` tells which). */
  ensureDm(userId: string): Promise<{ channel: Channel; created: boolean }> {
    return this.http.request('POST', '/v1/channels/dm', { body: { user_id: userId } });
  }

  /** My channels, most recent activity first. */
  listChannels(query: ChannelQuery = {}): Promise<Page<Channel>> {
    return this.http.request('GET', '/v1/channels', { query: { ...query } });
  }

  listPublicChannels(query: PublicChannelQuery = {}): Promise<Page<Channel>> {
    return this.http.request('GET', '/v1/channels/public', { query: { ...query } });
  }

  unreadTotals(): Promise<UnreadTotals> {
    return this.http.request('GET', '/v1/channels/unread');
  }

  async getChannel(channelId: string): Promise<Channel> {
    return (await this.http.request<{ channel: Channel }>('GET', `/v1/channels/${seg(channelId)}`)).channel;
  }

  async updateChannel(channelId: string, update: UpdateChannelRequest): Promise<Channel> {
    return (await this.http.request<{ channel: Channel }>('PATCH', `/v1/channels/${seg(channelId)}`, { body: update })).channel;
  }

  async archiveChannel(channelId: string): Promise<Channel> {
    return (await this.http.request<{ channel: Channel }>('POST', `/v1/channels/${seg(channelId)}/archive`)).channel;
  }

  async unarchiveChannel(channelId: string): Promise<Channel> {
    return (await this.http.request<{ channel: Channel }>('POST', `/v1/channels/${seg(channelId)}/unarchive`)).channel;
  }

  deleteChannel(channelId: string): Promise<void> {
    return this.http.request('DELETE', `/v1/channels/${seg(channelId)}`);
  }

  // ---- members ----------------------------------------------------------------------------

  listMembers(channelId: string, query: PageQuery = {}): Promise<Page<Membership>> {
    return this.http.request('GET', `/v1/channels/${seg(channelId)}/members`, { query: { ...query } });
  }

  async addMembers(channelId: string, userIds: string[], role?: Exclude<Role, 'owner'>): Promise<string[]> {
    const body = role ? { user_ids: userIds, role } : { user_ids: userIds };
    return (await this.http.request<{ added: string[] }>('POST', `/v1/channels/${seg(channelId)}/members`, { body })).added;
  }

  removeMember(channelId: string, userId: string): Promise<void> {
    return this.http.request('DELETE', `/v1/channels/${seg(channelId)}/members/${seg(userId)}`);
  }

  async setMemberRole(channelId: string, userId: string, role: Exclude<Role, 'owner'>): Promise<Membership> {
    const path = `/v1/channels/${seg(channelId)}/members/${seg(userId)}`;
    return (await this.http.request<{ member: Membership }>('PATCH', path, { body: { role } })).member;
  }

  async joinChannel(channelId: string): Promise<Membership> {
    return (await this.http.request<{ member: Membership }>('POST', `/v1/channels/${seg(channelId)}/join`)).member;
  }

  leaveChannel(channelId: string): Promise<void> {
    return this.http.request('POST', `/v1/channels/${seg(channelId)}/leave`);
  }

  /** The caller's own flags: muted, starred, hidden. */
  async updateMembership(channelId: string, flags: MembershipFlags): Promise<Membership> {
    const path = `/v1/channels/${seg(channelId)}/membership`;
    return (await this.http.request<{ member: Membership }>('PATCH', path, { body: flags })).member;
  }

  // ---- messages ---------------------------------------------------------------------------

  sendMessage(channelId: string, req: SendMessageRequest): Promise<SendMessageResult> {
    return this.http.request('POST', `/v1/channels/${seg(channelId)}/messages`, { body: req });
  }

  /** Ascending by seq; without after_seq/before_seq the newest page. */
  listMessages(channelId: string, query: MessageQuery = {}): Promise<MessagePage> {
    return this.http.request('GET', `/v1/channels/${seg(channelId)}/messages`, { query: { ...query } });
  }

  async getMessage(channelId: string, seq: number): Promise<Message> {
    return (await this.http.request<{ message: Message }>('GET', msgPath(channelId, seq))).message;
  }

  async editMessage(channelId: string, seq: number, edit: EditMessageRequest): Promise<Message> {
    return (await this.http.request<{ message: Message }>('PATCH', msgPath(channelId, seq), { body: edit })).message;
  }

  /** Leaves a tombstone (`deleted_at` set, text and attachments empty). */
  deleteMessage(channelId: string, seq: number): Promise<void> {
    return this.http.request('DELETE', msgPath(channelId, seq));
  }

  listReplies(channelId: string, parentSeq: number, query: ReplyQuery = {}): Promise<MessagePage> {
    return this.http.request('GET', `${msgPath(channelId, parentSeq)}/replies`, { query: { ...query } });
  }

  async addReaction(channelId: string, seq: number, type: string): Promise<Message> {
    const path = `${msgPath(channelId, seq)}/reactions`;
    return (await this.http.request<{ message: Message }>('POST', path, { body: { type } })).message;
  }

  async removeReaction(channelId: string, seq: number, type: string): Promise<Message> {
    const path = `${msgPath(channelId, seq)}/reactions/${seg(type)}`;
    return (await this.http.request<{ message: Message }>('DELETE', path)).message;
  }

  /** Members (not the author) whose last-read seq reaches the message. */
  async seenBy(channelId: string, seq: number): Promise<string[]> {
    return (await this.http.request<{ user_ids: string[] }>('GET', `${msgPath(channelId, seq)}/seen-by`)).user_ids;
  }

  pinMessage(channelId: string, seq: number): Promise<void> {
    return this.http.request('PUT', `/v1/channels/${seg(channelId)}/pins/${seg(seq)}`);
  }

  unpinMessage(channelId: string, seq: number): Promise<void> {
    return this.http.request('DELETE', `/v1/channels/${seg(channelId)}/pins/${seg(seq)}`);
  }

  async listPins(channelId: string): Promise<Message[]> {
    return (await this.http.request<{ items: Message[] }>('GET', `/v1/channels/${seg(channelId)}/pins`)).items;
  }

  saveMessage(channelId: string, seq: number): Promise<void> {
    return this.http.request('PUT', `/v1/saved/${seg(channelId)}/${seg(seq)}`);
  }

  unsaveMessage(channelId: string, seq: number): Promise<void> {
    return this.http.request('DELETE', `/v1/saved/${seg(channelId)}/${seg(seq)}`);
  }

  listSaved(query: PageQuery = {}): Promise<Page<Message>> {
    return this.http.request('GET', '/v1/saved', { query: { ...query } });
  }

  /** Messages that mention me, newest first (`unread_only` defaults to true on the server). */
  listMentions(query: MentionQuery = {}): Promise<Page<Message>> {
    return this.http.request('GET', '/v1/mentions', { query: { ...query } });
  }

  // ---- search -----------------------------------------------------------------------------

  /**
   * Messages matching `params.q` in the caller's channels (and unjoined public ones with
   * `include_public`), best first or newest first, a page at a time: pass `next_cursor` back as
   * `cursor`. Records the query as one of the caller's recent searches. `signal` cancels it
   * (search-as-you-type: abort the previous keystroke's request).
   */
  searchMessages(params: SearchParams, opts: { signal?: AbortSignal } = {}): Promise<SearchPage> {
    return this.http.request('GET', '/v1/search/messages', { query: searchQuery(params), signal: opts.signal });
  }

  /** Channels by name or topic word prefixes: the caller's, and public ones not joined yet. */
  searchChannels(q: string, opts: SearchChannelsOptions & { signal?: AbortSignal } = {}): Promise<ChannelSearchResult> {
    return this.http.request('GET', '/v1/search/channels', { query: { q, limit: opts.limit }, signal: opts.signal });
  }

  /** Completions for a search box: users, the caller's channels, the caller's recent queries. `q` may be empty. */
  searchSuggest(q: string, opts: SearchSuggestOptions & { signal?: AbortSignal } = {}): Promise<SearchSuggestions> {
    return this.http.request('GET', '/v1/search/suggest', { query: { q, limit: opts.limit }, signal: opts.signal });
  }

  /** Forgets the caller's recent searches. */
  clearRecentSearches(): Promise<void> {
    return this.http.request('DELETE', '/v1/search/recent');
  }

  // ---- files (docs/files.md) ----------------------------------------------------------------

  /**
   * Uploads through Parley (`POST /v1/files`, multipart): resolves with the ready file (images
   * with their thumbnails). Progress comes from XMLHttpRequest where there is one (browsers).
   */
  async uploadFile(file: Blob, opts: UploadOptions = {}): Promise<ParleyFile> {
    const form = new FormData();
    if (opts.purpose) form.append('purpose', opts.purpose);
    form.append('file', file, fileName(file, opts.name));
    const res = await this.http.request<{ file: ParleyFile }>('POST', '/v1/files', {
      rawBody: form,
      uploadSize: file.size,
      signal: opts.signal,
      onUploadProgress: opts.onProgress && ((p) => opts.onProgress!({ loaded: Math.min(p.loaded, file.size), total: file.size })),
    });
    this.files.put(res.file);
    return res.file;
  }

  /** Step 1 of a direct upload: a pending file and where to PUT its bytes (size limits are checked here). */
  createUpload(req: CreateUploadRequest): Promise<CreateUploadResult> {
    return this.http.request('POST', '/v1/files/uploads', { body: req });
  }

  /** Step 3 of a direct upload, after the PUT: the file is checked, sniffed and made ready. */
  async completeUpload(fileId: string): Promise<ParleyFile> {
    const { file } = await this.http.request<{ file: ParleyFile }>('POST', `/v1/files/${seg(fileId)}/complete`);
    this.files.put(file);
    return file;
  }

  /**
   * A direct upload in one call: `createUpload`, the PUT of the bytes to the signed URL (to the
   * bucket on S3: the bytes never pass through Parley), `completeUpload`. A cancelled or failed
   * upload is deleted (best effort; Parley also removes pending uploads after an hour).
   */
  async uploadFileDirect(file: Blob, opts: UploadOptions = {}): Promise<ParleyFile> {
    const name = fileName(file, opts.name);
    const { file: pending, upload } = await this.createUpload({
      name,
      size: file.size,
      ...(file.type ? { content_type: file.type } : {}),
      ...(opts.purpose ? { purpose: opts.purpose } : {}),
    });
    try {
      await this.http.request<void>(upload.method ?? 'PUT', upload.url, {
        auth: null,
        rawBody: file,
        headers: upload.headers,
        signal: opts.signal,
        onUploadProgress: opts.onProgress,
      });
      if (opts.signal?.aborted) throw new ParleyError({ status: 0, code: 'aborted', message: 'upload cancelled' });
      return await this.completeUpload(pending.id);
    } catch (e) {
      void this.deleteFile(pending.id).catch(() => undefined);
      throw e;
    }
  }

  /** A file with fresh URLs (from the cache while its URL is good; `fresh` asks the server). */
  async getFile(fileId: string, opts: { fresh?: boolean } = {}): Promise<ParleyFile> {
    const cached = opts.fresh ? undefined : this.files.peek(fileId);
    if (cached) return cached;
    const { file } = await this.http.request<{ file: ParleyFile }>('GET', `/v1/files/${seg(fileId)}`);
    this.files.put(file);
    return file;
  }

  /**
   * Files by id, in the order asked, those the caller may not see left out. Cached ones whose
   * URLs are still good come from the cache; the rest are fetched 100 ids a request, merged with
   * the ids other callers ask for in the same task.
   */
  getFiles(fileIds: string[]): Promise<ParleyFile[]> {
    return this.files.get(fileIds);
  }

  /** The uploader deletes a file; `409 conflict` while a message references it. */
  async deleteFile(fileId: string): Promise<void> {
    await this.http.request<void>('DELETE', `/v1/files/${seg(fileId)}`);
    this.files.forget(fileId);
  }

  /** Makes an image the caller uploaded with purpose `avatar` their picture: `image_url` is its stable URL. */
  setAvatar(fileId: string): Promise<User> {
    return this.updateMe({ image_file_id: fileId });
  }

  /** A channel's picture, from an image uploaded with purpose `channel_image` (owner/admin). */
  setChannelImage(channelId: string, fileId: string): Promise<Channel> {
    return this.updateChannel(channelId, { image_file_id: fileId });
  }

  private async fetchFiles(ids: string[]): Promise<ParleyFile[]> {
    if (ids.length === 0) return [];
    return (await this.http.request<{ files: ParleyFile[] }>('GET', '/v1/files', { query: { ids } })).files;
  }

  // ---- read state, presence, sync ----------------------------------------------------------

  /** Marks read up to `seq` (omitted: the newest). Never moves backwards. */
  markRead(channelId: string, seq?: number): Promise<ReadResult> {
    return this.http.request('POST', `/v1/channels/${seg(channelId)}/read`, { body: seq === undefined ? {} : { seq } });
  }

  async getPresence(userIds: string[]): Promise<Presence[]> {
    const res = await this.http.request<{ items: Presence[] }>('GET', '/v1/presence', { query: { user_ids: userIds } });
    return res.items;
  }

  async onlineMembers(channelId: string): Promise<string[]> {
    return (await this.http.request<{ user_ids: string[] }>('GET', `/v1/channels/${seg(channelId)}/online`)).user_ids;
  }

  sync(req: SyncRequest): Promise<SyncResponse> {
    return this.http.request('POST', '/v1/sync', { body: req });
  }
}

/** Iterates every item of a cursor-paged list: `for await (const u of paginate(c => client.listUsers({cursor: c})))`. */
export async function* paginate<T>(page: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const p = await page(cursor);
    yield* p.items;
    cursor = p.next_cursor ?? undefined;
  } while (cursor);
}

export function wsUrlFor(baseUrl: string): string {
  if (baseUrl) return `${baseUrl.replace(/^http/i, 'ws')}/v1/ws`;
  const loc = (globalThis as { location?: { protocol: string; host: string } }).location;
  if (!loc) throw new Error('@parley/client: give baseUrl (or wsUrl) outside a browser');
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/v1/ws`;
}

/**
 * The query string of a message search: lists as comma lists, dates as RFC 3339, the
 * true-only filters (`mentions_me`, `pinned`, `saved`, `include_public`) only when true,
 * `remember` only when false.
 */
export function searchQuery(p: SearchParams): Record<string, QueryValue> {
  const list = (v: string | string[] | undefined) => (v === undefined ? undefined : Array.isArray(v) ? (v.length ? v : undefined) : v);
  const time = (v: string | Date | undefined) => (v instanceof Date ? v.toISOString() : v);
  const flag = (v: boolean | undefined) => (v ? true : undefined);
  return {
    q: p.q,
    channel_id: list(p.channel_id),
    from: list(p.from),
    after: time(p.after),
    before: time(p.before),
    has: p.has?.length ? p.has : undefined,
    in_thread: p.in_thread,
    mentions_me: flag(p.mentions_me),
    pinned: flag(p.pinned),
    saved: flag(p.saved),
    include_public: flag(p.include_public),
    sort: p.sort,
    limit: p.limit,
    cursor: p.cursor,
    remember: p.remember === false ? false : undefined,
  };
}

const msgPath = (channelId: string, seq: number) => `/v1/channels/${seg(channelId)}/messages/${seg(seq)}`;

function fileName(file: Blob, name: string | undefined): string {
  return name ?? ((file as { name?: unknown }).name as string | undefined) ?? 'file';
}

function jwtSubject(token: string | undefined): string | undefined {
  const sub = jwtClaims(token)?.sub;
  return typeof sub === 'string' ? sub : undefined;
}
