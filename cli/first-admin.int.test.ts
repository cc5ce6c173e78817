/**
 * The first-admin bootstrap of `arkiva user add` (issue 17, point 7): on an archive with no admin,
 * `user add … --role admin` needs no one to act as. Several such commands at once must make one
 * admin, not one each. Run through the command itself (`runUserCommand` with the same attributed
 * open as the CLI), each caller on its own database handle as separate processes would be.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import { silentLogger } from '../common/index.ts';
import { migrate, type Db } from '../db/index.ts';
import { PgDb } from '../db/pg.db.ts';
import { PgliteDb } from '../db/pglite.db.ts';
import { quoteIdent } from '../db/sql.ts';
import type { AppDeps } from '../app/deps.ts';
import { countAdmins, listUsers } from '../auth/index.ts';
import { listAuditEvents } from '../audit/index.ts';
import { requireService, testServices } from '../test-support/services.ts';
import { attributedOpen, CLI_POLICIES } from './attribution.ts';
import type { CommandContext } from './main.ts';
import { runUserCommand } from './user.command.ts';

const log = silentLogger();
const config = loadConfig({});

/** `arkiva user <args>` with no `--as`, on `db` (the command's deps hold only the database it uses). */
function userCommand(db: Db, args: string[]): Promise<number> {
  const ctx: CommandContext = {
    args,
    json: false,
    config,
    log,
    out: () => undefined,
    open: (opts) =>
      attributedOpen(async () => ({ db, close: async () => undefined }) as unknown as AppDeps & { close(): Promise<void> }, {
        command: 'user', policy: CLI_POLICIES.user, as: undefined, allowBootstrap: opts?.allowBootstrap ?? false,
      }),
  };
  return runUserCommand(ctx);
}

/** Three first admins asked for at once; what each call came to, and the admins that exist after. */
async function threeConcurrentBootstraps(dbs: [Db, Db, Db]) {
  const names = ['ana', 'besa', 'cora'];
  const results = await Promise.allSettled(dbs.map((db, i) => userCommand(db, ['add', names[i]!, '--role', 'admin', '--no-password'])));
  const admins = (await listUsers(dbs[0])).filter((u) => u.roles.includes('admin'));
  return { results, admins, adminCount: await countAdmins(dbs[0]) };
}

function expectOneBootstrap({ results, admins, adminCount }: Awaited<ReturnType<typeof threeConcurrentBootstraps>>): void {
  expect(adminCount).toBe(1);
  expect(admins).toHaveLength(1);
  expect(admins[0]!.createdBy).toBe('bootstrap');
  expect(results.filter((r) => r.status === 'fulfilled')).toEqual([{ status: 'fulfilled', value: 0 }]);
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as { code: string; message: string });
  expect(refused).toHaveLength(2);
  for (const e of refused) {
    // Raced inside the bootstrap: the lock lets one through and tells the others an admin exists.
    // A call that opened after the first admin was committed is no bootstrap at all: it must sign in.
    if (e.code === 'ERR_CONFLICT') expect(e.message).toMatch(/an admin already exists: the first-admin bootstrap only creates the first one/);
    else expect(e).toMatchObject({ code: 'ERR_UNAUTHENTICATED', message: expect.stringMatching(/--as NAME or set ARKIVA_USER/) });
  }
}

/** The audit trail says one bootstrap succeeded and two were refused. */
async function expectBootstrapAudit(db: Db): Promise<void> {
  const events = (await listAuditEvents(db)).map((e) => `${e.actor} ${e.action} ${e.outcome}`).sort();
  // one success; each refusal inside the bootstrap is recorded as denied (one that arrived after the
  // first admin existed was refused at sign-in, before it could act)
  expect(events.filter((e) => e === 'bootstrap user.cli ok')).toHaveLength(1);
  expect(events.filter((e) => e !== 'bootstrap user.cli ok').every((e) => e === 'bootstrap access.denied denied')).toBe(true);
}

describe('first-admin bootstrap on PGlite', () => {
  let db: Db | undefined;
  afterAll(async () => db?.close());

  it('three concurrent `user add … --role admin` on an empty archive make exactly one admin; the other two are refused because an admin exists', async () => {
    const p = await PgliteDb.open({}, log);
    db = p;
    await migrate(p, log);
    expectOneBootstrap(await threeConcurrentBootstraps([p, p, p]));
    await expectBootstrapAudit(p);
  });

  it('refuses to bootstrap a first user who would not be an admin', async () => {
    const empty = await PgliteDb.open({}, log);
    try {
      await migrate(empty, log);
      await expect(userCommand(empty, ['add', 'clerk1', '--role', 'clerk', '--no-password'])).rejects.toMatchObject({
        code: 'ERR_VALIDATION',
        message: expect.stringMatching(/no admin exists yet: the first user added must hold the admin role/),
      });
      expect(await listUsers(empty)).toEqual([]);
    } finally {
      await empty.close();
    }
  });
});

const pgUrl = requireService('databaseUrl') ? testServices().databaseUrl : undefined;

describe.skipIf(!pgUrl)('first-admin bootstrap on PostgreSQL', () => {
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const dbs: PgDb[] = [];
  afterAll(async () => {
    await dbs[0]?.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`).catch(() => undefined);
    await Promise.all(dbs.map((d) => d.close()));
  });

  it('three concurrent `arkiva user add … --role admin` on an empty database make exactly one admin; the other two are refused because an admin exists', async () => {
    // One pool per caller, as three CLI processes would each open.
    for (let i = 0; i < 3; i++) dbs.push(await PgDb.open({ url: pgUrl!, schema, poolSize: 2 }, log));
    await migrate(dbs[0]!, log);
    expectOneBootstrap(await threeConcurrentBootstraps([dbs[0]!, dbs[1]!, dbs[2]!]));
    await expectBootstrapAudit(dbs[0]!);
  });

  it("`user add … --role admin --first-admin` (compose's admin-init) needs no sign-in: it makes the first admin, and once one exists creates no one and exits 0", async () => {
    const empty = await PgDb.open({ url: pgUrl!, schema: `${schema}_2`, poolSize: 2 }, log);
    dbs.push(empty);
    try {
      await migrate(empty, log);
      expect(await userCommand(empty, ['add', 'first', '--role', 'admin', '--no-password', '--first-admin'])).toBe(0);
      expect((await listUsers(empty)).map((u) => `${u.username} ${u.createdBy}`)).toEqual(['first bootstrap']);
      // A second start of the setup job: nothing to do, and no sign-in asked for.
      expect(await userCommand(empty, ['add', 'first', '--role', 'admin', '--no-password', '--first-admin'])).toBe(0);
      expect(await userCommand(empty, ['add', 'other', '--role', 'admin', '--no-password', '--first-admin'])).toBe(0);
      expect((await listUsers(empty)).map((u) => u.username)).toEqual(['first']);
    } finally {
      await empty.query(`DROP SCHEMA IF EXISTS ${quoteIdent(`${schema}_2`)} CASCADE`).catch(() => undefined);
    }
  });
});
