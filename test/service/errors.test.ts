import { status } from '@grpc/grpc-js';
import test from 'ava';
import { constants } from 'os';
import { grpcStatusOf } from '../../daemon/src/api/status';
import { ERROR_CODES, NydusError, wrapError } from '../../daemon/src/errors';
import { FsError } from '../../daemon/src/fs/errno';

const expected: [string, status][] = [
  ['UnexpectedEvent', status.FAILED_PRECONDITION],
  ['InvalidArguments', status.INVALID_ARGUMENT],
  ['InvalidConfig', status.INVALID_ARGUMENT],
  ['NotFound', status.NOT_FOUND],
  ['NotReady', status.UNAVAILABLE],
  ['Unsupported', status.UNIMPLEMENTED],
  ['AlreadyExists', status.ALREADY_EXISTS],
  ['Rafs', status.INTERNAL],
  ['PassthroughFs', status.INTERNAL],
];

for (const [code, grpcCode] of expected) {
  test(`grpcStatusOf() maps ${code} to ${status[grpcCode]} keeping the message`, (t) => {
    const result = grpcStatusOf(new NydusError(code as never, `something about ${code}`));
    t.is(result.code, grpcCode);
    t.is(result.details, `something about ${code}`);
  });
}

test('grpcStatusOf() never answers UNKNOWN or OK, whatever is thrown', (t) => {
  const thrown: unknown[] = [
    ...ERROR_CODES.map((code) => new NydusError(code, code)),
    new Error('plain'),
    'a string',
    undefined,
    null,
    42,
    { code: 'ENOENT' },
    new FsError(constants.errno.EIO),
  ];
  for (const err of thrown) {
    const { code, details } = grpcStatusOf(err);
    t.not(code, status.UNKNOWN);
    t.not(code, status.OK);
    t.true(details.length > 0);
  }
});

test('grpcStatusOf() recognises foreign errors carrying our codes and errnos', (t) => {
  t.is(grpcStatusOf(Object.assign(new Error('x'), { code: 'NotFound' })).code, status.NOT_FOUND);
  t.is(grpcStatusOf(new FsError(constants.errno.EBUSY, 'busy')).code, status.FAILED_PRECONDITION);
  t.is(grpcStatusOf(Object.assign(new Error('gone'), { code: 'ENOENT' })).code, status.NOT_FOUND);
  t.deepEqual(grpcStatusOf(new Error('boom')), { code: status.INTERNAL, details: 'boom' });
});

test('wrapError() keeps an existing code and prefixes what failed', (t) => {
  const inner = new NydusError('NotFound', 'no such thing');
  t.is(wrapError('Vfs', 'Cannot mount', inner), inner);
  const foreign = wrapError('Vfs', 'Cannot mount /a', Object.assign(new Error('exists'), { code: 'AlreadyExists' }));
  t.is(foreign.code, 'AlreadyExists');
  t.is(foreign.message, 'Cannot mount /a: exists');
  t.is(wrapError('Rafs', 'Cannot open', new Error('bad magic')).code, 'Rafs');
});
