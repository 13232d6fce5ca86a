// Marks the compiled command-line entry points executable and links them into node_modules/.bin,
// so that `npx nydusd ...` works from the project root after `npm install`.
'use strict';
const fs = require('fs');
const path = require('path');
const root = path.resolve(__dirname, '..', '..');
const pkg = require(path.join(root, 'package.json'));
const binDir = path.join(root, 'node_modules', '.bin');
fs.mkdirSync(binDir, { recursive: true });
for (const [name, rel] of Object.entries(pkg.bin)) {
  const target = path.join(root, rel);
  if (!fs.existsSync(target)) continue;
  fs.chmodSync(target, 0o755);
  const link = path.join(binDir, name);
  try { fs.unlinkSync(link); } catch { /* not there yet */ }
  fs.symlinkSync(path.relative(binDir, target), link);
}
