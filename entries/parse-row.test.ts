import { describe, expect, it } from 'vitest';
import { planBook } from '../fixtures/index.ts';
import { parseRegisterRow } from './parse-row.ts';

describe('parseRegisterRow', () => {
  it('reads number, date, names and place from every ground-truth row of birth, marriage and death books', () => {
    let rows = 0;
    for (const [i, registerType] of (['birth', 'marriage', 'death'] as const).entries()) {
      for (const style of ['printed', 'cyrillic', 'mixed'] as const) {
        const book = planBook({ seed: 40 + i, pages: 2, style, registerType, year: 1961, scale: 0.5 });
        for (const e of book.truth.pages.flatMap((p) => p.entries)) {
          rows++;
          const tokens = e.cells.flatMap((c) => c.text.split(/\s+/));
          const r = parseRegisterRow(tokens, registerType);
          const f = e.fields;
          expect(r.entryNumber).toBe(String(e.entryNumber));
          const date = String(f.dateOfBirth ?? f.dateOfMarriage ?? f.dateOfDeath);
          expect(r.eventDate).toBe(date);
          const names = Object.fromEntries(r.names.map((n) => [n.role, n.name]));
          if (registerType === 'birth') {
            expect(names).toEqual({ subject: `${f.firstName} ${f.surname}`, father: String(f.fatherName), mother: `${f.motherName} ${f.motherMaidenName}` });
            expect(r.place).toBe(String(f.placeOfBirth));
          } else if (registerType === 'marriage') {
            expect(names).toEqual({ subject: `${f.groomFirstName} ${f.groomSurname}`, spouse: `${f.brideFirstName} ${f.brideSurname}` });
            expect(r.place).toBe(String(f.placeOfMarriage));
          } else {
            expect(names).toEqual({ subject: `${f.firstName} ${f.surname}` });
            expect(r.place).toBe(String(f.placeOfDeath));
          }
        }
      }
    }
    expect(rows).toBeGreaterThan(60);
  });

  it('keeps what it can place when OCR lost a column, and rejects nonsense dates', () => {
    expect(parseRegisterRow(['12', '31.02.1958', 'Arbën', 'Krasniqi'], 'death')).toEqual({
      entryNumber: '12', eventDate: '1958-02-31', names: [{ role: 'subject', name: 'Arbën Krasniqi' }],
    });
    expect(parseRegisterRow(['7.', '1.13.1958', 'Ana', 'Hoxha', 'F'], 'birth')).toMatchObject({ entryNumber: '7', eventDate: '1958', names: [{ role: 'subject', name: 'Ana Hoxha' }] });
    expect(parseRegisterRow(['Faqja', '3'], 'birth')).toEqual({ names: [{ role: 'subject', name: 'Faqja 3' }] });
  });
});
