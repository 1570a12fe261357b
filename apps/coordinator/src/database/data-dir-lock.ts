import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';

/**
 * An exclusive lock on an embedded database directory. PGlite has no multi-process locking of its
 * own: two processes opening the same files would corrupt them. A stale lock (its process gone)
 * is taken over.
 */
export class DataDirLock {
  private constructor(private readonly path: string) {}

  static acquire(path: string): DataDirLock {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return new DataDirLock(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = Number(readFileSync(path, 'utf8').trim());
        if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
          throw new Error(`the embedded database is in use by process ${holder} (lock file ${path}); stop it first`);
        }
        rmSync(path, { force: true });
      }
    }
    throw new Error(`could not lock ${path}`);
  }

  release(): void {
    rmSync(this.path, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
