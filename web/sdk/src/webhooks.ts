// Verifying Parley's outgoing webhook requests (docs/webhooks.md, "Signatures"): the Standard
// Webhooks scheme, HMAC-SHA256 over `${webhook-id}.${webhook-timestamp}.${raw body}` keyed with
// the base64-decoded secret after `whsec_`. WebCrypto only, so it runs in Node and browsers alike.
import type { WebhookPayload } from './events.js';

/** Request headers: a fetch `Headers` (or anything with `get`), or Node's `req.headers` object. */
export type WebhookHeaders = { get(name: string): string | null | undefined } | Record<string, string | string[] | undefined>;

/** The raw request body, exactly as received (not parsed and serialised again). */
export type WebhookBody = string | ArrayBuffer | ArrayBufferView;

interface VerifyWebhookCommon {
  headers: WebhookHeaders;
  body: WebhookBody;
  /** How far `webhook-timestamp` may be from `now`, in seconds (default 300). */
  toleranceSeconds?: number;
  /** The current time, a `Date` or milliseconds since the epoch (default `Date.now()`). */
  now?: Date | number;
  /** A WebCrypto `SubtleCrypto` (default `globalThis.crypto.subtle`; on Node 18 pass `require('node:crypto').webcrypto.subtle`). */
  subtle?: Pick<SubtleCrypto, 'importKey' | 'sign'>;
}

export type VerifyWebhookOptions = VerifyWebhookCommon &
  (
    | { /** The endpoint's secret (`whsec_…`). */ secret: string; secrets?: undefined }
    | { /** Several accepted secrets, e.g. the old and new one around a rotation. */ secrets: readonly string[]; secret?: undefined }
  );

export type WebhookVerificationErrorCode =
  /** A `webhook-id`, `webhook-timestamp` or `webhook-signature` header is missing or repeated. */
  | 'missing_header'
  /** `webhook-timestamp` is not a number of seconds. */
  | 'invalid_timestamp'
  /** `webhook-timestamp` is more than the tolerance before now (e.g. a replayed request). */
  | 'timestamp_too_old'
  /** `webhook-timestamp` is more than the tolerance after now. */
  | 'timestamp_too_new'
  /** No `v1` signature matches any of the secrets. */
  | 'invalid_signature'
  /** The signature matched but the body is not JSON. */
  | 'invalid_body';

/** A request that is not a genuine, fresh Parley webhook. Answer it with 400 (or 401). */
export class WebhookVerificationError extends Error {
  readonly code: WebhookVerificationErrorCode;

  constructor(code: WebhookVerificationErrorCode, message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
    this.code = code;
  }
}

/**
 * Checks a webhook request's signature and timestamp and answers its parsed JSON body.
 *
 * Throws a `WebhookVerificationError` when no `v1` signature matches one of the secrets (compared
 * in constant time), when `webhook-timestamp` is more than `toleranceSeconds` from now, or when
 * a header is missing; a `TypeError` for a malformed secret or option. Drop repeated deliveries
 * by `webhook-id` yourself: a delivery is sent at least once.
 *
 * ```ts
 * const event = await verifyWebhook({ secret: process.env.PARLEY_WEBHOOK_SECRET!, headers: req.headers, body: rawBody });
 * if (event.type === 'message.new') console.log(event.data.message.text);
 * ```
 */
