import { ParleyError } from './errors.js';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** How a transport authorises its requests: the header value, and whether to retry after a 401. */
export interface AuthStrategy {
  header(): Promise<string | undefined>;
  /** Called once per request with its 401 error; resolve true to send the request again. */
  shouldRetry?(error: ParleyError): Promise<boolean>;
}

export interface TransportOptions {
  /** Server origin, e.g. `http://localhost:8080`; empty for the page's own origin (browsers). */
  baseUrl?: string;
  /** A `fetch` implementation; defaults to the global one (browsers, Node 18+). */
  fetch?: FetchLike;
  /** Per-request time limit in milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Extra headers for every request (e.g. `X-Request-Id` is set per call instead). */
  headers?: Record<string, string>;
  /**
   * XMLHttpRequest constructor for uploads with progress: the global one by default (browsers).
   * Without one (Node), uploads go through `fetch` and report progress only at start and end.
   */
  XMLHttpRequest?: XhrCtor | null;
}

/** How much of an upload's body was sent. */
export interface UploadProgress {
  loaded: number;
  total: number;
}

/** The part of XMLHttpRequest an upload uses. */
export interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  getResponseHeader(name: string): string | null;
  send(body?: unknown): void;
  abort(): void;
  readonly status: number;
  readonly responseText: string;
  onload: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onabort: ((ev: unknown) => void) | null;
  upload: { onprogress: ((ev: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
}
export type XhrCtor = new () => XhrLike;

export type QueryValue = string | number | boolean | undefined | null | string[];

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as it is instead of `body` (multipart forms, file bytes); no time limit applies. */
  rawBody?: Blob | FormData;
  /** Request headers of this call (e.g. a signed upload's). */
  headers?: Record<string, string>;
  /** Reports the upload of `rawBody`. */
  onUploadProgress?: (p: UploadProgress) => void;
  /** The size to report for a FormData `rawBody` (its encoded length is not known beforehand). */
  uploadSize?: number;
  /** Use these credentials instead of the transport's (e.g. none for /v1/auth/refresh). */
  auth?: AuthStrategy | null;
  signal?: AbortSignal;
  requestId?: string;
}

/** One HTTP call site: JSON in and out, API errors as ParleyError. */
export class Transport {
  readonly baseUrl: string;
  private readonly fetchImpl: FetchLike;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private readonly xhr: XhrCtor | undefined;

  constructor(
    opts: TransportOptions,
    private readonly auth: AuthStrategy | null,
  ) {
    this.baseUrl = (opts.baseUrl ?? '').replace(/\/+$/, '');
    const f = opts.fetch ?? (globalThis.fetch as FetchLike | undefined);
    if (!f) throw new Error('@parley/client: no fetch available; pass the `fetch` option');
    this.fetchImpl = opts.fetch ? f : (input, init) => globalThis.fetch(input, init);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.headers = opts.headers ?? {};
    this.xhr = opts.XMLHttpRequest === undefined ? (globalThis as { XMLHttpRequest?: XhrCtor }).XMLHttpRequest : opts.XMLHttpRequest ?? undefined;
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const auth = opts.auth === undefined ? this.auth : opts.auth;
    try {
      return await this.once<T>(method, path, opts, auth);
    } catch (e) {
      if (e instanceof ParleyError && e.status === 401 && auth?.shouldRetry && (await auth.shouldRetry(e))) {
        return this.once<T>(method, path, opts, auth);
      }
      throw e;
    }
  }

  private async once<T>(method: string, path: string, opts: RequestOptions, auth: AuthStrategy | null): Promise<T> {
    // An absolute URL is a signed one (a direct upload, maybe to an S3 bucket): it carries its
    // own headers; the transport's extra ones could fail a bucket's CORS preflight.
    const foreign = /^https?:\/\//i.test(path);
    const headers: Record<string, string> = { Accept: 'application/json', ...(foreign ? {} : this.headers), ...opts.headers };
    const authorization = auth ? await auth.header() : undefined;
    if (authorization) headers.Authorization = authorization;
    if (opts.requestId) headers['X-Request-Id'] = opts.requestId;
    let body: string | Blob | FormData | undefined = opts.rawBody;
    if (opts.body !== undefined && body === undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const url = (foreign ? path : this.baseUrl + path) + queryString(opts.query);
    const what = `${method} ${path.replace(/\?.*$/, '')}`;

    let res: RawResponse;
    if (opts.rawBody !== undefined && this.xhr) {
      res = await xhrExchange(this.xhr, method, url, headers, opts.rawBody, opts, what);
    } else {
      // Raw bodies (uploads) get no time limit: their size, not the server, sets how long they take.
      const limit = opts.rawBody === undefined ? this.timeoutMs : 0;
      const size = bodySize(opts);
      if (opts.rawBody !== undefined) opts.onUploadProgress?.({ loaded: 0, total: size });
      res = await this.fetchExchange(method, url, headers, body, opts.signal, limit, what);
      if (opts.rawBody !== undefined) opts.onUploadProgress?.({ loaded: size, total: size });
    }

    const requestId = res.header('x-request-id') ?? undefined;
    const text = res.status === 204 ? '' : res.text;
    let json: unknown = undefined;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        if (res.status >= 200 && res.status < 300) {
          throw new ParleyError({ status: res.status, code: 'invalid_response', message: 'the answer is not JSON', requestId });
        }
      }
    }
    if (res.status < 200 || res.status >= 300) {
      const retry = res.header('retry-after');
      throw ParleyError.fromBody(res.status, json, {
        requestId,
        retryAfter: retry !== null && retry !== '' && !Number.isNaN(Number(retry)) ? Number(retry) : undefined,
      });
    }
    return json as T;
  }

  private async fetchExchange(
    method: string,
    url: string,
    headers: Record<string, string>,
    body: string | Blob | FormData | undefined,
    signal: AbortSignal | undefined,
    timeoutMs: number,
    what: string,
  ): Promise<RawResponse> {
    const controller = new AbortController();
    const timer = timeoutMs > 0 ? setTimeout(() => controller.abort(), timeoutMs) : undefined;
    const onAbort = () => controller.abort();
    // Aborted while the token was fetched: the listener below would never fire.
    if (signal?.aborted) controller.abort();
    signal?.addEventListener('abort', onAbort);
    try {
      const res = await this.fetchImpl(url, { method, headers, body, signal: controller.signal });
      const text = res.status === 204 ? '' : await res.text();
      return { status: res.status, text, header: (n) => res.headers.get(n) };
    } catch (cause) {
      if (signal?.aborted) throw aborted(what, cause);
      const timedOut = controller.signal.aborted;
      throw new ParleyError({
        status: 0,
        code: timedOut ? 'timeout' : 'network_error',
        message: timedOut ? `${what}: no answer in ${timeoutMs} ms` : `${what}: ${describe(cause)}`,
        cause,
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

interface RawResponse {
  status: number;
  text: string;
  header(name: string): string | null;
}

/** One request through XMLHttpRequest, for its upload progress events. */
function xhrExchange(
  Xhr: XhrCtor,
  method: string,
  url: string,
  headers: Record<string, string>,
  body: Blob | FormData,
  opts: RequestOptions,
  what: string,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const signal = opts.signal;
    if (signal?.aborted) return reject(aborted(what));
    const xhr = new Xhr();
    const onAbort = () => xhr.abort();
    const done = () => signal?.removeEventListener('abort', onAbort);
    xhr.open(method, url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (ev) => {
      const total = ev.lengthComputable ? ev.total : bodySize(opts);
      opts.onUploadProgress?.({ loaded: ev.loaded, total });
    };
    xhr.onload = () => {
      done();
      resolve({ status: xhr.status, text: xhr.responseText ?? '', header: (n) => xhr.getResponseHeader(n) });
    };
    xhr.onerror = () => {
      done();
      reject(signal?.aborted ? aborted(what) : new ParleyError({ status: 0, code: 'network_error', message: `${what}: the upload failed` }));
    };
    xhr.onabort = () => {
      done();
      reject(aborted(what));
    };
    signal?.addEventListener('abort', onAbort);
    opts.onUploadProgress?.({ loaded: 0, total: bodySize(opts) });
    xhr.send(body);
  });
}

function bodySize(opts: RequestOptions): number {
  return opts.rawBody instanceof Blob ? opts.rawBody.size : opts.uploadSize ?? 0;
}

/** The error of a call its caller cancelled through the AbortSignal. */
function aborted(what: string, cause?: unknown): ParleyError {
  return new ParleyError({ status: 0, code: 'aborted', message: `${what}: cancelled`, cause });
}

export function queryString(query?: Record<string, QueryValue>): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    const value = Array.isArray(v) ? v.join(',') : String(v);
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(value)}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** Encodes one path segment (user ids may hold `@` and `.`). */
export const seg = (s: string | number): string => encodeURIComponent(String(s));

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message} (${cause.message})` : e.message;
  }
  return String(e);
}
