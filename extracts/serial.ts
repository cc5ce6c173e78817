import { randomInt } from 'node:crypto';

/** Crockford's base32 alphabet: no I, L, O or U, so a serial read aloud or off paper is not mistaken. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The shape of a serial: year of issue, then two groups of five base32 characters (50 random bits). */
export const SERIAL_PATTERN = /^\d{4}-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/;

/**
 * A new extract serial, e.g. `2026-7K3QX-M9PAD`: short enough to type from paper, and with 2^50
 * possibilities per year not guessable by the rate-limited public verification.
 */
export function newSerial(issuedAt: Date): string {
  const pick = () => Array.from({ length: 5 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return `${issuedAt.getUTCFullYear()}-${pick()}-${pick()}`;
}

/**
 * A serial as typed by a person, normalised: upper case, spaces dropped, and the letters Crockford
 * reads as digits (O as 0, I and L as 1) mapped; undefined when it cannot be a serial.
 */
export function normaliseSerial(input: string): string | undefined {
  const s = input.trim().toUpperCase().replace(/\s+/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return SERIAL_PATTERN.test(s) ? s : undefined;
}
