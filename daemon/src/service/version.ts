/**
 * The version block of DaemonInfo: package version (package.json), git commit (`git rev-parse HEAD` in the project
 * folder, 'unknown' when that is not a git checkout), build time (when this file was compiled: its mtime) and the
 * Node version. Computed once per process.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from './project-root';

export interface VersionInfo {
  packageVer: string;
  gitCommit: string;
  buildTime: string;
  node: string;
}

let cached: VersionInfo | undefined;

function readPackageVersion(root: string): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function readGitCommit(root: string): string {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] });
    const commit = out.toString().trim();
    return /^[0-9a-f]{40,64}$/.test(commit) ? commit : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function versionInfo(): VersionInfo {
  if (cached) return cached;
  let root: string | undefined;
  try {
    root = projectRoot();
  } catch {
    root = undefined;
  }
  cached = {
    packageVer: root ? readPackageVersion(root) : 'unknown',
    gitCommit: root ? readGitCommit(root) : 'unknown',
    buildTime: fs.statSync(__filename).mtime.toISOString(),
    node: process.version,
  };
  return cached;
}
