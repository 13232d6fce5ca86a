/**
 * Fakes of the FUSE session, the VFS and the backend factory for control-plane tests: they record what the daemon
 * asked of them and can be told to fail, so state-machine actions can be observed without a mount.
 */
import { FsError, E } from '../../daemon/src/fs/errno';
import type { FileSystem } from '../../daemon/src/fs/filesystem';
import type { MetricsSnapshot } from '../../daemon/src/server/metrics';
import type { BackendFactory, SessionPort, VfsInstance, VfsMountInfo, VfsPort } from '../../daemon/src/service/ports';

export class FakeSession implements SessionPort {
  readonly fd = 99;
  init: unknown = undefined;
  calls: string[] = [];
  failStop = false;
  stopDelayMs = 0;
  serving = false;
  /** Instance 0 did 4 LOOKUPs (1 failed) and read 1234 bytes; every other instance 3 READs. */
  metrics = {
    inFlight: 2,
    snapshot: (instance?: number): MetricsSnapshot[] =>
      [0, 1]
        .filter((index) => instance === undefined || instance === index)
        .map((index) =>
          index === 0
            ? { instance: 0, bytesRead: 1234, bytesWritten: 0, errors: 1, readsOnThreads: 0, ops: [{ opcode: 'LOOKUP', count: 4, errors: 1, avgUs: 10, maxUs: 20, p99Us: 32 }] }
            : { instance: index, bytesRead: 10, bytesWritten: 5, errors: 0, readsOnThreads: 2, ops: [{ opcode: 'READ', count: 3, errors: 0, avgUs: 5, maxUs: 8, p99Us: 8 }] },
        ),
  };

  waitInit(): Promise<unknown> {
    this.init = { minor: 39 };
    return Promise.resolve(this.init);
  }
  start(): void {
    this.calls.push('start');
    this.serving = true;
  }
  async stop(): Promise<void> {
    this.calls.push('stop');
    if (this.stopDelayMs) await new Promise((resolve) => setTimeout(resolve, this.stopDelayMs));
    if (this.failStop) throw new Error('stop failed on purpose');
    this.serving = false;
  }
  umount(): void {
    this.calls.push('umount');
  }
  close(): void {
    this.calls.push('close');
  }
}

const stubFs = (): FileSystem => ({
  lookup: () => {
    throw new FsError(E.ENOENT);
  },
  forget: () => undefined,
  getattr: () => {
    throw new FsError(E.ENOENT);
  },
});

export class FakeVfs implements VfsPort {
  private nextIndex = 0;
  onInvalidate?: (parent: number, name: Buffer) => void;
  private readonly mounted = new Map<string, VfsInstance>();
  busy = new Set<string>();
  lookup = stubFs().lookup;
  forget = stubFs().forget;
  getattr = stubFs().getattr;

  mount(mountpoint: string, fs: FileSystem, info: VfsMountInfo): number {
    if (this.mounted.has(mountpoint)) throw Object.assign(new Error(`${mountpoint} exists`), { code: 'AlreadyExists' });
    const index = this.nextIndex++;
    this.mounted.set(mountpoint, { index, mountpoint, info, mountedTime: new Date(), fs });
    return index;
  }
  umount(mountpoint: string): void {
    if (this.busy.has(mountpoint)) throw new FsError(E.EBUSY, `${mountpoint} is busy`);
    if (!this.mounted.delete(mountpoint))  throw Object.assign(new Error(`${mountpoint} not mounted`), { code: 'NotFound' });
  }
  list(): VfsInstance[] {
    return [...this.mounted.values()];
  }
}

export const fakeBackends: BackendFactory = async () => stubFs();

export function fakeParts() {
  const session = new FakeSession();
  const vfs = new FakeVfs();
  return { session, vfs, mountSession: async () => session, createBackend: fakeBackends };
}
