/** Helpers for tests: temp dirs, building through the API, kernel mounts over loop devices, the CLI. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync, spawnSync } from 'child_process';

export function tempDir(t: { teardown(fn: () => void): void }, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const CLI = path.resolve(__dirname, '../../../daemon/src/cli/nydus-image.js');

export function runCli(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Mounts bootstrap + blob with the kernel's erofs (both through loop devices); returns the mount point.
 * The teardown unmounts and detaches even when the test fails.
 */
export function kernelMount(t: { teardown(fn: () => void): void }, bootstrap: string, blob: string, mnt: string): string {
  const loops: string[] = [];
  t.teardown(() => {
    spawnSync('umount', [mnt]);
    if (spawnSync('mountpoint', ['-q', mnt]).status === 0) spawnSync('umount', ['-l', mnt]);
    for (const l of loops) spawnSync('losetup', ['-d', l]);
  });
  const loopMeta = execFileSync('losetup', ['-f', '--show', '-r', bootstrap], { encoding: 'utf8' }).trim();
  loops.push(loopMeta);
  const loopBlob = execFileSync('losetup', ['-f', '--show', '-r', blob], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  loops.push(loopBlob);
  fs.mkdirSync(mnt, { recursive: true });
  execFileSync('mount', ['-t', 'erofs', '-o', `ro,device=${loopBlob}`, loopMeta, mnt]);
  return mnt;
}

export function fsckErofs(bootstrap: string, blob: string): { status: number; output: string } {
  const r = spawnSync('fsck.erofs', [`--device=${blob}`, bootstrap], { encoding: 'utf8' });
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}
