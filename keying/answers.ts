/**
 * Keyed answers: how two keyings are compared, how keyed dates are read and checked, and how a
 * verified zone's answers become an entry's fields. Pure functions, no database.
 */
import { cyrillicToLatin } from '../search/normalise.ts';
import type { EntryFields, EntryName } from '../entries/index.ts';
import type { EventType, KeyingAnswer, KeyingField } from '../common/vocabulary.ts';

/** One field of a keying: the value as typed, or an explicit answer instead of one. */
export type FieldAnswer = { value: string } | { answer: KeyingAnswer };

/** A keying's answers by layout column key. */
export type KeyedFields = Record<string, FieldAnswer>;

/** A column of a register layout: its key (unique in the layout) and the field it holds. */
export interface LayoutColumn {
  key: string;
  field: KeyingField;
  label?: { sq?: string; sr?: string };
}

/**
 * The form two answers are compared in: Unicode composed, Serbian Cyrillic read as Latin, runs of
 * spaces as one, ends trimmed, lower case. Diacritics stay: ë against e, or č against c, is a
 * real difference of reading that the arbitrator must see, unlike search, which folds them.
 */
export function comparisonForm(value: string): string {
  return cyrillicToLatin(value.normalize('NFC')).replace(/\s+/gu, ' ').trim().toLowerCase();
}

/** True when two answers agree: the same explicit answer, or values equal in comparison form. */
export function sameAnswer(a: FieldAnswer | undefined, b: FieldAnswer | undefined): boolean {
  if (!a || !b) return a === b;
  if ('answer' in a || 'answer' in b) return 'answer' in a && 'answer' in b && a.answer === b.answer;
  return comparisonForm(a.value) === comparisonForm(b.value);
}

/** The column keys, in layout order, on which two keyings differ. */
export function differingColumns(columns: readonly LayoutColumn[], a: KeyedFields, b: KeyedFields): string[] {
  return columns.filter((c) => !sameAnswer(a[c.key], b[c.key])).map((c) => c.key);
}

/** A keyed date read: its ISO form as far as it is known, and whether the day or month cannot exist. */
export interface ReadDate {
  /** 'YYYY', 'YYYY-MM' or 'YYYY-MM-DD'; the precise part that exists (an impossible day leaves 'YYYY-MM'). */
  iso: string;
  year: number;
  impossible: boolean;
}

const ROMAN_MONTHS = ['I', 'II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII', 'IX', 'X', 'XI', 'XII'];

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function fromParts(year: number, month?: number, day?: number): ReadDate {
  const y = String(year).padStart(4, '0');
  if (month === undefined) return { iso: y, year, impossible: false };
  if (month < 1 || month > 12) return { iso: y, year, impossible: true };
  const ym = `${y}-${String(month).padStart(2, '0')}`;
  if (day === undefined) return { iso: ym, year, impossible: false };
  if (day < 1 || day > daysIn(year, month)) return { iso: ym, year, impossible: true };
  return { iso: `${ym}-${String(day).padStart(2, '0')}`, year, impossible: false };
}

/**
 * Reads a date as registers write it: `12.03.1958` (also with / or -, and a trailing dot),
 * `12. III 1958` (Roman month), `1958-03-12`, `03.1958`, `1958`. Undefined when it is none of these.
 */
export function readKeyedDate(text: string): ReadDate | undefined {
  const t = text.trim();
  let m = /^(\d{1,2})\s*[./-]\s*(\d{1,2})\s*[./-]\s*(\d{4})\.?$/u.exec(t);
  if (m) return fromParts(Number(m[3]), Number(m[2]), Number(m[1]));
  m = /^(\d{1,2})\.?\s*([IVXivx]{1,4})\.?\s*(\d{4})\.?$/u.exec(t);
  if (m) {
    const month = ROMAN_MONTHS.indexOf(m[2]!.toUpperCase()) + 1;
    return month > 0 ? fromParts(Number(m[3]), month, Number(m[1])) : undefined;
  }
  m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/u.exec(t);
  if (m) return fromParts(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{1,2})\s*[./-]\s*(\d{4})\.?$/u.exec(t);
  if (m) return fromParts(Number(m[2]), Number(m[1]));
  m = /^(\d{4})\.?$/u.exec(t);
  if (m) return fromParts(Number(m[1]));
  return undefined;
}

