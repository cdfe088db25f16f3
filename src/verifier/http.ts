/** The verifier's only network primitive: a JSON request with a timeout and no redirects. */

/** an HTTP failure talking to the issuer (never shown to API callers) */
export class IssuerHttpError extends Error {
  override readonly name = 'IssuerHttpError';
}

export interface HttpClient {
  json(url: string, init?: { method?: string; headers?: Record<string, string>; body?: string }): Promise<unknown>;
}

export function createHttpClient(fetchImpl: typeof fetch, timeoutMs: number): HttpClient {
  return {
    async json(url, init = {}) {
      let res: Response;
      try {
        res = await fetchImpl(url, {
          ...init,
          headers: { accept: 'application/json', ...init.headers },
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (cause) {
        throw new IssuerHttpError(`request to ${url} failed`, { cause });
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        throw new IssuerHttpError(`${url} answered ${res.status}`);
      }
      try {
        return (await res.json()) as unknown;
      } catch (cause) {
        throw new IssuerHttpError(`${url} did not answer JSON`, { cause });
      }
    },
  };
}
