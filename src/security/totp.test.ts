/** TOTP against the RFC vectors, the ±1 step window, the key URI and the inline QR code. */
import { describe, expect, it } from 'vitest';
import {
  base32Decode,
  base32Encode,
  generateTotpSecret,
  matchTotp,
  otpauthUri,
  qrSvg,
  stepAt,
  TOTP_DIGITS,
  TOTP_PERIOD_SECONDS,
  TOTP_WINDOW,
  totpCode,
} from './totp.ts';

// the RFC 6238 Appendix B SHA-1 seed, "12345678901234567890" in ASCII
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('base32 (RFC 4648)', () => {
  it('encodes the RFC 4648 §10 vectors, upper case and without padding', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'MY'],
      ['fo', 'MZXQ'],
      ['foo', 'MZXW6'],
      ['foob', 'MZXW6YQ'],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI'],
    ];
    for (const [plain, encoded] of vectors) expect(base32Encode(Buffer.from(plain, 'ascii'))).toBe(encoded);
    expect(base32Encode(Buffer.from('12345678901234567890', 'ascii'))).toBe(RFC_SECRET);
    expect(base32Encode(Uint8Array.from([0xff, 0x00, 0xff]))).toBe('74AP6');
  });

  it('decodes the vectors back, ignoring spaces, padding and case', () => {
    expect(base32Decode('MZXW6YTBOI').toString('ascii')).toBe('foobar');
    expect(base32Decode('MZXW6YQ=').toString('ascii')).toBe('foob');
    expect(base32Decode('MY======').toString('ascii')).toBe('f');
    expect(base32Decode('mzxw 6ytb oi').toString('ascii')).toBe('foobar');
    expect(base32Decode('').length).toBe(0);
    expect([...base32Decode('74AP6')]).toEqual([0xff, 0x00, 0xff]);
  });

  it('refuses characters outside the alphabet', () => {
    expect(() => base32Decode('MZXW1')).toThrow('invalid base32 character');
    expect(() => base32Decode('MZXW8')).toThrow('invalid base32 character');
    expect(() => base32Decode('MZ-XW')).toThrow('invalid base32 character');
    expect(() => base32Decode('MZXW6YTBOI')).not.toThrow();
  });

  it('round-trips any bytes', () => {
    for (let length = 0; length <= 41; length++) {
      const bytes = Buffer.from(Array.from({ length }, (_, i) => (i * 73 + length * 29) % 256));
      expect(base32Decode(base32Encode(bytes)).equals(bytes)).toBe(true);
    }
  });
});

describe('TOTP (RFC 6238, SHA-1, 6 digits, 30 s)', () => {
  it('uses the parameters authenticator apps default to', () => {
    expect(TOTP_DIGITS).toBe(6);
    expect(TOTP_PERIOD_SECONDS).toBe(30);
    expect(TOTP_WINDOW).toBe(1);
  });

  it('computes the steps of unix time in 30-second periods', () => {
    expect(stepAt(0)).toBe(0);
    expect(stepAt(29_999)).toBe(0);
    expect(stepAt(30_000)).toBe(1);
    expect(stepAt(59_000)).toBe(1);
    expect(stepAt(1_111_111_109_000)).toBe(0x23523ec);
    expect(stepAt(20_000_000_000_000)).toBe(0x27bc86aa);
  });

  it('matches the RFC 6238 Appendix B SHA-1 vectors (last 6 digits)', () => {
    const vectors: [number, string][] = [
      [59, '287082'],
      [1111111109, '081804'],
      [1111111111, '050471'],
      [1234567890, '005924'],
      [2000000000, '279037'],
      [20000000000, '353130'],
    ];
    for (const [seconds, code] of vectors) expect(totpCode(RFC_SECRET, stepAt(seconds * 1000))).toBe(code);
  });

  it('generates 160-bit secrets as 32 base32 characters, different every time', () => {
    const a = generateTotpSecret();
    const b = generateTotpSecret();
    expect(a).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Decode(a).length).toBe(20);
    expect(a).not.toBe(b);
  });
});

