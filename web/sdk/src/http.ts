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
}

export type QueryValue = string | number | boolean | undefined | null | string[];

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
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
    const headers: Record<string, string> = { Accept: 'application/json', ...this.headers };
    const authorization = auth ? await auth.header() : undefined;
    if (authorization) headers.Authorization = authorization;
    if (opts.requestId) headers['X-Request-Id'] = opts.requestId;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    const onAbort = () => controller.abort();
    // Aborted while the token was fetched: the listener below would never fire.
    if (opts.signal?.aborted) controller.abort();
    opts.signal?.addEventListener('abort', onAbort);
    let res: Response;
    try {
      res = await this.fetchImpl(this.baseUrl + path + queryString(opts.query), {
        method,
        headers,
        body,
        signal: controller.signal,
      });
    } catch (cause) {
      const timedOut = controller.signal.aborted && !opts.signal?.aborted;
      throw new ParleyError({
        status: 0,
        code: timedOut ? 'timeout' : 'network_error',
        message: timedOut ? `${method} ${path}: no answer in ${this.timeoutMs} ms` : `${method} ${path}: ${describe(cause)}`,
        cause,
      });
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }

    const requestId = res.headers.get('x-request-id') ?? undefined;
    const text = res.status === 204 ? '' : await res.text();
    let json: unknown = undefined;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        if (res.ok) {
          throw new ParleyError({ status: res.status, code: 'invalid_response', message: 'the answer is not JSON', requestId });
        }
      }
    }
    if (!res.ok) {
      const retry = res.headers.get('retry-after');
      throw ParleyError.fromBody(res.status, json, {
        requestId,
        retryAfter: retry !== null && retry !== '' && !Number.isNaN(Number(retry)) ? Number(retry) : undefined,
      });
    }
    return json as T;
  }
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
