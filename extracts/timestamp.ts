/**
 * The seam for an RFC 3161 time-stamping authority (PAdES B-T): given the SHA-256 of a signature
 * value, it returns the DER of a TimeStampToken (a CMS ContentInfo) over it, which the signer adds
 * as the signature-time-stamp unsigned attribute. None is configured today: extracts are PAdES B-B,
 * their time is the claimed signing time (the signature dictionary's /M) and the register's issue time.
 */
export interface TimestampAuthority {
  /** A name for the audit trail and the register (e.g. the TSA's URL). */
  readonly name: string;
  /** DER of an RFC 3161 TimeStampToken whose message imprint is `sha256` (SHA-256). */
  timestamp(sha256: Buffer): Promise<Buffer>;
}
