/**
 * The CLI's admin commands, derived from the admin API's route table (admin/routes.ts) — the same
 * table the router and the OpenAPI document come from, so the three cannot drift:
 *
 *  - the words are the route's policy operation: `user.create` → `tessera user create`,
 *    `client.rotate_secret` → `tessera client rotate-secret` (`read` is `get`);
 *  - the positional arguments are the path's parameters in order (`<tenant> <id>`), then the body
 *    fields the route names in `cli.args` (`tessera user create <tenant> <username>`);
 *  - the options are the body's and the query's fields, read from the JSON Schema of their zod
 *    schemas (as the OpenAPI document is): `--password`, `--temporary-password`, a nested object's
 *    fields as `--mfa-require`, an array as a repeatable singular option (`--role a --role b`),
 *    an array of objects as repeatable JSON (`--permission '{"resource":…,"scope":…}'`), a
 *    nullable field cleared with `null`, a boolean negated with `--no-…`; `--body` gives the whole
 *    body as JSON (`@file`, or `-` for standard input) and the options override its fields.
 *
 * The command then goes through the admin API's own pipeline (admin/dispatch.ts): the same
 * validation, policy decision, services and audit events, with the operator as the actor.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { AdminRoute } from '../admin/route.ts';

export class UsageError extends Error {}

interface JsonSchema {
  type?: string;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  description?: string;
}

export interface Flag {
  /** the option's name, without `--` */
  name: string;
  /** where its value goes in the body or query: `['mfa', 'require']` */
  path: string[];
  in: 'body' | 'query';
  kind: 'string' | 'number' | 'boolean' | 'list' | 'json-list' | 'json';
  nullable: boolean;
  required: boolean;
  /** for --help: the value's shape and the field's description */
  help: string;
  /** an alias that stands for a fixed value (`--public` = `--token-endpoint-auth-method none`) */
  value?: unknown;
}

export interface AdminCommand {
  words: [noun: string, verb: string];
  route: AdminRoute;
  /** the path's parameters, in order */
  params: string[];
  /** body fields given as positional arguments after the path's parameters */
  args: string[];
  flags: Flag[];
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/_/g, '-');
const singular = (s: string) => (s.endsWith('ies') ? `${s.slice(0, -3)}y` : s.endsWith('s') ? s.slice(0, -1) : s);
const PARAM_NAMES: Record<string, string> = { t: 'tenant', clientId: 'client-id' };
export const paramLabel = (p: string) => `<${PARAM_NAMES[p] ?? kebab(p)}>`;

const toJson = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as JsonSchema;

/** the options of one object schema's fields (nested objects flattened with their field's name) */
function flagsOf(schema: JsonSchema, where: 'body' | 'query', prefix: string[] = [], parentRequired = true): Flag[] {
  const flags: Flag[] = [];
  for (const [field, raw] of Object.entries(schema.properties ?? {})) {
    const nonNull = raw.anyOf?.find((s) => s.type !== 'null') ?? raw;
    const nullable = raw.anyOf?.some((s) => s.type === 'null') ?? false;
    const required = parentRequired && (schema.required ?? []).includes(field);
    const path = [...prefix, field];
    const description = raw.description ?? nonNull.description ?? '';
    const values = nonNull.enum ? nonNull.enum.join('|') : undefined;
    const base = { path, in: where, nullable, required } as const;
    if (nonNull.type === 'object' && nonNull.properties) {
      flags.push(...flagsOf(nonNull, where, path, required));
    } else if (nonNull.type === 'array') {
      const items = nonNull.items ?? {};
      const objects = items.type === 'object';
      const itemValues = items.enum ? items.enum.join('|') : objects ? 'json' : (items.type ?? 'value');
      flags.push({
        ...base,
        name: kebab(singular(path.join('-'))),
        kind: objects ? 'json-list' : 'list',
        help: `<${itemValues}> (repeatable)${description ? ` ${description}` : ''}`,
      });
    } else {
      const kind =
        nonNull.type === 'boolean'
          ? 'boolean'
          : nonNull.type === 'integer' || nonNull.type === 'number'
            ? 'number'
            : nonNull.type === 'string'
              ? 'string'
              : 'json';
      const shape = kind === 'boolean' ? '' : `<${values ?? (kind === 'json' ? 'json' : kind)}${nullable ? '|null' : ''}> `;
      flags.push({
        ...base,
        name: kebab(path.join('-')),
        kind,
        help: `${shape}${description || (kind === 'boolean' ? `sets ${path.join('.')} to true` : '')}`.trim(),
      });
    }
  }
  return flags;
}

