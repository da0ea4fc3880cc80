import { ParleyError } from '@parley/client';

/**
 * A failed call as the API put it: what was being done, the error code and message (and the
 * HTTP status and request id, for the server's log). An alert, so screen readers announce it.
 */
export function ApiError({ error, action }: { error: unknown; action?: string }) {
  const e = error instanceof ParleyError ? error : undefined;
  return (
    <div className="api-error" role="alert">
      {action && <strong>{action}: </strong>}
      {e ? (
        <>
          <code className="api-error-code">{e.code}</code> {e.message}
          {(e.status > 0 || e.requestId) && (
            <span className="muted small">
              {' '}
              ({[e.status > 0 ? `HTTP ${e.status}` : '', e.requestId ? `request ${e.requestId}` : ''].filter(Boolean).join(', ')})
            </span>
          )}
        </>
      ) : (
        String((error as Error)?.message ?? error)
      )}
    </div>
  );
}
