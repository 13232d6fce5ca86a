/**
 * Adding and removing filesystem instances of the daemon's VFS, with the checks and errors a client sees:
 * a mountpoint is "/" or a plain absolute path; an occupied one is AlreadyExists, an empty one NotFound, a busy
 * one (open files) Busy. A backend opened for a mount that then fails is destroyed again. Serialising requests and
 * telling the supervisor are the daemon's job, not this file's.
 */
import type { FileSystem } from '../fs/filesystem';
import { NydusError, wrapError } from '../errors';
import type { BackendFactory, VfsPort } from './ports';
import type { MountCommand } from './types';

/** "/" or an absolute path of plain components ("/sub", "/a/b"); no "..", ".", empty parts or NUL. */
export function validateSubMountpoint(mountpoint: string): void {
  const bad = (why: string) => new NydusError('InvalidArguments', `Invalid mountpoint "${mountpoint}": ${why}`);
  if (typeof mountpoint !== 'string' || !mountpoint.startsWith('/')) throw bad('it must start with "/"');
  if (mountpoint === '/') return;
  if (mountpoint.includes('\0')) throw bad('it contains a NUL byte');
  const parts = mountpoint.slice(1).split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..')) throw bad('empty, "." and ".." parts are not allowed');
  if (parts.some((part) => Buffer.byteLength(part) > 255)) throw bad('a component is longer than 255 bytes');
}

/**
 * Opens the backend and attaches it; returns the new (never reused) instance index. `refuse` may name a reason
 * the opened filesystem cannot join (then it is closed again and the mount fails with InvalidArguments).
 */
export async function mountInto(vfs: VfsPort, createBackend: BackendFactory, command: MountCommand,
  refuse: (fs: FileSystem) => string | undefined = () => undefined): Promise<number> {
  validateSubMountpoint(command.mountpoint);
  if (vfs.list().some((instance) => instance.mountpoint === command.mountpoint)) {
    throw new NydusError('AlreadyExists', `A filesystem is already mounted at ${command.mountpoint}`);
  }
  const fs = await createBackend(command);
  const reason = refuse(fs);
  if (reason) {
    await Promise.resolve(fs.destroy?.()).catch(() => undefined);
    throw new NydusError('InvalidArguments', `Cannot mount ${command.fsType} at ${command.mountpoint}: ${reason}`);
  }
  try {
    return vfs.mount(command.mountpoint, fs, {
      fsType: command.fsType,
      source: command.source,
      config: command.config,
      prefetchFiles: command.prefetchFiles,
    });
  } catch (err) {
    await Promise.resolve(fs.destroy?.()).catch(() => undefined);
    throw wrapError('Vfs', `Cannot mount ${command.fsType} at ${command.mountpoint}`, err);
  }
}

/** Detaches the instance at `mountpoint` and releases its backend (destroy errors are returned, not thrown). */
export async function umountFrom(vfs: VfsPort, mountpoint: string): Promise<{ destroyError?: unknown; retired?: boolean }> {
  validateSubMountpoint(mountpoint);
  const instance = vfs.list().find((candidate) => candidate.mountpoint === mountpoint);
  if (!instance) throw new NydusError('NotFound', `No filesystem is mounted at ${mountpoint}`);
  try {
    vfs.umount(mountpoint);
  } catch (err) {
    throw wrapError('Vfs', `Cannot unmount ${mountpoint}`, err);
  }
  // Out of the namespace, but still serving files the kernel holds open: released when it forgets them.
  if (instance.retired) return { retired: true };
  try {
    await instance.fs.destroy?.();
    return {};
  } catch (destroyError) {
    return { destroyError };
  }
}
