/** A calendar date as 'YYYY-MM-DD' (retention is decided in days, never in hours). */
export type IsoDate = string;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses 'YYYY-MM-DD' into its parts; throws on anything else. */
export function parseIsoDate(d: IsoDate): { y: number; m: number; day: number } {
  const m = ISO_DATE.exec(d);
  if (!m) throw new Error(`not a YYYY-MM-DD date: ${d}`);
  return { y: Number(m[1]), m: Number(m[2]), day: Number(m[3]) };
}

function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

function fmt(y: number, m: number, d: number): IsoDate {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/**
 * Adds whole years and months to a date. A day that does not exist in the target month is clamped
 * to the month's last day (31 Jan + 1 month = 28/29 Feb; 29 Feb 2000 + 1 year = 28 Feb 2001), as
 * retention schedules count calendar periods, not a fixed number of days.
 */
export function addPeriod(date: IsoDate, years: number, months: number): IsoDate {
  const { y, m, day } = parseIsoDate(date);
  const total = y * 12 + (m - 1) + years * 12 + months;
  const ny = Math.floor(total / 12);
  const nm = (total % 12) + 1;
  return fmt(ny, nm, Math.min(day, daysInMonth(ny, nm)));
}

/** The UTC calendar date of an instant. */
export function toIsoDate(d: Date): IsoDate {
  return d.toISOString().slice(0, 10);
}

/**
 * A partial registry date ('YYYY', 'YYYY-MM' or 'YYYY-MM-DD') as the LAST day it may mean, so a
 * period counted from it never ends early.
 */
export function partialDateEnd(d: string): IsoDate {
  const parts = d.split('-').map(Number);
  const [y, m, day] = parts;
  if (y === undefined || Number.isNaN(y)) throw new Error(`not a date: ${d}`);
  if (m === undefined) return fmt(y, 12, 31);
  if (day === undefined) return fmt(y, m, daysInMonth(y, m));
  return fmt(y, m, day);
}
