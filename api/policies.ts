import type { Policy, Role } from '../auth/index.ts';

/** Book and page metadata (no personal data): everyone who works with books. */
export const BOOK_STAFF: readonly Role[] = ['digitiser', 'clerk', 'records_manager'];
/** Page content (images, OCR): those who read registers, and digitisers who fix them. */
export const PAGE_READERS: readonly Role[] = ['digitiser', 'clerk', 'records_manager'];
/** Personal data (entries, registry records, links, search results). */
export const PERSONAL_READERS: readonly Role[] = ['clerk', 'records_manager'];

/** Builds a route's `config` with its policy. */
export function policy(roles: Policy['roles'], audit?: string, extra: Omit<Policy, 'roles' | 'audit'> = {}): { policy: Policy } {
  return { policy: { roles, ...(audit ? { audit } : {}), ...extra } };
}
