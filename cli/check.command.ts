import { checkReadiness, READY_PARTS } from '../app/readiness.ts';
import type { CommandContext } from './command.ts';

/**
 * `arkiva check`: exit 0 when the database, the object store and the queue this process is
 * configured with all answer, 1 otherwise. It is the worker's healthcheck (a worker serves no HTTP),
 * and says which OCR engine the worker runs.
 */
export async function runCheck(ctx: CommandContext): Promise<number> {
  const deps = await ctx.open();
  try {
    const checks = await checkReadiness(deps, { timeoutMs: 5_000, onDown: (part, err) => ctx.log.warn({ err, part }, 'check failed') });
    const down = READY_PARTS.filter((p) => checks[p] === 'down');
    const { ocrChoice: ocr } = deps;
    ctx.out(ctx.json ? JSON.stringify({ status: down.length ? 'not ready' : 'ready', checks, ocr }) : down.length ? `not ready: ${down.join(', ')} down` : 'ready');
    if (!ctx.json) ctx.out(`OCR engine: ${ocr.kind} (${ocr.version}; ${ocr.reason})`);
    return down.length ? 1 : 0;
  } finally {
    await deps.close();
  }
}
