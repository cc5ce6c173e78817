import type { JobHandlers } from '../queue/index.ts';
import type { AppDeps } from '../app/deps.ts';
import { STAGE_RETRIES as s, type Jobs } from '../pipeline/index.ts';
import { splitBookJob } from './stages/split-book.job.ts';
import { makeMaster } from './stages/make-master.job.ts';
import { ocrPage } from './stages/ocr-page.job.ts';
import { indexPage } from './stages/index-page.job.ts';
import { completeBookJob } from './stages/complete-book.job.ts';
import { packageBookJob } from './stages/package-book.job.ts';
import { reocrPageJob } from '../review/reocr.ts';
import { writeAnchor } from '../audit/index.ts';
import { writeCatalogue } from '../catalogue/index.ts';
import { deliverEventsJob } from './stages/deliver-events.job.ts';
import { retentionRecomputeJob, retentionReconcileJob, fixityAuditJob, disposalExecuteJob, retentionStaleJob, disposalDueJob } from './stages/retention.job.ts';

/** The one place where every job name gets its handler (a missing one does not compile). */
export function pipelineHandlers(deps: AppDeps): JobHandlers<Jobs> {
  const handlers = {
    'book.split': (data, ctx) => splitBookJob(deps, data, ctx, s['book.split'].attempts),
    'page.master': (data, ctx) => makeMaster(deps, data, ctx, s['page.master'].attempts),
    'page.ocr': (data, ctx) => ocrPage(deps, data, ctx, s['page.ocr'].attempts),
    'page.index': (data, ctx) => indexPage(deps, data, ctx, s['page.index'].attempts),
    'book.complete': (data, ctx) => completeBookJob(deps, data, ctx),
    'book.package': async (data, ctx) => {
      const outcome = await packageBookJob(deps, data, ctx);
      // The book's stages are over: its catalogue goes to the store now rather than at the next sweep.
      await deps.queue.add('catalogue.write', {}).catch((e: unknown) => deps.log.warn({ err: e }, 'catalogue write not queued after packaging: the periodic one writes it'));
      return outcome;
    },
    'retention.recompute': (data, ctx) => retentionRecomputeJob(deps, data, ctx),
    'retention.reconcile': (data, ctx) => retentionReconcileJob(deps, data, ctx),
    'fixity.audit': (data, ctx) => fixityAuditJob(deps, data, ctx),
    'disposal.execute': (data, ctx) => disposalExecuteJob(deps, data, ctx),
    'retention.stale': (data, ctx) => retentionStaleJob(deps, data, ctx),
    'disposal.due': (data, ctx) => disposalDueJob(deps, data, ctx),
    // 'skipped' when the head is already anchored (or the trail is empty): nothing new to write.
    'audit.anchor': async () => ((await writeAnchor(deps)) ? 'done' : 'skipped'),
    'page.reocr': (data, ctx) => reocrPageJob(deps, data, ctx),
    'events.deliver': (data, ctx) => deliverEventsJob(deps, data, ctx),
    'catalogue.write': async (_data, ctx) => {
      const r = await writeCatalogue(deps, { signal: ctx.signal });
      return r.written.length || r.removed.length || r.audit.segments.length ? 'done' : 'skipped';
    },
  } satisfies JobHandlers<Jobs>;
  return handlers;
}
