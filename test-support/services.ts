/**
 * Where integration tests find the real services. Tests read TEST_* variables (set from
 * `.services.env` by the global setup, or by hand) so a developer's own DATABASE_URL etc. are never
 * touched by tests. Without CI, a missing service skips the suites that need it; under CI=true it
 * fails them.
 */
export interface TestServices {
  databaseUrl?: string;
  redisUrl?: string;
  s3?: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string; bucketPrefix: string };
}

export const isCI = process.env.CI === 'true' || process.env.CI === '1';

export function testServices(): TestServices {
  const e = process.env;
  const s3 =
    e.TEST_S3_ENDPOINT && e.TEST_S3_ACCESS_KEY_ID && e.TEST_S3_SECRET_ACCESS_KEY
      ? {
          endpoint: e.TEST_S3_ENDPOINT,
          region: e.TEST_S3_REGION ?? 'us-east-1',
          accessKeyId: e.TEST_S3_ACCESS_KEY_ID,
          secretAccessKey: e.TEST_S3_SECRET_ACCESS_KEY,
          bucketPrefix: e.TEST_S3_BUCKET ?? 'arkiva-test',
        }
      : undefined;
  return { databaseUrl: e.TEST_DATABASE_URL, redisUrl: e.TEST_REDIS_URL, s3 };
}

/**
 * Whether a suite needing `service` should run. Under CI a missing service is an error, so the
 * suite fails instead of skipping.
 */
export function requireService(service: keyof TestServices): boolean {
  const present = testServices()[service] !== undefined;
  if (!present && isCI) {
    throw new Error(`CI=true but the ${service} test service is not configured: run scripts/services.sh start`);
  }
  return present;
}
