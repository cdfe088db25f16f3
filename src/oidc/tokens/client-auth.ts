/**
 * Client authentication for introspection and revocation (RFC 7662 §2.1, RFC 7009 §2.1):
 * client_secret_basic or client_secret_post, confidential clients of this tenant only, secrets
 * checked in constant time against their keyed hashes.
 */
import { errors } from 'oidc-provider';
import type { Context } from 'koa';
import type { ClientRow } from '../../repositories/clients.ts';
import type { ClientDirectory } from '../adapters/clients.ts';

function fromBasic(header: string): { id: string; secret: string } | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  try {
    return { id: decodeURIComponent(decoded.slice(0, i).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(i + 1).replace(/\+/g, ' ')) };
  } catch {
    return undefined;
  }
}

/** `allowPublic`: a public client (no secret) identifies itself by client_id (RFC 7009 revocation) */
export async function authenticateClient(
  ctx: Context,
  form: URLSearchParams,
  clients: ClientDirectory,
  opts: { allowPublic?: boolean } = {},
): Promise<ClientRow> {
  const header = ctx.get('authorization');
  const basic = header ? fromBasic(header) : undefined;
  if (header && !basic) throw new errors.InvalidClientAuth('invalid Authorization header');
  if (basic && form.has('client_secret')) throw new errors.InvalidRequest('client authentication must only be provided using one mechanism');
  // as at the token endpoint: Basic credentials and a body client_id must name the same client
  if (basic && form.has('client_id') && form.get('client_id') !== basic.id) {
    throw new errors.InvalidRequest('mismatch in body and authorization client ids');
  }
  const id = basic?.id ?? form.get('client_id') ?? undefined;
  const secret = basic?.secret ?? form.get('client_secret') ?? undefined;
  if (id && !secret && opts.allowPublic && !basic) {
    const row = await clients.get(id);
    if (row && !row.disabled && row.tokenEndpointAuthMethod === 'none') return row;
  }
  if (!id || !secret) throw new errors.InvalidClientAuth('client authentication is required');
  const row = await clients.get(id);
  const ok = await clients.verifySecret(id, secret); // runs for unknown ids too (constant work)
  if (!row || !ok || row.disabled || row.tokenEndpointAuthMethod === 'none') throw new errors.InvalidClientAuth('invalid client credentials');
  return row;
}
