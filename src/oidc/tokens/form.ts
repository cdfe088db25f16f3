/** Reads an application/x-www-form-urlencoded body (bounded) for the endpoints Tessera serves itself. */
import type { Context } from 'koa';
import { errors } from 'oidc-provider';
import { BODY_LIMIT } from '../../contract.ts';
import { readLimited } from '../../http/read-body.ts';

/** `repeatable`: parameters a form may send more than once (a group of checkboxes) */
export async function readForm(ctx: Context, repeatable: readonly string[] = []): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) {
    throw new errors.InvalidRequest('only application/x-www-form-urlencoded content-type bodies are supported');
  }
  const raw = await readLimited(ctx, BODY_LIMIT);
  if (raw === null) throw new errors.InvalidRequest('request body too large');
  const form = new URLSearchParams(raw.toString('utf8'));
  for (const key of new Set(form.keys())) {
    if (form.getAll(key).length > 1 && !repeatable.includes(key)) throw new errors.InvalidRequest(`parameter ${key} must not be provided twice`);
  }
  return form;
}
