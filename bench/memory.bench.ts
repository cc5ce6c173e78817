/**
 * Peak memory of the API while a large multi-page TIFF is uploaded (issue 9, figure 4): the TIFF
 * (uncompressed 8-bit grey A4 pages at 300 dpi, `--gb` gigabytes, default 2) is written to disk as
 * a stream, then sent as a streamed raw body to `POST /books` of an `arkiva serve` child process
 * on the real services; the child's RSS is sampled from /proc every 100 ms and its peak (VmHWM)
 * read at the end.
 *
 *   npm run bench:memory -- [--gb 2]
 *
 * Own schema, queue prefix and bucket, removed afterwards. Prints a table and one JSON line.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.ts';
import { createLogger } from '../common/index.ts';
import { openAppDeps } from '../app/deps.ts';
import { createApiToken, createUser } from '../auth/index.ts';
import { loadServicesEnv, r1, r2 } from './bench-support.ts';

const { values } = parseArgs({ options: { gb: { type: 'string', default: '2' } } });
const WIDTH = 2480;
const HEIGHT = 3508;
const PAGE_BYTES = WIDTH * HEIGHT;
const pagesWanted = Math.max(1, Math.ceil((Number(values.gb) * 1e9) / PAGE_BYTES));
const root = path.resolve(import.meta.dirname, '..');
const id = randomUUID().replace(/-/g, '').slice(0, 10);
const env: Record<string, string> = { ...loadServicesEnv(root), DATABASE_SCHEMA: `bench_${id}`, QUEUE_PREFIX: `bench-${id}`, S3_BUCKET: `arkiva-bench-${id}`, S3_OBJECT_LOCK: 'false', LOG_LEVEL: 'warn', UPLOAD_MAX_BYTES: String(8 * 1024 ** 3) };

/** Writes a classic little-endian multi-page TIFF, page by page, never holding more than one page. */
async function writeTiff(file: string, pages: number): Promise<number> {
  const entries = 10;
  const ifdBytes = 2 + entries * 12 + 4 + 16; // + two RATIONALs
  const pageBlock = PAGE_BYTES + ifdBytes;
  const out = fs.createWriteStream(file);
  const write = async (b: Buffer) => {
    if (!out.write(b)) await once(out, 'drain');
  };
  const header = Buffer.alloc(8);
  header.write('II', 0, 'latin1');
  header.writeUInt16LE(42, 2);
  header.writeUInt32LE(8 + PAGE_BYTES, 4);
  await write(header);
  // Light paper with darker bands, so the pages are not all one value.
  const pixels = Buffer.alloc(PAGE_BYTES, 235);
  for (let y = 200; y < HEIGHT; y += 60) pixels.fill(40, y * WIDTH + 150, y * WIDTH + WIDTH - 150);
  for (let p = 0; p < pages; p++) {
    const dataAt = 8 + p * pageBlock;
    const ifdAt = dataAt + PAGE_BYTES;
    await write(pixels);
    const ifd = Buffer.alloc(ifdBytes);
    ifd.writeUInt16LE(entries, 0);
    const ratAt = ifdAt + 2 + entries * 12 + 4;
    const tags: [number, number, number, number][] = [
      [256, 4, 1, WIDTH], [257, 4, 1, HEIGHT], [258, 3, 1, 8], [259, 3, 1, 1], [262, 3, 1, 1],
      [273, 4, 1, dataAt], [277, 3, 1, 1], [278, 4, 1, HEIGHT], [279, 4, 1, PAGE_BYTES], [282, 5, 1, ratAt],
    ];
    tags.forEach(([tag, type, count, value], i) => {
      const o = 2 + i * 12;
      ifd.writeUInt16LE(tag, o);
      ifd.writeUInt16LE(type, o + 2);
      ifd.writeUInt32LE(count, o + 4);
      if (type === 3) ifd.writeUInt16LE(value, o + 8);
      else ifd.writeUInt32LE(value, o + 8);
    });
    ifd.writeUInt32LE(p + 1 < pages ? 8 + (p + 1) * pageBlock + PAGE_BYTES : 0, 2 + entries * 12);
    ifd.writeUInt32LE(300, 2 + entries * 12 + 4);
    ifd.writeUInt32LE(1, 2 + entries * 12 + 8);
    await write(ifd);
  }
  out.end();
  await once(out, 'finish');
  return (await fs.promises.stat(file)).size;
}

function status(pid: number): { rssMb: number; hwmMb: number } {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arkiva-memory-'));
const file = path.join(dir, 'big.tif');
const deps = await openAppDeps(loadConfig({ ...process.env, ...env }), createLogger('warn'));
let result: Record<string, unknown> | undefined;
const child = spawn(process.execPath, [path.join(root, 'bin/arkiva.mjs'), 'serve', '--port', '0'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
try {
  const t0 = performance.now();
  const size = await writeTiff(file, pagesWanted);
  const writeSeconds = (performance.now() - t0) / 1000;
  let err = '';
  const address = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`API exited with ${code}: ${err.slice(-500)}`)));
  });
  await createUser(deps.db, { username: 'bench-digitiser', roles: ['digitiser'] });
  const { token } = await createApiToken(deps.db, { username: 'bench-digitiser', days: 1 });
  const idle = status(child.pid!);
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(status(child.pid!).rssMb), 100);
  const url = new URL(`${address}/books?registerType=birth&municipality=Bench&year=1960&languages=sqi`);
  const started = performance.now();
  const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'image/tiff', 'content-length': String(size), authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    fs.createReadStream(file).pipe(req);
  });
  const uploadSeconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const end = status(child.pid!);
  result = {
    bench: 'memory',
    what: 'API (arkiva serve) RSS during a streamed raw-body upload of a multi-page TIFF',
    tiffBytes: size,
    pages: pagesWanted,
    httpStatus: answer.status,
    uploadSeconds: r1(uploadSeconds),
    uploadMBps: r1(size / 1e6 / uploadSeconds),
    idleRssMb: r1(idle.rssMb),
    peakRssMb: r1(Math.max(end.hwmMb, ...samples)),
    peakSampledRssMb: r1(Math.max(...samples)),
    endRssMb: r1(end.rssMb),
    writeTiffSeconds: r1(writeSeconds),
    cpus: os.cpus().length,
    loadavg: os.loadavg().map(r2),
  };
  if (answer.status >= 300) console.error(`upload answered ${answer.status}: ${answer.body.slice(0, 300)}`);
} finally {
  child.kill('SIGTERM');
  if (child.exitCode === null) await once(child, 'exit');
  await deps.queue.obliterate().catch(() => undefined);
  for await (const v of deps.store.listVersions('')) {
    await deps.store.delete(v.key, { ...(v.versionId ? { versionId: v.versionId } : {}), bypassGovernance: true }).catch(() => undefined);
  }
  await deps.db.query(`DROP SCHEMA IF EXISTS "${env.DATABASE_SCHEMA}" CASCADE`).catch(() => undefined);
  await deps.close();
  await fs.promises.rm(dir, { recursive: true, force: true });
}
if (result) {
  console.log('| measure | value |');
  console.log('| --- | --- |');
  for (const k of ['tiffBytes', 'pages', 'httpStatus', 'uploadSeconds', 'uploadMBps', 'idleRssMb', 'peakRssMb', 'endRssMb']) console.log(`| ${k} | ${result[k]} |`);
  console.log(JSON.stringify(result));
}