describe('matchTotp', () => {
  const now = 1_111_111_111_000; // step 37037037

  it('accepts the previous, current and next step, and says which', () => {
    const step = stepAt(now);
    expect(step).toBe(37037037);
    expect(matchTotp(RFC_SECRET, totpCode(RFC_SECRET, step - 1), now)).toBe(step - 1);
    expect(matchTotp(RFC_SECRET, totpCode(RFC_SECRET, step), now)).toBe(step);
    expect(matchTotp(RFC_SECRET, '050471', now)).toBe(step);
    expect(matchTotp(RFC_SECRET, totpCode(RFC_SECRET, step + 1), now)).toBe(step + 1);
  });

  it('refuses codes two steps away', () => {
    const step = stepAt(now);
    const earlier = totpCode(RFC_SECRET, step - 2);
    const later = totpCode(RFC_SECRET, step + 2);
    // neither collides with a code inside the window, so the null is the window's doing
    for (const code of [earlier, later]) {
      for (const inside of [step - 1, step, step + 1]) expect(totpCode(RFC_SECRET, inside)).not.toBe(code);
    }
    expect(matchTotp(RFC_SECRET, earlier, now)).toBeNull();
    expect(matchTotp(RFC_SECRET, later, now)).toBeNull();
  });

  it('ignores spaces but refuses anything that is not exactly 6 digits', () => {
    expect(matchTotp(RFC_SECRET, ' 050 471 ', now)).toBe(37037037);
    expect(matchTotp(RFC_SECRET, '05047', now)).toBeNull();
    expect(matchTotp(RFC_SECRET, '0504710', now)).toBeNull();
    expect(matchTotp(RFC_SECRET, '1050471', now)).toBeNull();
    expect(matchTotp(RFC_SECRET, '05047a', now)).toBeNull();
    expect(matchTotp(RFC_SECRET, '050-471', now)).toBeNull();
    expect(matchTotp(RFC_SECRET, '', now)).toBeNull();
    expect(matchTotp(RFC_SECRET, '٠٥٠٤٧١', now)).toBeNull();
  });

  it('refuses a code of another secret', () => {
    const other = base32Encode(Buffer.from('abcdefghijabcdefghij', 'ascii'));
    const code = totpCode(other, stepAt(now));
    expect(code).not.toBe('050471');
    expect(matchTotp(RFC_SECRET, code, now)).toBeNull();
    expect(matchTotp(other, code, now)).toBe(37037037);
  });

  it('returns the latest step when two steps in the window share a code', () => {
    // found by search: with the RFC seed, steps 910737 and 910738 both give 911617,
    // and steps 153567 and 153569 both give 468457
    expect(totpCode(RFC_SECRET, 910737)).toBe('911617');
    expect(totpCode(RFC_SECRET, 910738)).toBe('911617');
    expect(matchTotp(RFC_SECRET, '911617', 910737 * 30_000)).toBe(910738);
    expect(matchTotp(RFC_SECRET, '911617', 910738 * 30_000)).toBe(910738);
    expect(totpCode(RFC_SECRET, 153567)).toBe('468457');
    expect(totpCode(RFC_SECRET, 153569)).toBe('468457');
    expect(matchTotp(RFC_SECRET, '468457', 153568 * 30_000)).toBe(153569);
  });

  it('checks against the current time by default', () => {
    const secret = generateTotpSecret();
    const step = stepAt(Date.now());
    expect(matchTotp(secret, totpCode(secret, step))).not.toBeNull();
    expect(matchTotp(secret, totpCode(secret, step + 5))).toBeNull();
  });
});

describe('otpauthUri', () => {
  it('writes the key-uri format with the label parts and issuer percent-encoded', () => {
    const uri = otpauthUri({ issuer: 'Acme Corp', account: 'ann lee:work@example.com', secret: 'JBSWY3DPEHPK3PXP' });
    expect(uri).toBe('otpauth://totp/Acme%20Corp:ann%20lee%3Awork%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Acme%20Corp&algorithm=SHA1&digits=6&period=30');
  });

  it('keeps an issuer with reserved characters from breaking the query', () => {
    const uri = otpauthUri({ issuer: 'A&B=C', account: 'ann', secret: 'MZXW6YTBOI' });
    expect(uri).toBe('otpauth://totp/A%26B%3DC:ann?secret=MZXW6YTBOI&issuer=A%26B%3DC&algorithm=SHA1&digits=6&period=30');
  });
});

describe('qrSvg', () => {
  it('renders inline SVG with nothing scriptable or external in it', async () => {
    const uri = otpauthUri({ issuer: 'Acme', account: 'ann@example.com', secret: 'JBSWY3DPEHPK3PXP' });
    const svg = await qrSvg(uri);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).not.toContain('<?xml');
    expect(svg).not.toMatch(/<script/i);
    expect(svg).not.toMatch(/\son[a-z]+\s*=/i);
    expect(svg).not.toMatch(/(xlink:href|href)\s*=\s*["']?https?:/i);
    expect(svg).toMatch(/viewBox="0 0 (\d+) \1"/);
    expect(svg).toContain('<path');
  });

  it('draws a different code for different text', async () => {
    const a = await qrSvg('otpauth://totp/A:a?secret=MZXW6YTBOI');
    const b = await qrSvg('otpauth://totp/A:b?secret=MZXW6YTBOI');
    expect(a).not.toBe(b);
  });
});
