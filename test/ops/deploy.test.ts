/**
 * docker-compose.yml and the Dockerfile cannot be run here (no Docker engine), so they are linted:
 * the compose file is parsed and checked against the structure Compose requires (a JSON-schema
 * style check of the parts we use), every service has a health check, dependencies wait for
 * health, named volumes are declared, and Tessera's environment — with its ${…} references
 * filled in — passes Tessera's own configuration validation and names only known variables.
 * The Dockerfile is multi-stage, installs production dependencies only, copies only paths that
 * exist, and runs as a non-root user.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/index.ts';
import { ROOT } from '../helpers/process.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema =
  | { type: 'string'; pattern?: RegExp; enum?: string[] }
  | { type: 'number' }
  | { type: 'boolean' }
  | { type: 'null' }
  | { type: 'array'; items: Schema; minItems?: number }
  | { type: 'object'; properties?: Record<string, Schema>; required?: string[]; additional?: Schema | false }
  | { anyOf: Schema[] };

/** a tiny JSON-schema-style validator: returns the paths that do not match */
function validate(value: Json | undefined, schema: Schema, path = '$'): string[] {
  if ('anyOf' in schema) return schema.anyOf.some((s) => validate(value, s, path).length === 0) ? [] : [`${path}: matches none of the allowed shapes`];
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return [`${path}: expected a string`];
      if (schema.pattern && !schema.pattern.test(value)) return [`${path}: "${value}" does not match ${String(schema.pattern)}`];
      if (schema.enum && !schema.enum.includes(value)) return [`${path}: "${value}" not one of ${schema.enum.join(', ')}`];
      return [];
    case 'number':
      return typeof value === 'number' ? [] : [`${path}: expected a number`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${path}: expected a boolean`];
    case 'null':
      return value === null ? [] : [`${path}: expected null`];
    case 'array':
      if (!Array.isArray(value)) return [`${path}: expected an array`];
      if (value.length < (schema.minItems ?? 0)) return [`${path}: expected at least ${schema.minItems} items`];
      return value.flatMap((v, i) => validate(v, schema.items, `${path}[${i}]`));
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected an object`];
      const errors = (schema.required ?? []).filter((k) => !(k in value)).map((k) => `${path}.${k}: required`);
      for (const [k, v] of Object.entries(value)) {
        const s = schema.properties?.[k] ?? schema.additional;
        if (s === false) errors.push(`${path}.${k}: not allowed`);
        else if (s) errors.push(...validate(v, s, `${path}.${k}`));
      }
      return errors;
    }
  }
}

const str: Schema = { type: 'string' };
const duration: Schema = { type: 'string', pattern: /^\d+(ms|s|m|h)$/ };
const healthcheck: Schema = {
  type: 'object',
  required: ['test'],
  properties: {
    test: { type: 'array', minItems: 2, items: str },
    interval: duration,
    timeout: duration,
    retries: { type: 'number' },
    start_period: duration,
  },
  additional: false,
};
const service: Schema = {
  type: 'object',
  required: ['healthcheck', 'restart'],
  properties: {
    image: { type: 'string', pattern: /^[\w./-]+:[\w.-]+$/ },
    build: { anyOf: [str, { type: 'object', properties: { context: str, dockerfile: str }, additional: false }] },
    restart: { type: 'string', enum: ['no', 'always', 'on-failure', 'unless-stopped'] },
    init: { type: 'boolean' },
    command: { anyOf: [str, { type: 'array', items: str }] },
    environment: { type: 'object', additional: { type: 'string' } },
    ports: { type: 'array', items: { type: 'string', pattern: /^(\$\{[^}]+\}|\d+):\d+$/ } },
    volumes: { type: 'array', items: { type: 'string', pattern: /^[\w.-]+:\/[\w/.-]+(:ro)?$/ } },
    depends_on: {
      type: 'object',
      additional: {
        type: 'object',
        required: ['condition'],
        properties: { condition: { type: 'string', enum: ['service_started', 'service_healthy', 'service_completed_successfully'] } },
        additional: false,
      },
    },
    healthcheck,
    stop_grace_period: duration,
  },
  additional: false,
};
const composeSchema: Schema = {
  type: 'object',
  required: ['services'],
  properties: {
    name: { type: 'string', pattern: /^[a-z0-9][a-z0-9_-]*$/ },
    services: { type: 'object', additional: service },
    // a named volume: `name:` (null) or its options
    volumes: {
      type: 'object',
      additional: { anyOf: [{ type: 'null' }, { type: 'object', properties: { driver: str, external: { type: 'boolean' } }, additional: false }] },
    },
  },
  additional: false,
};

