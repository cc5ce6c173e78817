import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/**
 * Every environment variable Arkiva reads, with its meaning. This is the only place that
 * touches `process.env`; the README's configuration table is this list.
 */
export const ENV_DOC = {
  ARKIVA_DATA_DIR: 'Folder for embedded-mode data (PGlite database, filesystem object store). Default ./.arkiva',
  DATABASE_URL: 'PostgreSQL connection string. Unset: embedded PGlite under ARKIVA_DATA_DIR/db',
  DATABASE_SCHEMA: 'PostgreSQL schema to use (created when missing). Default public',
  REDIS_URL: 'Redis URL for BullMQ. Unset: in-process queue (single process only)',
  QUEUE_PREFIX: 'Prefix of every BullMQ key, so several Arkiva installations can share one Redis. Default arkiva',
  QUEUE_LOCK_SECONDS: "How long a worker's claim on a job lasts without renewal (renewed every quarter to half of it); a killed worker's jobs are taken over after at most this plus two stalled checks. Default 30",
  QUEUE_STALLED_CHECK_SECONDS: 'How often workers look for jobs whose claim expired (their worker died or was cut off). Default 15',
  QUEUE_MAX_STALLS: 'Times a job may be lost with its worker (killed, crashed, claim expired) and run again before it fails for good; a loss uses none of its attempts. Same value in every worker process. Default 5',
  S3_ENDPOINT: 'S3 endpoint (MinIO, Ceph RGW, AWS). Unset with S3_BUCKET unset: filesystem store under ARKIVA_DATA_DIR/objects',
  S3_BUCKET: 'Bucket holding every archived object; created at start when missing (with Object Lock when S3_OBJECT_LOCK=true)',
  S3_ACCESS_KEY_ID: 'S3 access key',
  S3_SECRET_ACCESS_KEY: 'S3 secret key',
  S3_REGION: 'S3 region. Default us-east-1 (any value works for MinIO and RGW)',
  S3_FORCE_PATH_STYLE: 'Path-style addressing (needed for MinIO and RGW). Default true',
  S3_OBJECT_LOCK: 'Create the bucket with Object Lock and versioning when it does not exist. Default true',
  S3_DEFAULT_RETENTION_DAYS: "Days of the GOVERNANCE default retention Arkiva gives an Object Lock bucket at start when it has none or a shorter one, so every object version is locked from its first byte until the retention sync gives it its book's date; a bucket's longer or COMPLIANCE default is kept. 0 sets none. Default 1",
  S3_PART_SIZE_MB: 'Multipart upload part size in MiB. Default 16',
  S3_TIMEOUT_SECONDS: 'Longest wait for an S3 response to start, and longest silence on its connection; the call then fails and is retried. Default 60',
  S3_CONNECT_TIMEOUT_SECONDS: 'Longest wait for a connection to the S3 endpoint. Default 5',
  S3_MAX_ATTEMPTS: 'Attempts of one S3 call (the first and its retries, with exponential backoff). Default 4',
  OCR_ENGINE: "OCR engine: auto (native when `tesseract` 5 runs, else tesseract.js), wasm (tesseract.js, nothing to install) or native (Debian's tesseract 5, start fails without it). Both read the same npm language models. Default auto",
  OCR_POOL_SIZE: 'Number of OCR workers (tesseract.js threads, or native tesseract processes) per worker process. Default: number of CPU cores',
  OCR_RECYCLE_AFTER_PAGES: 'Recycle an OCR worker after this many pages (its WASM heap never shrinks). Default 200',
  OCR_RECYCLE_RSS_MB: 'Recycle OCR workers when process RSS grows past this many MiB. Default 2048',
  INGEST_MAX_PIXELS: 'Largest page image accepted, in pixels (checked before decoding). Default 200000000',
  INGEST_MAX_PAGES: 'Largest number of pages in one book. Default 2000',
  RECONCILE_INTERVAL_SECONDS: 'How often each worker compares unfinished books and pages in the database with the live jobs and queues again what the queue lost (a Redis restarted without its data); 0 turns it off. Default 60',
  SCHEDULES: 'Install the periodic jobs (retention recompute, stale retention, fixity sampling, disposal due list, audit chain anchor) when `arkiva worker` or embedded `arkiva serve` starts. Default true',
  SCHEDULE_RETENTION_RECOMPUTE_MINUTES: 'Interval of the full retention recompute and Object Lock extension. Default 1440 (daily)',
  SCHEDULE_RETENTION_STALE_MINUTES: 'Interval of the recompute of books whose registry links or linked events changed. Default 5',
  SCHEDULE_FIXITY_AUDIT_MINUTES: 'Interval of the fixity sampling run (each run checks its share of the cycle). Default 60',
  SCHEDULE_DISPOSAL_DUE_MINUTES: 'Interval of the disposal due list snapshot. Default 1440 (daily)',
  SCHEDULE_AUDIT_ANCHOR_MINUTES: 'Interval at which the audit chain head is written to object storage (when it moved). Default 10',
  SCHEDULE_CATALOGUE_WRITE_SECONDS: 'Interval of the catalogue write-out to the object store (docs/catalogue-format.md): the most a database loss can take of what changed. 10 to 3600; default 60',
  SCHEDULE_EVENTS_DELIVER_SECONDS: 'Interval of the events sweep (fan-out of new outbox events, due webhook deliveries and retries): how long a receiving system waits at most to hear of a change. 1 to 3600; default 10',
  FIXITY_CYCLE_DAYS: 'Days within which the scheduled fixity audit re-reads every stored object. Default 90',
  BAG_SOURCE_ORGANIZATION: 'BagIt bag-info Source-Organization of every package. Default "Arkiva civil registration archive"',
  BAG_ORGANIZATION_ADDRESS: 'BagIt bag-info Organization-Address (optional)',
  BAG_CONTACT_NAME: 'BagIt bag-info Contact-Name (optional)',
  BAG_CONTACT_EMAIL: 'BagIt bag-info Contact-Email (optional)',
  UPLOAD_MAX_BYTES: 'Largest upload accepted by the API, in bytes (413 above). Default 4 GiB',
  HOST: 'Address the API listens on. Default 127.0.0.1',
  PORT: 'Port the API listens on. Default 3000',
  LOG_LEVEL: 'fatal|error|warn|info|debug|trace|silent. Default info',
  COOKIE_SECURE: 'Mark the web session cookie Secure (sent over HTTPS only). Default true; false only for plain-HTTP local use',
  ARKIVA_TOKEN: "An API token the CLI signs in with (checked exactly as the API checks a Bearer token); how user commands authenticate against PostgreSQL without a terminal",
  ARKIVA_USER: 'The user CLI data commands run as (same as --as NAME). Embedded (no DATABASE_URL) the name alone is enough (one local user); with DATABASE_URL set its password is asked on the terminal, or use ARKIVA_TOKEN',
  ARKIVA_PURPOSE: 'Why a CLI command reads a book under privacy closure (same as --purpose TEXT); recorded with the read in the audit trail',
  ARKIVA_PASSWORD: 'Password for arkiva user add (otherwise read from stdin)',
  ARKIVA_SIGNING_P12: "PKCS#12 file (.p12/.pfx: RSA private key, signing certificate and its chain) that signs electronic extracts (PAdES). Unset in embedded mode: a local TEST CA and certificate are made under ARKIVA_DATA_DIR/signing at first start (not trusted by anyone: for trials only). Unset with DATABASE_URL: extracts cannot be issued",
  ARKIVA_SIGNING_P12_PASSWORD: 'Password of ARKIVA_SIGNING_P12. Default empty',
  ARKIVA_PUBLIC_BASE_URL: "Public address of this archive's verification page, printed on every extract and in its QR code as <url>/verify/<serial>. Default http://localhost:3000",
  ARKIVA_ISSUING_OFFICE: 'Name of the office that issues extracts, printed on them and shown by the public verification. Default "Civil Registration Agency"',
} as const;

