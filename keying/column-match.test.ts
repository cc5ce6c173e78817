import { describe, expect, it } from 'vitest';
import { toSerbianCyrillic } from '../common/serbian-script.ts';
import type { LayoutColumn } from './answers.ts';
import { headingScore, matchColumns, type ColumnSpan, type HeaderWord } from './column-match.ts';

// The default birth layout (migration 016), as the generated forms print it.
const BIRTH: LayoutColumn[] = [
  { key: 'entryNumber', field: 'entry_number', label: { sq: 'Nr.', sr: 'Br.' } },
  { key: 'dateOfBirth', field: 'event_date', label: { sq: 'Data e lindjes', sr: 'Datum rođenja' } },
  { key: 'firstName', field: 'given_name', label: { sq: 'Emri', sr: 'Ime' } },
  { key: 'surname', field: 'surname', label: { sq: 'Mbiemri', sr: 'Prezime' } },
  { key: 'sex', field: 'sex', label: { sq: 'Gjinia', sr: 'Pol' } },
  { key: 'fatherName', field: 'father', label: { sq: 'Emri i babait', sr: 'Ime oca' } },
  { key: 'mother', field: 'mother', label: { sq: 'Nëna (emri, mbiemri i vajzërisë)', sr: 'Majka (ime, devojačko prezime)' } },
  { key: 'placeOfBirth', field: 'place', label: { sq: 'Vendi i lindjes', sr: 'Mesto rođenja' } },
];

/** Spans 100 px wide from x = 0, one per heading; `null` is a span with nothing printed over it. */
function page(headings: (string | null)[]): { spans: ColumnSpan[]; words: HeaderWord[] } {
  const spans = headings.map((_, i) => ({ x0: i * 100, x1: (i + 1) * 100 }));
  const words = headings.flatMap((h, i) => (h === null ? [] : h.split(' ').map((text, k) => ({ text, x: i * 100 + 10 + k * 5 }))));
  return { spans, words };
}
const sq = BIRTH.map((c) => c.label!.sq!);

describe('matching detected columns to a layout', () => {
  it('maps one to one when the counts agree, without needing any heading', () => {
    const { spans } = page(sq);
    expect(matchColumns(spans, BIRTH)).toEqual({ matched: true, method: 'count', groups: BIRTH.map((_, i) => [i]), dropped: [] });
  });

  it('leaves out an unheaded margin column at either edge of the table', () => {
    const { spans, words } = page([null, ...sq, null]);
    const m = matchColumns(spans, BIRTH, words);
    expect(m).toMatchObject({ matched: true, method: 'headings', dropped: [0, 9] });
    if (m.matched) expect(m.groups).toEqual(BIRTH.map((_, i) => [i + 1]));
  });

  it('keeps a heading split by a stray rule with its column, though its second half reads like the surname heading', () => {
    const headings = [...sq.slice(0, 6), 'Nëna (emri,', 'mbiemri i vajzërisë)', sq[7]!];
    const { spans, words } = page(headings);
    const m = matchColumns(spans, BIRTH, words);
    expect(m).toMatchObject({ matched: true, method: 'headings', dropped: [] });
    if (m.matched) expect(m.groups).toEqual([[0], [1], [2], [3], [4], [5], [6, 7], [8]]);
  });

  it('joins an unheaded span to the column whose spans surround it', () => {
    const { spans, words } = page([...sq.slice(0, 3), 'Mbiemri', null, 'Mbiemri', ...sq.slice(4)]);
    const m = matchColumns(spans, BIRTH, words);
    expect(m.matched).toBe(true);
    if (m.matched) expect(m.groups[3]).toEqual([3, 4, 5]);
  });

  it('reads Serbian headings in Cyrillic and with an OCR slip, and tells a father from a child by the longer heading', () => {
    const sr = BIRTH.map((c) => toSerbianCyrillic(c.label!.sr!));
    sr[7] = toSerbianCyrillic('Mesto rođsnja'); // one letter misread in a long word
    const { spans, words } = page([...sr, null]);
    const m = matchColumns(spans, BIRTH, words);
    expect(m).toMatchObject({ matched: true, dropped: [8] });
    if (m.matched) expect(m.groups).toEqual(BIRTH.map((_, i) => [i]));
    expect(headingScore(['emri', 'babait'], BIRTH[5]!)).toEqual({ share: 1, count: 2 });
    expect(headingScore(['emri', 'babait'], BIRTH[2]!)).toEqual({ share: 1, count: 1 });
  });

  it('refuses to guess: a heading not read, an unheaded span between two columns, fewer spans than columns', () => {
    const noSex = page([...sq.slice(0, 4), 'xx', ...sq.slice(5), null]);
    expect(matchColumns(noSex.spans, BIRTH, noSex.words)).toEqual({ matched: false, reason: '9 columns found, the layout has 8; no heading read for sex' });

    const between = page([...sq.slice(0, 2), null, ...sq.slice(2)]);
    const m = matchColumns(between.spans, BIRTH, between.words);
    expect(m.matched).toBe(false);
    if (!m.matched) expect(m.reason).toMatch(/column 3 has no heading and lies at the edge of (dateOfBirth|firstName)/);

    const merged = page([...sq.slice(0, 6), `${sq[6]} ${sq[7]}`]);
    const f = matchColumns(merged.spans, BIRTH, merged.words);
    expect(f.matched).toBe(false);
    if (!f.matched) expect(f.reason).toMatch(/^7 columns found, the layout has 8; /);

    const blind = page([...sq, null]);
    expect(matchColumns(blind.spans, BIRTH)).toEqual({ matched: false, reason: '9 columns found, the layout has 8, and no heading was read to place them' });
    expect(matchColumns([], BIRTH)).toEqual({ matched: false, reason: 'no table columns were found on the page' });
  });
});
