import { describe, expect, it } from 'vitest';
import { addPeriod, partialDateEnd } from './dates.ts';
import { computePeriod, decideRetention, nextVersion, selectRule, validateRule, type ItemFacts, type RetentionRule } from './rules.ts';
import { assertFourEyes, canonicalJson, certificateHash, verifyCertificate } from './disposal.ts';
import { endOfDay, lockUntilFor } from './object-lock.ts';

function rule(over: Partial<RetentionRule>): RetentionRule {
  return {
    id: 'r1', ruleKey: 'births', version: 1, kind: 'retention', name: 'Births', registerType: 'birth', municipality: null, yearFrom: null, yearTo: null,
    periodYears: 0, periodMonths: 0, permanent: false, trigger: 'closing-year', triggerEvent: null, action: 'destroy', changeReason: 'initial',
    createdBy: 'ana', createdAt: new Date(0), supersededAt: null, ...over,
  };
}
const book: ItemFacts = { registerType: 'birth', municipality: 'Prizren', yearFrom: 1930, yearTo: 1935, createdAt: new Date('2024-01-31T10:00:00Z') };

describe('retention dates', () => {
  it('adds calendar years and months, clamping to the month end', () => {
    expect(addPeriod('2024-01-31', 0, 1)).toBe('2024-02-29');
    expect(addPeriod('2000-02-29', 1, 0)).toBe('2001-02-28');
    expect(addPeriod('1935-12-31', 100, 0)).toBe('2035-12-31');
    expect(addPeriod('2023-11-15', 1, 14)).toBe('2026-01-15');
    expect(partialDateEnd('1961-07')).toBe('1961-07-31');
    expect(partialDateEnd('1960')).toBe('1960-12-31');
    expect(partialDateEnd('1961-02-03')).toBe('1961-02-03');
  });

  it('births closed for 100 years from the closing year (hand-worked: register 1930-1935 → 2035-12-31)', () => {
    const p = computePeriod(rule({ kind: 'closure', action: null, periodYears: 100, name: 'Births closed 100 years', ruleKey: 'births-closure' }), book);
    expect(p.until).toBe('2035-12-31');
    expect(p.triggerDate).toBe('1935-12-31');
    expect(p.explanation).toBe("rule 'Births closed 100 years' (births-closure v1): closed until 2035-12-31, 100 years after the register's closing year 1935 (from 1935-12-31)");
  });

  it('death + 70 years from the latest linked death record (hand-worked: 1950-03-15 and 1961-07 → 2031-07-31)', () => {
    const r = rule({ registerType: 'death', trigger: 'registry-event', triggerEvent: 'death', periodYears: 70, name: 'Deaths', ruleKey: 'deaths', action: 'review' });
    const item: ItemFacts = { ...book, registerType: 'death', registryEvents: { death: ['1950-03-15', '1961-07'], birth: ['1890'] } };
    const p = computePeriod(r, item);
    expect(p.until).toBe('2031-07-31');
    expect(p.explanation).toBe("rule 'Deaths' (deaths v1): retained until 2031-07-31, 70 years after the latest linked 'death' registry event on 1961-07-31 (2 linked records), then review");
    const none = computePeriod(r, { ...item, registryEvents: {} });
    expect(none.until).toBeNull();
    expect(none.explanation).toMatch(/kept until the trigger is known/);
  });

  it('birth + 100 years from a linked birth record', () => {
    const r = rule({ trigger: 'registry-event', triggerEvent: 'birth', periodYears: 100 });
    expect(computePeriod(r, { ...book, registryEvents: { birth: ['1924-05-06'] } }).until).toBe('2024-05-06');
  });

  it('creation trigger with months, and permanent', () => {
    const p = computePeriod(rule({ trigger: 'creation', periodYears: 0, periodMonths: 1 }), book);
    expect(p.until).toBe('2024-02-29');
    expect(p.explanation).toContain("1 month after the item's creation in the archive on 2024-01-31, then destroy");
    const perm = computePeriod(rule({ permanent: true, action: 'transfer' }), book);
    expect(perm).toMatchObject({ permanent: true, until: null, explanation: "rule 'Births' (births v1): kept permanently" });
  });

  it('selects the most specific current rule of the record class', () => {
    const general = rule({ id: 'g', ruleKey: 'a-general', periodYears: 10 });
    const local = rule({ id: 'l', ruleKey: 'b-local', municipality: 'prizren', periodYears: 20 });
    const ranged = rule({ id: 'y', ruleKey: 'c-ranged', yearFrom: 1900, yearTo: 1950, periodYears: 30 });
    const old = rule({ id: 'o', ruleKey: 'd-old', municipality: 'Prizren', supersededAt: new Date() });
    const other = rule({ id: 'x', ruleKey: 'e-other', municipality: 'Peja' });
    expect(selectRule([general, local, ranged, old, other], book, 'retention')?.id).toBe('l');
    expect(selectRule([general, ranged], book, 'retention')?.id).toBe('y');
    expect(selectRule([general, ranged], { ...book, yearTo: 1960 }, 'retention')?.id).toBe('g');
    expect(selectRule([general], book, 'closure')).toBeUndefined();
  });

  it("prefers a records manager's rule to a default-schedule rule of the same class, whatever their keys (issue 18)", () => {
    // As migration 013 writes them: general rules by the default schedule.
    const shipped = rule({ id: 'd', ruleKey: 'default-birth-closure', kind: 'closure', action: null, periodYears: 100, createdBy: 'arkiva default schedule' });
    const own = rule({ id: 'o', ruleKey: 'z-births-closure', kind: 'closure', action: null, periodYears: 70, createdBy: 'rita' });
    expect(selectRule([shipped, own], book, 'closure')?.id).toBe('o');
    expect(selectRule([own, shipped], book, 'closure')?.id).toBe('o');
    expect(selectRule([shipped], book, 'closure')?.id).toBe('d');
    // A default's next version, written by a records manager, is theirs: then the key decides.
    expect(selectRule([{ ...shipped, createdBy: 'rita' }, own], book, 'closure')?.id).toBe('d');
  });

  it('closes a book whose closure waits for a registry event no linked record has yet, and leaves open one no closure rule covers (issue 18)', () => {
    const afterDeath = rule({ id: 'c', kind: 'closure', action: null, trigger: 'registry-event', triggerEvent: 'death', periodYears: 50 });
    const waiting = decideRetention([afterDeath], book);
    expect(waiting.closedUntil).toBe('9999-12-31');
    expect(waiting.closureExplanation).toBe("rule 'Births' (births v1): 50 years after a 'death' registry event, but no linked record has one yet; closed until the trigger is known");
    expect(decideRetention([afterDeath], { ...book, registryEvents: { death: ['1970-05'] } }).closedUntil).toBe('2020-05-31');
    expect(decideRetention([], book).closedUntil).toBeNull();
  });

  it('versions rules and refuses rules that cannot be applied', () => {
    expect(nextVersion(undefined)).toBe(1);
    expect(nextVersion({ version: 3 })).toBe(4);
    const base = { kind: 'retention' as const, name: 'x', registerType: 'birth' as const, trigger: 'creation' as const, action: 'destroy' as const };
    expect(() => validateRule({ ...base })).toThrow(/period/);
    expect(() => validateRule({ ...base, periodYears: 1, action: null })).toThrow(/action/);
    expect(() => validateRule({ ...base, periodYears: 1, trigger: 'registry-event' })).toThrow(/record type/);
    expect(() => validateRule({ ...base, kind: 'closure', periodYears: 1 })).toThrow(/no action/);
    expect(validateRule({ ...base, periodMonths: 6, municipality: '  ' })).toMatchObject({ municipality: null, periodYears: 0, permanent: false });
  });
});

