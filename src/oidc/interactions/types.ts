/** Shapes shared by the interaction routes. */
import type Provider from 'oidc-provider';
import type { TenantRepos } from '../../repositories/index.ts';
import type { TenantModel } from '../model.ts';
import type { ClientDirectory } from '../adapters/clients.ts';
import type { SignInDeps } from '../sign-in.ts';
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
