/** A logger like the server's (same redaction and scrubbing) whose lines the test reads back. */
import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/log.ts';

export function capturedLogger(logLevel: Parameters<typeof createLogger>[0]['logLevel']) {
  let output = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      output += chunk.toString();
      done();
    },
  });
  return {
    log: createLogger({ logLevel }, sink),
    /** everything written so far */
    text: () => output,
    /** every line written so far, parsed */
    lines: <T = Record<string, unknown>>() =>
      output
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as T),
  };
}
