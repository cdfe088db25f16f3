/** Shapes shared by the interaction routes. */
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { TenantRepos } from '../../repositories/index.ts';
import type { TenantModel } from '../model.ts';
import type { ClientDirectory } from '../adapters/clients.ts';
import type { TenantServices } from '../../services/index.ts';
import type { Store } from '../../store/index.ts';
import type { SignInDeps } from '../sign-in.ts';
import type { PasskeyRp } from '../webauthn.ts';
import type { Csrf } from './csrf.ts';
import type { PageTenant } from './page.ts';

export interface InteractionDeps {
  provider: Provider;
  model: TenantModel;
  repos: TenantRepos;
  clients: ClientDirectory;
  signIn: SignInDeps;
  csrf: Csrf;
  page: PageTenant;
  /** the issuer's path, e.g. `/t/dept` */
  basePath: string;
  onServerError: (err: Error) => void;
  services: TenantServices;
  /** the pending steps of sign-ins and passkey challenges */
  store: Store;
  passkeys: PasskeyRp;
  /** seconds a sign-in may take (the interaction's lifetime) */
  interactionTtl: number;
  showLogin: (ctx: Context, ic: InteractionContext, opts?: { status?: number; username?: string; error?: string }) => Promise<void>;
}

export interface InteractionClient {
  clientId: string;
  name: string;
  firstParty: boolean;
  redirectOrigins: string[];
}

/** one request about one interaction */
export interface InteractionContext {
  deps: InteractionDeps;
  uid: string;
  client: InteractionClient;
}
