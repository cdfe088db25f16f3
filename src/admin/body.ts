/**
 * Reads a JSON request body of at most `limit` bytes (413 beyond, 400 when it is not JSON, or
 * when any string in it carries a control character other than tab and line breaks: PostgreSQL
 * refuses NUL, and no name, URI or scope has a reason to hold the others).
 */
import type { Context } from 'koa';
import { AppError } from '../errors.ts';
import { BODY_LIMIT } from '../contract.ts';
import { readLimited } from '../http/read-body.ts';

/** C0 controls except tab, LF and CR; DEL */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
export const UNSAFE_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** no admin body nests deeper than a few levels; this is far beyond and still cheap to walk */
const MAX_DEPTH = 32;

/** why `value` is refused: a string with a control character, or nesting beyond MAX_DEPTH (iterative: no stack to exhaust) */
function bodyProblem(value: unknown): string | undefined {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (UNSAFE_CHARS.test(v)) return 'strings in the request body must not contain control characters';
    } else if (v !== null && typeof v === 'object') {
      if (depth >= MAX_DEPTH) return `the request body nests deeper than ${MAX_DEPTH} levels`;
      for (const [k, child] of Object.entries(v)) {
        if (UNSAFE_CHARS.test(k)) return 'strings in the request body must not contain control characters';
        stack.push([child, depth + 1]);
      }
    }
  }
  return undefined;
}

export async function readJson(ctx: Context, limit = BODY_LIMIT): Promise<unknown> {
  const raw = await readLimited(ctx, limit);
  if (raw === null) throw new AppError('payload_too_large', `request bodies are limited to ${limit} bytes`);
  if (!raw.length) return undefined;
  if (!ctx.is('application/json', 'application/*+json')) throw new AppError('invalid_request', 'the request body must be application/json');
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new AppError('invalid_request', 'the request body is not valid JSON');
  }
  const problem = bodyProblem(value);
  if (problem) throw new AppError('invalid_request', problem);
  return value;
}
