import test from 'ava';
import * as fs from 'fs';
import * as os from 'os';
import { warmUp } from '../../daemon/src/upgrade/warm-up';
import { openFdCount } from '../passthrough/helpers';

const scratchDirs = () => fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('nydusd-warm-up-')).sort();

test('the takeover warm-up runs the restore path on a scratch tree and leaves no fd or directory behind', (t) => {
  const before = { fds: openFdCount(), dirs: scratchDirs() };
  warmUp('warm-up-test', true);
  warmUp('warm-up-test', true);
  t.is(openFdCount(), before.fds);
  t.deepEqual(scratchDirs(), before.dirs);
});
