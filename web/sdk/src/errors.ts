/** The error codes of docs/api.md, plus the client's own (`network_error`, `timeout`, `closed`, `aborted`). */
export type ParleyErrorCode =
  | 'invalid_json'
  | 'invalid_request'
  | 'unauthorized'
  | 'token_expired'
  | 'token_revoked'
  | 'refresh_token_reused'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'gone'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'validation_failed'
  | 'rate_limited'
  | 'headers_too_large'
  | 'internal'
  | 'unavailable'
  | 'network_error'
  | 'timeout'
  | 'closed'
  /** The caller cancelled the call (its AbortSignal). */
  | 'aborted'
  | (string & {});

export interface ParleyErrorInit {
  status: number;
  code: ParleyErrorCode;
  message: string;
  details?: Record<string, unknown>;
  requestId?: string;
  retryAfter?: number;
  cause?: unknown;
}

/**
 * Every failure the SDK reports. `status` is the HTTP status (0 when no HTTP answer arrived:
 * network errors, socket commands), `code` the API's error code, `details` its details object.
 */
export class ParleyError extends Error {
  readonly status: number;
  readonly code: ParleyErrorCode;
  readonly details: Record<string, unknown>;
  /** The `X-Request-Id` of the failed request, for the server's log. */
  readonly requestId?: string;
  /** Seconds to wait before retrying (429 `Retry-After`). */
  readonly retryAfter?: number;

  constructor(init: ParleyErrorInit) {
    super(init.message);
    this.name = 'ParleyError';
    this.status = init.status;
    this.code = init.code;
    this.details = init.details ?? {};
    this.requestId = init.requestId;
    this.retryAfter = init.retryAfter;
    if (init.cause !== undefined) (this as { cause?: unknown }).cause = init.cause;
  }

  /** Builds the error from an API error body `{"error":{code,message,details}}`. */
  static fromBody(status: number, body: unknown, extra: Partial<ParleyErrorInit> = {}): ParleyError {
    const e = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
    if (e && typeof e.code === 'string') {
      return new ParleyError({
        status,
        code: e.code,
        message: typeof e.message === 'string' ? e.message : e.code,
        details: isObject(e.details) ? e.details : {},
        ...extra,
      });
    }
    return new ParleyError({ status, code: status >= 500 ? 'internal' : 'invalid_response', message: `HTTP ${status}`, ...extra });
  }
}

export function isParleyError(e: unknown, code?: ParleyErrorCode): e is ParleyError {
  return e instanceof ParleyError && (code === undefined || e.code === code);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
