/**
 * Private instances of the services for the fault suite, so that restarting them never touches the
 * shared PostgreSQL, Redis and RGW other tests use: a redis-server, a PostgreSQL cluster (initdb in a
 * temporary folder, run as the `postgres` OS user) and a second radosgw on the running Ceph cluster.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

const run = promisify(execFile);

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

async function waitExit(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await Promise.race([new Promise((r) => child.once('exit', r)), sleep(ms)]);
}

/**
 * A private redis-server. `appendonly` true is what a deployment runs (AOF, fsync every second):
 * a restart keeps the queue. The suite runs it without persistence, the harder case, so that a
 * restart loses every job and the reconciler must rebuild the work from PostgreSQL.
 */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  constructor(readonly port: number, private readonly dir: string, private readonly appendonly: boolean) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await fs.promises.mkdir(this.dir, { recursive: true });
    this.child = spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '',
      '--appendonly', this.appendonly ? 'yes' : 'no', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction',
      '--logfile', path.join(this.dir, 'redis.log'),
    ], { stdio: 'ignore' });
    await until('private Redis', async () => (await run('redis-cli', ['-p', String(this.port), 'ping'])).stdout.trim() === 'PONG', 15_000);
  }

  /** SIGKILL: no shutdown save, as a crashed or rescheduled Redis. */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c) return;
    c.kill('SIGKILL');
    await waitExit(c, 5000);
    this.child = undefined;
  }

  /** `INFO` fields as numbers (commandstats and stats sections). */
  async info(section: string): Promise<Record<string, string>> {
    const { stdout } = await run('redis-cli', ['-p', String(this.port), 'info', section]);
    const out: Record<string, string> = {};
    for (const line of stdout.split(/\r?\n/)) {
      const i = line.indexOf(':');
      if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
    }
    return out;
  }

  async stop(): Promise<void> {
    await this.kill();
  }
}

/** A private PostgreSQL 15 cluster in a temporary folder, owned by the `postgres` OS user. */
export class PrivatePostgres {
  private readonly bin = process.env.ARKIVA_PG_BIN ?? '/usr/lib/postgresql/15/bin';
  constructor(readonly port: number, private readonly dir: string) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private async asPostgres(cmd: string, args: string[]): Promise<void> {
    const asRoot = process.getuid?.() === 0;
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(this.bin, cmd), ...args]] : [path.join(this.bin, cmd), args];
    await run(file, argv, { timeout: 60_000 });
  }

  async init(): Promise<void> {
    await fs.promises.mkdir(this.dir, { recursive: true });
    if (process.getuid?.() === 0) await run('chown', ['-R', 'postgres:postgres', path.dirname(this.dir)]);
    await fs.promises.chmod(path.dirname(this.dir), 0o755);
    await this.asPostgres('initdb', ['-D', path.join(this.dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
  }

  async start(): Promise<void> {
    const opts = `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c fsync=off -c max_connections=100`;
    await this.asPostgres('pg_ctl', ['-D', path.join(this.dir, 'data'), '-o', opts, '-l', path.join(this.dir, 'pg.log'), '-w', '-t', '60', 'start']);
    await until('private PostgreSQL', () => tcpOpen(this.port), 30_000);
  }

  /**
   * The cluster lost, as to a failed disk: stopped at once (every connection cut, the transactions
   * in flight gone) and its data folder deleted. `init()` and `start()` then give an empty cluster
   * on the same port, as a replacement server would.
   */
  async lose(): Promise<void> {
    await this.stop('immediate');
    await fs.promises.rm(path.join(this.dir, 'data'), { recursive: true, force: true });
  }

  /** Immediate shutdown: every connection cut at once, crash recovery at the next start. */
  async stop(mode: 'immediate' | 'fast' = 'immediate'): Promise<void> {
    await this.asPostgres('pg_ctl', ['-D', path.join(this.dir, 'data'), '-m', mode, '-w', 'stop']).catch(() => undefined);
  }
}

/** A second radosgw on the shared Ceph cluster (its own port and process; same users and buckets). */
export class PrivateRgw {
  private child: ChildProcess | undefined;
  constructor(readonly port: number, private readonly dir: string, private readonly cephConf: string) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await fs.promises.mkdir(this.dir, { recursive: true });
    this.child = spawn('radosgw', [
      '-f', '-n', 'client.rgwfault', '--rgw-frontends', `beast endpoint=127.0.0.1:${this.port}`,
      '--rgw-data', this.dir, '--log-file', path.join(this.dir, 'rgw.log'),
      '--pid-file', path.join(this.dir, 'rgw.pid'), '--admin-socket', path.join(this.dir, 'rgw.asok'),
    ], { stdio: 'ignore', env: { ...process.env, CEPH_CONF: this.cephConf } });
    await until('private RGW', async () => (await fetch(`${this.endpoint}/`)).status === 200, 60_000);
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c) return;
    c.kill('SIGTERM');
    await waitExit(c, 10_000);
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await waitExit(c, 5000);
    }
    this.child = undefined;
  }
}
