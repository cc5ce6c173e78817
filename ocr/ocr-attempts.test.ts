import { describe, expect, it } from 'vitest';
import { OcrTimeoutError, type OcrEngine, type OcrOptions, type OcrResult } from './ocr-engine.ts';
import { betterResult, median, pageTimeBound, readsAsEmpty, recognizeBounded, runsHorizontally, SURE_OCR_CONFIDENCE } from './ocr-attempts.ts';
import { FLATTEN_RESCUE_PROFILE, profilesFor, readOrientationFirst, RESCUE_PROFILE } from './ocr-profiles.ts';

function result(meanConfidence: number, words: string[], profile = 'p'): OcrResult {
  return {
    text: words.join(' '),
    meanConfidence,
    words: words.map((text) => ({ text, confidence: meanConfidence, bbox: { x0: 0, y0: 0, x1: 1, y1: 1 }, line: 0, block: 0 })),
    lines: [],
    engine: 'fake',
    durationMs: 10,
    width: 10,
    height: 10,
    profile,
  };
}

/** An engine answering each profile by name: a result, or a timeout. */
function fakeEngine(answers: Record<string, OcrResult | 'timeout'>) {
  const calls: OcrOptions[] = [];
  const engine: OcrEngine = {
    async recognize(_image, opts) {
      calls.push(opts);
      const a = answers[opts.profile!.name];
      if (a === 'timeout') throw new OcrTimeoutError(opts.timeoutMs ?? 1);
      if (!a) throw new Error(`no answer for ${opts.profile!.name}`);
      return a;
    },
    stats: () => ({ workers: 0, busy: 0, recycled: 0, pagesDone: 0 }),
    close: async () => undefined,
  };
  return { engine, calls };
}

const page = Buffer.from('page');
/** A register row: text enough to be a reading (MIN_TEXT_CHARACTERS), whatever its confidence. */
const ROW = ['1', '02.03.1958', 'Arbën', 'Krasniqi'];
const A = { name: 'a' };
const B = { name: 'b' };

describe('betterResult', () => {
  it('keeps the more confident of two readings of the same length, the first on a tie', () => {
    const low = result(40, ['Hoxha', 'Krasniqi']);
    const high = result(80, ['Hoxha', 'Krasniqi']);
    expect(betterResult(low, high)).toBe(high);
    expect(betterResult(high, low)).toBe(high);
    const same = result(40, ['Hoxha', 'Krasniqi']);
    expect(betterResult(low, same)).toBe(low);
  });

  it('does not let a few confident words beat a full page read a little less surely', () => {
    const full = result(70, Array.from({ length: 40 }, () => 'Gashi'));
    const few = result(95, ['Gashi']);
    expect(betterResult(few, full)).toBe(full);
    expect(betterResult(result(0, []), few)).toBe(few);
  });
});

describe('pageTimeBound', () => {
  it('is 5 × the median of the book, within floor and ceiling', () => {
    expect(median([1, 9, 3])).toBe(3);
    expect(median([1, 2, 3, 10])).toBe(2.5);
    expect(pageTimeBound([4000, 5000, 6000, 90_000])).toBe(27_500);
    expect(pageTimeBound([100, 200, 300])).toBe(15_000);
    expect(pageTimeBound([60_000, 60_000, 60_000])).toBe(180_000);
    expect(pageTimeBound([1000, 1000, 1000], { factor: 3, minMs: 10, maxMs: 10_000 })).toBe(3000);
  });

  it('uses the ceiling until the book has enough timed pages, ignoring nonsense durations', () => {
    expect(pageTimeBound([])).toBe(180_000);
    expect(pageTimeBound([5000, 5000])).toBe(180_000);
    expect(pageTimeBound([5000, 5000, Number.NaN, -1, 0])).toBe(180_000);
    expect(pageTimeBound([5000, 5000, 5000], { minSamples: 3 })).toBe(25_000);
  });
});

