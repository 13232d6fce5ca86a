/** The nydus-image CLI: create/inspect/check, exit codes 2 for usage errors and 1 for failures. */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { runCli, tempDir } from './helpers/image';

function sampleTree(dir: string): void {
  fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'a.txt'), 'hello '.repeat(50000));
  fs.writeFileSync(path.join(dir, 'sub/b.bin'), Buffer.alloc(200000, 7));
  fs.symlinkSync('a.txt', path.join(dir, 'ln'));
}

test('create, inspect --json and check agree', (t) => {
  const work = tempDir(t, 'nydus-image-cli-');
  const src = path.join(work, 'src');
  sampleTree(src);
  const blobDir = path.join(work, 'blobs');
  const boot = path.join(work, 'image.boot');
  const created = runCli(['create', '--compressor', 'lz4_block', '--chunk-size', '64K', '--digester', 'sha256', '--bootstrap', boot, '--blob-dir', blobDir, src]);
  t.is(created.status, 0, created.stderr);
  const result = JSON.parse(created.stdout);
  t.deepEqual(fs.readdirSync(blobDir), [result.blobId]);
  t.is(result.files, 5);

  const inspected = runCli(['inspect', boot, '--json']);
  t.is(inspected.status, 0, inspected.stderr);
  const report = JSON.parse(inspected.stdout);
  t.is(report.superblock.compressor, 'lz4_block');
  t.is(report.superblock.digester, 'sha256');
  t.is(report.superblock.chunkSize, 65536);
  t.is(report.blobs[0].blobId, result.blobId);
  t.is(report.blobs[0].chunkCount, result.chunks);
  t.like(report.counts, { inodes: 5, directories: 2, files: 2, symlinks: 1 });
  t.regex(runCli(['inspect', boot]).stdout, /compressor lz4_block/);

  const checked = runCli(['check', boot, '--blob-dir', blobDir]);
  t.is(checked.status, 0, checked.stderr);
  t.regex(checked.stdout, /^OK: 5 inodes/);
});

test('--blob-inline-meta: inspect and check read the bootstrap out of the blob', (t) => {
  const work = tempDir(t, 'nydus-image-cli-inline-');
  const src = path.join(work, 'src');
  sampleTree(src);
  const blobDir = path.join(work, 'blobs');
  const created = runCli(['create', '--blob-inline-meta', '--bootstrap', path.join(work, 'b'), '--blob-dir', blobDir, src]);
  t.is(created.status, 0, created.stderr);
  const blob = JSON.parse(created.stdout).blobPath;
  const report = JSON.parse(runCli(['inspect', '--json', blob]).stdout);
  t.true(report.embedded);
  t.is(report.blobs[0].blobId, path.basename(blob));
  t.is(report.blobs[0].features & 0x2, 0x2, 'INLINED_FS_META');
  const checked = runCli(['check', blob, '--blob-dir', blobDir]);
  t.is(checked.status, 0, checked.stderr);
});

test('check fails with the first problem: corrupt chunk, bad magic, missing blob', (t) => {
  const work = tempDir(t, 'nydus-image-cli-bad-');
  const src = path.join(work, 'src');
  sampleTree(src);
  const blobDir = path.join(work, 'blobs');
  const boot = path.join(work, 'image.boot');
  const created = runCli(['create', '--compressor', 'none', '--bootstrap', boot, '--blob-dir', blobDir, src]);
  t.is(created.status, 0, created.stderr);
  const blob = path.join(blobDir, JSON.parse(created.stdout).blobId);

  const data = fs.readFileSync(blob);
  data[100] ^= 0xff;
  fs.writeFileSync(blob, data);
  const corrupt = runCli(['check', boot, '--blob-dir', blobDir]);
  t.is(corrupt.status, 1);
  t.regex(corrupt.stderr, /digest mismatch/);

  const meta = fs.readFileSync(boot);
  meta[1024] ^= 0xff;
  const badBoot = path.join(work, 'bad.boot');
  fs.writeFileSync(badBoot, meta);
  const magic = runCli(['check', badBoot, '--blob-dir', blobDir]);
  t.is(magic.status, 1);
  t.regex(magic.stderr, /no EROFS magic/);

  fs.rmSync(blob);
  const missing = runCli(['check', boot, '--blob-dir', blobDir]);
  t.is(missing.status, 1);
  t.regex(missing.stderr, /not found/);
});

test('usage errors exit 2, bad sources exit 1, with a message', (t) => {
  const work = tempDir(t, 'nydus-image-cli-usage-');
  const src = path.join(work, 'src');
  sampleTree(src);
  const base = ['--bootstrap', path.join(work, 'b'), '--blob-dir', path.join(work, 'blobs')];
  const cases: Array<[string[], number, RegExp]> = [
    [[], 2, /no command/],
    [['frobnicate'], 2, /unknown command/],
    [['create', ...base, '--compressor', 'gzip', src], 2, /unknown compressor "gzip"/],
    [['create', ...base, '--chunk-size', '3000', src], 2, /power of two/],
    [['create', ...base, '--digester', 'md5', src], 2, /unknown digester/],
    [['create', ...base, '--bogus', src], 2, /unknown option --bogus/],
    [['create', '--blob-dir', path.join(work, 'blobs'), src], 2, /--bootstrap is required/],
    [['create', ...base], 2, /exactly one SOURCE/],
    [['create', ...base, path.join(work, 'nope')], 2, /cannot read source/],
    [['check', path.join(work, 'b')], 2, /--blob-dir is required/],
  ];
  for (const [args, status, message] of cases) {
    const r = runCli(args);
    t.is(r.status, status, args.join(' '));
    t.regex(r.stderr, message, args.join(' '));
  }
  const junk = path.join(work, 'junk.tar');
  fs.writeFileSync(junk, Buffer.alloc(2048, 0x41));
  const bad = runCli(['create', ...base, junk]);
  t.is(bad.status, 1);
  t.regex(bad.stderr, /tar header checksum/);
  t.deepEqual(fs.existsSync(path.join(work, 'blobs')) ? fs.readdirSync(path.join(work, 'blobs')) : [], [], 'a failed build leaves no blob');
});
