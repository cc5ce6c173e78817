/**
 * The progress bar of long commands: drawn in place on a terminal, never with --json or when the
 * output goes to a pipe or a file, at most every 100 ms, cut to the terminal's width.
 */
import { describe, expect, it } from 'vitest';
import { progressBar, type ProgressStreams } from './progress.ts';

function streams(stdoutTTY: boolean, stderrTTY = true, columns = 80): ProgressStreams & { written: string[] } {
  const written: string[] = [];
  return { written, stdout: { isTTY: stdoutTTY }, stderr: { isTTY: stderrTTY, columns, write: (s: string) => written.push(s) } };
}

describe('progressBar', () => {
  it('draws on a terminal, redrawing the same line, and ends it with a newline', () => {
    const s = streams(true);
    let t = 0;
    const bar = progressBar('objects', { json: false, streams: s, now: () => t })!;
    bar.update(0, 4);
    t += 150;
    bar.update(2, 4, 'checked');
    t += 150;
    bar.update(4, 4);
    bar.end();
    expect(s.written).toEqual([
      `\robjects [${'.'.repeat(30)}] 0/4\x1b[K`,
      `\robjects [${'#'.repeat(15)}${'.'.repeat(15)}] 2/4 checked\x1b[K`,
      `\robjects [${'#'.repeat(30)}] 4/4\x1b[K`,
      '\n',
    ]);
  });

  it('is not drawn with --json, when stdout is piped, or when stderr is not a terminal', () => {
    expect(progressBar('pages', { json: true, streams: streams(true) })).toBeUndefined();
    expect(progressBar('pages', { json: false, streams: streams(false) })).toBeUndefined();
    expect(progressBar('pages', { json: false, streams: streams(true, false) })).toBeUndefined();
  });

  it('skips redraws closer than 100 ms apart but always draws the last step; ends nothing when nothing was drawn', () => {
    const s = streams(true);
    let t = 1_000;
    const bar = progressBar('books', { json: false, streams: s, now: () => t })!;
    for (let i = 0; i < 50; i++) bar.update(i, 100);
    expect(s.written).toHaveLength(1);
    t += 50;
    bar.update(100, 100);
    expect(s.written.at(-1)).toContain('100/100');
    bar.end();
    bar.end();
    expect(s.written.filter((w) => w === '\n')).toHaveLength(1);
    const quiet = streams(true);
    progressBar('x', { json: false, streams: quiet })!.end();
    expect(quiet.written).toEqual([]);
  });

  it('cuts the line to the terminal width so \\r can redraw it', () => {
    const s = streams(true, true, 40);
    progressBar('bytes', { json: false, streams: s })!.update(5, 10, 'a long detail that would wrap the line');
    expect(s.written[0]!.replace('\r', '').replace('\x1b[K', '')).toHaveLength(39);
  });
});
