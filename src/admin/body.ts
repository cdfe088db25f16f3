/**
 * Reads a JSON request body of at most `limit` bytes (413 beyond, 400 when it is not JSON, or
 * when any string in it carries a control character other than tab and line breaks: PostgreSQL
 * refuses NUL, and no name, URI or scope has a reason to hold the others).
 */
import type { Context } from 'koa';
import { AppError } from '../errors.ts';
import { readLimited } from '../http/read-body.ts';

export const BODY_LIMIT = 64 * 1024;

/** C0 controls except tab, LF and CR; DEL */
export const UNSAFE_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function unsafeString(value: unknown): boolean {
  if (typeof value === 'string') return UNSAFE_CHARS.test(value);
  if (Array.isArray(value)) return value.some(unsafeString);
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => UNSAFE_CHARS.test(k) || unsafeString(v));
  return false;
}

export async function readJson(ctx: Context, limit = BODY_LIMIT): Promise<unknown> {
  const raw = await readLimited(ctx, limit);
  if (raw === null) throw new AppError('payload_too_large', `request bodies are limited to ${limit} bytes`);
  if (!raw.length) return undefined;
  if (!ctx.is('application/json', 'application/*+json')) throw new AppError('invalid_request', 'the request body must be application/json');
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new AppError('invalid_request', 'the request body is not valid JSON');
  }
  if (unsafeString(value)) throw new AppError('invalid_request', 'strings in the request body must not contain control characters');
  return value;
}
