/**
 * The audit trail as admins see it: filtered, newest-first pages of one tenant's events, and the
 * retention job that deletes events older than AUDIT_RETENTION_DAYS (every instance runs it; the
 * deletes are idempotent, so several instances need no coordination).
 */
import { AppError } from '../errors.ts';
import type { AuditRow } from '../repositories/audit.ts';
import { usernameKey } from '../security/usernames.ts';
import type { TenantScope } from './deps.ts';
import { paginate, type PageInput } from './page.ts';

export interface AuditQuery extends PageInput {
  /** one type or several, comma-separated */
  type?: string | undefined;
  actor?: string | undefined;
  target?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

/** an audit row as the admin API shows it (times as ISO strings) */
export type AuditEventView = Omit<AuditRow, 'createdAt'> & { createdAt: string };

const view = (r: AuditRow): AuditEventView => ({ ...r, createdAt: r.createdAt.toISOString() });

function instant(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) {
    throw new AppError('invalid_request', `${name} must be an ISO 8601 date-time`, { errors: [{ path: name, message: 'must be an ISO 8601 date-time' }] });
  }
  return d;
}

export function createAuditService({ deps, repos: r }: TenantScope) {
  return {
    list(query: AuditQuery = {}) {
      if (query.cursor !== undefined && !/^\d{1,19}$/.test(Buffer.from(query.cursor, 'base64url').toString('utf8'))) {
        throw new AppError('invalid_request', 'the cursor is invalid', { errors: [{ path: 'cursor', message: 'not a cursor from a previous page' }] });
      }
      // a typed username that is no user is recorded as a keyed pseudonym (it may be a password
      // typed into the wrong field); `username:<name>` finds it without it being stored
      const actor = query.actor?.startsWith('username:') ? `username:${deps.secretBox.pseudonym(usernameKey(query.actor.slice(9)))}` : query.actor;
      const filter = {
        types: query.type
          ?.split(',')
          .map((t) => t.trim())
          .filter(Boolean),
        actor,
        target: query.target,
        from: instant(query.from, 'from'),
        to: instant(query.to, 'to'),
      };
      return paginate(query, (o) => r.audit.page(filter, o), view);
    },
  };
}
export type AuditService = ReturnType<typeof createAuditService>;

export interface AuditRetention {
  /** deletes what is past retention now; resolves with how many */
  runOnce(): Promise<number>;
  stop(): void;
}

/** runs `prune(cutoff)` shortly after start and then every `intervalMs` (unref'd timers) */
export function scheduleAuditRetention(opts: {
  retentionDays: number;
  prune: (before: Date) => Promise<number>;
  onError: (err: Error) => void;
  onPruned?: (count: number) => void;
  intervalMs?: number;
  firstRunMs?: number;
}): AuditRetention {
  const runOnce = async () => {
    const count = await opts.prune(new Date(Date.now() - opts.retentionDays * 86_400_000));
    if (count) opts.onPruned?.(count);
    return count;
  };
  const tick = () => void runOnce().catch(opts.onError);
  const first = setTimeout(tick, opts.firstRunMs ?? 60_000);
  const every = setInterval(tick, opts.intervalMs ?? 3_600_000);
  first.unref();
  every.unref();
  return {
    runOnce,
    stop() {
      clearTimeout(first);
      clearInterval(every);
    },
  };
}
