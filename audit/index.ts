export {
  appendAuditEvent, appendInTransaction, auditHead, listAuditEvents, verifyChain, assertChain, eventHash, serialiseEvent, GENESIS_HASH,
  type AuditInput, type AuditEvent, type AuditQuery, type ChainReport, type ChainBreak,
} from './chain.ts';
export { writeAnchor, latestAnchor, verifyWithAnchor, startAnchoring, ANCHOR_PREFIX, type Anchor } from './anchor.ts';
