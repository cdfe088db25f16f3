/** Recovery codes: their number, shape and alphabet, and how typed input is recognised. */
import { describe, expect, it } from 'vitest';
import { generateRecoveryCodes, looksLikeTotp, normalizeRecoveryCode, RECOVERY_CODE_COUNT } from './recovery-codes.ts';

describe('generateRecoveryCodes', () => {
  it('gives ten distinct codes shaped xxxxx-xxxxx from the unambiguous alphabet', () => {
    const codes = generateRecoveryCodes();
    expect(RECOVERY_CODE_COUNT).toBe(10);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) {
      expect(code).toMatch(/^[abcdefghjkmnpqrstuvwxyz23456789]{5}-[abcdefghjkmnpqrstuvwxyz23456789]{5}$/);
      expect(normalizeRecoveryCode(code)).toBe(code.replace('-', ''));
    }
  });

  it('is random: two sets share no code', () => {
    const a = generateRecoveryCodes();
    const b = generateRecoveryCodes();
    expect(a.filter((code) => b.includes(code))).toEqual([]);
  });

  it('uses the whole alphabet and nothing else', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) for (const code of generateRecoveryCodes()) for (const char of code.replace('-', '')) seen.add(char);
    expect([...seen].sort().join('')).toBe('23456789abcdefghjkmnpqrstuvwxyz');
  });
});

describe('normalizeRecoveryCode', () => {
  it('accepts a code with or without its dash, in upper case and with spaces', () => {
    expect(normalizeRecoveryCode('abcde-fgh23')).toBe('abcdefgh23');
    expect(normalizeRecoveryCode('abcdefgh23')).toBe('abcdefgh23');
    expect(normalizeRecoveryCode('ABCDE-FGH23')).toBe('abcdefgh23');
    expect(normalizeRecoveryCode(' abcde fgh23 ')).toBe('abcdefgh23');
    expect(normalizeRecoveryCode('zyxwv-98765')).toBe('zyxwv98765');
  });

  it('refuses the wrong length', () => {
    expect(normalizeRecoveryCode('abcde-fgh2')).toBeNull();
    expect(normalizeRecoveryCode('abcde-fgh234')).toBeNull();
    expect(normalizeRecoveryCode('')).toBeNull();
  });

  it('refuses characters outside the alphabet', () => {
    for (const excluded of ['0', 'o', '1', 'l', 'i', 'O', 'I', 'L']) expect(normalizeRecoveryCode(`abcde-fgh2${excluded}`)).toBeNull();
    expect(normalizeRecoveryCode('abcde_fgh23')).toBeNull();
    expect(normalizeRecoveryCode('abcde-fgh2é')).toBeNull();
    expect(normalizeRecoveryCode('abcde-fgh2x')).toBe('abcdefgh2x');
  });
});

describe('looksLikeTotp', () => {
  it('is true for exactly six ASCII digits, spaces ignored', () => {
    expect(looksLikeTotp('123456')).toBe(true);
    expect(looksLikeTotp('123 456')).toBe(true);
    expect(looksLikeTotp(' 000000 ')).toBe(true);
  });

  it('is false for anything else', () => {
    expect(looksLikeTotp('12345')).toBe(false);
    expect(looksLikeTotp('1234567')).toBe(false);
    expect(looksLikeTotp('12345a')).toBe(false);
    expect(looksLikeTotp('123-456')).toBe(false);
    expect(looksLikeTotp('١٢٣٤٥٦')).toBe(false);
    expect(looksLikeTotp('abcde-fgh23')).toBe(false);
    expect(looksLikeTotp('')).toBe(false);
  });
});
