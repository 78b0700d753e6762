/**
 * The `file` tenant key vault (default with the SQLite store): a folder, by default
 * `<data_dir>/tenant-keys` (0700; refused when group or others may write it), holding one
 * 0600 file per tenant named by a hash of the tenant id (so no tenant id can reach outside the
 * folder). A file is `'PTK1' | key id (16) | key (32)`.
 *
 * Creation writes a complete temp file and hard-links it into place, so two processes
 * creating the same tenant's key agree on the one that got linked first. Destruction
 * overwrites the file with zeros, fsyncs it, unlinks it and fsyncs the folder. (On SSDs and
 * copy-on-write file systems the overwrite is best effort; what makes a shred final is that
 * no copy of the file outlives it: see docs/security-model.md, "Data at rest", backups.) Nothing is cached:
 * every seal and open reads the file, so a key destroyed by another process is gone here too.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, link, lstat, mkdir, open, readFile, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CryptoError } from '../crypto-error.ts';
import {
  createTenantKeyVault,
  SHRED_KEY_BYTES,
  SHRED_KEY_ID_BYTES,
  type ShredKeyRecord,
  type TenantKeyVault,
} from './tenant-key-vault.ts';

export const TENANT_KEYS_DIR = 'tenant-keys';
const FILE_MAGIC = Buffer.from('PTK1', 'ascii');
const FILE_BYTES = FILE_MAGIC.length + SHRED_KEY_ID_BYTES + SHRED_KEY_BYTES;
const NAME_LABEL = 'portcullis/tenant-key-file/v1\0';
const POSIX = process.platform !== 'win32';

/** The file name holding a tenant's key (exported for tests and operators' tooling). */
export function tenantKeyFileName(tenantId: string): string {
  return `${createHash('sha256').update(NAME_LABEL).update(tenantId, 'utf8').digest('hex').slice(0, 40)}.key`;
}

export function createFileVault(dir: string): TenantKeyVault {
  let ready: Promise<void> | undefined;
  const ensureDir = (): Promise<void> => {
    ready ??= prepareDir(dir).catch((err: unknown) => {
      ready = undefined;
      throw err;
    });
    return ready;
  };
  const pathOf = (tenantId: string): string => join(dir, tenantKeyFileName(tenantId));

  return createTenantKeyVault({
    kind: 'file',
    async get(tenantId) {
      await ensureDir();
      return readKeyFile(pathOf(tenantId), tenantId);
    },
    async getOrCreate(tenantId, candidate) {
      await ensureDir();
      const path = pathOf(tenantId);
      const existing = await readKeyFile(path, tenantId);
      if (existing !== undefined) return existing;
      const tmp = join(dir, `.${randomBytes(8).toString('hex')}.tmp`);
      const content = Buffer.concat([FILE_MAGIC, candidate.id, candidate.key]);
      try {
        const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
        try {
          await fh.writeFile(content);
          await fh.sync();
        } finally {
          await fh.close();
        }
        try {
          await link(tmp, path);
          await syncDir(dir);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another process linked its key first: use that one
        }
      } catch (err) {
        throw ioError(`cannot create the shred key of tenant ${tenantId} in ${dir}`, err);
      } finally {
        content.fill(0);
        await rm(tmp, { force: true }).catch(() => undefined);
      }
      const stored = await readKeyFile(path, tenantId);
      if (stored === undefined)
        throw new CryptoError(
          'shredded',
          `the shred key of tenant ${tenantId} was destroyed while it was being created`,
        );
      return stored;
    },
    async destroy(tenantId) {
      await ensureDir();
      const path = pathOf(tenantId);
      let fh: FileHandle;
      try {
        fh = await open(path, constants.O_RDWR | constants.O_NOFOLLOW);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw ioError(`cannot destroy the shred key of tenant ${tenantId} in ${dir}`, err);
      }
      try {
        const { size } = await fh.stat();
        await fh.write(Buffer.alloc(Math.max(size, FILE_BYTES)), 0, Math.max(size, FILE_BYTES), 0);
        await fh.sync();
      } finally {
        await fh.close();
      }
      try {
        await unlink(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true; // a concurrent destroy finished first
        throw ioError(`cannot delete the shred key file of tenant ${tenantId} in ${dir}`, err);
      }
      await syncDir(dir);
      return true;
    },
    async close() {
      // nothing is held open or cached
    },
  });
}

async function prepareDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const st = await lstat(dir);
    if (!st.isDirectory()) throw new CryptoError('bad_key', `tenant key vault ${dir} is not a directory`);
    // Whoever can write the folder could plant or swap shred keys.
    if (POSIX && (st.mode & 0o022) !== 0) {
      throw new CryptoError(
        'bad_key',
        `tenant key vault ${dir} is writable by group or others (mode 0${(st.mode & 0o777).toString(8)}); run: chmod 700 ${dir}`,
      );
    }
  } catch (err) {
    if (err instanceof CryptoError) throw err;
    throw ioError(`cannot create the tenant key vault folder ${dir}`, err);
  }
}

async function readKeyFile(path: string, tenantId: string): Promise<ShredKeyRecord | undefined> {
  let buf: Buffer;
  try {
    const st = await lstat(path);
    if (!st.isFile())
      throw new CryptoError('bad_key', `the shred key of tenant ${tenantId} (${path}) is not a regular file`);
    if (POSIX && (st.mode & 0o077) !== 0) {
      throw new CryptoError(
        'bad_key',
        `the shred key file of tenant ${tenantId} (${path}) is readable or writable by group or others (mode 0${(st.mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
      );
    }
    buf = await readFile(path, { flag: constants.O_RDONLY | constants.O_NOFOLLOW });
  } catch (err) {
    if (err instanceof CryptoError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(`cannot read the shred key of tenant ${tenantId}`, err);
  }
  try {
    if (buf.length !== FILE_BYTES || !buf.subarray(0, FILE_MAGIC.length).equals(FILE_MAGIC)) {
      throw new CryptoError('bad_key', `the shred key file of tenant ${tenantId} (${path}) is malformed`);
    }
    const id = Buffer.alloc(SHRED_KEY_ID_BYTES);
    const key = Buffer.alloc(SHRED_KEY_BYTES);
    buf.copy(id, 0, FILE_MAGIC.length, FILE_MAGIC.length + SHRED_KEY_ID_BYTES);
    buf.copy(key, 0, FILE_MAGIC.length + SHRED_KEY_ID_BYTES);
    return { id, key };
  } finally {
    buf.fill(0);
  }
}

async function syncDir(dir: string): Promise<void> {
  if (!POSIX) return;
  const fh = await open(dir, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function ioError(what: string, err: unknown): CryptoError {
  if (err instanceof CryptoError) return err;
  return new CryptoError('bad_key', `${what} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
}
