/**
 * Time-based one-time passwords (RFC 6238 over HOTP, RFC 4226) as every authenticator app reads
 * them: SHA-1, 6 digits, 30-second steps, one step of drift accepted either way. Only node:crypto:
 * the algorithm is twenty lines, and a dependency would be one more thing holding the second factor.
 * The QR code is drawn here on the server, so the secret never leaves for a third-party renderer.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_WINDOW = 1;

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32, upper-case, without padding (as otpauth:// URIs carry it) */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32_ALPHABET[(buffer >> bits) & 31];
    }
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/** tolerant of what people paste: spaces, '=' padding and lower case are ignored; any other character throws */
export function base32Decode(text: string): Buffer {
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text.replace(/[\s=]/g, '').toUpperCase()) {
    const value = BASE32_ALPHABET.indexOf(char);
    if (value < 0) throw new Error('invalid base32 character');
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** 160 bits, the HMAC-SHA-1 block-size key RFC 4226 recommends: 32 base32 characters */
export function generateTotpSecret(): string {
  return base32Encode(randomBytes(20));
}

export function stepAt(unixMs: number): number {
  return Math.floor(unixMs / 1000 / TOTP_PERIOD_SECONDS);
}

function hotp(key: Buffer, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', key).update(counter).digest();
  // dynamic truncation (RFC 4226 §5.3): the low nibble of the last byte picks 31 bits
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** TOTP_DIGITS).padStart(TOTP_DIGITS, '0');
}

export function totpCode(secretBase32: string, step: number): string {
  return hotp(base32Decode(secretBase32), step);
}

/**
 * the step (within ±TOTP_WINDOW of the step of nowMs) whose code equals `code`, or null. Every
 * candidate is computed and compared in constant time, so timing tells nothing about which step (or
 * how many digits) matched. When two steps match (about once in a million) the latest wins, so that
 * the caller's replay guard (step must exceed the last used one) is as strict as it can be.
 */
export function matchTotp(secretBase32: string, code: string, nowMs: number = Date.now()): number | null {
  const typed = code.replace(/\s/g, '');
  if (!/^[0-9]{6}$/.test(typed)) return null;
  const key = base32Decode(secretBase32);
  const typedBytes = Buffer.from(typed, 'utf8');
  const current = stepAt(nowMs);
  let matched: number | null = null;
  for (let step = current - TOTP_WINDOW; step <= current + TOTP_WINDOW; step++) {
    if (timingSafeEqual(Buffer.from(hotp(key, step), 'utf8'), typedBytes)) matched = step;
  }
  return matched;
}

/** the Google Authenticator key-uri format: otpauth://totp/<issuer>:<account>?secret=…&issuer=… */
export function otpauthUri(opts: { issuer: string; account: string; secret: string }): string {
  const issuer = encodeURIComponent(opts.issuer);
  const label = `${issuer}:${encodeURIComponent(opts.account)}`;
  return `otpauth://totp/${label}?secret=${encodeURIComponent(opts.secret)}&issuer=${issuer}&algorithm=SHA1&digits=${TOTP_DIGITS}&period=${TOTP_PERIOD_SECONDS}`;
}

/**
 * the QR code of `text` as inline SVG (no XML prolog). The renderer only draws paths, but the
 * result goes into our HTML unescaped, so anything scriptable or external is refused outright.
 */
export async function qrSvg(text: string): Promise<string> {
  // loaded here, on an enrolment page: the CLI and the token endpoint never need it
  const { default: QRCode } = await import('qrcode');
  const rendered = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
  const svg = rendered.replace(/^\s*<\?xml[^>]*\?>\s*/, '').trim();
  if (!svg.startsWith('<svg') || /<script|\son[a-z]+\s*=|href\s*=|<foreignObject/i.test(svg)) throw new Error('unexpected QR code SVG');
  return svg;
}
