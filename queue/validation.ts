import type { z } from 'zod';
import { AppError } from '../common/errors.ts';
import type { FlowJob, JobOptions, JobQueueOptions, JobSchemas } from './job-queue.ts';
import { QUEUE_DEFAULTS } from './defaults.ts';

/** Job options with every default applied, as both adapters store them. */
export interface ResolvedJobOptions {
  jobId: string | undefined;
  attempts: number;
  backoffMs: number;
  delayMs: number;
}

/** A flow node whose data and options passed validation. */
export interface CheckedFlow {
  name: string;
  data: unknown;
  opts: ResolvedJobOptions;
  children: CheckedFlow[];
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(data)'}: ${i.message}`).join('; ');
}

/** The schema of job `name`, or ERR_VALIDATION when the catalogue has no such job. */
export function schemaOf(schemas: JobSchemas, name: string): z.ZodType {
  // own-property check: a name such as 'toString' must not reach Object.prototype
  const schema = Object.hasOwn(schemas, name) ? schemas[name] : undefined;
  if (schema === undefined) throw new AppError('ERR_VALIDATION', `unknown job ${JSON.stringify(name)}`, { job: name });
  return schema;
}

/**
 * Parses data at enqueue time. The parsed form is what gets stored, so defaults apply once and
 * unknown keys are dropped; it goes through JSON so the in-process queue sees what Redis would.
 */
export function parseForEnqueue(schemas: JobSchemas, name: string, data: unknown): unknown {
  const result = schemaOf(schemas, name).safeParse(data);
  if (!result.success) {
    throw new AppError('ERR_VALIDATION', `invalid data for job ${name}: ${describe(result.error)}`, {
      job: name,
      issues: result.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
    });
  }
  const json = JSON.stringify(result.data);
  return json === undefined ? undefined : JSON.parse(json);
}

/** Parses data again when a job is taken; a failure makes the job fail for good with this reason. */
export function parseOnDequeue(
  schemas: JobSchemas,
  name: string,
  data: unknown,
): { ok: true; data: unknown } | { ok: false; reason: string } {
  const schema = Object.hasOwn(schemas, name) ? schemas[name] : undefined;
  if (schema === undefined) return { ok: false, reason: `unknown job ${JSON.stringify(name)}` };
  const result = schema.safeParse(data);
  return result.success ? { ok: true, data: result.data } : { ok: false, reason: `invalid data for job ${name}: ${describe(result.error)}` };
}

function wholeNumber(value: number | undefined, min: number, what: string, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new AppError('ERR_VALIDATION', `job ${name}: ${what} must be an integer >= ${min}`, { job: name, [what]: value });
  }
  return value;
}

/** Applies the defaults to a job's options and refuses what either adapter could not honour. */
export function resolveJobOptions<S extends JobSchemas>(
  name: string,
  opts: JobOptions | undefined,
  queueOpts: JobQueueOptions<S> | undefined,
): ResolvedJobOptions {
  const jobId = opts?.jobId;
  if (jobId !== undefined) {
    // BullMQ stores ids in key names and takes integer ids for its own counter
    if (jobId === '' || jobId.includes(':') || `${Number.parseInt(jobId, 10)}` === jobId) {
      throw new AppError('ERR_VALIDATION', `job ${name}: jobId must be non-empty, not an integer and without ':'`, { job: name });
    }
  }
  const perJob = (queueOpts?.perJob as Record<string, { attempts?: number; backoffMs?: number } | undefined> | undefined)?.[name];
  return {
    jobId,
    attempts:
      wholeNumber(opts?.attempts, 1, 'attempts', name) ??
      wholeNumber(perJob?.attempts ?? queueOpts?.attempts, 1, 'attempts', name) ??
      QUEUE_DEFAULTS.attempts,
    backoffMs:
      wholeNumber(opts?.backoffMs, 0, 'backoffMs', name) ??
      wholeNumber(perJob?.backoffMs ?? queueOpts?.backoffMs, 0, 'backoffMs', name) ??
      QUEUE_DEFAULTS.backoffMs,
    delayMs: wholeNumber(opts?.delayMs, 0, 'delayMs', name) ?? 0,
  };
}

/** Validates a whole flow before anything of it is enqueued, so a bad node refuses the flow. */
export function checkFlow<S extends JobSchemas>(schemas: S, flow: FlowJob<S>, queueOpts: JobQueueOptions<S> | undefined): CheckedFlow {
  return {
    name: flow.name,
    data: parseForEnqueue(schemas, flow.name, flow.data),
    opts: resolveJobOptions(flow.name, flow.opts, queueOpts),
    children: (flow.children ?? []).map((c) => checkFlow(schemas, c, queueOpts)),
  };
}

/** Every node of a checked flow, parents before their children. */
export function flowNodes(flow: CheckedFlow): CheckedFlow[] {
  return [flow, ...flow.children.flatMap(flowNodes)];
}

/** Refused when a flow names a job that failed for good: its parent would wait for it forever. */
export function failedNodeConflict(node: CheckedFlow): AppError {
  return new AppError(
    'ERR_CONFLICT',
    `flow names job ${node.name} ${node.opts.jobId ?? ''} which already failed for good; give the new run new job ids`,
    { job: node.name, jobId: node.opts.jobId },
  );
}

/** Per-name concurrency from the work options, checked. */
export function concurrencyOf(concurrency: Partial<Record<string, number>> | undefined, name: string): number {
  const n = concurrency?.[name] ?? QUEUE_DEFAULTS.concurrency;
  if (!Number.isSafeInteger(n) || n < 1) throw new AppError('ERR_VALIDATION', `concurrency of ${name} must be an integer >= 1`, { job: name });
  return n;
}
