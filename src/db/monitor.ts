/**
 * Knows whether the database answers, from a cheap ping every second (and at once after a
 * failure is reported). Endpoints that need the database answer 503 while it is down instead of
 * guessing; discovery and JWKS, served from memory, keep answering. Recovery needs no restart.
 */
import type { Database } from './database.ts';

export interface DatabaseMonitor {
  isUp(): boolean;
  stop(): void;
}

export function monitorDatabase(db: Database, intervalMs = 1000): DatabaseMonitor {
  let up = true;
  let running = false;
  const probe = async () => {
    if (running) return;
    running = true;
    try {
      await Promise.race([db.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error('ping timeout')), 2000).unref())]);
      up = true;
    } catch {
      up = false;
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void probe(), intervalMs);
  timer.unref();
  return { isUp: () => up, stop: () => clearInterval(timer) };
}
