/** Refresh-token lifetimes: idle, cut at the absolute limit from the first sign-in; per-client overrides. */
import { describe, expect, it } from 'vitest';
import { refreshLifetimesOf, refreshTokenTtl } from './lifetimes.ts';

const defaults = { absolute: 30 * 86400, idle: 7 * 86400 };

describe('refresh-token lifetimes', () => {
  it("takes the client's overrides, each on its own, else the defaults", () => {
    expect(refreshLifetimesOf(undefined, defaults)).toEqual(defaults);
    expect(refreshLifetimesOf({ refreshTokenAbsoluteTtl: null, refreshTokenIdleTtl: null }, defaults)).toEqual(defaults);
    expect(refreshLifetimesOf({ refreshTokenAbsoluteTtl: 3600, refreshTokenIdleTtl: null }, defaults)).toEqual({ absolute: 3600, idle: defaults.idle });
    expect(refreshLifetimesOf({ refreshTokenAbsoluteTtl: null, refreshTokenIdleTtl: 600 }, defaults)).toEqual({ absolute: defaults.absolute, idle: 600 });
  });

  it('gives a new token the idle lifetime while the absolute limit is further away', () => {
    const now = 1_000_000;
    expect(refreshTokenTtl(defaults, now, now)).toBe(7 * 86400);
    expect(refreshTokenTtl(defaults, undefined, now)).toBe(7 * 86400);
    expect(refreshTokenTtl(defaults, now - 22 * 86400, now)).toBe(7 * 86400);
  });

  it('cuts it at the absolute limit counted from the first sign-in', () => {
    const now = 1_000_000;
    // 25 days after the first sign-in, 5 days are left of 30
    expect(refreshTokenTtl(defaults, now - 25 * 86400, now)).toBe(5 * 86400);
    expect(refreshTokenTtl(defaults, now - 30 * 86400 + 10, now)).toBe(10);
  });

  it('never goes below one second, even past the absolute limit', () => {
    const now = 1_000_000;
    expect(refreshTokenTtl(defaults, now - 30 * 86400, now)).toBe(1);
    expect(refreshTokenTtl(defaults, now - 40 * 86400, now)).toBe(1);
    expect(refreshTokenTtl({ absolute: 60, idle: 600 }, now, now)).toBe(60);
  });
});
