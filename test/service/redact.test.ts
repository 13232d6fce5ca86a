import test from 'ava';
import { redactConfig } from '../../daemon/src/service/redact';

test('redactConfig() removes auth, token, password and secret keys at any depth', (t) => {
  const config = {
    device: { backend: { type: 'registry', config: { host: 'h', auth: 'dXNlcjpwYXNz', registry_token: 't', repo: 'r' } } },
    proxies: [{ url: 'u', password: 'p', client_secret: 's' }],
    mode: 'direct',
  };
  t.deepEqual(JSON.parse(redactConfig(JSON.stringify(config))), {
    device: { backend: { type: 'registry', config: { host: 'h', repo: 'r' } } },
    proxies: [{ url: 'u' }],
    mode: 'direct',
  });
});

test('redactConfig() hides text that is not JSON and keeps empty as empty', (t) => {
  t.is(redactConfig(''), '');
  t.is(redactConfig('auth=secret'), '<not JSON: hidden>');
});
