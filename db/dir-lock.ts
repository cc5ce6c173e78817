import fs from 'node:fs/promises';
import { AppError } from '../common/errors.ts';

// PGlite takes no lock of its own: two processes opening one data folder each run their own
// Postgres on the same files and silently diverge (measured: both saw only their own rows).
const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes an exclusive lock file (`lockPath`, holding the owner's pid) for an embedded database
 * folder; returns the function that releases it. A lock left by a dead process is taken over.
 * Throws ERR_UNAVAILABLE while another live process, or this one, holds it.
 */
export async function acquireDirLock(lockPath: string): Promise<() => Promise<void>> {
  if (heldHere.has(lockPath)) {
    throw new AppError('ERR_UNAVAILABLE', `the embedded database is already open in this process (lock ${lockPath})`);
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await fs.open(lockPath, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      heldHere.add(lockPath);
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        heldHere.delete(lockPath);
        await fs.rm(lockPath, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const content = await fs.readFile(lockPath, 'utf8').catch(() => '');
    const owner = Number.parseInt(content.trim(), 10);
    // Our own pid in the file but not in heldHere means a previous run of a process that got
    // the same pid (pid 1 in a restarted container): stale.
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
      throw new AppError(
        'ERR_UNAVAILABLE',
        `the embedded database is in use by process ${owner}; stop it first (or delete ${lockPath} if that process is not Arkiva)`,
        { lockPath, pid: owner },
      );
    }
    // Narrows (does not close) the window in which two processes both judge the lock stale.
    if ((await fs.readFile(lockPath, 'utf8').catch(() => '')) === content) await fs.rm(lockPath, { force: true });
  }
  throw new AppError('ERR_UNAVAILABLE', `could not take the embedded database lock ${lockPath}`, { lockPath });
}
