import type { Channel, Membership, Message, Role, User } from './types.js';

/** The `data` of each realtime event (docs/protocol.md, "Events"). */
export interface ParleyEventMap {
  'message.new': { message: Message };
  'message.updated': { message: Message };
  'message.deleted': { message: Message };
  'thread.reply': { parent_seq: number; reply_seq: number; reply_count: number; thread_participants: string[] };
  'reaction.added': { seq: number; type: string; user_id: string; reactions: Record<string, number> };
  'reaction.removed': { seq: number; type: string; user_id: string; reactions: Record<string, number> };
  'typing.start': { user_id: string };
  'typing.stop': { user_id: string };
  'read.updated': { user_id: string; last_read_seq: number };
  'member.added': { user_ids: string[]; role: Role; added_by: string };
  'member.removed': { user_id: string; removed_by: string };
  'member.updated': { member: Membership };
  'channel.created': { channel: Channel };
  'channel.updated': { channel: Channel };
  'channel.deleted': { channel_id: string };
  'presence.changed': { user_id: string; online: boolean; last_seen_at?: string | null };
  'unread.changed': {
    unread_count: number;
    unread_mentions: number;
    channels_with_unread: number;
    channel_id: string;
    channel_unread_count: number;
  };
  /** To the user's own connections: their profile changed (e.g. in another tab). */
  'user.updated': { user: User };
  'user.deactivated': { user: User };
  'user.reactivated': { user: User };
}

export type EventName = keyof ParleyEventMap;

/** One event as delivered: `{"type":"event","event",…,"data"}` without the `type`. */
export interface ParleyEvent<E extends EventName = EventName> {
  event: E;
  channel_id?: string;
  seq?: number;
  /** Set on messages replayed by a resume (or paged over REST after `resume.too_far`). */
  replay?: boolean;
  data: ParleyEventMap[E];
}

/** Every event, discriminated by `event`. */
export type AnyParleyEvent = { [E in EventName]: ParleyEvent<E> }[EventName];

export interface HelloFrame {
  type: 'hello';
  protocol: number;
  connection_id: string;
  app_id: string;
  user_id: string;
  server_time: string;
  heartbeat_ms: number;
  resume_pending: boolean;
}

export interface ResumeTooFarFrame {
  type: 'resume.too_far';
  channel_id: string;
  from_seq: number;
  until_seq: number;
}

/** Ack payloads of the commands (docs/protocol.md, "Commands"). */
export interface AuthAck {
  user_id: string;
  expires_at: string;
}
export interface ReadMarkAck {
  channel_id: string;
  last_read_seq: number;
  unread_count: number;
}
export interface WatchAck {
  channel_id: string;
  last_seq: number;
}
export interface PresenceWatchAck {
  presence: { user_id: string; online: boolean }[];
}
export interface ResumeAck {
  channels: Record<string, number>;
}
export interface PongFrame {
  type: 'pong';
  id?: string;
  server_time: string;
}

/** The event types a webhook endpoint can subscribe to (`GET /v1/webhooks/event-types`). */
export type WebhookEventType =
  | 'channel.created'
  | 'channel.updated'
  | 'channel.deleted'
  | 'member.added'
  | 'member.removed'
  | 'member.updated'
  | 'message.new'
  | 'message.updated'
  | 'message.deleted'
  | 'thread.reply'
  | 'reaction.added'
  | 'reaction.removed'
  | 'user.updated'
  | 'user.deactivated'
  | 'user.reactivated';

/** The `data` of each webhook: the realtime event's `data` plus its `channel_id` and `seq`. */
export type WebhookEventMap = {
  [E in WebhookEventType]: ParleyEventMap[E] & { channel_id?: string; seq?: number };
} & {
  /** Sent only by `ParleyServer.testWebhook()`. */
  'webhook.test': { endpoint_id: string };
};

/**
 * A webhook request's JSON body (docs/webhooks.md), discriminated by `type`:
 * `if (p.type === 'message.new') p.data.message.text`.
 */
export type WebhookPayload<E extends keyof WebhookEventMap = keyof WebhookEventMap> = {
  [K in E]: { type: K; timestamp: string; app_id: string; data: WebhookEventMap[K] };
}[E];