describe('recognizeBounded', () => {
  it('stops after the first profile when its reading is confident enough', async () => {
    const { engine, calls } = fakeEngine({ a: result(85, ROW, 'a'), b: result(90, ROW, 'b') });
    const r = await recognizeBounded(engine, page, { languages: ['sqi'], profiles: [A, B], minConfidence: 60 });
    expect(calls.map((c) => c.profile!.name)).toEqual(['a']);
    expect(r.result!.profile).toBe('a');
    expect(r.review).toBe(false);
  });

  it('reads again with the next profile when confidence is low and keeps the better result', async () => {
    const better = fakeEngine({ a: result(30, ROW, 'a'), b: result(75, ROW, 'b') });
    const r1 = await recognizeBounded(better.engine, page, { languages: ['sqi'], profiles: [A, B], timeoutMs: 500 });
    expect(r1.result!.profile).toBe('b');
    expect(r1.attempts.map((a) => [a.profile, a.outcome, a.meanConfidence])).toEqual([['a', 'read', 30], ['b', 'read', 75]]);
    expect(r1.review).toBe(false);
    expect(better.calls.every((c) => c.timeoutMs === 500 && c.languages[0] === 'sqi')).toBe(true);

    const worse = fakeEngine({ a: result(50, ROW, 'a'), b: result(20, ROW, 'b') });
    const r2 = await recognizeBounded(worse.engine, page, { languages: ['sqi'], profiles: [A, B] });
    expect(r2.result!.profile).toBe('a');
    expect(r2.review).toBe(true);
  });

  it('moves on to the next profile after a timeout, and lists the page for review when nothing is read', async () => {
    const rescued = fakeEngine({ a: 'timeout', b: result(80, ROW, 'b') });
    const r1 = await recognizeBounded(rescued.engine, page, { languages: ['sqi'], profiles: [A, B] });
    expect(r1.attempts.map((a) => a.outcome)).toEqual(['timeout', 'read']);
    expect(r1.result!.profile).toBe('b');
    expect(r1.review).toBe(false);

    const lost = fakeEngine({ a: 'timeout', b: 'timeout' });
    const r2 = await recognizeBounded(lost.engine, page, { languages: ['sqi'], profiles: [A, B] });
    expect(r2.result).toBeUndefined();
    expect(r2.review).toBe(true);
  });

  it('keeps an upright-only reading only when it is confident and its words run horizontally', async () => {
    const wide = (conf: number, profile: string) => {
      const r = result(conf, ['Gashi', 'Krasniqi', 'Berisha', 'Hoxha'], profile);
      r.words = r.words.map((w, i) => ({ ...w, bbox: { x0: 0, y0: i * 20, x1: 120, y1: i * 20 + 18 } }));
      return r;
    };
    const tall = (conf: number, profile: string) => {
      const r = wide(conf, profile);
      r.words = r.words.map((w) => ({ ...w, bbox: { x0: w.bbox.y0, y0: w.bbox.x0, x1: w.bbox.y1, y1: w.bbox.x1 } }));
      return r;
    };
    expect(runsHorizontally(wide(90, 'x'))).toBe(true);
    expect(runsHorizontally(tall(90, 'x'))).toBe(false);
    expect(runsHorizontally(result(90, ['ab', 'cd']))).toBe(false);
    const U = { name: 'u', uprightOnly: true };

    const upright = fakeEngine({ u: wide(85, 'u'), b: wide(90, 'b') });
    const r1 = await recognizeBounded(upright.engine, page, { languages: ['sqi'], profiles: [U, B] });
    expect(upright.calls.map((c) => c.profile!.name)).toEqual(['u']);
    expect(r1.result!.profile).toBe('u');

    // Sideways: confident, but the page's turn is unknown; the detecting profile's reading wins even when a little less sure.
    const sideways = fakeEngine({ u: tall(85, 'u'), b: wide(80, 'b') });
    const r2 = await recognizeBounded(sideways.engine, page, { languages: ['sqi'], profiles: [U, B] });
    expect(r2.attempts.map((a) => [a.profile, a.outcome])).toEqual([['u', 'not-upright'], ['b', 'read']]);
    expect(r2.result!.profile).toBe('b');

    const unsure = fakeEngine({ u: wide(25, 'u'), b: 'timeout' });
    const r3 = await recognizeBounded(unsure.engine, page, { languages: ['sqi'], profiles: [U, B] });
    expect(r3.attempts.map((a) => a.outcome)).toEqual(['not-upright', 'timeout']);
    expect(r3.result!.profile).toBe('u');
    expect(r3.review).toBe(true);
  });

  it('tries each page type first upright-only, then with orientation detection, flipped, and rescued', () => {
    const p = profilesFor('typewriter');
    expect(p.map((x) => [x.name, x.uprightOnly === true, x.detectOrientation === true])).toEqual([
      ['typewriter', true, true], ['typewriter+osd', false, true], ['typewriter+flip', false, true], ['rescue:flatten', false, true], ['rescue', false, true],
    ]);
    expect(p[0]!.blurSigma).toBe(0.7);
    // The paper is divided out before anything else, and Sauvola stays the last try.
    expect(p[3]).toMatchObject({ flattenBackground: true, normalise: true });
    expect(p[4]).toMatchObject({ binarisation: 'sauvola' });
  });

  it('reads an empty page on through the rescues, and flags it as no text read when they find nothing either', async () => {
    const chain = profilesFor('printed');
    const empty = Object.fromEntries(chain.map((p) => [p.name, result(0, [], p.name)]));
    const still = fakeEngine(empty);
    const r = await recognizeBounded(still.engine, page, { languages: ['sqi'], profiles: chain });
    expect(still.calls.map((c) => c.profile!.name)).toEqual(['printed', 'printed+osd', 'printed+flip', 'rescue:flatten', 'rescue']);
    expect(r).toMatchObject({ noText: true, review: true });
    expect(r.result!.words).toEqual([]);

    const names = Array.from({ length: 12 }, () => 'Krasniqi');
    const rescued = fakeEngine({ ...empty, 'rescue:flatten': result(71, names, 'rescue:flatten') });
    const r2 = await recognizeBounded(rescued.engine, page, { languages: ['sqi'], profiles: chain });
    // 71 passes the floor but is unsure: the last rescue reads it too, and finds nothing better.
    expect(rescued.calls.map((c) => c.profile!.name)).toEqual(['printed', 'printed+osd', 'printed+flip', 'rescue:flatten', 'rescue']);
    expect(r2).toMatchObject({ noText: false, review: false });
    expect(r2.result!.profile).toBe('rescue:flatten');
  });

  it('does not take a few confident specks for a reading: the chain goes on and the page is flagged if nothing better comes', async () => {
    // Three stray words read surely: confident, yet no text worth the name (under MIN_TEXT_CHARACTERS).
    const specks = result(82.5, ['I', 'E', 'Së'], 'a');
    expect(readsAsEmpty(specks)).toBe(true);
    const { engine, calls } = fakeEngine({ a: specks, rescue: result(0, [], 'rescue') });
    const r = await recognizeBounded(engine, page, { languages: ['sqi'], profiles: [A, RESCUE_PROFILE] });
    expect(calls.map((c) => c.profile!.name)).toEqual(['a', 'rescue']);
    expect(r).toMatchObject({ noText: true, review: true });
  });

  it('keeps ordinary pages as cheap as before: a confident reading with text never reaches a rescue', async () => {
    const full = result(88, Array.from({ length: 40 }, () => 'Gashi'), 'printed');
    const { engine, calls } = fakeEngine({ printed: full });
    const r = await recognizeBounded(engine, page, { languages: ['sqi'], profiles: profilesFor('printed').map((p, i) => (i === 0 ? { ...p, uprightOnly: false } : p)) });
    expect(calls.map((c) => c.profile!.name)).toEqual(['printed']);
    expect(r).toMatchObject({ noText: false, review: false });
    expect(calls.some((c) => c.profile === FLATTEN_RESCUE_PROFILE)).toBe(false);
  });

  it('reads a page that passed the floor unsurely with the rescues only, and keeps the better reading', async () => {
    const chain = profilesFor('printed').map((p, i) => (i === 0 ? { ...p, uprightOnly: false } : p));
    const partial = result(64, Array.from({ length: 8 }, () => 'Gashi'), 'printed');
    const flattened = result(74, Array.from({ length: 40 }, () => 'Gashi'), 'rescue:flatten');
    const sauvola = result(70, Array.from({ length: 30 }, () => 'Gashi'), 'rescue');
    const { engine, calls } = fakeEngine({ printed: partial, 'rescue:flatten': flattened, rescue: sauvola });
    const r = await recognizeBounded(engine, page, { languages: ['sqi'], profiles: chain });
    // The orientation fallbacks are skipped: the page was read, only unsurely.
    expect(calls.map((c) => c.profile!.name)).toEqual(['printed', 'rescue:flatten', 'rescue']);
    expect(r.result!.profile).toBe('rescue:flatten');
    expect(r).toMatchObject({ noText: false, review: false });

    // A rescue that reaches the sure confidence ends the chain.
    const sure = fakeEngine({ printed: partial, 'rescue:flatten': result(SURE_OCR_CONFIDENCE, Array.from({ length: 40 }, () => 'Gashi'), 'rescue:flatten') });
    await recognizeBounded(sure.engine, page, { languages: ['sqi'], profiles: chain });
    expect(sure.calls.map((c) => c.profile!.name)).toEqual(['printed', 'rescue:flatten']);

    // A worse rescue leaves the first reading in place.
    const worse = fakeEngine({ printed: partial, 'rescue:flatten': result(20, ROW, 'rescue:flatten'), rescue: result(10, ROW, 'rescue') });
    expect((await recognizeBounded(worse.engine, page, { languages: ['sqi'], profiles: chain })).result!.profile).toBe('printed');
  });

  it('lets errors other than a timeout propagate', async () => {
    const { engine } = fakeEngine({});
    await expect(recognizeBounded(engine, page, { languages: ['sqi'], profiles: [A] })).rejects.toThrow('no answer');
  });
});

