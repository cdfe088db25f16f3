/** Reads an application/x-www-form-urlencoded body (bounded) for the endpoints Tessera serves itself. */
import type { Context } from 'koa';
import { errors } from 'oidc-provider';

const LIMIT = 64 * 1024;

export async function readForm(ctx: Context): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw new errors.InvalidRequest('only application/x-www-form-urlencoded content-type bodies are supported');
  }
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > LIMIT) throw new errors.InvalidRequest('request body too large');
    chunks.push(chunk);
  }
  const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  for (const key of new Set(form.keys())) {
    if (form.getAll(key).length > 1) throw new errors.InvalidRequest(`parameter ${key} must not be provided twice`);
  }
  return form;
}
