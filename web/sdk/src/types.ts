// Wire shapes of the Parley HTTP API (docs/api.md) and realtime protocol (docs/protocol.md).
// Timestamps are RFC 3339 UTC strings with milliseconds.
import type { WebhookEventType, WebhookPayload } from './events.js';

export type Timestamp = string;
export type JsonObject = { [key: string]: unknown };

/** A cursor-paged list: pass `next_cursor` back as `cursor` for the next page. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface PageQuery {
  limit?: number;
  cursor?: string;
}

// ---- Users and auth ---------------------------------------------------------------------------

export interface User {
  id: string;
  name: string;
  image_url: string;
  custom: JsonObject;
  created_at: Timestamp;
  updated_at: Timestamp;
  deactivated_at: Timestamp | null;
  /** A user a program speaks for (docs/bots.md); only the app sets it, when minting a token. */
  bot: boolean;
}

export interface TokenPair {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  expires_at: Timestamp;
  refresh_token: string;
  refresh_expires_at: Timestamp;
  user: User;
}

export interface ProfileUpdate {
  name?: string;
  image_url?: string;
  custom?: JsonObject;
  /** An image the caller uploaded with purpose `avatar`: `image_url` becomes its stable URL (`setAvatar`). */
  image_file_id?: string;
}

export interface MintTokenRequest extends ProfileUpdate {
  user_id: string;
  ttl_seconds?: number;
  /** Marks (true) or unmarks (false) the user as a bot; absent keeps what it was. */
  bot?: boolean;
}

export interface UserQuery extends PageQuery {
  /** Prefix of the id or name, case-insensitive. */
  q?: string;
}

// ---- Tenancy (admin) --------------------------------------------------------------------------

export interface AppSettings {
  max_message_bytes?: number;
  max_channel_members?: number;
  retention_days?: number;
  rate_limit_user_per_sec?: number;
  rate_limit_user_burst?: number;
  /** URLs in messages get link previews (default true). */
  link_previews?: boolean;
}

