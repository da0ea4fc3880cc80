import { Transport, seg, type TransportOptions } from './http.js';
import type {
  ApiKey,
  App,
  AppSettings,
  AuditEntry,
  BeforeSendHook,
  BeforeSendHookWithSecret,
  CreateWebhookRequest,
  MintTokenRequest,
  Page,
  PageQuery,
  Presence,
  PutBeforeSendHookRequest,
  RotateWebhookSecretRequest,
  TokenPair,
  UpdateWebhookRequest,
  User,
  UserQuery,
  Webhook,
  WebhookDelivery,
  WebhookWithSecret,
} from './types.js';

export interface ParleyServerOptions extends TransportOptions {
  apiKey: string;
  apiSecret: string;
}

/**
 * Parley for an app's own backend, with the app's API key and secret: mint user tokens, revoke
 * them, (de)activate users, purge messages, manage outgoing webhooks and the before-send hook
 * (verify the requests of both with `verifyWebhook`: the hook's calls are signed the same way,
 * with the hook's own secret). The secret grants all of that: keep it on servers and in operator tools an
 * operator types it into (like the web app's /admin), never in a public build or a page's code.
 */
export class ParleyServer {
  readonly http: Transport;

  constructor(opts: ParleyServerOptions) {
    const header = `Basic ${btoa(`${opts.apiKey}:${opts.apiSecret}`)}`;
    this.http = new Transport(opts, { header: async () => header });
  }

  /** Creates the user (or updates the given fields) and answers a token pair for the frontend. */
  mintToken(req: MintTokenRequest): Promise<TokenPair> {
    return this.http.request('POST', '/v1/auth/token', { body: req });
  }

  /** Every access and refresh token of the user stops working. */
  revokeUserTokens(userId: string): Promise<void> {
    return this.http.request('POST', `/v1/users/${seg(userId)}/revoke-tokens`);
  }

  async getUser(userId: string): Promise<User> {
    return (await this.http.request<{ user: User }>('GET', `/v1/users/${seg(userId)}`)).user;
  }

  listUsers(query: UserQuery & { include_deactivated?: boolean } = {}): Promise<Page<User>> {
    return this.http.request('GET', '/v1/users', { query: { ...query } });
  }

  async deactivateUser(userId: string): Promise<User> {
    return (await this.http.request<{ user: User }>('POST', `/v1/users/${seg(userId)}/deactivate`)).user;
  }

  async reactivateUser(userId: string): Promise<User> {
    return (await this.http.request<{ user: User }>('POST', `/v1/users/${seg(userId)}/reactivate`)).user;
  }

  /** Erases a message's content for good (its tombstone stays). */
  purgeMessage(channelId: string, seq: number): Promise<void> {
    return this.http.request('POST', `/v1/channels/${seg(channelId)}/messages/${seg(seq)}/purge`);
  }

  async getPresence(userIds: string[]): Promise<Presence[]> {
    return (await this.http.request<{ items: Presence[] }>('GET', '/v1/presence', { query: { user_ids: userIds } })).items;
  }

  // ---- Outgoing webhooks (docs/webhooks.md) ----

  /** The app's endpoints, oldest first (without secrets). */
  async listWebhooks(): Promise<Webhook[]> {
    return (await this.http.request<{ items: Webhook[] }>('GET', '/v1/webhooks')).items;
  }

  /** The answer holds the endpoint's signing `secret` (`whsec_…`): store it for `verifyWebhook`. */
  async createWebhook(req: CreateWebhookRequest): Promise<WebhookWithSecret> {
    return (await this.http.request<{ webhook: WebhookWithSecret }>('POST', '/v1/webhooks', { body: req })).webhook;
  }

  /** The event type names an endpoint may subscribe to (besides `'*'`). */
  async listWebhookEventTypes(): Promise<string[]> {
    return (await this.http.request<{ items: string[] }>('GET', '/v1/webhooks/event-types')).items;
  }

  async getWebhook(webhookId: string): Promise<Webhook> {
    return (await this.http.request<{ webhook: Webhook }>('GET', `/v1/webhooks/${seg(webhookId)}`)).webhook;
  }

  /** Changes the given fields; `{ enabled: true }` re-enables a disabled endpoint and clears its failure count. */
  async updateWebhook(webhookId: string, update: UpdateWebhookRequest): Promise<Webhook> {
    return (await this.http.request<{ webhook: Webhook }>('PATCH', `/v1/webhooks/${seg(webhookId)}`, { body: update })).webhook;
  }

  /** The endpoint and its delivery log are gone. */
  deleteWebhook(webhookId: string): Promise<void> {
    return this.http.request('DELETE', `/v1/webhooks/${seg(webhookId)}`);
  }

  /**
   * A new signing secret. The old one keeps signing too (a second `v1,` signature) for
   * `overlap_seconds` (default a day), so receivers can switch without dropping requests.
   */
  async rotateWebhookSecret(webhookId: string, req: RotateWebhookSecretRequest = {}): Promise<WebhookWithSecret> {
    const path = `/v1/webhooks/${seg(webhookId)}/rotate-secret`;
    return (await this.http.request<{ webhook: WebhookWithSecret }>('POST', path, { body: req })).webhook;
  }

