/**
 * Reads a request body of at most `limit` bytes, for the endpoints Tessera parses itself (the
 * admin API's JSON, introspection and revocation forms, the interaction forms).
 *
 * Over the limit it stops reading and answers `null`, and the response is marked
 * `Connection: close`: the rest of the body is never read (a client cannot make the server drain
 * gigabytes), and the connection is not reused for another request. Reading never destroys the
 * request stream (the answer must still reach the client): a `for await` over the request would,
 * and a pooled client then got ECONNRESET on its next request (found by the fuzz tests).
 */
import type { Context } from 'koa';

export async function readLimited(ctx: Context, limit: number): Promise<Buffer | null> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) {
    ctx.set('Connection', 'close');
    return null;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      ctx.set('Connection', 'close');
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
