export { ROLES, RESTRICTED_READERS, isRole, type Role, type Policy, type AuthUser } from './roles.ts';
export { hashPassword, verifyPassword, SCRYPT_PARAMS } from './passwords.ts';
export {
  createUser, setPassword, findActiveUser, activeUserById, checkCredentials, listUsers, disableUser, grantRoles, revokeRoles, countAdmins,
  MIN_PASSWORD_LENGTH, type UserInfo,
} from './users.ts';
export { createApiToken, revokeApiToken, listApiTokens, userForToken, TOKEN_PREFIX, DEFAULT_TOKEN_DAYS, type CreatedToken } from './tokens.ts';
export { createSession, findSession, revokeSession, csrfMatches, SESSION_COOKIE, SESSION_TTL_MS, type Session } from './sessions.ts';
export { authorize, cleanPurpose, isRestricted, restrictedBooks, checkRestrictedRead, MAX_PURPOSE_LENGTH } from './policy.ts';
export { SlidingWindowLimiter } from './rate-limit.ts';