type Service = {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  ports?: string[];
  healthcheck: { test: string[] };
  stop_grace_period?: string;
};

/** Compose interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error} */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op: string | undefined, arg: string | undefined) => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (op === '?') throw new Error(`${name} is required: ${arg}`);
    return op === '-' ? (arg ?? '') : '';
  });
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as Json;
  const services = (compose as { services: Record<string, Service> }).services;

  it('has the structure Compose requires', () => {
    expect(validate(compose, composeSchema)).toEqual([]);
    expect(Object.keys(services).sort()).toEqual(['postgres', 'redis', 'tessera']);
  });

  it('has health checks, waits for healthy dependencies and declares its volumes', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(['CMD', 'CMD-SHELL'], name).toContain(s.healthcheck.test[0]);
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(Object.keys(services)).toContain(dep);
        expect(condition).toBe('service_healthy');
      }
      for (const v of s.volumes ?? []) expect(Object.keys((compose as { volumes: Record<string, Json> }).volumes)).toContain(v.split(':')[0]);
    }
    expect(services.tessera!.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    expect(services.tessera!.healthcheck.test.join(' ')).toContain('/readyz');
    expect(services.postgres!.volumes).toEqual(['postgres-data:/var/lib/postgresql/data']);
    expect(services.tessera!.build).toBe('.');
  });

  it("gives Tessera every required variable, and they pass Tessera's own validation", () => {
    const env = services.tessera!.environment!;
    for (const required of ['DATABASE_URL', 'REDIS_URL', 'KEY_ENCRYPTION_KEY', 'PUBLIC_URL', 'PORT']) expect(Object.keys(env)).toContain(required);
    const configSource = readFileSync(join(ROOT, 'src/config/index.ts'), 'utf8');
    for (const name of Object.keys(env)) expect(configSource, `${name} is a Tessera variable`).toMatch(new RegExp(`^\\s+${name}: `, 'm'));

    const outside = { POSTGRES_PASSWORD: randomBytes(12).toString('hex'), KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
    const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(v, outside)]));
    const config = loadConfig(resolved);
    expect(config.databaseUrl).toBe(`postgresql://tessera:${outside.POSTGRES_PASSWORD}@postgres:5432/tessera`);
    expect(config.redisUrl).toBe('redis://redis:6379');
    expect(config.webConcurrency).toBe(2);
    // the database password is the one the postgres service is given
    expect(interpolate(services.postgres!.environment!.POSTGRES_PASSWORD!, outside)).toBe(outside.POSTGRES_PASSWORD);
    // and nothing starts without the secrets
    expect(() => interpolate(env.KEY_ENCRYPTION_KEY!, {})).toThrow(/KEY_ENCRYPTION_KEY is required/);
    // the stop grace period outlasts the shutdown timeout
    expect(Number.parseInt(services.tessera!.stop_grace_period!, 10)).toBeGreaterThan(config.shutdownTimeoutSeconds);
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const instructions = text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'))
    .map((l) => l.trim());

  it('is multi-stage, production dependencies only, non-root, and copies what exists', () => {
    const froms = instructions.filter((l) => l.startsWith('FROM '));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(froms.every((f) => /^FROM node:(22|24)[\w.-]* AS \w+$/.test(f))).toBe(true);
    expect(instructions.some((l) => /^RUN npm ci --omit=dev\b/.test(l))).toBe(true);
    const user = instructions.findIndex((l) => l.startsWith('USER '));
    expect(user).toBeGreaterThan(instructions.findLastIndex((l) => l.startsWith('FROM ')));
    expect(instructions[user]).not.toMatch(/USER (root|0)\b/);
    for (const copy of instructions.filter((l) => l.startsWith('COPY ') && !l.includes('--from='))) {
      const paths = copy
        .split(/\s+/)
        .slice(1)
        .filter((p) => !p.startsWith('--'));
      for (const p of paths.slice(0, -1)) expect(existsSync(join(ROOT, p)), `${p} exists`).toBe(true);
    }
    const cmd = instructions.find((l) => l.startsWith('CMD '))!;
    expect(JSON.parse(cmd.slice(4))).toEqual(['node', '--import', 'tsx', 'src/main.ts']);
    expect(instructions).toContain('EXPOSE 3000');
    // tsx, the Prisma CLI used by the client generation and the schema engine are production dependencies
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const dep of ['tsx', 'prisma', '@prisma/schema-engine-wasm']) expect(Object.keys(pkg.dependencies)).toContain(dep);
    // local state and secrets stay out of the build context
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['.data', '.env', 'node_modules', '.git']) expect(ignore).toContain(p);
  });
});