describe('reading orientation first', () => {
  const upright = { landscape: true, turn: 0 };
  const turned = { landscape: false, turn: 270 };

  it('reads a book’s first pages upright first, whatever they look like', () => {
    expect(readOrientationFirst([], { landscape: false })).toBe(false);
    expect(readOrientationFirst([turned, turned], { landscape: false })).toBe(false);
  });

  it('reads with orientation detection first once a third of the book’s recent pages were turned', () => {
    expect(readOrientationFirst([turned, upright, upright], { landscape: true })).toBe(true);
    expect(readOrientationFirst([turned, upright, upright, upright], { landscape: true })).toBe(false);
    expect(readOrientationFirst([upright, upright, upright, upright], { landscape: true })).toBe(false);
  });

  it('reads a page of another shape than most of the book’s with orientation detection first: it was scanned sideways', () => {
    expect(readOrientationFirst([upright, upright, upright, upright], { landscape: false })).toBe(true);
    expect(readOrientationFirst([upright, upright, upright, upright], undefined)).toBe(false);
  });

  it('drops only the upright first reading from the chain', () => {
    const names = (o: { orientationFirst?: boolean }) => profilesFor('typewriter', o).map((p) => p.name);
    expect(names({})).toEqual(['typewriter', 'typewriter+osd', 'typewriter+flip', 'rescue:flatten', 'rescue']);
    expect(names({ orientationFirst: true })).toEqual(['typewriter+osd', 'typewriter+flip', 'rescue:flatten', 'rescue']);
    expect(profilesFor('typewriter')[0]!.uprightOnly).toBe(true);
  });
});
