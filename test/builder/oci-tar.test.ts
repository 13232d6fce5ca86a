/**
 * OCI layer tarballs made by GNU tar (pax and GNU formats, plain and gzip) build into the same tree
 * as the directory they came from; OCI whiteouts become overlayfs whiteouts (char device 0/0) and
 * opaque directories (trusted.overlay.opaque=y), as upstream nydus-image converts them.
 */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { buildImage } from '../../daemon/src/builder';
import { generateTree } from './helpers/tree-gen';
import { fsckErofs, kernelMount, tempDir } from './helpers/image';
import { NodeInfo, snapshotDir } from './helpers/snapshot';

function sameTree(t: import('ava').ExecutionContext, got: Record<string, NodeInfo>, want: Record<string, NodeInfo>, norm: (n: NodeInfo) => NodeInfo = (n) => n): void {
  t.deepEqual(Object.keys(got), Object.keys(want));
  for (const p of Object.keys(want)) t.deepEqual(norm(got[p]), norm(want[p]), p);
}

test.serial('pax tarball with xattrs (plain and gzip) equals its source directory under the kernel', async (t) => {
  const work = tempDir(t, 'nydus-build-tar-');
  const src = path.join(work, 'src');
  fs.mkdirSync(src);
  generateTree(src, { seed: 7, bigDirEntries: 300 });
  fs.rmSync(path.join(src, 'sock')); // tar cannot carry sockets
  const tarFile = path.join(work, 'layer.tar');
  execFileSync('tar', ['--format=posix', '--xattrs', '--xattrs-include=*', '--numeric-owner', '-C', src, '-cf', tarFile, '.']);
  execFileSync('sh', ['-c', `gzip -c < "${tarFile}" > "${tarFile}.gz"`]);
  const plain = await buildImage({ source: tarFile, bootstrapPath: path.join(work, 'plain.boot'), blobDir: path.join(work, 'b1'), compressor: 'none', chunkSize: 65536 });
  const gz = await buildImage({ source: `${tarFile}.gz`, bootstrapPath: path.join(work, 'gz.boot'), blobDir: path.join(work, 'b2'), compressor: 'none', chunkSize: 65536 });
  t.is(gz.blobId, plain.blobId);
  t.true(fs.readFileSync(gz.bootstrapPath).equals(fs.readFileSync(plain.bootstrapPath)), 'gzip changes nothing in the image');
  t.is(fsckErofs(plain.bootstrapPath, plain.blobPath).status, 0);
  const mnt = kernelMount(t, plain.bootstrapPath, plain.blobPath, path.join(work, 'mnt'));
  sameTree(t, snapshotDir(mnt), snapshotDir(src));
});

test.serial('GNU-format tarball (long names via L records) equals its source, to the second', async (t) => {
  const work = tempDir(t, 'nydus-build-gnutar-');
  const src = path.join(work, 'src');
  fs.mkdirSync(src);
  generateTree(src, { seed: 8, bigDirEntries: 50 });
  fs.rmSync(path.join(src, 'sock'));
  const longDir = path.join(src, 'd'.repeat(200), 'e'.repeat(255));
  fs.mkdirSync(longDir, { recursive: true });
  fs.writeFileSync(path.join(longDir, 'f'.repeat(255)), 'deep and long');
  fs.symlinkSync('t'.repeat(300), path.join(longDir, 'long-target'));
  const tarFile = path.join(work, 'layer.tar');
  execFileSync('tar', ['--format=gnu', '--numeric-owner', '-C', src, '-cf', tarFile, '.']);
  const r = await buildImage({ source: tarFile, bootstrapPath: path.join(work, 'boot'), blobDir: path.join(work, 'blobs'), compressor: 'none' });
  const mnt = kernelMount(t, r.bootstrapPath, r.blobPath, path.join(work, 'mnt'));
  const norm = (n: NodeInfo): NodeInfo => ({ ...n, xattrs: {}, mtime: String(BigInt(n.mtime) / 1000000000n) });
  sameTree(t, snapshotDir(mnt), snapshotDir(src), norm);
});

test.serial('/usr/include/linux as tar.gz with OCI whiteouts: whiteout devices and opaque dirs', async (t) => {
  const srcParent = '/usr/include';
  if (!fs.existsSync(path.join(srcParent, 'linux'))) {
    t.log('/usr/include/linux is absent: skipped');
    t.pass();
    return;
  }
  const work = tempDir(t, 'nydus-build-oci-');
  const extra = path.join(work, 'extra');
  fs.mkdirSync(path.join(extra, 'linux/netfilter'), { recursive: true });
  fs.mkdirSync(path.join(extra, 'newdir'), { recursive: true });
  for (const f of ['linux/.wh.removed-file', 'linux/.wh.kernel.h', 'linux/netfilter/.wh..wh..opq', 'newdir/.wh.x']) fs.writeFileSync(path.join(extra, f), '');
  const tarFile = path.join(work, 'layer.tar');
  execFileSync('tar', ['--format=posix', '--numeric-owner', '-C', srcParent, '-cf', tarFile, 'linux']);
  execFileSync('tar', ['--format=posix', '-C', extra, '-rf', tarFile, 'linux/.wh.removed-file', 'linux/.wh.kernel.h', 'linux/netfilter/.wh..wh..opq', 'newdir/.wh.x']);
  execFileSync('gzip', [tarFile]);
  const r = await buildImage({ source: `${tarFile}.gz`, bootstrapPath: path.join(work, 'boot'), blobDir: path.join(work, 'blobs'), compressor: 'none' });
  t.is(fsckErofs(r.bootstrapPath, r.blobPath).status, 0);
  const mnt = kernelMount(t, r.bootstrapPath, r.blobPath, path.join(work, 'mnt'));

  const removed = fs.lstatSync(path.join(mnt, 'linux/removed-file'));
  t.true(removed.isCharacterDevice());
  t.is(removed.rdev, 0);
  t.true(fs.lstatSync(path.join(mnt, 'newdir/x')).isCharacterDevice());
  t.true(fs.lstatSync(path.join(mnt, 'linux/kernel.h')).isFile(), 'a whiteout never hides an entry of its own layer');
  t.is(execFileSync('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', path.join(mnt, 'linux/netfilter')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), 'y');
  t.false(fs.readdirSync(path.join(mnt, 'linux')).some((n) => n.startsWith('.wh.')));

  const got = snapshotDir(path.join(mnt, 'linux'));
  const want = snapshotDir(path.join(srcParent, 'linux'));
  delete got['/removed-file'];
  got['/netfilter'].xattrs = {};
  sameTree(t, got, want);
});
