import { describe, expect, it } from 'vitest';
import { OcrTimeoutError } from './ocr-engine.ts';
import { WALL_CEILING_FACTOR, watchTimeBound, type TimeBoundClock } from './time-bound.ts';

/** A wall clock the test moves by hand, with the timers set on it. */
function manualClock() {
  let now = 0;
  let next = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const clock: TimeBoundClock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = next++;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (id) => void timers.delete(id as number),
  };
  /** Moves the clock to `to`, running each timer due on the way (and what its promises then do). */
  async function advanceTo(to: number): Promise<void> {
    for (;;) {
      await new Promise((r) => setImmediate(r));
      const due = [...timers].filter(([, t]) => t.at <= to).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      timers.delete(due[0]);
      now = due[1].at;
      due[1].fn();
    }
    now = to;
    await new Promise((r) => setImmediate(r));
  }
  return { clock, advanceTo, pending: () => timers.size };
}

/** Watches how a bound ends: undefined while it has not. */
function outcome(p: Promise<never>): { error: OcrTimeoutError | undefined } {
  const o: { error: OcrTimeoutError | undefined } = { error: undefined };
  p.catch((e: OcrTimeoutError) => (o.error = e));
  return o;
}

describe('watchTimeBound: a page bounded by the CPU time of its OCR thread', () => {
  it('does not stop a reading slowed threefold by other processes: wall time runs past the budget, CPU time does not', async () => {
    const { clock, advanceTo } = manualClock();
    // the thread gets a third of a core: 1 ms of CPU per 3 ms of wall time, from 5000 ms used before
    const cpu = async () => 5000 + clock.now() / 3;
    const bound = watchTimeBound(1000, cpu, clock);
    const ended = outcome(bound.exceeded);
    await advanceTo(2900);
    expect(ended.error).toBeUndefined();
    await advanceTo(3100);
    expect(ended.error).toBeInstanceOf(OcrTimeoutError);
    expect(ended.error).toMatchObject({ timeoutMs: 1000, clock: 'cpu' });
    expect(ended.error!.message).toBe('OCR used 1000 ms of CPU time without finishing; its worker was stopped');
  });

  it('stops a reading that used its budget of CPU time, at the first look past it', async () => {
    const { clock, advanceTo } = manualClock();
    const bound = watchTimeBound(1000, async () => clock.now(), clock);
    const ended = outcome(bound.exceeded);
    await advanceTo(999);
    expect(ended.error).toBeUndefined();
    await advanceTo(1000);
    expect(ended.error).toMatchObject({ timeoutMs: 1000, clock: 'cpu' });
  });

  it('looks at the CPU time a handful of times, not on every tick', async () => {
    const { clock, advanceTo } = manualClock();
    let looks = 0;
    const bound = watchTimeBound(15_000, async () => {
      looks++;
      return clock.now() / 4;
    }, clock);
    const ended = outcome(bound.exceeded);
    await advanceTo(61_000);
    expect(ended.error).toMatchObject({ clock: 'cpu' });
    // one look to start, then each when the rest of the budget could have been used
    expect(looks).toBeLessThanOrEqual(25);
  });

  it('stops a reading that gets no CPU at all once the wall ceiling has passed', async () => {
    const { clock, advanceTo } = manualClock();
    const bound = watchTimeBound(1000, async () => 42, clock);
    const ended = outcome(bound.exceeded);
    await advanceTo(1000 * WALL_CEILING_FACTOR - 1);
    expect(ended.error).toBeUndefined();
    await advanceTo(1000 * WALL_CEILING_FACTOR);
    expect(ended.error).toMatchObject({ timeoutMs: 1000 * WALL_CEILING_FACTOR, clock: 'wall' });
  });

  it('bounds by wall time where the thread’s CPU time cannot be read (no /proc)', async () => {
    for (const cpu of [undefined, async () => undefined]) {
      const { clock, advanceTo } = manualClock();
      const ended = outcome(watchTimeBound(1000, cpu, clock).exceeded);
      await advanceTo(999);
      expect(ended.error).toBeUndefined();
      await advanceTo(1000);
      expect(ended.error).toMatchObject({ timeoutMs: 1000, clock: 'wall' });
      expect(ended.error!.message).toBe('OCR did not finish within 1000 ms; its worker was stopped');
    }
  });

  it('fires nothing once stopped', async () => {
    const { clock, advanceTo, pending } = manualClock();
    const bound = watchTimeBound(1000, async () => clock.now(), clock);
    const ended = outcome(bound.exceeded);
    await advanceTo(500);
    bound.stop();
    await advanceTo(50_000);
    expect(ended.error).toBeUndefined();
    expect(pending()).toBe(0);
  });
});
