/**
 * Finds the project's root folder (where package.json and proto/ live) from a compiled file in dist/ or a source
 * file, so that run-time assets resolve the same way from `dist/daemon/src/...` and from an installed package.
 */
import * as fs from 'fs';
import * as path from 'path';

let cached: string | undefined;

export function projectRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'proto'))) {
      cached = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Cannot find the project root (package.json and proto/) above ${__dirname}`);
    dir = parent;
  }
}