export function adminCommands(routes: AdminRoute[]): AdminCommand[] {
  return routes.map((route) => {
    const [noun, verb] = route.operation.split('.') as [string, string];
    const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    const flags = [...(route.body ? flagsOf(toJson(route.body), 'body') : []), ...(route.query ? flagsOf(toJson(route.query), 'query') : [])];
    for (const [alias, target] of Object.entries(route.cli?.aliases ?? {})) {
      const to = flags.find((f) => f.name === target.flag);
      if (!to) throw new Error(`${route.operation}: alias --${alias} names no option --${target.flag}`);
      flags.push({
        ...to,
        name: alias,
        required: false,
        ...('value' in target ? { value: target.value, kind: 'boolean' as const, help: `= --${to.name} ${String(target.value)}` } : { help: `= --${to.name}` }),
      });
    }
    return { words: [kebab(noun), verb === 'read' ? 'get' : kebab(verb)], route, params, args: route.cli?.args ?? [], flags };
  });
}

const COMMON = {
  json: { type: 'boolean', help: 'print the result (or the error) as JSON' },
  body: { type: 'string', help: '<json|@file|-> the whole request body as JSON; options override its fields' },
  help: { type: 'boolean', help: 'this help' },
} as const;

export function commandUsage(c: AdminCommand): string {
  const positional = [...c.params.map(paramLabel), ...c.args.map((a) => `<${kebab(a)}>`)].join(' ');
  const lines = [
    `usage: tessera ${c.words.join(' ')}${positional ? ` ${positional}` : ''}${c.flags.length || c.route.body ? ' [options]' : ''}`,
    '',
    c.route.summary,
    '',
  ];
  const rows: [string, string][] = [];
  for (const f of c.flags) {
    if (c.args.includes(f.path.join('.'))) continue;
    rows.push([`--${f.name}`, `${f.required ? '(required) ' : ''}${f.help}`]);
    if (f.kind === 'boolean' && f.value === undefined) rows.push([`--no-${f.name}`, `sets ${f.path.join('.')} to false`]);
  }
  if (c.route.body) rows.push(['--body', COMMON.body.help]);
  rows.push(['--json', COMMON.json.help]);
  const width = Math.max(...rows.map(([n]) => n.length));
  lines.push('options:', ...rows.map(([n, h]) => `  ${n.padEnd(width)}  ${h}`.trimEnd()));
  return `${lines.join('\n')}\n`;
}

export function overview(commands: AdminCommand[], extra: string[]): string {
  const rows = commands.map((c) => [
    `tessera ${c.words.join(' ')} ${[...c.params.map(paramLabel), ...c.args.map((a) => `<${kebab(a)}>`)].join(' ')}`.trim(),
    c.route.summary,
  ]);
  const width = Math.max(...rows.map(([n]) => n!.length));
  return [
    'usage: tessera <command> [arguments] [options]   (tessera <command> --help: its options)',
    '',
    'admin API calls, acting as the operator on the database (DATABASE_URL / DATA_DIR, KEY_ENCRYPTION_KEY):',
    ...rows.map(([n, s]) => `  ${n!.padEnd(width)}  ${s}`),
    '',
    'recovery:',
    ...extra.map((l) => `  ${l}`),
    '',
    'options: --json (machine-readable output), --help',
    'exit codes: 0 done, 1 refused (the message says why), 64 usage, 78 configuration',
    '',
  ].join('\n');
}

export interface Invocation {
  params: Record<string, string>;
  query: Record<string, string | string[]>;
  body: Record<string, unknown> | undefined;
  json: boolean;
}

function setAt(target: Record<string, unknown>, path: string[], value: unknown) {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    const child = (next && typeof next === 'object' && !Array.isArray(next) ? next : {}) as Record<string, unknown>;
    node[key] = child;
    node = child;
  }
  node[path.at(-1)!] = value;
}

