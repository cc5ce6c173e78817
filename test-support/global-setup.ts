/**
 * Integration tests (`*.int.test.ts`) need PostgreSQL, Redis and S3 (RGW). `scripts/services.sh start`
 * starts them and writes `.services.env`; this setup loads it so `npm test` finds them. Under CI=true
 * a missing service fails the tests that need it (see test-support/services.ts); it never skips.
 */
import fs from 'node:fs';
import path from 'node:path';

export default function setup(): void {
  const file = process.env.ARKIVA_SERVICES_ENV ?? path.resolve('.services.env');
  if (!fs.existsSync(file)) return;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m && process.env[`TEST_${m[1]}`] === undefined) process.env[`TEST_${m[1]}`] = m[2];
  }
}