export type EnvName = keyof typeof ENV_DOC;

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number) => z.coerce.number().int().min(min);
const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);

const schema = z.object({
  ARKIVA_DATA_DIR: z.string().default('./.arkiva'),
  DATABASE_URL: z.preprocess(emptyToUndefined, z.string().url().optional()),
  DATABASE_SCHEMA: z.preprocess(emptyToUndefined, z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).default('public')),
  REDIS_URL: z.preprocess(emptyToUndefined, z.string().url().optional()),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/).default('arkiva'),
  QUEUE_LOCK_SECONDS: int(2).default(30),
  QUEUE_STALLED_CHECK_SECONDS: int(1).default(15),
  QUEUE_MAX_STALLS: int(0).default(5),
  S3_ENDPOINT: z.preprocess(emptyToUndefined, z.string().url().optional()),
  S3_BUCKET: z.preprocess(emptyToUndefined, z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/).optional()),
  S3_ACCESS_KEY_ID: z.preprocess(emptyToUndefined, z.string().optional()),
  S3_SECRET_ACCESS_KEY: z.preprocess(emptyToUndefined, z.string().optional()),
  S3_REGION: z.string().default('us-east-1'),
  S3_FORCE_PATH_STYLE: bool.default(true),
  S3_OBJECT_LOCK: bool.default(true),
  S3_DEFAULT_RETENTION_DAYS: int(0).default(1),
  S3_PART_SIZE_MB: int(5).default(16),
  S3_TIMEOUT_SECONDS: int(1).default(60),
  S3_CONNECT_TIMEOUT_SECONDS: int(1).default(5),
  S3_MAX_ATTEMPTS: int(1).default(4),
  OCR_ENGINE: z.preprocess(emptyToUndefined, z.enum(['auto', 'native', 'wasm']).default('auto')),
  OCR_POOL_SIZE: int(1).default(Math.max(1, os.availableParallelism?.() ?? os.cpus().length)),
  OCR_RECYCLE_AFTER_PAGES: int(1).default(200),
  OCR_RECYCLE_RSS_MB: int(256).default(2048),
  INGEST_MAX_PIXELS: int(1).default(200_000_000),
  INGEST_MAX_PAGES: int(1).default(2000),
  RECONCILE_INTERVAL_SECONDS: int(0).default(60),
  SCHEDULES: bool.default(true),
  SCHEDULE_RETENTION_RECOMPUTE_MINUTES: int(1).default(1440),
  SCHEDULE_RETENTION_STALE_MINUTES: int(1).default(5),
  SCHEDULE_FIXITY_AUDIT_MINUTES: int(1).default(60),
  SCHEDULE_DISPOSAL_DUE_MINUTES: int(1).default(1440),
  SCHEDULE_AUDIT_ANCHOR_MINUTES: int(1).default(10),
  SCHEDULE_EVENTS_DELIVER_SECONDS: int(1).max(3600).default(10),
  SCHEDULE_CATALOGUE_WRITE_SECONDS: int(10).max(3600).default(60),
  FIXITY_CYCLE_DAYS: int(1).default(90),
  BAG_SOURCE_ORGANIZATION: z.preprocess(emptyToUndefined, z.string().max(500).default('Arkiva civil registration archive')),
  BAG_ORGANIZATION_ADDRESS: z.preprocess(emptyToUndefined, z.string().max(500).optional()),
  BAG_CONTACT_NAME: z.preprocess(emptyToUndefined, z.string().max(200).optional()),
  BAG_CONTACT_EMAIL: z.preprocess(emptyToUndefined, z.string().max(200).optional()),
  UPLOAD_MAX_BYTES: int(1).default(4 * 1024 ** 3),
  HOST: z.string().default('127.0.0.1'),
  PORT: int(0).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  COOKIE_SECURE: bool.default(true),
  ARKIVA_TOKEN: z.preprocess(emptyToUndefined, z.string().max(200).optional()),
  ARKIVA_USER: z.preprocess(emptyToUndefined, z.string().max(64).optional()),
  ARKIVA_PURPOSE: z.preprocess(emptyToUndefined, z.string().max(500).optional()),
  ARKIVA_PASSWORD: z.preprocess(emptyToUndefined, z.string().max(1024).optional()),
  ARKIVA_SIGNING_P12: z.preprocess(emptyToUndefined, z.string().max(4096).optional()),
  ARKIVA_SIGNING_P12_PASSWORD: z.string().max(1024).default(''),
  ARKIVA_PUBLIC_BASE_URL: z.preprocess(emptyToUndefined, z.string().url().regex(/^https?:\/\//, 'must be an http(s) URL').default('http://localhost:3000')),
  ARKIVA_ISSUING_OFFICE: z.preprocess(emptyToUndefined, z.string().max(200).default('Civil Registration Agency')),
});

