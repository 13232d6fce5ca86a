/**
 * Builds a source directory exercising what EROFS images must carry: sizes around block and chunk edges,
 * duplicate and zero data, a 500-entry directory, 255-byte names, names sorting before ".", long symlinks,
 * device nodes, fifos, sockets, hard links, large uids and user.* xattrs (shared ones included).
 */
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';

/** Deterministic bytes (xorshift) so failures reproduce. */
export function pseudoRandom(len: number, seed: number): Buffer {
  const out = Buffer.alloc(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function run(cmd: string, ...args: string[]): void {
  execFileSync(cmd, args, { stdio: 'pipe' });
}

export function buildSourceTree(root: string): void {
  const w = (rel: string, data: Buffer | string): void => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), data);
  };
  w('empty', '');
  w('small.txt', 'hello rafs\n'.repeat(9));
  for (const n of [4095, 4096, 4097, 65537]) w(`sizes/s-${n}`, pseudoRandom(n, n));
  w('big.bin', pseudoRandom(1536 * 1024 + 123, 7));
  const zeros = Buffer.alloc(3 * 1024 * 1024);
  pseudoRandom(4096, 9).copy(zeros, 1024 * 1024 + 8192);
  w('zeros.bin', zeros);
  w('dup-a.bin', pseudoRandom(200 * 1024, 11));
  w('dup-b.bin', pseudoRandom(200 * 1024, 11));
  for (let i = 0; i < 500; i++) w(`many/entry-${String(i).padStart(3, '0')}-${'x'.repeat(i % 40)}`, `file ${i}\n`);
  // 254 bytes: mkfs.erofs 1.5 fails with ENOENT on 255-byte names (its bug; the kernel and this reader accept 255).
  w(`long/${'n'.repeat(254)}`, 'long name\n');
  w(`long/${'m'.repeat(253)}`, 'almost as long\n');
  for (const n of ['!x', '-a', '+', '#', 'a', '~z']) w(`sorting/${n}`, n);
  fs.mkdirSync(path.join(root, 'sorting', ',sub'));
  fs.mkdirSync(path.join(root, 'links'));
  fs.symlinkSync('../small.txt', path.join(root, 'links', 'short'));
  fs.symlinkSync('t/'.repeat(2000), path.join(root, 'links', 'long-4000'));
  w('hard/one', 'linked\n');
  fs.linkSync(path.join(root, 'hard/one'), path.join(root, 'hard/two'));
  fs.linkSync(path.join(root, 'hard/one'), path.join(root, 'sorting/third-link'));
  fs.mkdirSync(path.join(root, 'dev'));
  run('mknod', path.join(root, 'dev/null-like'), 'c', '1', '3');
  run('mknod', path.join(root, 'dev/blk-big-minor'), 'b', '259', '300');
  run('mkfifo', path.join(root, 'dev/fifo'));
  run('python3', '-c', 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])', path.join(root, 'dev/sock'));
  w('owners/bigid', 'big ids\n');
  fs.chownSync(path.join(root, 'owners/bigid'), 100000, 200000);
  w('owners/setuid', '#!/bin/sh\n');
  fs.chmodSync(path.join(root, 'owners/setuid'), 0o4755);
  fs.mkdirSync(path.join(root, 'owners/sticky'));
  fs.chmodSync(path.join(root, 'owners/sticky'), 0o1777);
  fs.lchownSync(path.join(root, 'links/short'), 1234, 5678);
  for (let i = 0; i < 6; i++) {
    w(`xattr/x${i}`, `x${i}`);
    run('setfattr', '-n', 'user.shared', '-v', 'the same value everywhere', path.join(root, `xattr/x${i}`));
    run('setfattr', '-n', `user.own${i}`, '-v', `value ${i}`, path.join(root, `xattr/x${i}`));
  }
  run('setfattr', '-n', 'user.big', '-v', '0x' + pseudoRandom(1000, 5).toString('hex'), path.join(root, 'xattr/x0'));
  run('setfattr', '-n', 'user.empty', path.join(root, 'xattr/x1'));
  run('setfattr', '-n', 'user.dir', '-v', 'on a directory', path.join(root, 'xattr'));
  w('deep/a/b/c/d/e/f/file', 'deep\n');
  fs.utimesSync(path.join(root, 'small.txt'), 1000000000.5, 1000000000.25);
  fs.utimesSync(path.join(root, 'deep/a'), 4000000000, 4000000000.75);
}