export interface App {
  id: string;
  name: string;
  settings: AppSettings;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ApiKey {
  key: string;
  app_id: string;
  created_at: Timestamp;
  revoked_at: Timestamp | null;
}

export interface AuditEntry {
  id: number;
  at: Timestamp;
  /** `system`: Parley itself (e.g. a webhook endpoint disabled after failed deliveries). */
  actor: 'admin' | 'cli' | 'system';
  action:
    | 'app.create'
    | 'app.update'
    | 'app.delete'
    | 'key.create'
    | 'key.rotate.request'
    | 'key.rotate.confirm'
    | 'key.revoke'
    | 'job.enqueue'
    | 'job.retry'
    | 'job.delete'
    | 'job.purge_dead'
    | 'job_schedule.put'
    | 'job_schedule.delete'
    | 'webhook.endpoint.disabled';
  app_id: string | null;
  target: string | null;
  details: JsonObject;
  request_id: string | null;
}

// ---- Channels ---------------------------------------------------------------------------------

export type ChannelType = 'dm' | 'group' | 'public';
export type Role = 'owner' | 'admin' | 'moderator' | 'member';

export interface Membership {
  user_id: string;
  role: Role;
  joined_at: Timestamp;
  last_read_seq: number;
  muted: boolean;
  starred: boolean;
  hidden: boolean;
}

export interface Channel {
  id: string;
  type: ChannelType;
  name: string;
  topic: string;
  image_url: string;
  custom: JsonObject;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  archived_at: Timestamp | null;
  last_seq: number;
  last_message_at: Timestamp | null;
  member_count: number;
  /** The newest message, its text cut to 200 characters. Absent from public listings. */
  last_message?: Message | null;
  /** The caller's membership; null when the caller is not a member. */
  membership?: Membership | null;
  unread_count?: number;
  unread_mentions?: number;
  /** For a DM: both users. */
  dm_user_ids?: string[];
}

export interface CreateChannelRequest {
  type: 'group' | 'public';
  name: string;
  topic?: string;
  image_url?: string;
  custom?: JsonObject;
  members?: string[];
}

export interface UpdateChannelRequest {
  name?: string;
  topic?: string;
  image_url?: string;
  custom?: JsonObject;
  /** An image the caller uploaded with purpose `channel_image` (`setChannelImage`). */
  image_file_id?: string;
}

export interface ChannelQuery extends PageQuery {
  type?: ChannelType;
  include_hidden?: boolean;
}

export interface PublicChannelQuery extends PageQuery {
  /** Name prefix. */
  q?: string;
}

export interface UnreadTotals {
  unread_count: number;
  unread_mentions: number;
  channels_with_unread: number;
}

export interface MembershipFlags {
  muted?: boolean;
  starred?: boolean;
  hidden?: boolean;
}

export interface Block {
  user_id: string;
  created_at: Timestamp;
}

// ---- Messages ---------------------------------------------------------------------------------

/**
 * What a page linked from a message says about itself (OpenGraph, Twitter-card, `<title>`,
 * oEmbed), read by the server after the message was sent. Fields the page did not give are
 * absent. Plain text from a third party: show it as text, never as HTML.
 */
export interface LinkPreview {
  /** The URL as written in the message. */
  url: string;
  title?: string;
  description?: string;
  site_name?: string;
  /** Absolute http(s) URL of the page's image. */
  image_url?: string;
}

export interface Message {
  channel_id: string;
  seq: number;
  user_id: string;
  text: string;
  /** Set when `text` was cut (previews). */
  truncated?: boolean;
  /** Free-form objects, and `FileAttachment`s (`type: "file"`, see `fileAttachments`). */
  attachments: JsonObject[];
  parent_seq: number | null;
  client_msg_id: string | null;
  mentions: string[];
  created_at: Timestamp;
  edited_at: Timestamp | null;
  deleted_at: Timestamp | null;
  reply_count: number;
  last_reply_at: Timestamp | null;
  thread_participants: string[];
  reactions: Record<string, number>;
  /** The caller's reactions; always empty in realtime events. */
  own_reactions: string[];
  pinned: boolean;
  /**
   * Previews of the first URLs in `text`, in their order; empty until the server fetched them,
   * which a `message.updated` event then announces (also after an edit that changes the URLs).
   * Always empty on a deleted message.
   */
  link_previews: LinkPreview[];
}

export interface SendMessageRequest {
  /** May be empty when `attachments` are given. */
  text: string;
  /** ≤ 10 in all: free-form objects and uploaded files as `{file_id}` (`FileAttachmentRef`). */
  attachments?: (JsonObject | FileAttachmentRef)[];
  parent_seq?: number;
  client_msg_id?: string;
  mentions?: string[];
}

export interface SendMessageResult {
  message: Message;
  duplicate: boolean;
}

export interface EditMessageRequest {
  text: string;
  /** Replaces the attachments: keep a file with `{file_id}`, leave it out to drop it. */
  attachments?: (JsonObject | FileAttachmentRef)[];
}

export interface MessageQuery {
  after_seq?: number;
  before_seq?: number;
  limit?: number;
  /** Cut `text` to 200 characters and set `truncated`. */
  preview?: boolean;
}

export interface ReplyQuery {
  after_seq?: number;
  limit?: number;
}

export interface MessagePage {
  items: Message[];
  has_more: boolean;
}

export interface MentionQuery extends PageQuery {
  unread_only?: boolean;
}

export interface ReadResult {
  last_read_seq: number;
  unread_count: number;
}

// ---- Presence and sync ------------------------------------------------------------------------

export interface Presence {
  user_id: string;
  online: boolean;
  last_seen_at: Timestamp | null;
}

export interface SyncRequest {
  channels: Record<string, number>;
  since?: string;
  limit_per_channel?: number;
}

export interface SyncChannel {
  /** Messages above the given seq, ascending; page on with `after_seq` when `has_more`. */
  messages: Message[];
  has_more: boolean;
}

export interface SyncResponse {
  channels: Record<string, SyncChannel>;
  changes: { added: Channel[]; updated: Channel[]; removed: string[] };
  cursor: string;
}

// ---- Search -------------------------------------------------------------------------------------

export type SearchSort = 'relevance' | 'newest';
export type SearchHas = 'attachment' | 'link';

/**
 * `GET /v1/search/messages`. `q`: words, `"an exact phrase"`, `-word` / `-"phrase"` to exclude;
 * the last word matches as a prefix unless `q` ends with a space, `word*` forces a prefix. At
 * most 1000 bytes; a query of exclusions only is a 400. Lists go as comma lists (≤ 100 ids).
 */
export interface SearchParams {
  q: string;
  /** Search only in these channels. */
  channel_id?: string | string[];
  /** Only messages by these users. */
  from?: string | string[];
  /** Created at or after (RFC 3339, or a Date). */
  after?: string | Date;
  /** Created before (RFC 3339, or a Date). */
  before?: string | Date;
  has?: SearchHas[];
  /** true: thread replies only; false: top-level messages only; absent: both. */
  in_thread?: boolean;
  mentions_me?: boolean;
  pinned?: boolean;
  saved?: boolean;
  /** Also public channels the caller has not joined (default: only the caller's channels). */
  include_public?: boolean;
  /** Default `relevance`. */
  sort?: SearchSort;
  /** 1..50, default 20. */
  limit?: number;
  /** `next_cursor` of the previous page. */
  cursor?: string;
  /** false: keep this query out of the recent queries (default: a first page is remembered). */
  remember?: boolean;
}

/** A match inside `SearchSnippet.text`: UTF-16 offsets, so `text.slice(start, end)` is the match. */
export interface SearchHighlight {
  start: number;
  end: number;
}

/** Part of a message's text around its matches. Plain text: render it with `snippetSegments`, never as HTML. */
export interface SearchSnippet {
  text: string;
  /** Sorted, non-overlapping. */
  highlights: SearchHighlight[];
}

/** The channel of a hit, enough to name it. */
export interface SearchHitChannel {
  id: string;
  type: ChannelType;
  name: string;
}

export interface SearchHit {
  message: Message;
  channel: SearchHitChannel;
  snippet: SearchSnippet;
  score: number;
}

export interface SearchTotal {
  count: number;
  /** false when the count was capped: `count` is then a lower bound ("1000+"). */
  exact: boolean;
}

export interface SearchPage {
  items: SearchHit[];
  total: SearchTotal;
  next_cursor: string | null;
}

export interface SearchChannelsOptions {
  /** 1..50, default 20. */
  limit?: number;
}

/** `GET /v1/search/channels`: channels whose name or topic words start with the query's words. */
export interface ChannelSearchResult {
  /** The caller's channels. */
  mine: Channel[];
  /** Public channels the caller has not joined. */
  public: Channel[];
}

export interface SearchSuggestOptions {
  /** 1..20, default 5 (per kind). */
  limit?: number;
}

/** A query the caller searched for (each message search records one). */
export interface RecentSearch {
  query: string;
  at: Timestamp;
}

/** `GET /v1/search/suggest`: completions for a search box. */
export interface SearchSuggestions {
  /** Users whose name or id starts with the query. */
  users: User[];
  /** The caller's channels whose name starts with the query. */
  channels: Channel[];
  /** The caller's recent queries that start with the query, newest first. */
  recent: RecentSearch[];
}

// ---- Outgoing webhooks (docs/webhooks.md) -------------------------------------------------------

/** What an endpoint subscribes to: event type names, or `'*'` for all of them. */
export type WebhookEventFilter = WebhookEventType | '*' | (string & {});

/** An app's webhook endpoint. Its signing secret is answered only on create and rotation. */
export interface Webhook {
  id: string;
  url: string;
  description: string;
  event_types: WebhookEventFilter[];
  enabled: boolean;
  /** Why Parley disabled it (after `--webhooks-disable-after` failed deliveries in a row). */
  disabled_reason: string | null;
  failures_in_a_row: number;
  /**
   * The bot user this endpoint acts for: it then gets only the events of the channels the bot
   * is a member of, and the user events addressed to the bot. Null for an ordinary endpoint.
   * Fixed at create (docs/bots.md).
   */
  bot_user_id: string | null;
  /** Until when the secret before the last rotation still signs too; null when it does not. */
  previous_secret_expires_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** The answer of create and rotate-secret: the endpoint with its current secret (`whsec_…`). */
export interface WebhookWithSecret extends Webhook {
  secret: string;
}

export interface CreateWebhookRequest {
  /** An `http://` or `https://` URL. */
  url: string;
  /** Event type names, or `['*']` for all (`listWebhookEventTypes()`). */
  event_types: WebhookEventFilter[];
  description?: string;
  /** Default true. */
  enabled?: boolean;
  /** Act for this bot user of the app (422 `validation_failed` when it is not one); cannot be changed later. */
  bot_user_id?: string;
}

/** Any of the create fields but `bot_user_id`; enabling a disabled endpoint clears its failure count. */
export interface UpdateWebhookRequest {
  url?: string;
  event_types?: WebhookEventFilter[];
  description?: string;
  enabled?: boolean;
}

export interface RotateWebhookSecretRequest {
  /** How long the old secret keeps signing too: 0..604800 seconds, default 86400; 0 ends it at once. */
  overlap_seconds?: number;
}

export type WebhookDeliveryState = 'pending' | 'succeeded' | 'failed';

/** One event for one endpoint, with its latest attempt. */
export interface WebhookDelivery {
  id: number;
  endpoint_id: string;
  /** The `webhook-id` header (`msg_…`), the same on every attempt. */
  message_id: string;
  event_type: WebhookEventType | 'webhook.test';
  state: WebhookDeliveryState;
  attempts: number;
  /** The last attempt's HTTP status; null when none answered. */
  status_code: number | null;
  latency_ms: number | null;
  error: string | null;
  /** The first 1 KiB of the last answer's body. */
  response_excerpt: string | null;
  /** The JSON body sent. */
  payload: WebhookPayload;
  created_at: Timestamp;
  updated_at: Timestamp;
}

// ---- The before-send hook (docs/bots.md, "Before-send hook") ---------------------------------

/** What Parley does with a message when the hook fails (timeout, refused, non-2xx, a bad answer). */
export type BeforeSendFailurePolicy = 'allow' | 'reject';

/** The app's before-send hook: the URL Parley calls with every message before storing it. */
export interface BeforeSendHook {
  url: string;
  /** How long Parley waits for an answer: 50..5000 ms. */
  timeout_ms: number;
  /** `allow`: a failed call stores the message as sent (fail open); `reject`: the sender gets 503 `unavailable`. */
  on_failure: BeforeSendFailurePolicy;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** The answer of put and rotate-secret: the hook with its signing secret (`whsec_…`). */
export interface BeforeSendHookWithSecret extends BeforeSendHook {
  secret: string;
}

/** Creates the hook (`url` required then) or changes the given fields. */
export interface PutBeforeSendHookRequest {
  /** An `http://` or `https://` URL, under the server's outbound address policy (`--outbound-allow`). */
  url?: string;
  /** 50..5000, default 500. */
  timeout_ms?: number;
  /** Default `allow`. */
  on_failure?: BeforeSendFailurePolicy;
}

/** The message a hook judges: what the sender sent, before anything is stored. */
export interface BeforeSendMessage {
  text: string;
  channel_id: string;
  user_id: string;
  attachments: JsonObject[];
  parent_seq: number | null;
  client_msg_id: string | null;
}

/** The body of a hook call, signed like a webhook: check it with `verifyWebhook<BeforeSendPayload>`. */
export interface BeforeSendPayload {
  type: 'message.before_send';
  timestamp: Timestamp;
  app_id: string;
  data: { message: BeforeSendMessage };
}

/**
 * The hook's answer, a 2xx JSON body (an empty 204 allows too). `reject`: nothing is stored and
 * the sender gets 403 `forbidden` with `details.reason`; `rewrite`: stored with this text instead.
 */
export type BeforeSendAnswer =
  | { action: 'allow' }
  | { action: 'reject'; reason?: string }
  | { action: 'rewrite'; text: string };

// ---- Files (docs/files.md) ------------------------------------------------------------------

export type FilePurpose = 'attachment' | 'avatar' | 'channel_image';
export type FileState = 'pending' | 'ready';

/** What Parley read from an image file. */
export interface FileImage {
  width: number;
  height: number;
  /** A tiny blurred stand-in (blurhash.org); `blurhashColor` gives its average colour. */
  blurhash: string | null;
}

/** A WebP thumbnail: `64`, `256` or `1024` (its longest side), never larger than the original. */
export interface FileVariant {
  name: '64' | '256' | '1024' | (string & {});
  content_type: string;
  width: number;
  height: number;
  size: number;
  /** Signed and short-lived like the file's `url`. */
  url: string | null;
}

/** A stored file. URLs are signed and expire at `url_expires_at` (avatars and channel images: stable, no expiry). */
export interface ParleyFile {
  id: string;
  purpose: FilePurpose;
  name: string;
  /** Sniffed from the bytes, not the client's claim. */
  content_type: string;
  size: number;
  /** Hex SHA-256 of the bytes; null while `pending`. */
  sha256: string | null;
  state: FileState;
  uploader_id: string;
  channel_id: string | null;
  created_at: Timestamp;
  image: FileImage | null;
  variants: FileVariant[];
  /** null while `pending`. */
  url: string | null;
  url_expires_at: Timestamp | null;
}

/** How a message refers to an uploaded file when sent or edited. */
export interface FileAttachmentRef {
  file_id: string;
}

/** A file as a stored message holds it: metadata only; its URLs come from `getFiles`. */
export interface FileAttachment {
  type: 'file';
  file_id: string;
  name: string;
  content_type: string;
  size: number;
  image: FileImage | null;
  variants: { name: string; width: number; height: number }[];
}

export interface CreateUploadRequest {
  name: string;
  /** Exactly the bytes that will be PUT. */
  size: number;
  content_type?: string;
  purpose?: FilePurpose;
}

/** Where and how to PUT a direct upload's bytes (no Parley token: the URL is signed). */
export interface DirectUpload {
  method: 'PUT';
  url: string;
  headers: Record<string, string>;
  expires_at: Timestamp;
}

export interface CreateUploadResult {
  /** `pending` until `completeUpload`. */
  file: ParleyFile;
  upload: DirectUpload;
}

// ---- Health -----------------------------------------------------------------------------------

export interface Health {
  status: string;
  [key: string]: unknown;
}
