/**
 * Real programs the tests compare against: mkfs.erofs to build images, the kernel's erofs driver to mount
 * them (loop devices, detached in teardown), and walk-tree.py to snapshot a tree as the kernel shows it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync } from 'child_process';

export type Snapshot = Record<string, SnapEntry>;
export interface SnapEntry {
  mode: number; uid: number; gid: number; size: number; mtimeNs: string; nlink: number; ino: number;
  blocks: number; rdev?: [number, number]; target?: string; sha256?: string; xattrs: Record<string, string>;
}

const WALKER = path.resolve(__dirname, '../../../../test/rafs/helpers/walk-tree.py');

export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `rafs-${tag}-`));
}

export function mkfsErofs(image: string, source: string, args: string[]): void {
  execFileSync('mkfs.erofs', ['--quiet', ...args, image, source], { stdio: 'pipe' });
}

export function snapshotTree(dir: string): Snapshot {
  return JSON.parse(execFileSync('python3', [WALKER, dir], { maxBuffer: 256 * 1024 * 1024 }).toString()) as Snapshot;
}

export interface KernelMount { dir: string; release(): void }

/** Mounts an image with the kernel's erofs; with a blob device both go through loop devices. */
export function mountKernel(image: string, blobdev?: string): KernelMount {
  const dir = tempDir('kmnt');
  const loops: string[] = [];
  const release = (): void => {
    try { execFileSync('umount', [dir], { stdio: 'pipe' }); } catch {
      try { execFileSync('umount', ['-l', dir], { stdio: 'pipe' }); } catch { /* not mounted */ }
    }
    for (const l of loops) { try { execFileSync('losetup', ['-d', l], { stdio: 'pipe' }); } catch { /* gone */ } }
    try { fs.rmdirSync(dir); } catch { /* busy or gone */ }
  };
  try {
    if (!blobdev) {
      execFileSync('mount', ['-t', 'erofs', '-o', 'ro,loop', image, dir], { stdio: 'pipe' });
    } else {
      const loopImage = execFileSync('losetup', ['-f', '--show', '-r', image]).toString().trim();
      loops.push(loopImage);
      const loopBlob = execFileSync('losetup', ['-f', '--show', '-r', blobdev]).toString().trim();
      loops.push(loopBlob);
      execFileSync('mount', ['-t', 'erofs', '-o', `ro,device=${loopBlob}`, loopImage, dir], { stdio: 'pipe' });
    }
  } catch (err) {
    release();
    throw err;
  }
  return { dir, release };
}
