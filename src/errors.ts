/**
 * The one error class of the service and admin layers: a stable code, an HTTP status and whether
 * the message may be shown to the caller. Only the error middleware turns it into a response
 * (RFC 9457 problem+json on the admin API). Inside oidc-provider we throw its own error classes.
 */
export type AppErrorCode =
  | 'invalid_request'
  | 'not_found'
  | 'conflict'
  | 'forbidden'
  | 'unauthorized'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'unavailable';

const STATUS: Record<AppErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unavailable: 503,
};

export class AppError extends Error {
  readonly status: number;
  readonly expose = true;
  constructor(
    readonly code: AppErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = STATUS[code];
  }
}

/** Prisma's unique-constraint violation, without importing Prisma outside repositories */
function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'P2002';
}

export const BAD_INPUT_MESSAGE = 'the request contains characters or values that are not allowed';

/**
 * Database errors translated once, for every service and surface (as Logto's
 * koa-slonik-error-handler does): a duplicate is a 409 (with what it means where the change knows,
 * `conflict`), input the database refused is a 400; anything else is not the caller's doing and
 * stays unexpected (undefined: the surface's writer answers 503 and logs it).
 */
export function fromDatabaseError(err: unknown, conflict = 'it already exists'): AppError | undefined {
  if (err instanceof AppError) return err;
  if (isUniqueViolation(err)) return new AppError('conflict', conflict);
  if (isBadInputError(err)) return new AppError('invalid_request', BAD_INPUT_MESSAGE);
  return undefined;
}

/**
 * A database error caused by the input, not by the database: SQLSTATE class 22 (data exception:
 * a NUL byte, `\u0000` in JSON, a malformed UUID, a value out of range) or 54000 (a value too long
 * for its index). Such a request gets a 400 and is never counted as a dependency failure.
 */
export function isBadInputError(err: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length && seen.size < 10) {
    const e = queue.shift();
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const o = e as { code?: unknown; originalCode?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } };
    for (const code of [o.originalCode, o.code]) {
      if (typeof code === 'string' && /^(22[0-9A-Z]{3}|54000)$/.test(code)) return true;
    }
    queue.push(o.cause, o.meta?.driverAdapterError);
  }
  return false;
}
