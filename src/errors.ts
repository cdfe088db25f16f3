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
  | 'payload_too_large'
  | 'unavailable';

const STATUS: Record<AppErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
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
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'P2002';
}
