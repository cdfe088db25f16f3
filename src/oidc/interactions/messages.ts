/** What the pages say: scope descriptions for the consent page and sign-in failure messages. */
import { errors } from 'oidc-provider';
import { TemporarilyUnavailable, TooManyRequests } from '../errors.ts';

const OIDC_SCOPES: Record<string, string> = {
  openid: 'Confirm who you are',
  profile: 'See your username',
  email: 'See your email address, if you have one',
  offline_access: 'Keep you signed in (refresh tokens)',
};

export const describeOidcScope = (scope: string) => OIDC_SCOPES[scope] ?? `Use the "${scope}" permission`;
export const describeResourceScope = (scope: string, resourceName: string) => `${scope} on ${resourceName}`;

function waitText(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

export interface SignInProblem {
  status: number;
  message: string;
  retryAfter?: number;
}

/** the page's message for an error thrown by signIn, or undefined for an unexpected error */
export function signInProblem(err: unknown): SignInProblem | undefined {
  if (err instanceof TooManyRequests) {
    return {
      status: 429,
      retryAfter: err.retryAfter,
      message: `Too many failed sign-in attempts. For your security, sign-in is locked for ${waitText(err.retryAfter)}. Try again later.`,
    };
  }
  if (err instanceof TemporarilyUnavailable) {
    return { status: 503, retryAfter: err.retryAfter, message: 'Sign-in is busy right now. Please try again in a moment.' };
  }
  if (err instanceof errors.InvalidGrant) return { status: 400, message: 'Incorrect username or password.' };
  return undefined;
}