describe('disposal rules', () => {
  it('refuses approval by the proposer (four eyes), whatever the case or spacing', () => {
    expect(() => assertFourEyes('ana', 'ana')).toThrow(/four eyes/);
    expect(() => assertFourEyes('Ana ', ' ana')).toThrow(/four eyes/);
    expect(() => assertFourEyes('ana', '')).toThrow(/named/);
    expect(() => assertFourEyes('ana', 'besa')).not.toThrow();
  });

  it('hashes a certificate deterministically over canonical JSON', () => {
    const a = { bookId: 'b', objects: [{ sha256: 'x', size: 1 }], approvals: { proposedBy: 'ana', approvedBy: 'besa' } };
    const b = { approvals: { approvedBy: 'besa', proposedBy: 'ana' }, objects: [{ size: 1, sha256: 'x' }], bookId: 'b' };
    expect(canonicalJson(a)).toBe('{"approvals":{"approvedBy":"besa","proposedBy":"ana"},"bookId":"b","objects":[{"sha256":"x","size":1}]}');
    expect(certificateHash(a)).toBe(certificateHash(b));
    expect(certificateHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyCertificate({ content: b, sha256: certificateHash(a) })).toBe(true);
    expect(verifyCertificate({ content: { ...b, bookId: 'c' }, sha256: certificateHash(a) })).toBe(false);
  });
});

describe('object lock dates', () => {
  it('locks until the end of the retention day, rolls a horizon for permanent items, nothing once due', () => {
    expect(lockUntilFor({ retainUntil: '2030-06-30', permanent: false }, '2025-01-01')).toEqual(new Date('2030-07-01T00:00:00Z'));
    expect(lockUntilFor({ retainUntil: null, permanent: true }, '2025-01-01')).toEqual(endOfDay('2035-01-01'));
    expect(lockUntilFor({ retainUntil: '2020-01-01', permanent: false }, '2025-01-01')).toBeUndefined();
  });
});

describe('fixity sampling', () => {
  it('checks enough objects per run to cover every object within the cycle, with slack', async () => {
    const { fixitySampleLimit } = await import('./fixity.ts');
    // Hourly runs over 90 days: 2160 runs; 100 000 objects → 47 per run, +25% = 58.
    expect(fixitySampleLimit(100_000, 3_600_000, 90)).toBe(58);
    expect(fixitySampleLimit(100_000, 3_600_000, 90) * 2160).toBeGreaterThanOrEqual(100_000);
    expect(fixitySampleLimit(0, 3_600_000, 90)).toBe(1);
    // An interval longer than the cycle checks everything each run.
    expect(fixitySampleLimit(500, 200 * 86_400_000, 90)).toBe(625);
  });
});

describe('disposal certificate text', () => {
  it('keeps Latin-1 (Albanian included), transliterates Cyrillic, marks the rest', async () => {
    const { pdfSafeText } = await import('./certificate-pdf.ts');
    expect(pdfSafeText('Prizren, Gjakovë, Çabrat')).toBe('Prizren, Gjakovë, Çabrat');
    expect(pdfSafeText('Призрен')).toMatch(/^Prizren$/);
    expect(pdfSafeText('a→b')).toBe('a?b');
  });
});
