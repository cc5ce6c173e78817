import { startWorkers, resumeUnfinished } from '../workers/index.ts';
import { installSchedules } from '../pipeline/index.ts';
import { buildApp } from '../api/index.ts';
import { parseCommandArgs, UsageError, type CommandContext } from './command.ts';

/** Resolves on the first SIGTERM or SIGINT. */
function shutdownSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

/** `arkiva worker`: runs every stage until told to stop, then drains (bounded). */
export async function runWorker(ctx: CommandContext): Promise<number> {
  parseCommandArgs(ctx.args, {});
  const deps = await ctx.open();
  const handle = await startWorkers(deps);
  // Periodic jobs (intervals in config/env.ts): only long-running workers install them; every
  // worker upserts the same ids, so each stays one schedule.
  await installSchedules(deps);
  if (deps.queue.kind === 'memory') await resumeUnfinished(deps);
  ctx.log.warn({ queue: deps.queue.kind, store: deps.store.kind, db: deps.db.kind, pid: process.pid }, 'worker started');
  process.stderr.write(`arkiva worker ${process.pid} started (queue ${deps.queue.kind}, store ${deps.store.kind}, database ${deps.db.kind})\n`);
  const signal = await shutdownSignal();
  process.stderr.write(`arkiva worker ${process.pid}: ${signal}, finishing running jobs\n`);
  await handle.close({ timeoutMs: 30_000 });
  await deps.close();
  return 0;
}

/** `arkiva serve`: the HTTP API; embedded (in-process queue) it also runs the workers. */
export async function runServe(ctx: CommandContext): Promise<number> {
  const { values } = parseCommandArgs(ctx.args, { port: { type: 'string' }, host: { type: 'string' } });
  const port = values.port ? Number(values.port) : ctx.config.http.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0..65535');
  const deps = await ctx.open();
  const workers = deps.queue.kind === 'memory' ? await startWorkers(deps) : undefined;
  if (workers) await installSchedules(deps);
  if (workers) await resumeUnfinished(deps);
  const app = await buildApp(deps);
  const address = await app.listen({ port, host: values.host ?? ctx.config.http.host });
  process.stderr.write(`arkiva API listening on ${address} (OpenAPI at ${address}/docs)\n`);
  await shutdownSignal();
  await app.close();
  await workers?.close({ timeoutMs: 30_000 });
  await deps.close();
  return 0;
}

/** `arkiva resume` */
export async function runResume(ctx: CommandContext): Promise<number> {
  parseCommandArgs(ctx.args, {});
  const deps = await ctx.open();
  try {
    const r = await resumeUnfinished(deps);
    ctx.out(ctx.json ? JSON.stringify(r) : `${r.books} book(s) queued again (${r.pages} pending pages)`);
    return 0;
  } finally {
    await deps.close();
  }
}
