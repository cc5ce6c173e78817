import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying the event's id: the same on every delivery of it, so receivers deduplicate by it. */
export const EVENT_ID_HEADER = 'X-Arkiva-Event-Id';
/** Header carrying the event's type. */
export const EVENT_TYPE_HEADER = 'X-Arkiva-Event-Type';
/** Header carrying the signing time, in whole seconds since the epoch; it is signed with the body. */
export const TIMESTAMP_HEADER = 'X-Arkiva-Timestamp';
/** Header carrying `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` under the subscription's secret. */
export const SIGNATURE_HEADER = 'X-Arkiva-Signature';
/** Header carrying the attempt's number (1 on the first): informative, not signed. */
export const ATTEMPT_HEADER = 'X-Arkiva-Delivery-Attempt';

/**
 * The signature header's value for `body` sent at `timestamp`: the timestamp is signed too, so a
 * receiver that refuses old timestamps (say, over five minutes) cannot be fed a recorded delivery.
 */
export function signPayload(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * What a receiver does: true when `signature` is the one `secret` makes for `timestamp` and
 * `body`, compared in constant time, and the timestamp lies within `toleranceSeconds` of `now`.
 */
export function verifySignature(
  secret: string,
  h: { timestamp: string | undefined; signature: string | undefined },
  body: string,
  opts: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  if (!h.timestamp || !h.signature || !/^\d{1,12}$/.test(h.timestamp)) return false;
  const ts = Number(h.timestamp);
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - ts) > (opts.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signPayload(secret, ts, body));
  const given = Buffer.from(h.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
