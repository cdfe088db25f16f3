/**
 * The one writer of OAuth-style JSON errors (RFC 6749 §5.2: `{error, error_description}`), for
 * every tenant path (token, introspection, revocation, unknown endpoints), the server's own paths
 * (unknown tenant, /metrics) and anything that escapes a handler. Everything else throws: an
 * oidc-provider error class or Tessera's (oidc/errors.ts) carries its status, code, description and
 * `retryAfter`; an AppError its code and status; input the database refused is the caller's 400;
 * anything unexpected is a 503 without details, reported to the caller of the writer (to log).
 * (The admin API writes RFC 9457 problems: admin/problem.ts; the sign-in pages write HTML:
 * oidc/interactions/page.ts.)
 */
import { AppError, BAD_INPUT_MESSAGE, isBadInputError } from '../errors.ts';

export const UNAVAILABLE = { error: 'temporarily_unavailable', description: 'the service is temporarily unavailable' } as const;
/** seconds a client is told to wait after a failure of ours */
export const RETRY_AFTER_SECONDS = 5;

/** what oidc-provider's error classes (and Tessera's subclasses) carry */
interface OAuthErrorLike {
  statusCode: number;
  error: string;
  error_description?: string;
  /** oidc-provider's: whether the message may be shown (a 5xx is shown only when it says so) */
  expose?: boolean;
  retryAfter?: number;
  headers?: Record<string, string>;
}

/** an OAuth error Tessera answers outside oidc-provider's routes */
export class OAuthError extends Error implements OAuthErrorLike {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    readonly error_description: string,
    readonly headers?: Record<string, string>,
  ) {
    super(error_description);
    this.name = 'OAuthError';
  }
  readonly expose = true;
}

/** an OAuth error that may be answered as it is: a 4xx, or a 5xx that says it may be shown (never `server_error`) */
const isAnswerable = (e: unknown): e is OAuthErrorLike => {
  if (typeof e !== 'object' || e === null) return false;
  const o = e as OAuthErrorLike;
  if (typeof o.statusCode !== 'number' || typeof o.error !== 'string' || o.error === 'server_error') return false;
  return o.statusCode < 500 || o.expose === true;
};

/** the answer to `err`; `unexpected` when it is not the caller's doing (log it, count it) */
export function oauthErrorOf(err: unknown): {
  status: number;
  body: { error: string; error_description?: string };
  headers: Record<string, string>;
  unexpected: boolean;
} {
  if (isAnswerable(err)) {
    const headers = { ...err.headers, ...(err.retryAfter ? { 'Retry-After': String(err.retryAfter) } : {}) };
    return {
      status: err.statusCode,
      body: { error: err.error, ...(err.error_description ? { error_description: err.error_description } : {}) },
      headers,
      unexpected: false,
    };
  }
  if (err instanceof AppError) {
    const headers: Record<string, string> = err.status === 503 ? { 'Retry-After': String(RETRY_AFTER_SECONDS) } : {};
    return { status: err.status, body: { error: err.code, error_description: err.message }, headers, unexpected: false };
  }
  if (isBadInputError(err)) return { status: 400, body: { error: 'invalid_request', error_description: BAD_INPUT_MESSAGE }, headers: {}, unexpected: false };
  return {
    status: 503,
    body: { error: UNAVAILABLE.error, error_description: UNAVAILABLE.description },
    headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
    unexpected: true,
  };
}

interface Writable {
  status: number;
  body: unknown;
  set(field: string, value: string): void;
}

/** writes the answer to `err` (no-store); true when it was unexpected */
export function writeOAuthError(ctx: Writable, err: unknown): boolean {
  const { status, body, headers, unexpected } = oauthErrorOf(err);
  ctx.status = status;
  for (const [k, v] of Object.entries(headers)) ctx.set(k, v);
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
  return unexpected;
}
