/**
 * Issuer metadata from `${issuer}/.well-known/openid-configuration`, fetched once (single flight)
 * and kept until {@link MetadataSource.reset}. The document must name the configured issuer
 * exactly (RFC 8414 §3.3), so a misrouted or spoofed document is never used.
 */
import { IssuerHttpError, type HttpClient } from './http.ts';

export interface IssuerMetadata {
  issuer: string;
  jwks_uri: string;
  introspection_endpoint?: string;
}

export interface MetadataSource {
  get(): Promise<IssuerMetadata>;
  /** forget the cached document (after the JWKS could not be fetched from it) */
  reset(): void;
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

function parse(issuer: string, body: unknown): IssuerMetadata {
  if (typeof body !== 'object' || body === null) throw new IssuerHttpError(`metadata of ${issuer} is not an object`);
  const doc = body as Record<string, unknown>;
  if (doc.issuer !== issuer) throw new IssuerHttpError(`metadata of ${issuer} names another issuer`);
  if (!isHttpUrl(doc.jwks_uri)) throw new IssuerHttpError(`metadata of ${issuer} has no valid jwks_uri`);
  const meta: IssuerMetadata = { issuer, jwks_uri: doc.jwks_uri };
  if (isHttpUrl(doc.introspection_endpoint)) meta.introspection_endpoint = doc.introspection_endpoint;
  return meta;
}

export function createMetadataSource(issuer: string, http: HttpClient): MetadataSource {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let current: Promise<IssuerMetadata> | undefined;
  return {
    get() {
      if (current) return current;
      const pending = http.json(url).then((body) => parse(issuer, body));
      current = pending;
      // a failed lookup is not cached: the next caller tries again
      pending.catch(() => {
        if (current === pending) current = undefined;
      });
      return pending;
    },
    reset() {
      current = undefined;
    },
  };
}