/** Why a keyed field deserves a second look; the keying is kept all the same. */
export type KeyingWarningCode = 'unreadable-date' | 'impossible-date' | 'event-after-registration' | 'outside-book-years';

/** A warning about one field of a keying. */
export interface KeyingWarning {
  column: string;
  code: KeyingWarningCode;
  message: string;
}

/** The first ISO date is later than the second, compared at the precision both have. */
function isAfter(a: string, b: string): boolean {
  const n = Math.min(a.length, b.length);
  return a.slice(0, n) > b.slice(0, n);
}

/**
 * Warnings about a keying's dates: a date that cannot be read or cannot exist, an event dated after
 * its registration, a date outside the book's years. Warnings, never refusals: registers hold late
 * registrations and clerks' slips, and the keyer types what is written.
 */
export function dateWarnings(columns: readonly LayoutColumn[], fields: KeyedFields, book: { yearFrom: number; yearTo: number }): KeyingWarning[] {
  const out: KeyingWarning[] = [];
  const read = new Map<KeyingField, { column: string; date: ReadDate }>();
  for (const c of columns) {
    if (c.field !== 'event_date' && c.field !== 'registration_date') continue;
    const f = fields[c.key];
    if (!f || !('value' in f)) continue;
    const date = readKeyedDate(f.value);
    if (!date) {
      out.push({ column: c.key, code: 'unreadable-date', message: `${c.key} is not a date (day.month.year, day. month-in-Roman year, year-month-day, month.year or year)` });
      continue;
    }
    if (date.impossible) out.push({ column: c.key, code: 'impossible-date', message: `${c.key} names a day or month that does not exist` });
    if (date.year < book.yearFrom || date.year > book.yearTo) {
      const span = book.yearFrom === book.yearTo ? String(book.yearFrom) : `${book.yearFrom}-${book.yearTo}`;
      out.push({ column: c.key, code: 'outside-book-years', message: `${c.key} is in ${date.year}, outside the book's years ${span}` });
    }
    if (!read.has(c.field)) read.set(c.field, { column: c.key, date });
  }
  const event = read.get('event_date');
  const registration = read.get('registration_date');
  if (event && registration && isAfter(event.date.iso, registration.date.iso)) {
    out.push({ column: event.column, code: 'event-after-registration', message: `${event.column} is after the registration date (${registration.column})` });
  }
  return out;
}

/** The value of a field answered with one (explicit answers, illegible or blank, give none). */
function valueOf(fields: KeyedFields, columns: readonly LayoutColumn[], field: KeyingField): string | undefined {
  const values = columns.filter((c) => c.field === field).map((c) => fields[c.key]).filter((f): f is { value: string } => f !== undefined && 'value' in f);
  const text = values.map((v) => v.value.trim()).filter(Boolean).join('; ');
  return text || undefined;
}

/**
 * The entry a verified zone becomes: number, event date (ISO, as far as it is readable), place,
 * remarks as the marginal notes, and the persons' names as keyed (search computes their search
 * form); columns of kind `other`, sex, age and the registration date stay with the keying.
 */
export function entryFieldsFrom(
  columns: readonly LayoutColumn[], fields: KeyedFields, eventType: EventType, box: EntryFields['box'],
): EntryFields {
  const v = (field: KeyingField) => valueOf(fields, columns, field);
  const join = (...parts: (string | undefined)[]) => parts.filter(Boolean).join(' ') || undefined;
  const names: EntryName[] = [];
  const add = (role: EntryName['role'], name: string | undefined) => {
    if (name) names.push({ role, name });
  };
  add('subject', join(v('given_name'), v('surname')));
  add('father', v('father'));
  add('mother', v('mother'));
  add('spouse', join(v('spouse'), v('spouse_given_name'), v('spouse_surname')));
  const date = v('event_date');
  return {
    box, eventType,
    entryNumber: v('entry_number')?.slice(0, 50) ?? null,
    eventDate: date ? readKeyedDate(date)?.iso ?? null : null,
    place: v('place') ?? null,
    marginalNotes: v('remarks') ?? null,
    names,
  };
}