export async function verifyWebhook<P = WebhookPayload>(opts: VerifyWebhookOptions): Promise<P> {
  const secrets = [...(opts.secrets ?? []), ...(opts.secret !== undefined ? [opts.secret] : [])];
  if (secrets.length === 0) throw new TypeError('verifyWebhook: give `secret` or a non-empty `secrets`');
  const tolerance = opts.toleranceSeconds ?? 300;
  if (typeof tolerance !== 'number' || Number.isNaN(tolerance) || tolerance < 0) {
    throw new TypeError('verifyWebhook: `toleranceSeconds` must be a number >= 0');
  }
  const subtle = opts.subtle ?? (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (!subtle) {
    throw new TypeError('verifyWebhook: no WebCrypto (globalThis.crypto.subtle); pass `subtle` (Node 18: `webcrypto.subtle` from node:crypto)');
  }
  const keys = secrets.map(decodeSecret);

  const id = header(opts.headers, 'webhook-id');
  const timestamp = header(opts.headers, 'webhook-timestamp');
  const signatures = header(opts.headers, 'webhook-signature', true);
  if (!/^\d{1,15}$/.test(timestamp)) {
    throw new WebhookVerificationError('invalid_timestamp', `webhook-timestamp '${timestamp}' is not seconds since the epoch`);
  }
  const sentAt = Number(timestamp);
  const nowMs = opts.now === undefined ? Date.now() : typeof opts.now === 'number' ? opts.now : opts.now.getTime();
  const now = Math.floor(nowMs / 1000);
  if (sentAt < now - tolerance) {
    throw new WebhookVerificationError('timestamp_too_old', `webhook-timestamp is ${now - sentAt} s old (tolerance ${tolerance} s)`);
  }
  if (sentAt > now + tolerance) {
    throw new WebhookVerificationError('timestamp_too_new', `webhook-timestamp is ${sentAt - now} s in the future (tolerance ${tolerance} s)`);
  }

  const given = signatures
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => decodeBase64(s.slice(3)))
    .filter((b): b is Uint8Array<ArrayBuffer> => b !== undefined);
  const body = bodyBytes(opts.body);
  const signed = concat(new TextEncoder().encode(`${id}.${timestamp}.`), body);
  let matched = false;
  for (const raw of keys) {
    const key = await subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const expected = new Uint8Array(await subtle.sign('HMAC', key, signed));
    // Every candidate is compared (no early exit), each in constant time.
    for (const sig of given) matched = timingSafeEqual(sig, expected) || matched;
  }
  if (!matched) {
    throw new WebhookVerificationError(
      'invalid_signature',
      given.length === 0 ? 'webhook-signature holds no v1 signature' : 'no webhook signature matches the secret',
    );
  }

  try {
    return JSON.parse(new TextDecoder().decode(body)) as P;
  } catch {
    throw new WebhookVerificationError('invalid_body', 'the webhook body is not JSON');
  }
}

/** Compares two byte strings in time that depends only on their lengths. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function decodeSecret(secret: string): Uint8Array<ArrayBuffer> {
  if (typeof secret !== 'string') throw new TypeError('verifyWebhook: a secret must be a string');
  const key = decodeBase64(secret.startsWith('whsec_') ? secret.slice(6) : secret);
  if (!key || key.length === 0) throw new TypeError("verifyWebhook: a secret must be 'whsec_' followed by base64");
  return key;
}

function decodeBase64(s: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 === 1) return undefined;
  try {
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

function header(headers: WebhookHeaders, name: string, joinRepeated = false): string {
  let value: string | string[] | null | undefined;
  if (typeof headers.get === 'function') {
    value = (headers as { get(name: string): string | null | undefined }).get(name);
  } else {
    const record = headers as Record<string, string | string[] | undefined>;
    const key = Object.keys(record).find((k) => k.toLowerCase() === name);
    value = key === undefined ? undefined : record[key];
  }
  if (Array.isArray(value)) {
    if (joinRepeated) value = value.join(' ');
    else if (value.length === 1) value = value[0];
    else throw new WebhookVerificationError('missing_header', `the ${name} header is repeated`);
  }
  if (value === undefined || value === null || value === '') {
    throw new WebhookVerificationError('missing_header', `the ${name} header is missing`);
  }
  return value.trim();
}

function bodyBytes(body: WebhookBody): Uint8Array<ArrayBuffer> {
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (body instanceof ArrayBuffer) return new Uint8Array(body.slice(0));
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength).slice();
  throw new TypeError('verifyWebhook: `body` must be the raw body, a string or bytes (not a parsed object)');
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
