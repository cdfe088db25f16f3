/**
 * pino JSON logs. Two layers keep credentials out of every level:
 *  - fixed redaction paths for the shapes we know (headers, token responses, bodies);
 *  - a recursive scrub of every logged object (and the root bindings) that censors any key
 *    that names a credential (password, secret, token, authorization, cookie, assertion, …),
 *    however deeply nested, so a future `log.debug({ body })` cannot leak one either.
 * Nothing logs query strings or request bodies; the request line (src/observability/http.ts) logs the route.
 * Child-logger bindings are not scrubbed (pino formats them once, at child()): bind ids only.
 */
import pino, { type DestinationStream } from 'pino';
import type { Config } from '../config/index.ts';

export const CENSOR = '[redacted]';

export const REDACT_PATHS = [
  'password',
  '*.password',
  'client_secret',
  '*.client_secret',
  'clientSecret',
  '*.clientSecret',
  'refresh_token',
  '*.refresh_token',
  'access_token',
  '*.access_token',
  'token',
  '*.token',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
];

/** keys whose values are credentials (matched case-insensitively, anywhere in the key) */
const SENSITIVE_KEY = /pass(word|wd|phrase)?|secret|token|authori[sz]ation|cookie|assertion|code_verifier|credential|api[-_]?key|private|^jwk$|^d$|^code$/i;
const MAX_DEPTH = 8;

/** a copy of `value` with every credential-named key censored */
export function scrub(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SENSITIVE_KEY.test(k) ? CENSOR : scrub(v, depth + 1);
  return out;
}

export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream) {
  const options: pino.LoggerOptions = {
    level: config.logLevel,
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    formatters: {
      log: (object) => scrub(object) as Record<string, unknown>,
      bindings: (bindings) => scrub(bindings) as Record<string, unknown>,
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
export type Logger = pino.Logger;

/**
 * The same logger, but every `error(...)` call carrying `{ err }` is also shown to `observe`
 * (metrics count database and Redis errors that a layer answered and logged, e.g. the admin API's
 * 503s). Levels, bindings and redaction are the original logger's.
 */
export function observeErrorLogs(log: Logger, observe: (err: unknown) => void): Logger {
  const wrapped = Object.create(log) as Logger;
  const error = log.error.bind(log) as (...args: unknown[]) => void;
  wrapped.error = ((obj: unknown, ...rest: unknown[]) => {
    if (obj !== null && typeof obj === 'object' && 'err' in obj) observe((obj as { err: unknown }).err);
    error(obj, ...rest);
  }) as Logger['error'];
  return wrapped;
}
