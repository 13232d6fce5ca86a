import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import test from 'ava';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import * as path from 'path';
import { setLogLevel } from '../../daemon/src/log';
import { startHarness } from './harness';

setLogLevel('error');

function loadClient(file: string, service: string, socketPath: string): grpc.Client {
  const definition = protoLoader.loadSync(file, { keepCase: true, enums: String, defaults: true });
  const loaded = grpc.loadPackageDefinition(definition);
  const Ctor = service.split('.').reduce<any>((node, part) => node[part], loaded) as grpc.ServiceClientConstructor;
  return new Ctor(`unix:${socketPath}`, grpc.credentials.createInsecure());
}

test('grpc.health.v1.Health answers SERVING for the server and the Daemon service', async (t) => {
  const h = await startHarness(t);
  const health = loadClient(healthProtoPath, 'grpc.health.v1.Health', h.socketPath) as any;
  t.teardown(() => health.close());
  for (const service of ['', 'nydus.daemon.v1.Daemon']) {
    const reply = await new Promise<any>((resolve, reject) =>
      health.Check({ service }, (err: Error | null, r: unknown) => (err ? reject(err) : resolve(r))),
    );
    t.is(reply.status, 'SERVING', service);
  }
});

test('server reflection lists the Daemon service and describes it', async (t) => {
  const h = await startHarness(t);
  const reflectionProto = path.join(
    path.dirname(require.resolve('@grpc/reflection/package.json')),
    'build/proto/grpc/reflection/v1/reflection.proto',
  );
  const client = loadClient(reflectionProto, 'grpc.reflection.v1.ServerReflection', h.socketPath) as any;
  t.teardown(() => client.close());
  const ask = (request: Record<string, unknown>) =>
    new Promise<any>((resolve, reject) => {
      const stream = client.ServerReflectionInfo();
      stream.on('data', (reply: unknown) => {
        resolve(reply);
        stream.end();
      });
      stream.on('error', reject);
      stream.write(request);
    });
  const listed = await ask({ list_services: '' });
  const names = listed.list_services_response.service.map((s: { name: string }) => s.name);
  t.true(names.includes('nydus.daemon.v1.Daemon'), names.join(','));
  const described = await ask({ file_containing_symbol: 'nydus.daemon.v1.Daemon' });
  const files: Buffer[] = described.file_descriptor_response.file_descriptor_proto;
  t.true(files.length >= 1);
  t.true(Buffer.concat(files).includes('ExportInfo'));
});
