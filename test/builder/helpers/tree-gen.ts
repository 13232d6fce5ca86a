/**
 * Generates a random but seeded source tree with every kind of file the builder must carry: regular
 * files (empty, small, multi-chunk, duplicated, sparse), 255-byte names, names that sort before ".",
 * a directory spanning several blocks, symlinks (short and long), hard links, char/block devices,
 * FIFOs, a socket, setuid/setgid/sticky modes, uid/gid above 65535, nanosecond mtimes, and xattrs
 * set with the real setfattr program.
 */
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(rand: () => number, n: number, compressible: boolean): Buffer {
  const b = Buffer.alloc(n);
  if (compressible) {
    const words = ['nydus', 'erofs', 'chunk', 'blob ', 'rafs\n', 'image', '{}();'];
    let at = 0;
    while (at < n) at += b.write(words[Math.floor(rand() * words.length)], at);
  } else {
    for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  }
  return b;
}

function setTime(p: string, rand: () => number, followLinks = true): void {
  const sec = 1500000000 + Math.floor(rand() * 200000000);
  const nsec = Math.floor(rand() * 1e9);
  const stamp = `@${sec}.${String(nsec).padStart(9, '0')}`;
  execFileSync('touch', followLinks ? ['-d', stamp, p] : ['-h', '-d', stamp, p]);
}

export interface GenOptions {
  seed: number;
  /** Entries in the big directory (each with a long name): ~600 spans several 4 KiB blocks. */
  bigDirEntries?: number;
  largeFileBytes?: number;
}

/** Fills `root` (an empty directory); returns the number of entries created. */
export function generateTree(root: string, opts: GenOptions): number {
  const rand = prng(opts.seed);
  let count = 0;
  const file = (rel: string, data: Buffer, mode = 0o644): string => {
    const p = path.join(root, rel);
    fs.writeFileSync(p, data);
    fs.chmodSync(p, mode);
    count++;
    return p;
  };
  const dir = (rel: string, mode = 0o755): string => {
    const p = path.join(root, rel);
    fs.mkdirSync(p);
    fs.chmodSync(p, mode);
    count++;
    return p;
  };
  dir('docs');
  dir('empty-dir');
  dir('sticky', 0o1777);
  dir('big');
  dir('deep');
  dir('deep/a');
  dir('deep/a/b');
  file('empty', Buffer.alloc(0));
  file('small.txt', randomBytes(rand, 100, true));
  file('docs/text', randomBytes(rand, 200000, true));
  file('docs/random', randomBytes(rand, opts.largeFileBytes ?? 3 * 1048576 + 12345, false));
  const dup = randomBytes(rand, 70000, true);
  file('docs/dup1', dup);
  file('docs/dup2', dup);
  file('deep/a/b/leaf', randomBytes(rand, 4096, false));
  file('setuid', randomBytes(rand, 10, false), 0o4755);
  file('setgid', randomBytes(rand, 10, false), 0o2711);
  file('exec', randomBytes(rand, 10, false), 0o755);
  const sparse = file('sparse', Buffer.alloc(0));
  const fd = fs.openSync(sparse, 'r+');
  fs.writeSync(fd, Buffer.from('start'), 0, 5, 0);
  fs.writeSync(fd, randomBytes(rand, 5000, false), 0, 5000, 5 * 1048576 + 77);
  fs.ftruncateSync(fd, 9 * 1048576 + 3);
  fs.closeSync(fd);
  file('x'.repeat(255), randomBytes(rand, 33, true));
  for (const name of ['!bang', '#hash', '+plus', ',comma', '-dash', ' space', '$dollar', '%pct']) file(`docs/${name}`, randomBytes(rand, 5, true));
  for (let i = 0; i < (opts.bigDirEntries ?? 600); i++) {
    const name = `entry-${String(i).padStart(5, '0')}-${'n'.repeat(Math.floor(rand() * 40))}`;
    file(`big/${name}`, randomBytes(rand, Math.floor(rand() * 64), true));
  }
  fs.symlinkSync('small.txt', path.join(root, 'link-rel')); count++;
  fs.symlinkSync('/nonexistent/target', path.join(root, 'link-dangling')); count++;
  fs.symlinkSync('d/'.repeat(600) + 'end', path.join(root, 'link-long')); count++;
  fs.linkSync(path.join(root, 'docs/text'), path.join(root, 'hardlink-1')); count++;
  fs.linkSync(path.join(root, 'docs/text'), path.join(root, 'deep/hardlink-2')); count++;
  execFileSync('mknod', [path.join(root, 'null-dev'), 'c', '1', '3']); count++;
  execFileSync('mknod', [path.join(root, 'big-dev'), 'c', '300', '70000']); count++;
  execFileSync('mknod', [path.join(root, 'blk-dev'), 'b', '7', '200']); count++;
  execFileSync('mkfifo', [path.join(root, 'fifo')]); count++;
  execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path.join(root, 'sock')]); count++;
  execFileSync('chown', ['70000:80000', path.join(root, 'docs/random')]);
  execFileSync('chown', ['-h', '65536:65537', path.join(root, 'link-rel')]);
  execFileSync('chown', ['1234:5678', path.join(root, 'fifo')]);
  execFileSync('setfattr', ['-n', 'user.comment', '-v', 'hello world', path.join(root, 'small.txt')]);
  execFileSync('setfattr', ['-n', 'user.empty', path.join(root, 'small.txt')]);
  execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', path.join(root, 'docs')]);
  execFileSync('setfattr', ['-n', 'user.bin', '-v', '0x00ff10', path.join(root, 'docs/random')]);
  execFileSync('setfattr', ['-n', 'security.test', '-v', 'sec', path.join(root, 'exec')]);
  execFileSync('setfattr', ['-n', 'user.big', '-v', 'v'.repeat(1500), path.join(root, 'empty-dir')]);
  // mtimes last, children before parents so directory times stick
  const all: string[] = [];
  const walk = (p: string): void => {
    for (const n of fs.readdirSync(p)) {
      const c = path.join(p, n);
      if (fs.lstatSync(c).isDirectory()) walk(c);
      all.push(c);
    }
  };
  walk(root);
  for (const p of all) setTime(p, rand, !fs.lstatSync(p).isSymbolicLink());
  setTime(root, rand);
  return count;
}
