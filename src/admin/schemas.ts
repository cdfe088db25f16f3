/**
 * The admin API's request and response shapes: the routes validate with them and the OpenAPI
 * document is generated from them (one source of truth).
 */
import { z } from 'zod';
import { ACCESS_TOKEN_TTL, GRANT_TYPES, MFA_REQUIRE, REFRESH_TOKEN_TTL, SLUG_PATTERN } from '../contract.ts';

const name = z.string().trim().min(1).max(200);
const secret = z.string().min(8, 'must be at least 8 characters').max(1024, 'must be at most 1024 characters');
const uri = z
  .string()
  .max(2048)
  .refine((v) => URL.parse(v) !== null, 'must be an absolute URI');
const roleNames = z.array(z.string().min(1).max(64)).max(100);
const accessTokenTtl = z.number().int().min(ACCESS_TOKEN_TTL.min).max(ACCESS_TOKEN_TTL.max);

export const Slug = z.string().regex(SLUG_PATTERN).meta({ description: 'immutable tenant identifier' });

export const CreateTenant = z
  .object({
    slug: Slug,
    name,
    signingAlg: z.enum(['ES256', 'RS256', 'EdDSA']).optional(),
    admin: z
      .object({ username: z.string().min(1).max(200), password: secret })
      .strict()
      .optional(),
  })
  .strict();
export const MfaPolicy = z
  .object({
    require: z.enum(MFA_REQUIRE).meta({ description: 'none; all users; or users holding one of `roles`' }),
    roles: roleNames.optional().meta({ description: 'with require "roles": the roles whose holders must have a second factor' }),
  })
  .strict();
export const UpdateTenant = z.object({ name: name.optional(), mfa: MfaPolicy.optional() }).strict();
export const Tenant = z.object({
  slug: z.string(),
  name: z.string(),
  issuer: z.string(),
  signingAlg: z.string(),
  mfa: z.object({ require: z.enum(MFA_REQUIRE), roles: z.array(z.string()) }),
  createdAt: z.string(),
});

export const CreateResource = z
  .object({ audience: uri, name, scopes: z.array(z.string().min(1).max(200)).max(200), accessTokenTtl: accessTokenTtl.optional() })
  .strict();
export const UpdateResource = z
  .object({ name: name.optional(), scopes: z.array(z.string().min(1).max(200)).max(200).optional(), accessTokenTtl: accessTokenTtl.optional() })
  .strict();
export const Resource = z.object({
  id: z.string(),
  audience: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  accessTokenTtl: z.number(),
  builtIn: z.boolean(),
});

const Permission = z.object({ resource: uri, scope: z.string().min(1).max(200) }).strict();
export const CreateRole = z
  .object({ name: z.string().min(1).max(64), description: z.string().max(500).optional(), permissions: z.array(Permission).max(500) })
  .strict();
export const UpdateRole = z.object({ description: z.string().max(500).optional(), permissions: z.array(Permission).max(500).optional() }).strict();
export const Role = z.object({
  name: z.string(),
  description: z.string().nullable(),
  builtIn: z.boolean(),
  permissions: z.array(z.object({ resource: z.string(), scope: z.string() })),
});

export const CreateUser = z
  .object({
    username: z.string().trim().min(1).max(200),
    password: secret,
    email: z.email().max(320).optional(),
    roles: roleNames,
    temporaryPassword: z.boolean().optional().meta({ description: 'the user must choose a new password at the first browser sign-in' }),
  })
  .strict();
export const UpdateUser = z
  .object({
    roles: roleNames.optional(),
    disabled: z.boolean().optional(),
    password: secret.optional(),
    temporaryPassword: z.boolean().optional().meta({ description: 'with password: the user must choose a new one at the next browser sign-in' }),
  })
  .strict();
export const User = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string().nullable(),
  roles: z.array(z.string()),
  disabled: z.boolean(),
  temporaryPassword: z.boolean(),
  mfa: z.object({ totp: z.boolean(), passkeys: z.number().int(), recoveryCodesLeft: z.number().int() }),
});

const GrantType = z.enum(GRANT_TYPES);
export const CreateClient = z
  .object({
    name,
    grantTypes: z.array(GrantType).min(1),
    roles: roleNames.optional(),
    defaultResource: uri.optional(),
    redirectUris: z.array(uri).max(50).optional(),
    postLogoutRedirectUris: z.array(uri).max(50).optional().meta({ description: 'where RP-initiated logout may return to (exact match)' }),
    tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post', 'none']).optional(),
    rateLimitPerHour: z.number().int().min(1).max(1_000_000_000).optional().meta({ description: 'token requests per hour' }),
  })
  .strict();
const ttl = z.number().int().min(REFRESH_TOKEN_TTL.min).max(REFRESH_TOKEN_TTL.max).nullable();
export const UpdateClient = z
  .object({
    name: name.optional(),
    grantTypes: z.array(GrantType).min(1).optional(),
    roles: roleNames.optional(),
    defaultResource: uri.nullable().optional(),
    redirectUris: z.array(uri).max(50).optional(),
    postLogoutRedirectUris: z.array(uri).max(50).optional(),
    disabled: z.boolean().optional(),
    refreshTokenAbsoluteTtl: ttl.optional(),
    refreshTokenIdleTtl: ttl.optional(),
    rateLimitPerHour: z.number().int().min(1).max(1_000_000_000).nullable().optional(),
  })
  .strict();
export const Client = z.object({
  clientId: z.string(),
  name: z.string(),
  grantTypes: z.array(z.string()),
  roles: z.array(z.string()),
  defaultResource: z.string().nullable(),
  redirectUris: z.array(z.string()),
  postLogoutRedirectUris: z.array(z.string()),
  tokenEndpointAuthMethod: z.string(),
  builtIn: z.boolean(),
  disabled: z.boolean(),
  refreshTokenAbsoluteTtl: z.number().nullable(),
  refreshTokenIdleTtl: z.number().nullable(),
  rateLimitPerHour: z.number().nullable(),
});
export const CreatedClient = z.object({ clientId: z.string(), clientSecret: z.string().optional().meta({ description: 'returned only now' }) });
export const RotatedSecret = z.object({ clientSecret: z.string(), previousSecretExpiresAt: z.string() });

export const Key = z.object({
  kid: z.string(),
  alg: z.string(),
  state: z.enum(['next', 'active', 'retired']),
  createdAt: z.string(),
  activatedAt: z.string().nullable(),
  publishedUntil: z.string().nullable(),
});
export const RotatedKey = z.object({ kid: z.string() });

export const PageQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).optional(), cursor: z.string().max(200).optional() }).strict();
export const UserQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).optional(),
    cursor: z.string().max(200).optional(),
    username: z.string().max(200).optional().meta({ description: 'only users whose username contains this text (any case)' }),
  })
  .strict();
export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.string(),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
