/** Signed electronic extracts of register entries: issue, sign (PAdES), verify, and their register. */
export {
  issueExtract, revokeExtract, reissueExtract, requireExtract, extractPdf, listExtracts, verifyBySerial, verifyPdf, verifyUrl,
  MAX_REFERENCE_LENGTH, MAX_REASON_LENGTH, CROP_MAX_WIDTH,
  type ExtractDeps, type ExtractActor, type IssueInput, type ExtractSearch, type PublicVerification, type PdfVerification,
} from './extracts.ts';
export { type ExtractRow } from './extracts.store.ts';
export { discardUpload, sweepAbandonedUploads, EXTRACTS_PREFIX, UPLOAD_GRACE_MS } from './uploads.ts';
export { newSerial, normaliseSerial, SERIAL_PATTERN } from './serial.ts';
export {
  openExtractSigner, loadSigningIdentity, makeTestIdentityP12, verifyPdfSignature, testIdentityPaths, PadesSigner, TEST_P12_PASSWORD,
  type ExtractSigner, type SigningIdentity, type PdfSignatureCheck,
} from './signing.ts';
export { type TimestampAuthority } from './timestamp.ts';
export { renderExtract, extractJson, labelLine, LABELS, ROLE_LABELS, TITLES, type ExtractContent } from './render.ts';