function valueAt(source: Record<string, unknown>, path: string[]): unknown {
  let node: unknown = source;
  for (const key of path) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  return node;
}

function readBody(spec: string, stdin: () => string): Record<string, unknown> {
  const text = spec === '-' ? stdin() : spec.startsWith('@') ? readFileSync(spec.slice(1), 'utf8') : spec;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError('--body is not JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new UsageError('--body must be a JSON object');
  return value as Record<string, unknown>;
}

function optionValue(f: Flag, raw: string): unknown {
  if (f.nullable && raw === 'null') return null;
  if (f.kind === 'number') {
    if (!/^-?\d+(\.\d+)?$/.test(raw)) throw new UsageError(`--${f.name} must be a number`);
    return Number(raw);
  }
  if (f.kind === 'json' || f.kind === 'json-list') {
    try {
      return JSON.parse(raw);
    } catch {
      throw new UsageError(`--${f.name} must be JSON`);
    }
  }
  return raw;
}

/** the path parameters, query and body of one command line (after its two words) */
export function parseInvocation(c: AdminCommand, argv: string[], stdin: () => string = () => readFileSync(0, 'utf8')): Invocation {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {
    json: { type: 'boolean' },
    help: { type: 'boolean', multiple: false },
  };
  if (c.route.body) options.body = { type: 'string' };
  for (const f of c.flags) {
    if (f.kind === 'boolean') {
      options[f.name] = { type: 'boolean' };
      if (f.value === undefined) options[`no-${f.name}`] = { type: 'boolean' };
    } else options[f.name] = { type: 'string', ...(f.kind === 'list' || f.kind === 'json-list' ? { multiple: true } : {}) };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const { values, positionals } = parsed;
  if (positionals.length < c.params.length) throw new UsageError(`missing ${c.params.slice(positionals.length).map(paramLabel).join(' ')}`);
  if (positionals.length > c.params.length + c.args.length) throw new UsageError(`unexpected argument "${positionals[c.params.length + c.args.length]}"`);
  const params = Object.fromEntries(c.params.map((p, i) => [p, positionals[i]!]));
  const body: Record<string, unknown> | undefined = c.route.body ? (typeof values.body === 'string' ? readBody(values.body, stdin) : {}) : undefined;
  const query: Record<string, string | string[]> = {};
  for (const f of c.flags) {
    const given = values[f.name];
    const negated = values[`no-${f.name}`];
    let value: unknown;
    if (f.value !== undefined) {
      if (given !== true) continue;
      value = f.value;
    } else if (f.kind === 'boolean') {
      if (given === undefined && negated === undefined) continue;
      value = negated !== true;
    } else if (given === undefined) continue;
    else if (Array.isArray(given)) value = given.map((v) => optionValue(f, String(v)));
    else value = optionValue(f, String(given));
    if (f.in === 'query') query[f.path.join('.')] = typeof value === 'string' || Array.isArray(value) ? (value as string | string[]) : String(value);
    else setAt(body!, f.path, value);
  }
  c.args.forEach((field, i) => {
    const v = positionals[c.params.length + i];
    if (v !== undefined) setAt(body!, field.split('.'), v);
  });
  if (body) {
    // a required list left out is empty (`user create` without `--role`: no roles); any other
    // required field left out is a usage error naming its option
    for (const f of c.flags) {
      if (!f.required || f.value !== undefined || valueAt(body, f.path) !== undefined) continue;
      if (f.kind === 'list' || f.kind === 'json-list') setAt(body, f.path, []);
      else throw new UsageError(`missing ${c.args.includes(f.path.join('.')) ? `<${kebab(f.path.join('-'))}>` : `--${f.name}`}`);
    }
  }
  return { params, query, body, json: values.json === true };
}

/** a validation error's field path as the option that sets it (`mfa.require` → `--mfa-require`) */
export function optionOf(c: AdminCommand, path: string): string {
  const flag = c.flags.find((f) => f.value === undefined && f.path.join('.') === path);
  if (c.args.includes(path)) return `<${kebab(path)}>`;
  return flag ? `--${flag.name}` : path;
}
