/**
 * Reading a register row's OCR words into entry fields. Registers of one type print their columns
 * in one order (number, date, names, ..., place); the parser walks that order, anchored on what OCR
 * reads most reliably: the entry number, the date and the sex or age column. What it cannot place
 * stays out, so staff complete the proposal rather than undo a wrong guess.
 */
import type { EntryName, EventType } from './entries.ts';

/** Fields parsed from one row; every one may be missing. */
export interface ParsedRow {
  entryNumber?: string;
  /** 'YYYY-MM-DD', 'YYYY-MM' or 'YYYY'. */
  eventDate?: string;
  place?: string;
  names: EntryName[];
}

const DATE = /^(\d{1,2})[./-](\d{1,2})[./-](\d{4})\.?$/;
const YEAR = /^(\d{4})\.?$/;
// Sex column: Latin M/F/Ž, Cyrillic М/Ж (OCR may also give lower case or a trailing dot).
const SEX = /^[MFŽZМЖmfžzмж]\.?$/u;
const AGE = /^\d{1,3}$/;

function isoDate(token: string): string | undefined {
  const d = DATE.exec(token);
  if (d) {
    const [day, month, year] = [Number(d[1]), Number(d[2]), d[3]!];
    if (month < 1 || month > 12 || day < 1 || day > 31) return year;
    return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  }
  return YEAR.exec(token)?.[1];
}

const clean = (t: string) => t.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}.]+$/gu, '').replace(/\.$/u, '');
const joined = (tokens: readonly string[]) => tokens.map(clean).filter(Boolean).join(' ');

/**
 * Fields of a row of a register of `type`: birth rows read number, date, first name, surname, sex,
 * father, mother (name and maiden name), place; marriage rows number, date, groom (first, surname),
 * bride (first, surname), place; death rows number, date, first name, surname, age, place.
 */
export function parseRegisterRow(tokens: readonly string[], type: EventType): ParsedRow {
  const words = tokens.map((t) => t.trim()).filter(Boolean);
  const out: ParsedRow = { names: [] };
  let i = 0;
  const number = /^(\d{1,5})[.)]?$/.exec(words[0] ?? '')?.[1];
  if (number) {
    out.entryNumber = number;
    i = 1;
  }
  const dateAt = words.findIndex((w, k) => k >= i && k <= i + 1 && isoDate(w) !== undefined);
  if (dateAt >= 0) {
    out.eventDate = isoDate(words[dateAt]!);
    i = dateAt + 1;
  }
  const rest = words.slice(i);
  const name = (role: EntryName['role'], parts: readonly string[]) => {
    const n = joined(parts);
    if (n && /\p{L}/u.test(n)) out.names.push({ role, name: n });
  };
  if (type === 'birth') {
    const sexAt = rest.findIndex((w, k) => k >= 1 && SEX.test(w));
    const before = sexAt >= 0 ? rest.slice(0, sexAt) : rest.slice(0, 2);
    name('subject', before);
    if (sexAt >= 0) {
      const after = rest.slice(sexAt + 1);
      name('father', after.slice(0, 1));
      name('mother', after.slice(1, 3));
      const place = joined(after.slice(3));
      if (place) out.place = place;
    }
  } else if (type === 'marriage') {
    name('subject', rest.slice(0, 2));
    name('spouse', rest.slice(2, 4));
    const place = joined(rest.slice(4));
    if (place) out.place = place;
  } else if (type === 'death') {
    const ageAt = rest.findIndex((w, k) => k >= 1 && AGE.test(w));
    name('subject', ageAt >= 0 ? rest.slice(0, ageAt) : rest.slice(0, 2));
    if (ageAt >= 0) {
      const place = joined(rest.slice(ageAt + 1));
      if (place) out.place = place;
    }
  } else {
    name('subject', rest.slice(0, 2));
  }
  return out;
}
