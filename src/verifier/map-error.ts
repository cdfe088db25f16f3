/** Translates jose's errors into the verifier's stable codes (failure path only). */
import { decodeProtectedHeader, errors } from 'jose';
import { VerifierError, type VerifierErrorCode } from './errors.ts';

const CLAIM_CODES: Readonly<Record<string, VerifierErrorCode>> = {
  iss: 'ERR_ISSUER',
  aud: 'ERR_AUDIENCE',
  nbf: 'ERR_NBF',
  exp: 'ERR_TOKEN_EXPIRED',
  typ: 'ERR_TYP',
};

function hasCrit(token: string): boolean {
  try {
    return decodeProtectedHeader(token).crit !== undefined;
  } catch {
    return false;
  }
}

export function toVerifierError(err: unknown, token: string): VerifierError {
  if (err instanceof VerifierError) return err;
  const opts = { cause: err };
  if (err instanceof errors.JWTExpired) return new VerifierError('ERR_TOKEN_EXPIRED', 'the token has expired', { ...opts, claim: 'exp' });
  if (err instanceof errors.JWTClaimValidationFailed) {
    const code = CLAIM_CODES[err.claim];
    if (err.reason === 'missing') {
      return new VerifierError(code === 'ERR_ISSUER' || code === 'ERR_AUDIENCE' ? code : 'ERR_CLAIM_MISSING', `the "${err.claim}" claim is missing`, {
        ...opts,
        claim: err.claim,
      });
    }
    if (code !== undefined && err.reason !== 'invalid')
      return new VerifierError(code, `the "${err.claim}" claim is not acceptable`, { ...opts, claim: err.claim });
    return new VerifierError('ERR_MALFORMED', `the "${err.claim}" claim is invalid`, { ...opts, claim: err.claim });
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return new VerifierError('ERR_SIGNATURE', 'the signature is invalid', opts);
  if (err instanceof errors.JOSEAlgNotAllowed) return new VerifierError('ERR_ALG', 'the "alg" is not allowed', opts);
  if ((err instanceof errors.JOSENotSupported || err instanceof errors.JWSInvalid) && hasCrit(token)) {
    return new VerifierError('ERR_CRIT', 'tokens with "crit" header parameters are refused', opts);
  }
  if (err instanceof errors.JOSENotSupported) return new VerifierError('ERR_ALG', 'the "alg" is not supported', opts);
  return new VerifierError('ERR_MALFORMED', 'the token is malformed', opts);
}
