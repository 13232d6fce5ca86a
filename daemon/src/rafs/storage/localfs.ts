/**
 * The localfs blob backend: blob N is `paths[N]` when explicit paths were given (device order), else
 * `<dir>/<blob id>`, else the fallback file (a self-contained blob serving its own chunks). File handles are
 * opened on first use, kept until close(), and read with async positional reads.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';
import { E, FsError } from '../../fs/errno';
import { formatError } from '../errors';
import { BlobBackend } from './backend';
import { readBuffers } from '../../fs/read-buffers';
import { positionalRead } from '../util/pread';

export interface LocalFsOptions {
  blobIds: string[];
  dir?: string;
  paths?: string[];
  fallback?: string;
}

interface OpenBlob { fh: fsp.FileHandle; size: number; path: string }

export class LocalFsBackend implements BlobBackend {
  private readonly open = new Map<number, Promise<OpenBlob>>();
  private closed = false;

  constructor(private readonly opts: LocalFsOptions) {}

  /** The file blob `index` resolves to (no I/O beyond an existence check for the directory form). */
  async resolve(index: number): Promise<string> {
    const { paths, dir, blobIds, fallback } = this.opts;
    if (paths && index < paths.length) return paths[index];
    const id = blobIds[index];
    if (dir && id && /^[A-Za-z0-9._-]+$/.test(id)) {
      const candidate = path.join(dir, id);
      try { await fsp.access(candidate); return candidate; } catch { /* try the fallback */ }
    }
    if (fallback && (index === 0 || blobIds.length <= 1)) return fallback;
    throw new FsError(E.ENOENT, `blob ${index} (${id || 'no id'}) not found` +
      (dir ? ` in ${dir}` : '') + (paths ? ` and only ${paths.length} blob paths were given` : ''));
  }

  private handle(index: number): Promise<OpenBlob> {
    if (this.closed) return Promise.reject(new FsError(E.EBADF, 'blob backend is closed'));
    let p = this.open.get(index);
    if (!p) {
      p = (async () => {
        const file = await this.resolve(index);
        const fh = await fsp.open(file, 'r');
        const st = await fh.stat();
        return { fh, size: st.size, path: file };
      })();
      p.catch(() => this.open.delete(index));
      this.open.set(index, p);
    }
    return p;
  }

  async size(blobIndex: number): Promise<number> {
    return (await this.handle(blobIndex)).size;
  }

  async localFile(blobIndex: number): Promise<{ fd: number; size: number }> {
    const blob = await this.handle(blobIndex);
    return { fd: blob.fh.fd, size: blob.size };
  }

  async readAt(blobIndex: number, offset: number, length: number, forReply = false): Promise<Buffer> {
    const blob = await this.handle(blobIndex);
    if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > blob.size) {
      throw formatError(`blob ${blob.path}`, offset, `${length} bytes lie beyond its end (${blob.size} bytes)`);
    }
    const buf = forReply ? readBuffers.take(length) : Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const bytesRead = await positionalRead(blob.fh.fd, buf, done, length - done, offset + done);
      if (bytesRead === 0) throw formatError(`blob ${blob.path}`, offset + done, 'file shrank while reading');
      done += bytesRead;
    }
    return buf;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.open.values()];
    this.open.clear();
    for (const p of all) {
      try { await (await p).fh.close(); } catch { /* failed opens hold nothing */ }
    }
  }
}
