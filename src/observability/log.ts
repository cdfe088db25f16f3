/** pino logger; redaction keeps credentials out of every level. */
import pino from 'pino';
import type { Config } from '../config/index.ts';

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
];

export function createLogger(config: Pick<Config, 'logLevel'>) {
  return pino({ level: config.logLevel, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}
export type Logger = pino.Logger;
