import { randomUUID } from 'node:crypto';
import { loadConfig, type Config } from '../config/index.ts';
import { silentLogger, type Logger } from '../common/index.ts';
import { openAppDeps, type AppDeps } from '../app/deps.ts';
import { testServices } from './services.ts';

/**
 * Configuration for one test on the real services, isolated from every other test: its own
 * PostgreSQL schema, BullMQ prefix and S3 bucket.
 */
export function realServicesEnv(extra: Record<string, string> = {}): Record<string, string> {
  const s = testServices();
  if (!s.databaseUrl || !s.redisUrl || !s.s3) throw new Error('real services are not configured (scripts/services.sh start)');
  const id = randomUUID().replace(/-/g, '').slice(0, 12);
  return {
    DATABASE_URL: s.databaseUrl,
    DATABASE_SCHEMA: `test_${id}`,
    REDIS_URL: s.redisUrl,
    QUEUE_PREFIX: `test-${id}`,
    S3_ENDPOINT: s.s3.endpoint,
    S3_BUCKET: `arkiva-test-${id}`,
    S3_ACCESS_KEY_ID: s.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s.s3.secretAccessKey,
    S3_REGION: s.s3.region,
    S3_OBJECT_LOCK: 'true',
    ...extra,
  };
}

/** AppDeps opened on the real services, the configuration they were opened with, and their teardown. */
export interface RealDeps {
  deps: AppDeps;
  config: Readonly<Config>;
  /** tearDownRealDeps of `deps`. */
  cleanup(): Promise<void>;
}

/** Opens AppDeps on the real services with `env`, and a cleanup that removes the test's schema, queue and objects. */
export async function openRealDeps(env: Record<string, string>, log: Logger = silentLogger()): Promise<RealDeps> {
  const config = loadConfig(env);
  const deps = await openAppDeps(config, log);
  return { deps, config, cleanup: () => tearDownRealDeps(deps) };
}

/**
 * Removes what a test left on the real services (its queue, its PostgreSQL schema, every version
 * of every object in its bucket, past Object Lock governance) and closes `deps`. For tests that
 * open deps again part-way (openRealDeps's cleanup would close the first ones only). Best effort:
 * a removal that fails must not hide the test's own result.
 */
export async function tearDownRealDeps(deps: AppDeps & { close(): Promise<void> }): Promise<void> {
  const { database } = deps.config;
  await deps.queue.obliterate().catch(() => undefined);
  if (database.kind === 'pg') await deps.db.query(`DROP SCHEMA IF EXISTS "${database.schema}" CASCADE`).catch(() => undefined);
  for await (const v of deps.store.listVersions('')) {
    await deps.store.delete(v.key, { ...(v.versionId ? { versionId: v.versionId } : {}), bypassGovernance: true }).catch(() => undefined);
  }
  await deps.close();
}
