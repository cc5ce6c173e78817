export { ROLES, RESTRICTED_READERS, isRole, type Role, type Policy, type AuthUser } from './roles.ts';
export { hashPassword, verifyPassword, SCRYPT_PARAMS } from './passwords.ts';
export {
  createUser, findActiveUser, checkCredentials, disableUser, grantRoles, revokeRoles, MIN_PASSWORD_LENGTH,
} from './users.ts';
export { createApiToken, revokeApiToken, listApiTokens, userForToken, TOKEN_PREFIX, DEFAULT_TOKEN_DAYS, type CreatedToken } from './tokens.ts';
export { createSession, findSession, revokeSession, csrfMatches, SESSION_COOKIE, SESSION_TTL_MS, type Session } from './sessions.ts';
export { authorize, cleanPurpose, checkRestrictedRead, MAX_PURPOSE_LENGTH } from './policy.ts';
export { SlidingWindowLimiter } from './rate-limit.ts';
export { activeUserById, listUsers, countAdmins, type UserInfo } from './users.store.ts';
export { type ApiTokenInfo } from './tokens.store.ts';
export { isRestricted, restrictedBooks } from './policy.store.ts';
export { bootstrapFirstAdmin, restoreAdminPassword, BOOTSTRAP_ACTOR } from './users.ts';
export { bookClosure, mayReadClosed, delegationDetail } from './policy.ts';
export { booksWithheld, type ListingReader } from './policy.ts';