/** Which real service, if any, backs each port. */
export interface ServiceConfig {
  database: { kind: 'pglite'; dir: string } | { kind: 'pg'; url: string; schema: string };
  queue: { kind: 'memory' } | { kind: 'bullmq'; url: string; prefix: string };
  store:
    | { kind: 'fs'; dir: string }
    | {
        kind: 's3';
        endpoint: string | undefined;
        bucket: string;
        accessKeyId: string | undefined;
        secretAccessKey: string | undefined;
        region: string;
        forcePathStyle: boolean;
        objectLock: boolean;
        /** GOVERNANCE default retention (days) init() gives an Object Lock bucket that has none or a shorter one; absent or 0: none. */
        defaultRetentionDays?: number;
        partSizeBytes: number;
        /** Bounds of every S3 call; defaults as in ENV_DOC when absent. */
        timeouts?: { requestMs: number; connectMs: number; maxAttempts: number };
      };
}

/** The parsed, frozen configuration of one Arkiva process. */
export interface Config extends ServiceConfig {
  dataDir: string;
  ocr: { engine: 'auto' | 'native' | 'wasm'; poolSize: number; recycleAfterPages: number; recycleRssMb: number };
  ingest: { maxPixels: number; maxPages: number; uploadMaxBytes: number };
  /** Intervals of the periodic jobs, in ms; `enabled` false leaves schedules alone at worker start. */
  schedules: { enabled: boolean; retentionRecomputeMs: number; retentionStaleMs: number; fixityAuditMs: number; disposalDueMs: number; auditAnchorMs: number; eventsDeliverMs: number; catalogueWriteMs: number };
  fixity: { cycleDays: number };
  /** How often workers reconcile the queue with the database, in ms; 0 is off (workers/reconcile.ts). */
  reconcile: { intervalMs: number };
  /** How BullMQ workers hold their jobs: claim length, stalled-check interval (ms), and losses a job survives. */
  jobClaims: { lockMs: number; stalledCheckMs: number; maxStalls: number };
  /** What every package's bag-info.txt says about who made it. */
  bag: { sourceOrganization: string; organizationAddress?: string | undefined; contactName?: string | undefined; contactEmail?: string | undefined };
  http: { host: string; port: number; cookieSecure: boolean };
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  /** Who CLI commands run as (a token, or a name), why they read closed books, and the password `arkiva user add` sets. */
  cli: { user: string | undefined; password: string | undefined; token: string | undefined; purpose: string | undefined };
  /**
   * Electronic extracts: the PKCS#12 that signs them (absent: a local test CA in embedded mode, none
   * with PostgreSQL), the public base URL their QR codes point at, and the issuing office's name.
   */
  extracts: { signingP12: string | undefined; signingP12Password: string; publicBaseUrl: string; issuingOffice: string };
}

