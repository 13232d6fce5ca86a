import test from 'ava';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { configureLogOutput, createLogger, flushLog, getLogLevel, setLogLevel } from '../../daemon/src/log';

test('loggers write one JSON line per event, filtered by the run-time level', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nydus-log-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'daemon.log');
  configureLogOutput(file);
  const logger = createLogger('unit');
  setLogLevel('info');
  logger.debug('hidden at info');
  logger.info('mounted', { mountpoint: '/mnt', big: 2n ** 70n, err: new Error('boom') });
  setLogLevel('TRACE');
  t.is(getLogLevel(), 'trace');
  logger.trace('now visible');
  setLogLevel('error');
  logger.warn('hidden at error');
  logger.error('failed');
  await flushLog();
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
  t.deepEqual(lines.map((line) => [line.level, line.component, line.msg]), [
    ['info', 'unit', 'mounted'],
    ['trace', 'unit', 'now visible'],
    ['error', 'unit', 'failed'],
  ]);
  t.is(lines[0].mountpoint, '/mnt');
  t.is(lines[0].big, (2n ** 70n).toString());
  t.is(lines[0].err.message, 'boom');
  t.false(Number.isNaN(Date.parse(lines[0].time)));
  t.is(fs.statSync(file).mode & 0o777, 0o600);
});

test('setLogLevel() refuses unknown levels and keeps the current one', (t) => {
  setLogLevel('warn');
  t.throws(() => setLogLevel('verbose'), { instanceOf: RangeError, message: /Unknown log level "verbose"/ });
  t.is(getLogLevel(), 'warn');
});

test('lines logged just before process.exit() are all written', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nydus-log-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'exit.log');
  const script = [
    `const log = require(${JSON.stringify(require.resolve('../../daemon/src/log'))});`,
    `log.configureLogOutput(${JSON.stringify(file)});`,
    "const logger = log.createLogger('exit-test');",
    "for (let i = 0; i < 2000; i++) logger.info('line ' + i);",
    'process.exit(3);',
  ].join('\n');
  const child = spawnSync(process.execPath, ['-e', script]);
  t.is(child.status, 3, child.stderr.toString());
  const messages = new Set(fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line).msg));
  t.is(messages.size, 2000);
});
