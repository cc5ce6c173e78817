import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app/deps.ts';
import { ROLES, createApiToken, createUser, disableUser, grantRoles, listApiTokens, listUsers, revokeApiToken, revokeRoles } from '../../auth/index.ts';
import { caller, noteAudit } from '../access.ts';
import { errorResponses } from '../schemas.ts';

type Deps = Pick<AppDeps, 'db'>;

const ADMIN = ['admin'] as const;
const usernameParam = { type: 'object', required: ['username'], properties: { username: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' } } } as const;
const rolesBody = { type: 'object', additionalProperties: false, required: ['roles'], properties: { roles: { type: 'array', minItems: 1, maxItems: ROLES.length, items: { type: 'string', enum: ROLES } } } } as const;
const anyObject = { type: 'object', additionalProperties: true } as const;

/** User administration (admins): users, roles, API tokens. */
export async function usersRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const tags = ['users'];

  app.get('/users', {
    schema: { tags, summary: 'Every user with roles', response: { 200: { type: 'object', properties: { users: { type: 'array', items: anyObject } } }, ...errorResponses } },
    config: { policy: { roles: ADMIN } },
  }, async () => ({ users: await listUsers(deps.db) }));

  app.post<{ Body: { username: string; password?: string; roles: string[] } }>('/users', {
    bodyLimit: 8192,
    schema: {
      tags, summary: 'Create a user (without a password the user signs in with API tokens only)',
      body: {
        type: 'object', additionalProperties: false, required: ['username', 'roles'],
        properties: { username: { type: 'string', maxLength: 64 }, password: { type: 'string', maxLength: 1024 }, roles: { type: 'array', maxItems: ROLES.length, items: { type: 'string', enum: ROLES } } },
      },
      response: { 201: { type: 'object', properties: { user: anyObject } }, ...errorResponses },
    },
    config: { policy: { roles: ADMIN, audit: 'user.create' } },
  }, async (req, reply) => {
    const user = await createUser(deps.db, { ...req.body, createdBy: caller(req).username });
    noteAudit(req, { targetType: 'user', targetId: user.username, detail: { roles: user.roles } });
    return reply.code(201).send({ user });
  });

  app.post<{ Params: { username: string } }>('/users/:username/disable', {
    schema: { tags, summary: 'Disable a user: sessions and tokens stop working at once', params: usernameParam, response: { 204: { type: 'null' }, ...errorResponses } },
    config: { policy: { roles: ADMIN, audit: 'user.disable' } },
  }, async (req, reply) => {
    await disableUser(deps.db, req.params.username);
    return reply.code(204).send();
  });

  for (const op of ['grant', 'revoke'] as const) {
    app.post<{ Params: { username: string }; Body: { roles: string[] } }>(`/users/:username/roles/${op}`, {
      schema: { tags, summary: `${op === 'grant' ? 'Grant' : 'Revoke'} roles`, params: usernameParam, body: rolesBody, response: { 200: { type: 'object', properties: { roles: { type: 'array', items: { type: 'string' } } } }, ...errorResponses } },
      // Who grants a role must be one person: not through a token made for someone else.
      config: { policy: { roles: ADMIN, audit: `user.role.${op}`, ...(op === 'grant' ? { ownCredentials: true } : {}) } },
    }, async (req) => {
      noteAudit(req, { detail: { roles: req.body.roles } });
      const roles = op === 'grant' ? await grantRoles(deps.db, req.params.username, req.body.roles, caller(req)) : await revokeRoles(deps.db, req.params.username, req.body.roles);
      return { roles };
    });
  }

  app.get<{ Params: { username: string } }>('/users/:username/tokens', {
    schema: { tags, summary: "A user's API tokens (never the token itself)", params: usernameParam, response: { 200: { type: 'object', properties: { tokens: { type: 'array', items: anyObject } } }, ...errorResponses } },
    config: { policy: { roles: ADMIN } },
  }, async (req) => ({ tokens: await listApiTokens(deps.db, req.params.username) }));

  type TokenBody = { name?: string; days?: number } | null;
  const tokenBody = { type: ['object', 'null'], additionalProperties: false, properties: { name: { type: 'string', maxLength: 100 }, days: { type: 'integer', minimum: 1, maximum: 3650 } } } as const;
  /** Makes a token for `username` as the caller asked; its audit event names the issuer and the user when they differ. */
  const issueToken = async (req: FastifyRequest<{ Body: TokenBody }>, reply: FastifyReply, username: string) => {
    const t = await createApiToken(deps.db, { username, issuedBy: caller(req), ...(req.body?.name ? { name: req.body.name } : {}), ...(req.body?.days ? { days: req.body.days } : {}) });
    noteAudit(req, { targetType: 'user', targetId: t.username, detail: { tokenId: t.id, expiresAt: t.expiresAt, ...(t.issuedBy ? { issuedBy: t.issuedBy, onBehalfOf: t.username } : {}) } });
    return reply.code(201).header('cache-control', 'no-store').send(t);
  };

  app.post<{ Body: TokenBody }>('/tokens', {
    schema: { tags, summary: 'Create an API token for yourself (it acts with your own rights); the token is in this answer only', body: tokenBody, response: { 201: anyObject, ...errorResponses } },
    config: { policy: { roles: 'authenticated', audit: 'token.create' } },
  }, async (req, reply) => issueToken(req, reply, caller(req).username));

  app.post<{ Params: { username: string }; Body: TokenBody }>('/users/:username/tokens', {
    schema: {
      tags, summary: "Create an API token for a user (admins). Made for someone else, it is the admin's on their behalf: every action through it is recorded with both names, and it may not approve or execute disposals nor read closed books. The token is in this answer only",
      params: usernameParam, body: tokenBody, response: { 201: anyObject, ...errorResponses },
    },
    config: { policy: { roles: ADMIN, audit: 'token.create' } },
  }, async (req, reply) => issueToken(req, reply, req.params.username));

  app.delete<{ Params: { tokenId: string } }>('/tokens/:tokenId', {
    schema: { tags, summary: 'Revoke an API token (refused from the next request on)', params: { type: 'object', required: ['tokenId'], properties: { tokenId: { type: 'string', format: 'uuid' } } }, response: { 204: { type: 'null' }, ...errorResponses } },
    config: { policy: { roles: ADMIN, audit: 'token.revoke' } },
  }, async (req, reply) => {
    noteAudit(req, { targetType: 'token', targetId: req.params.tokenId });
    await revokeApiToken(deps.db, req.params.tokenId);
    return reply.code(204).send();
  });
}
