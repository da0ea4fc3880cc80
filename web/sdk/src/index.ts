export { ParleyClient, paginate, searchQuery, wsUrlFor, type ParleyClientOptions, type UploadOptions } from './client.js';
export {
  FileCache,
  FILES_PER_REQUEST,
  blurhashColor,
  describeFileType,
  fileAttachments,
  fitImage,
  formatFileSize,
  isFileAttachment,
  isShownImage,
  pickVariant,
  type FileCacheOptions,
} from './files.js';
export { snippetSegments, formatSearchTotal, type SnippetSegment } from './search.js';
export { ParleyServer, ParleyAdmin, type ParleyServerOptions, type ParleyAdminOptions, type AppQuery, type AuditQuery } from './server.js';
export {
  verifyWebhook,
  WebhookVerificationError,
  type VerifyWebhookOptions,
  type WebhookBody,
  type WebhookHeaders,
  type WebhookVerificationErrorCode,
} from './webhooks.js';
export { ParleyError, isParleyError, type ParleyErrorCode, type ParleyErrorInit } from './errors.js';
export {
  Transport,
  type TransportOptions,
  type FetchLike,
  type AuthStrategy,
  type RequestOptions,
  type UploadProgress,
  type XhrCtor,
  type XhrLike,
} from './http.js';
export { TokenManager, refreshTokenProvider, jwtClaims, jwtExpiry, type TokenProvider, type TokenResult, type RefreshTokenProviderOptions } from './tokens.js';
export {
  Realtime,
  type ConnectionState,
  type RealtimeOptions,
  type RealtimeEventMap,
  type ReconnectOptions,
  type WebSocketCtor,
  type WebSocketLike,
} from './realtime.js';
export type * from './events.js';
export type * from './types.js';
export { Store } from './stores/store.js';
export { MessageCollection } from './stores/collection.js';
export { ChannelListStore, type ChannelListState, type ChannelListOptions } from './stores/channels.js';
export { MessageListStore, newClientMsgId, type MessageListState, type MessageListOptions, type PendingMessage } from './stores/messages.js';
export { ThreadStore, type ThreadState } from './stores/thread.js';
export { MemberListStore, type MemberListState } from './stores/members.js';
export { PresenceStore, type PresenceState } from './stores/presence.js';
export { TypingStore, type TypingState } from './stores/typing.js';
export { SearchStore, type SearchState, type SearchStoreOptions } from './stores/search.js';
