/**
 * Generates the benchmark dataset: many small files (1-8 KiB, random bytes) in a two-level tree of directories,
 * one symlink per leaf directory, and one big file. Sizes come from a seeded generator so every run builds the
 * same shape. Returns what the workloads need to know (paths relative to the dataset root, expected counts).
 */
import { randomFillSync } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

export interface DatasetOptions {
  smallFiles: number;
  bigFileBytes: number;
  /** Directories per level (default 10, so 100 leaf directories). */
  fanout?: number;
  seed?: number;
}

export interface Dataset {
  root: string;
  /** Relative path of the directory holding the small files. */
  smallDir: string;
  /** Relative path of the big file. */
  bigFile: string;
  smallFiles: number;
  bigFileBytes: number;
  smallBytes: number;
  /** Directories, the root included. */
  dirs: number;
  symlinks: number;
  /** Entries `find ROOT` prints, the root included. */
  entryCount: number;
}

/** A small deterministic generator (mulberry32); enough for file sizes. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateDataset(root: string, opts: DatasetOptions): Dataset {
  const fanout = opts.fanout ?? 10;
  const random = seededRandom(opts.seed ?? 42);
  const smallDir = 'small';
  const leaves: string[] = [];
  for (let i = 0; i < fanout; i++) {
    for (let j = 0; j < fanout; j++) leaves.push(path.join(root, smallDir, `d${i}`, `e${j}`));
  }
  leaves.forEach((dir) => fs.mkdirSync(dir, { recursive: true }));
  const content = randomFillSync(Buffer.alloc(8192 * 64));
  let smallBytes = 0;
  for (let n = 0; n < opts.smallFiles; n++) {
    const size = 1024 + Math.floor(random() * 7 * 1024) + 1;
    const offset = Math.floor(random() * (content.length - size));
    fs.writeFileSync(path.join(leaves[n % leaves.length], `f${n}.dat`), content.subarray(offset, offset + size));
    smallBytes += size;
  }
  // File i lives in leaf i (round-robin), so each leaf's link points at a sibling.
  leaves.forEach((dir, i) => fs.symlinkSync(`f${i}.dat`, path.join(dir, 'link')));
  const bigFile = 'big.bin';
  writeRandomFile(path.join(root, bigFile), opts.bigFileBytes);
  const dirs = 1 /* root */ + 1 /* smallDir */ + fanout + leaves.length;
  return {
    root, smallDir, bigFile, smallFiles: opts.smallFiles, bigFileBytes: opts.bigFileBytes, smallBytes,
    dirs, symlinks: leaves.length, entryCount: dirs + opts.smallFiles + leaves.length + 1 /* big file */,
  };
}

function writeRandomFile(file: string, bytes: number): void {
  const chunk = Buffer.alloc(1 << 20);
  const fd = fs.openSync(file, 'w');
  try {
    for (let done = 0; done < bytes; done += chunk.length) {
      randomFillSync(chunk);
      fs.writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - done));
    }
  } finally {
    fs.closeSync(fd);
  }
}