/** Raised when the environment is invalid; names every offending variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses the environment once. Unset service variables mean embedded mode for that part;
 * each of database, queue and object store switches to its real service independently.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Readonly<Config> {
  const picked: Record<string, string | undefined> = {};
  for (const name of Object.keys(ENV_DOC)) picked[name] = env[name];
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.ARKIVA_DATA_DIR);
  const s3Wanted = e.S3_BUCKET !== undefined || e.S3_ENDPOINT !== undefined;
  if (s3Wanted && e.S3_BUCKET === undefined) throw new ConfigError('invalid configuration: S3_BUCKET is required when S3_ENDPOINT is set');
  if (s3Wanted && (e.S3_ACCESS_KEY_ID === undefined) !== (e.S3_SECRET_ACCESS_KEY === undefined)) {
    throw new ConfigError('invalid configuration: set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither');
  }
  if (e.ARKIVA_SIGNING_P12 !== undefined && !fs.existsSync(e.ARKIVA_SIGNING_P12)) {
    throw new ConfigError(`invalid configuration: ARKIVA_SIGNING_P12: no file at ${e.ARKIVA_SIGNING_P12}`);
  }
  const config: Config = {
    dataDir,
    database:
      e.DATABASE_URL !== undefined
        ? { kind: 'pg', url: e.DATABASE_URL, schema: e.DATABASE_SCHEMA }
        : { kind: 'pglite', dir: path.join(dataDir, 'db') },
    queue: e.REDIS_URL !== undefined ? { kind: 'bullmq', url: e.REDIS_URL, prefix: e.QUEUE_PREFIX } : { kind: 'memory' },
    store: s3Wanted
      ? {
          kind: 's3',
          endpoint: e.S3_ENDPOINT,
          bucket: e.S3_BUCKET!,
          accessKeyId: e.S3_ACCESS_KEY_ID,
          secretAccessKey: e.S3_SECRET_ACCESS_KEY,
          region: e.S3_REGION,
          forcePathStyle: e.S3_FORCE_PATH_STYLE,
          objectLock: e.S3_OBJECT_LOCK,
          defaultRetentionDays: e.S3_DEFAULT_RETENTION_DAYS,
          partSizeBytes: e.S3_PART_SIZE_MB * 1024 * 1024,
          timeouts: { requestMs: e.S3_TIMEOUT_SECONDS * 1000, connectMs: e.S3_CONNECT_TIMEOUT_SECONDS * 1000, maxAttempts: e.S3_MAX_ATTEMPTS },
        }
      : { kind: 'fs', dir: path.join(dataDir, 'objects') },
    ocr: { engine: e.OCR_ENGINE, poolSize: e.OCR_POOL_SIZE, recycleAfterPages: e.OCR_RECYCLE_AFTER_PAGES, recycleRssMb: e.OCR_RECYCLE_RSS_MB },
    ingest: { maxPixels: e.INGEST_MAX_PIXELS, maxPages: e.INGEST_MAX_PAGES, uploadMaxBytes: e.UPLOAD_MAX_BYTES },
    schedules: {
      enabled: e.SCHEDULES,
      retentionRecomputeMs: e.SCHEDULE_RETENTION_RECOMPUTE_MINUTES * 60_000,
      retentionStaleMs: e.SCHEDULE_RETENTION_STALE_MINUTES * 60_000,
      fixityAuditMs: e.SCHEDULE_FIXITY_AUDIT_MINUTES * 60_000,
      disposalDueMs: e.SCHEDULE_DISPOSAL_DUE_MINUTES * 60_000,
      auditAnchorMs: e.SCHEDULE_AUDIT_ANCHOR_MINUTES * 60_000,
      eventsDeliverMs: e.SCHEDULE_EVENTS_DELIVER_SECONDS * 1000,
      catalogueWriteMs: e.SCHEDULE_CATALOGUE_WRITE_SECONDS * 1000,
    },
    fixity: { cycleDays: e.FIXITY_CYCLE_DAYS },
    reconcile: { intervalMs: e.RECONCILE_INTERVAL_SECONDS * 1000 },
    jobClaims: { lockMs: e.QUEUE_LOCK_SECONDS * 1000, stalledCheckMs: e.QUEUE_STALLED_CHECK_SECONDS * 1000, maxStalls: e.QUEUE_MAX_STALLS },
    bag: { sourceOrganization: e.BAG_SOURCE_ORGANIZATION, organizationAddress: e.BAG_ORGANIZATION_ADDRESS, contactName: e.BAG_CONTACT_NAME, contactEmail: e.BAG_CONTACT_EMAIL },
    http: { host: e.HOST, port: e.PORT, cookieSecure: e.COOKIE_SECURE },
    logLevel: e.LOG_LEVEL,
    cli: { user: e.ARKIVA_USER, password: e.ARKIVA_PASSWORD, token: e.ARKIVA_TOKEN, purpose: e.ARKIVA_PURPOSE },
    extracts: {
      signingP12: e.ARKIVA_SIGNING_P12 === undefined ? undefined : path.resolve(e.ARKIVA_SIGNING_P12),
      signingP12Password: e.ARKIVA_SIGNING_P12_PASSWORD,
      publicBaseUrl: e.ARKIVA_PUBLIC_BASE_URL.replace(/\/+$/, ''),
      issuingOffice: e.ARKIVA_ISSUING_OFFICE,
    },
  };
  return deepFreeze(config);
}

function deepFreeze<T extends object>(o: T): Readonly<T> {
  for (const v of Object.values(o)) if (v && typeof v === 'object') deepFreeze(v);
  return Object.freeze(o);
}
