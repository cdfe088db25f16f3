/** Reads a JSON request body of at most `limit` bytes (413 beyond, 400 when it is not JSON). */
import type { Context } from 'koa';
import { AppError } from '../errors.ts';

export const BODY_LIMIT = 64 * 1024;

export async function readJson(ctx: Context, limit = BODY_LIMIT): Promise<unknown> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw new AppError('payload_too_large', `request bodies are limited to ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new AppError('payload_too_large', `request bodies are limited to ${limit} bytes`);
    chunks.push(chunk);
  }
  if (!size) return undefined;
  if (!ctx.is('application/json', 'application/*+json')) throw new AppError('invalid_request', 'the request body must be application/json');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new AppError('invalid_request', 'the request body is not valid JSON');
  }
}
