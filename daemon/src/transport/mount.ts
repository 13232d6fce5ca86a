/**
 * Mounting and unmounting a FUSE connection as root, with no helper program: open /dev/fuse, mount(2)
 * with `fd=N`, and the checks that give clear errors (not root, no /dev/fuse, mountpoint missing or
 * already a mount point).
 */
import * as fs from 'fs';
import * as path from 'path';
import { MNT_DETACH, native } from '../native';

const MS_NOSUID = 2;
const MS_NODEV = 4;

export class MountError extends Error {
  constructor(message: string, readonly errno?: number) {
    super(message);
    this.name = 'MountError';
  }
}

/** Mounts as the kernel lists them in /proc/self/mountinfo, in mount order (octal escapes decoded). */
function mountInfo(): Array<{ device: string; mountpoint: string }> {
  const text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  return text.split('\n').map((line) => line.split(' ')).filter((fields) => fields.length > 4).map((fields) => ({
    device: fields[2],
    mountpoint: fields[4].replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))),
  }));
}

export function mountPoints(): Set<string> {
  return new Set(mountInfo().map((m) => m.mountpoint));
}

/**
 * Sets the kernel's readahead window for the filesystem mounted at `dir` (its backing device info,
 * /sys/class/bdi/MAJOR:MINOR/read_ahead_kb). FUSE mounts start at 128 KiB, so a sequential reader gets 128 KiB
 * requests; a larger window lets the kernel ask for up to max_pages at once. Read from mountinfo, never by a
 * stat of the mount (the daemon would be asking itself). Throws with the reason when it cannot.
 */
export function setReadAhead(dir: string, kb: number): void {
  const target = path.resolve(dir);
  const mount = mountInfo().filter((m) => m.mountpoint === target).pop();
  if (!mount) throw new Error(`${target} is not a mount point`);
  fs.writeFileSync(`/sys/class/bdi/${mount.device}/read_ahead_kb`, String(kb));
}

export function isMountPoint(dir: string): boolean {
  return mountPoints().has(path.resolve(dir));
}

export interface MountOptions {
  mountpoint: string;
  /** Shown as the source in /proc/mounts. */
  fsName: string;
  /** The part after "fuse." in the filesystem type. */
  subtype: string;
  readOnly?: boolean;
}

/** Opens /dev/fuse and mounts it at opts.mountpoint. Returns the connection's fd (close-on-exec). */
export function openAndMount(opts: MountOptions): number {
  if (process.getuid && process.getuid() !== 0) {
    throw new MountError('nydusd must run as root: mounting FUSE with mount(2) needs CAP_SYS_ADMIN');
  }
  const mnt = path.resolve(opts.mountpoint);
  let st: fs.Stats;
  try {
    st = fs.statSync(mnt);
  } catch {
    throw new MountError(`mountpoint ${mnt} does not exist`);
  }
  if (!st.isDirectory()) throw new MountError(`mountpoint ${mnt} is not a directory`);
  if (isMountPoint(mnt)) throw new MountError(`mountpoint ${mnt} is already a mount point`);
  let fd: number;
  try {
    fd = fs.openSync('/dev/fuse', fs.constants.O_RDWR);
  } catch (err) {
    throw new MountError(`cannot open /dev/fuse (${(err as Error).message}): is the fuse module loaded?`);
  }
  native.setCloexec(fd, true);
  const data = `fd=${fd},rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions`;
  const flags = MS_NOSUID | MS_NODEV | (opts.readOnly ? 1 : 0);
  const rc = native.mount(opts.fsName, mnt, `fuse.${opts.subtype}`, flags, data);
  if (rc < 0) {
    fs.closeSync(fd);
    throw new MountError(`mount(2) of ${mnt} failed: errno ${-rc}`, -rc);
  }
  return fd;
}

/** Unmounts; when busy, detaches lazily so the mount never stays behind. Returns how it went. */
export function unmount(mountpoint: string): 'unmounted' | 'detached' | 'not-mounted' {
  const mnt = path.resolve(mountpoint);
  if (native.umount2(mnt, 0) === 0) return 'unmounted';
  if (native.umount2(mnt, MNT_DETACH) === 0) return 'detached';
  return 'not-mounted';
}
