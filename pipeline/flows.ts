import type { FlowJob } from '../queue/index.ts';
import { PAGE_STAGES, STAGE_RETRIES, type Jobs } from './catalogue.ts';

/**
 * The chain of stages of one page as a nested flow: each stage is the parent of the one before it,
 * so BullMQ (or the in-process queue) runs them in PAGE_STAGES order. `run` distinguishes a retry
 * from the first pass, so its job ids do not collide with the kept failed jobs of that pass.
 */
export function pageFlow(bookId: string, pageId: string, revision: number, run: string): FlowJob<Jobs> {
  let flow: FlowJob<Jobs> | undefined;
  for (const stage of PAGE_STAGES) {
    const node: FlowJob<Jobs> = {
      name: stage,
      data: { bookId, pageId, revision },
      opts: { jobId: `${stage}-${pageId}-r${revision}-${run}`, ...STAGE_RETRIES[stage] },
      ...(flow ? { children: [flow] } : {}),
    };
    flow = node;
  }
  return flow!;
}

/**
 * A book's pages fanned out, with book completion as the fan-in parent. `part` names one of
 * several flows of the same run (the blocks the split job queues while it is still splitting);
 * the pages' own job ids depend on the run only.
 */
export function bookFlow(bookId: string, pages: { id: string; revision: number }[], run: string, part?: string): FlowJob<Jobs> {
  return {
    name: 'book.complete',
    data: { bookId },
    opts: { jobId: `book.complete-${bookId}-${run}${part ? `-${part}` : ''}`, ...STAGE_RETRIES['book.complete'] },
    children: pages.map((p) => pageFlow(bookId, p.id, p.revision, run)),
  };
}

/**
 * The block of pages the split job queues together, from the page's 1-based position: blocks of
 * 1, 2, 4, 8 and 16 pages, then 32 (so OCR of page 1 starts while the rest is split, without a
 * fan-in job per page on long books). Depends on the position alone, so a re-run of the split
 * forms the same blocks and their flows are recognised as already queued.
 */
export function splitBlockOf(sequence: number): number {
  return sequence < 32 ? Math.floor(Math.log2(sequence)) : 5 + Math.floor((sequence - 32) / 32);
}
