/**
 * Passkeys (WebAuthn Level 2/3) for one tenant, with @simplewebauthn/server: the relying party is
 * the public URL's host (every tenant on it shares the RP ID, so a credential is looked up in the
 * tenant it was registered in, and one from another tenant is simply unknown here). Passkeys are
 * discoverable credentials with user verification required: one is a second factor after the
 * password, or a whole passwordless sign-in (possession and the authenticator's PIN or biometric).
 *
 * The library is loaded at its first use: importing it (with its ASN.1 and X.509 dependencies)
 * takes about 0.45 s, which every process start and every CLI run would otherwise pay.
 *
 * Challenges live in the store, keyed by what they were issued for (an interaction, an account
 * session), for the interaction's lifetime, and are deleted when used.
 */
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransportFuture,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { NewPasskey, PasskeyRow } from '../repositories/mfa.ts';
import type { Store } from '../store/index.ts';

let loading: Promise<typeof import('@simplewebauthn/server')> | undefined;
const webauthn = () => {
  loading ??= import('@simplewebauthn/server');
  return loading;
};

/** RFC 8176: a key bound to one device (`hwk`) or a synced passkey, software-held (`swk`) */
export const passkeyAmr = (deviceType: string) => (deviceType === 'singleDevice' ? 'hwk' : 'swk');

const TRANSPORTS: ReadonlySet<string> = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);
const transportsOf = (list: readonly string[]) => list.filter((t): t is AuthenticatorTransportFuture => TRANSPORTS.has(t));

function parse<T>(json: string | null): T | undefined {
  if (!json || json.length > 64 * 1024) return undefined;
  try {
    const v: unknown = JSON.parse(json);
    return typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string' ? (v as T) : undefined;
  } catch {
    return undefined;
  }
}

/** the bytes of a user id (a UUID) as the WebAuthn user handle */
const userHandle = (userId: string) => new Uint8Array(Buffer.from(userId.replaceAll('-', ''), 'hex'));

export interface PasskeyRp {
  registrationOptions(user: { id: string; username: string }, existing: readonly PasskeyRow[], key: string): Promise<PublicKeyCredentialCreationOptionsJSON>;
  /** the verified new credential (without its name), or null */
  verifyRegistration(json: string | null, key: string): Promise<Omit<NewPasskey, 'name'> | null>;
  /** `allow`: the user's passkeys (second factor); none: any discoverable credential (passwordless) */
  authenticationOptions(allow: readonly PasskeyRow[], key: string): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /** the passkey that signed (looked up by `find`), with its new counter; null when anything is wrong */
  verifyAuthentication(
    json: string | null,
    key: string,
    find: (credentialId: string) => Promise<PasskeyRow | null>,
  ): Promise<{ passkey: PasskeyRow; counter: number } | null>;
}

export function createPasskeyRp(opts: { publicUrl: string; tenantId: string; tenantName: string; store: Store; ttlSeconds: number }): PasskeyRp {
  const { origin, hostname: rpID } = new URL(opts.publicUrl);
  const storeKey = (key: string) => `tessera:webauthn:${opts.tenantId}:${key}`;
  const remember = (key: string, challenge: string) => opts.store.set(storeKey(key), challenge, opts.ttlSeconds * 1000);
  /** the challenge issued for `key`, deleted: each is good for one answer */
  const take = (key: string) => opts.store.take(storeKey(key));

  return {
    async registrationOptions(user, existing, key) {
      const options = await (await webauthn()).generateRegistrationOptions({
        rpName: opts.tenantName,
        rpID,
        userID: userHandle(user.id),
        userName: user.username,
        // several tenants share the RP ID: the tenant's name tells the user's passkeys apart
        userDisplayName: `${user.username} (${opts.tenantName})`,
        attestationType: 'none',
        excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: transportsOf(p.transports) })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
        timeout: 120_000,
      });
      await remember(key, options.challenge);
      return options;
    },
    async verifyRegistration(json, key) {
      const response = parse<RegistrationResponseJSON>(json);
      const challenge = await take(key);
      if (!response || !challenge) return null;
      try {
        const result = await (await webauthn()).verifyRegistrationResponse({
          response,
          expectedChallenge: challenge,
          expectedOrigin: origin,
          expectedRPID: rpID,
          requireUserVerification: true,
        });
        if (!result.verified) return null;
        const { credential, credentialDeviceType, credentialBackedUp } = result.registrationInfo;
        return {
          credentialId: credential.id,
          publicKey: credential.publicKey,
          counter: credential.counter,
          transports: credential.transports ?? [],
          deviceType: credentialDeviceType,
          backedUp: credentialBackedUp,
        };
      } catch {
        return null;
      }
    },
    async authenticationOptions(allow, key) {
      const options = await (await webauthn()).generateAuthenticationOptions({
        rpID,
        allowCredentials: allow.map((p) => ({ id: p.credentialId, transports: transportsOf(p.transports) })),
        userVerification: 'required',
        timeout: 120_000,
      });
      await remember(key, options.challenge);
      return options;
    },
    async verifyAuthentication(json, key, find) {
      const response = parse<AuthenticationResponseJSON>(json);
      const challenge = await take(key);
      if (!response || !challenge) return null;
      const passkey = await find(response.id);
      if (!passkey) return null;
      try {
        const result = await (await webauthn()).verifyAuthenticationResponse({
          response,
          expectedChallenge: challenge,
          expectedOrigin: origin,
          expectedRPID: rpID,
          credential: {
            id: passkey.credentialId,
            publicKey: new Uint8Array(passkey.publicKey),
            counter: passkey.counter,
            transports: transportsOf(passkey.transports),
          },
          requireUserVerification: true,
        });
        return result.verified ? { passkey, counter: result.authenticationInfo.newCounter } : null;
      } catch {
        return null;
      }
    },
  };
}
