/**
 * Fixity audit throughput (issue 9, figure 5): `auditFixity` (retention/fixity.ts) re-reading and
 * hashing objects in Ceph RGW, in MB/s, over `--gb` gigabytes (default 5) of page masters.
 *
 *   npm run bench:fixity -- [--gb 5] [--object-mb 64] [--rounds 2]
 *
 * Uses the real PostgreSQL and RGW from `.services.env`, in its own schema and bucket, removed
 * afterwards (the RGW OSD here is memstore: the objects live in RAM while the bench runs).
 * Prints a table and one JSON line.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.ts';
import { createLogger } from '../common/index.ts';
import { openAppDeps } from '../app/deps.ts';
import { createBook, recordObject, upsertPage } from '../archive/index.ts';
import { auditFixity } from '../retention/fixity.ts';
import { loadServicesEnv, median, r1, r2 } from './bench-support.ts';

const { values } = parseArgs({ options: { gb: { type: 'string', default: '5' }, 'object-mb': { type: 'string', default: '64' }, rounds: { type: 'string', default: '2' } } });
const objectBytes = Number(values['object-mb']) * 1024 * 1024;
const count = Math.max(1, Math.round((Number(values.gb) * 1024 ** 3) / objectBytes));
const rounds = Math.max(1, Number(values.rounds));
const root = path.resolve(import.meta.dirname, '..');
const id = randomUUID().replace(/-/g, '').slice(0, 10);
const env = { ...loadServicesEnv(root), DATABASE_SCHEMA: `bench_${id}`, S3_BUCKET: `arkiva-bench-${id}`, S3_OBJECT_LOCK: 'false', LOG_LEVEL: 'warn' };
const deps = await openAppDeps(loadConfig({ ...process.env, ...env }), createLogger('warn'));

const runs: { seconds: number; checked: number; ok: number; mbPerSecond: number }[] = [];
let loadSeconds = 0;
let totalBytes = 0;
try {
  const { book } = await createBook(deps.db, { registerType: 'birth', municipality: 'Bench', yearFrom: 1960, yearTo: 1960, languages: 'sqi', sourceFormat: 'tiff', sourceSha256: randomBytes(32).toString('hex'), sourceSize: 1 });
  // One random buffer, its first bytes changed per object: distinct contents without generating gigabytes of randomness.
  const body = randomBytes(objectBytes);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    body.writeUInt32BE(i, 0);
    const page = await upsertPage(deps.db, book.id, i + 1);
    const put = await deps.store.putContentAddressed('masters', body, { contentType: 'image/tiff' });
    await recordObject(deps.db, { bookId: book.id, pageId: page.id, role: 'master', revision: page.revision }, put, 'image/tiff');
    totalBytes += put.size;
  }
  loadSeconds = (performance.now() - t0) / 1000;
  console.error(`stored ${count} objects, ${(totalBytes / 1024 ** 3).toFixed(2)} GiB, in ${loadSeconds.toFixed(0)} s`);
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    const report = await auditFixity(deps, { bookId: book.id }, { agent: 'arkiva fixity bench' });
    const seconds = (performance.now() - start) / 1000;
    runs.push({ seconds: r1(seconds), checked: report.checked, ok: report.ok, mbPerSecond: r1(totalBytes / 1e6 / seconds) });
  }
} finally {
  for await (const v of deps.store.listVersions('')) {
    await deps.store.delete(v.key, { ...(v.versionId ? { versionId: v.versionId } : {}), bypassGovernance: true }).catch(() => undefined);
  }
  await deps.db.query(`DROP SCHEMA IF EXISTS "${env.DATABASE_SCHEMA}" CASCADE`).catch(() => undefined);
  await deps.close();
}

const result = {
  bench: 'fixity',
  objects: count,
  objectMiB: objectBytes / 1024 ** 2,
  totalGB: r2(totalBytes / 1e9),
  loadMbPerSecond: r1(totalBytes / 1e6 / loadSeconds),
  auditMbPerSecond: median(runs.map((r) => r.mbPerSecond)),
  perRound: runs,
  cpus: os.cpus().length,
  loadavg: os.loadavg().map(r2),
};
console.log('| round | objects checked | ok | seconds | MB/s |');
console.log('| --- | --- | --- | --- | --- |');
runs.forEach((r, i) => console.log(`| ${i + 1} | ${r.checked} | ${r.ok} | ${r.seconds} | ${r.mbPerSecond} |`));
console.log(`\n${result.totalGB} GB in ${count} objects of ${result.objectMiB} MiB in Ceph RGW (stored at ${result.loadMbPerSecond} MB/s); load average ${result.loadavg.join(' ')}`);
console.log(JSON.stringify(result));