  /** Queues a `webhook.test` event to the endpoint; answers its (pending) delivery. 409 when disabled. */
  async testWebhook(webhookId: string): Promise<WebhookDelivery> {
    return (await this.http.request<{ delivery: WebhookDelivery }>('POST', `/v1/webhooks/${seg(webhookId)}/test`)).delivery;
  }

  /** The endpoint's delivery log, newest first. */
  listWebhookDeliveries(webhookId: string, query: PageQuery = {}): Promise<Page<WebhookDelivery>> {
    return this.http.request('GET', `/v1/webhooks/${seg(webhookId)}/deliveries`, { query: { ...query } });
  }

  // ---- The before-send hook (docs/bots.md, "Before-send hook") ----

  /**
   * The app's hook (without its secret); a 404 `not_found` ParleyError when it has none.
   * Parley calls it with every message before storing it: verify the calls with
   * `verifyWebhook<BeforeSendPayload>({ secret, headers, body })` (same Standard Webhooks
   * signature as webhooks) and answer a `BeforeSendAnswer`.
   */
  async getBeforeSendHook(): Promise<BeforeSendHook> {
    return (await this.http.request<{ hook: BeforeSendHook }>('GET', '/v1/hooks/before-send')).hook;
  }

  /** Creates the hook (`url` required) or changes the given fields; answers it with its signing `secret`. */
  async putBeforeSendHook(req: PutBeforeSendHookRequest): Promise<BeforeSendHookWithSecret> {
    return (await this.http.request<{ hook: BeforeSendHookWithSecret }>('PUT', '/v1/hooks/before-send', { body: req })).hook;
  }

  /** Messages are no longer judged. 404 when there was no hook. */
  deleteBeforeSendHook(): Promise<void> {
    return this.http.request('DELETE', '/v1/hooks/before-send');
  }

  /** A new signing secret; the old one stops signing at once (no overlap, unlike webhooks). */
  async rotateBeforeSendHookSecret(): Promise<BeforeSendHookWithSecret> {
    return (await this.http.request<{ hook: BeforeSendHookWithSecret }>('POST', '/v1/hooks/before-send/rotate-secret')).hook;
  }
}

export interface ParleyAdminOptions extends TransportOptions {
  /** The super-admin key (`--admin-key`, or the one printed on first start). */
  adminKey: string;
}

export interface AppQuery extends PageQuery {}
export interface AuditQuery extends PageQuery {
  app_id?: string;
}

/** The operator's API (`/v1/admin/*`) with the super-admin key. */
export class ParleyAdmin {
  readonly http: Transport;

  constructor(opts: ParleyAdminOptions) {
    const header = `Bearer ${opts.adminKey}`;
    this.http = new Transport(opts, { header: async () => header });
  }

  /** The secret is shown only here. */
  createApp(req: { name: string; settings?: AppSettings }): Promise<{ app: App; api_key: string; api_secret: string }> {
    return this.http.request('POST', '/v1/admin/apps', { body: req });
  }

  listApps(query: AppQuery = {}): Promise<Page<App>> {
    return this.http.request('GET', '/v1/admin/apps', { query: { ...query } });
  }

  async getApp(appId: string): Promise<App> {
    return (await this.http.request<{ app: App }>('GET', `/v1/admin/apps/${seg(appId)}`)).app;
  }

  /** Settings merge key by key. */
  async updateApp(appId: string, update: { name?: string; settings?: AppSettings }): Promise<App> {
    return (await this.http.request<{ app: App }>('PATCH', `/v1/admin/apps/${seg(appId)}`, { body: update })).app;
  }

  /** The app and all its data are gone. */
  deleteApp(appId: string): Promise<void> {
    return this.http.request('DELETE', `/v1/admin/apps/${seg(appId)}`);
  }

  async listKeys(appId: string): Promise<ApiKey[]> {
    return (await this.http.request<{ items: ApiKey[] }>('GET', `/v1/admin/apps/${seg(appId)}/keys`)).items;
  }

  createKey(appId: string): Promise<{ key: ApiKey; api_secret: string }> {
    return this.http.request('POST', `/v1/admin/apps/${seg(appId)}/keys`, { body: {} });
  }

  /** Step one of a rotation: a confirm token valid 15 minutes. */
  requestKeyRotation(appId: string, key: string): Promise<{ confirm_token: string; expires_at: string }> {
    return this.http.request('POST', `/v1/admin/apps/${seg(appId)}/keys/${seg(key)}/rotate`);
  }

  /** Step two: the new secret; the old one stops working. */
  confirmKeyRotation(appId: string, key: string, confirmToken: string): Promise<{ key: ApiKey; api_secret: string }> {
    const path = `/v1/admin/apps/${seg(appId)}/keys/${seg(key)}/rotate/confirm`;
    return this.http.request('POST', path, { body: { confirm_token: confirmToken } });
  }

  revokeKey(appId: string, key: string): Promise<void> {
    return this.http.request('DELETE', `/v1/admin/apps/${seg(appId)}/keys/${seg(key)}`);
  }

  /** Newest first. */
  audit(query: AuditQuery = {}): Promise<Page<AuditEntry>> {
    return this.http.request('GET', '/v1/admin/audit', { query: { ...query } });
  }
}
