/**
 * The only module that reads the environment (CONTRACT §1). Every option is validated here,
 * documented where it is defined, and the result is frozen. A bad value becomes a ConfigError
 * naming the variable; main.ts prints that one line and exits 78 (EX_CONFIG).
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { REFRESH_TOKEN_TTL } from '../contract.ts';
import { passwordProblem } from '../security/password-policy.ts';
import { usernameProblem } from '../security/usernames.ts';

export const EXIT_CONFIG = 78;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`invalid configuration: ${variable} ${detail}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const intString = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be between ${min} and ${max}`);

const urlWithProtocol = (protocols: string[], what: string) =>
  z.string().refine((value) => {
    const url = URL.parse(value);
    return url !== null && protocols.includes(url.protocol);
  }, `must be a ${what} URL`);

const schema = z.object({
  /** Listen port. */
  PORT: intString(0, 65535).default(3000),
  /** External base URL; every issuer is `${PUBLIC_URL}/t/<slug>`. Never derived from the Host header. */
  PUBLIC_URL: urlWithProtocol(['http:', 'https:'], 'http(s)')
    .refine((v) => !URL.parse(v)?.search && !URL.parse(v)?.hash, 'must not have a query or fragment')
    .optional(),
  /** `postgresql://…` selects PostgreSQL; unset selects the embedded PGlite database in DATA_DIR. */
  DATABASE_URL: urlWithProtocol(['postgresql:', 'postgres:'], 'postgresql://').optional(),
  /** Embedded database files and generated local secrets. */
  DATA_DIR: z.string().min(1).default('./.data'),
  /** `redis://…` (or `rediss://`) selects Redis for shared state; unset keeps it in process. */
  REDIS_URL: z
    .string()
    .refine(
      (v) => v.split(',').every((u) => ['redis:', 'rediss:'].includes(URL.parse(u.trim())?.protocol ?? '')),
      'must be a redis:// URL (or, for a Redis Cluster, a comma-separated list of them)',
    )
    .optional(),
  /** `true`: REDIS_URL names seed nodes of a Redis Cluster (ioredis' Cluster client); implied by a list. */
  REDIS_CLUSTER: z.enum(['true', 'false', '1', '0']).default('false'),
  /** 32 bytes, base64: encrypts private signing keys at rest and keys the client-secret hash. */
  KEY_ENCRYPTION_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes encoded as base64')
    .optional(),
  /** Username of the first platform admin (tenant `system`). */
  BOOTSTRAP_ADMIN_USERNAME: z
    .string()
    .superRefine((v, ctx) => {
      const problem = usernameProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default('admin'),
  /** Password of the first platform admin; unset → a random one is generated and printed once. Must meet the password policy. */
  BOOTSTRAP_ADMIN_PASSWORD: z
    .string()
    .superRefine((v, ctx) => {
      const problem = passwordProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  /** `true` when behind a reverse proxy: the client address is taken from X-Forwarded-For. */
  TRUST_PROXY: z.enum(['true', 'false', '1', '0']).default('false'),
  /**
   * With TRUST_PROXY: how many proxies in front of Tessera append to X-Forwarded-For. The client
   * address is the entry that many places from the right (entries further left are whatever the
   * client sent, so they are never trusted).
   */
  TRUST_PROXY_HOPS: intString(1, 32).default(1),
  /** pino log level. */
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /** Most tenants whose provider is kept in memory at once (least recently used are disposed). */
  TENANT_CACHE_SIZE: intString(1, 1_000_000).default(500),
  /**
   * Seconds a change (a deleted client, a removed role) may go unseen by an instance whose pub/sub
   * message was lost: every instance compares its tenants' versions with the database this often
   * (one indexed read per instance, not per request). Also the lifetime of "unknown tenant" answers.
   */
  TENANT_CACHE_MAX_STALENESS: intString(1, 3600).default(5),
  /** argon2id memory cost in KiB (OWASP minimum 19456). */
  ARGON2_MEMORY_KIB: intString(8192, 4_194_304).default(19456),
  /** argon2id iterations. */
  ARGON2_TIME_COST: intString(1, 100).default(2),
  /** argon2id parallelism. */
  ARGON2_PARALLELISM: intString(1, 64).default(1),
  /** argon2 jobs run at once (default: CPU cores, at most 3 so token signing keeps a libuv thread). */
  PASSWORD_HASH_CONCURRENCY: intString(1, 256).optional(),
  /** argon2 jobs allowed to wait; beyond that sign-ins answer 503 + Retry-After. */
  PASSWORD_HASH_QUEUE: intString(0, 10_000).default(32),
  /** Refresh-token absolute lifetime in seconds (per-client override in the admin API). */
  REFRESH_TOKEN_ABSOLUTE_TTL: intString(REFRESH_TOKEN_TTL.min, REFRESH_TOKEN_TTL.max).default(30 * 86400),
  /** Refresh-token idle lifetime in seconds: unused this long, it expires. */
  REFRESH_TOKEN_IDLE_TTL: intString(REFRESH_TOKEN_TTL.min, REFRESH_TOKEN_TTL.max).default(7 * 86400),
  /**
   * Seconds after a rotation during which presenting the old refresh token again answers
   * invalid_grant without revoking the grant (requests sent in parallel with the winning one);
   * later, it is reuse and the whole grant is revoked. 0: every second presentation revokes.
   */
  REFRESH_TOKEN_REUSE_INTERVAL: intString(0, 60).default(2),
  /** Browser sign-in session lifetime in seconds: after it, the login page asks again. */
  SESSION_TTL: intString(60, 365 * 86400).default(8 * 3600),
  /** Seconds a user may take on the login and consent pages of one sign-in. */
  INTERACTION_TTL: intString(60, 86400).default(600),
  /** Seconds without a request after which an admin console session ends. */
  CONSOLE_IDLE_TIMEOUT: intString(60, 86400).default(15 * 60),
  /** Seconds after the sign-in at which an admin console session ends, whatever happens. */
  CONSOLE_SESSION_MAX: intString(300, 7 * 86400).default(8 * 3600),
  /** Token requests per hour per tenant (all clients together); unset → no tenant-wide limit. */
  TENANT_RATE_LIMIT_PER_HOUR: intString(1, 1_000_000_000).optional(),
  /** Seconds an old client secret keeps working after a rotation. */
  CLIENT_SECRET_GRACE_SECONDS: intString(0, 365 * 86400).default(86400),
  /** Bearer secret that /metrics requires when set (compared in constant time); unset → /metrics is open. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').max(1024).optional(),
  /** Days audit events are kept; older ones are deleted in the background. */
  AUDIT_RETENTION_DAYS: intString(1, 36500).default(90),
  /** Seconds a stopping process waits for in-flight requests before closing their connections. */
  SHUTDOWN_TIMEOUT_SECONDS: intString(1, 3600).default(25),
  /** node:cluster workers sharing the port; more than 1 needs DATABASE_URL (PostgreSQL) and REDIS_URL. */
  WEB_CONCURRENCY: intString(1, 256).default(1),
});

export type Config = Readonly<{
  port: number;
  /** `${PUBLIC_URL}`, or `http://localhost:<port>` when unset (with PORT=0: the port actually bound) */
  publicUrl: string;
  publicUrlExplicit: boolean;
  databaseUrl: string | undefined;
  dataDir: string;
  redisUrl: string | undefined;
  redisCluster: boolean;
  /** undefined only in embedded mode before the key file is read (see security/kek.ts) */
  keyEncryptionKey: Buffer | undefined;
  bootstrapAdminUsername: string;
  bootstrapAdminPassword: string | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
  trustProxy: boolean;
  trustProxyHops: number;
  tenantCacheSize: number;
  tenantCacheMaxStaleness: number;
  argon2: Readonly<{ memoryCost: number; timeCost: number; parallelism: number }>;
  clientSecretGraceSeconds: number;
  tenantRateLimitPerHour: number | undefined;
  passwordHashConcurrency: number;
  passwordHashQueue: number;
  refreshTokenAbsoluteTtl: number;
  refreshTokenIdleTtl: number;
  refreshTokenReuseInterval: number;
  sessionTtl: number;
  /** console sessions: idle and absolute timeouts (seconds) */
  consoleIdleTimeout: number;
  consoleSessionMax: number;
  interactionTtl: number;
  metricsToken: string | undefined;
  auditRetentionDays: number;
  shutdownTimeoutSeconds: number;
  webConcurrency: number;
}>;

/** Reads and validates configuration; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // empty strings count as unset, as in most 12-factor tooling
  const input = Object.fromEntries(Object.keys(schema.shape).flatMap((k) => (env[k] === undefined || env[k] === '' ? [] : [[k, env[k]]])));
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    throw new ConfigError(variable, issue.message.replace(/^Invalid input: /, ''));
  }
  const e = parsed.data;
  if (e.DATABASE_URL && !e.KEY_ENCRYPTION_KEY) {
    throw new ConfigError('KEY_ENCRYPTION_KEY', 'is required when DATABASE_URL is set (32 bytes, base64)');
  }
  // several workers share rate limits, caches and revocations through Redis, and the database
  // through PostgreSQL: the in-process store and the embedded PGlite database are one process only
  if (e.WEB_CONCURRENCY > 1 && !e.REDIS_URL) {
    throw new ConfigError('WEB_CONCURRENCY', `is ${e.WEB_CONCURRENCY}, but more than 1 worker requires REDIS_URL (workers share state through Redis)`);
  }
  if (e.WEB_CONCURRENCY > 1 && !e.DATABASE_URL) {
    throw new ConfigError(
      'WEB_CONCURRENCY',
      `is ${e.WEB_CONCURRENCY}, but more than 1 worker requires DATABASE_URL (the embedded database serves one process)`,
    );
  }
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return Object.freeze({
    port: e.PORT,
    publicUrl,
    publicUrlExplicit: e.PUBLIC_URL !== undefined,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    redisUrl: e.REDIS_URL,
    redisCluster: e.REDIS_CLUSTER === 'true' || e.REDIS_CLUSTER === '1' || (e.REDIS_URL?.includes(',') ?? false),
    keyEncryptionKey: e.KEY_ENCRYPTION_KEY ? Buffer.from(e.KEY_ENCRYPTION_KEY, 'base64') : undefined,
    bootstrapAdminUsername: e.BOOTSTRAP_ADMIN_USERNAME,
    bootstrapAdminPassword: e.BOOTSTRAP_ADMIN_PASSWORD,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY === 'true' || e.TRUST_PROXY === '1',
    trustProxyHops: e.TRUST_PROXY_HOPS,
    tenantCacheSize: e.TENANT_CACHE_SIZE,
    tenantCacheMaxStaleness: e.TENANT_CACHE_MAX_STALENESS,
    argon2: Object.freeze({
      memoryCost: e.ARGON2_MEMORY_KIB,
      timeCost: e.ARGON2_TIME_COST,
      parallelism: e.ARGON2_PARALLELISM,
    }),
    clientSecretGraceSeconds: e.CLIENT_SECRET_GRACE_SECONDS,
    tenantRateLimitPerHour: e.TENANT_RATE_LIMIT_PER_HOUR,
    passwordHashConcurrency: e.PASSWORD_HASH_CONCURRENCY ?? Math.max(1, Math.min(3, availableParallelism())),
    passwordHashQueue: e.PASSWORD_HASH_QUEUE,
    refreshTokenAbsoluteTtl: e.REFRESH_TOKEN_ABSOLUTE_TTL,
    refreshTokenIdleTtl: e.REFRESH_TOKEN_IDLE_TTL,
    refreshTokenReuseInterval: e.REFRESH_TOKEN_REUSE_INTERVAL,
    sessionTtl: e.SESSION_TTL,
    consoleIdleTimeout: e.CONSOLE_IDLE_TIMEOUT,
    consoleSessionMax: e.CONSOLE_SESSION_MAX,
    interactionTtl: e.INTERACTION_TTL,
    metricsToken: e.METRICS_TOKEN,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS,
    shutdownTimeoutSeconds: e.SHUTDOWN_TIMEOUT_SECONDS,
    webConcurrency: e.WEB_CONCURRENCY,
  });
}
