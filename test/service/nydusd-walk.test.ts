/**
 * A walk through nydusd: `find` lists every directory with READDIRPLUS, and the daemon sends the subdirectories'
 * entries with it (at hand, or looked up once the listing is packed), so the kernel needs no LOOKUP to go down
 * into them. The attributes so sent are what `stat` then shows.
 */
import type { ExecutionContext } from 'ava';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { DaemonClient } from '../../daemon/src/api/client';
import { mountingTests, startNydusd } from './nydusd-process';

const e2e = mountingTests('nydusd walk tests need root and /dev/fuse');

const NYDUS_IMAGE = path.resolve(__dirname, '../../daemon/src/cli/nydus-image.js');

/** 8 directories of 4 subdirectories each, with files at every level: 41 directories in all. */
function makeTree(src: string): number {
  let dirs = 1;
  fs.mkdirSync(src);
  for (let a = 0; a < 8; a++) {
    const top = path.join(src, `dir${a}`);
    fs.mkdirSync(top, { mode: 0o750 + (a % 2) });
    dirs++;
    for (let b = 0; b < 4; b++) {
      const sub = path.join(top, `sub${b}`);
      fs.mkdirSync(sub);
      dirs++;
      for (let f = 0; f < 3; f++) fs.writeFileSync(path.join(sub, `file${f}`), `${a}/${b}/${f}\n`);
      fs.utimesSync(sub, 1_600_000_000 + a * 100 + b, 1_600_000_000 + a * 100 + b);
    }
    fs.writeFileSync(path.join(top, 'file'), 'x');
    fs.chownSync(top, 1000 + a, 2000 + a);
  }
  return dirs;
}

/** Every directory under `root`: relative path, mode, owner and mtime, as stat shows them. */
function directoryStats(root: string): string[] {
  return execFileSync('find', ['.', '-type', 'd', '-exec', 'stat', '-c', '%n %f %u %g %Y', '{}', '+'], { cwd: root, encoding: 'utf8' })
    .trim().split('\n').sort();
}

async function lookupCount(client: DaemonClient): Promise<number> {
  const metrics = await client.call<{ filesystems: { mountpoint: string; opcodes: { opcode: string; count: number }[] }[] }>('GetMetrics', {});
  const session = metrics.filesystems.find((f) => f.mountpoint === '');
  return session?.opcodes.find((op) => op.opcode.endsWith('LOOKUP'))?.count ?? 0;
}

async function findWithoutLookups(t: ExecutionContext, root: string[], src: string, directories: number): Promise<void> {
  const d = await startNydusd(t, [], root);
  await d.waitState('DAEMON_STATE_RUNNING');
  const before = await lookupCount(d.client);
  const found = execFileSync('find', ['.'], { cwd: d.mnt, encoding: 'utf8' }).trim().split('\n').sort();
  const lookups = (await lookupCount(d.client)) - before;
  t.deepEqual(found, execFileSync('find', ['.'], { cwd: src, encoding: 'utf8' }).trim().split('\n').sort());
  t.is(lookups, 0, `${lookups} LOOKUPs for ${directories} directories`);
  t.deepEqual(directoryStats(d.mnt), directoryStats(src));
}

function workDir(t: ExecutionContext): string {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nydusd-walk-'));
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  return work;
}

e2e('rafs: find goes down into every directory without a LOOKUP each, and stat shows the sent attributes', async (t) => {
  const work = workDir(t);
  const src = path.join(work, 'src');
  const directories = makeTree(src);
  const boot = path.join(work, 'image.boot');
  execFileSync(process.execPath, [NYDUS_IMAGE, 'create', '--bootstrap', boot, '--blob-dir', work, src]);
  await findWithoutLookups(t, ['--bootstrap', boot, '--localfs-dir', work], src, directories);
});

e2e('passthrough_fs: find goes down into every directory without a LOOKUP each, and stat shows the sent attributes', async (t) => {
  const src = path.join(workDir(t), 'src');
  const directories = makeTree(src);
  await findWithoutLookups(t, ['--shared-dir', src], src, directories);
});
