export {
  appendAuditEvent, appendInTransaction, listAuditActions, listAuditEvents, verifyChain, eventHash, serialiseEvent, GENESIS_HASH,
  type AuditInput, type AuditEvent, type AuditQuery, type ChainReport, type ChainBreak,
} from './chain.ts';
export { writeAnchor, latestAnchor, ANCHOR_PREFIX, type Anchor } from './anchor.ts';
export { auditHead } from './chain.store.ts';
export { verifyWithAnchors, readAnchors, type AnchorsRead } from './anchor.ts';
export { type AnchorClaim } from './chain.ts';
export { appendAuditEventOnce } from './once.ts';
