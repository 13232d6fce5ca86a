/**
 * Loads proto/nydus/daemon/v1/daemon.proto at run time (no generated code) with the options every user of the API
 * shares: field names as written in the proto (snake_case), enums as their names, 64-bit integers as numbers,
 * defaults filled in. Both the server and the clients (nydusctl, tests, supervisor) load it through here.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as path from 'path';
import { projectRoot } from '../service/project-root';

export const DAEMON_SERVICE_NAME = 'nydus.daemon.v1.Daemon';

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
};

export function daemonProtoPath(): string {
  return path.join(projectRoot(), 'proto', 'nydus', 'daemon', 'v1', 'daemon.proto');
}

export interface DaemonProto {
  packageDefinition: protoLoader.PackageDefinition;
  service: grpc.ServiceDefinition;
  Client: grpc.ServiceClientConstructor;
}

let cached: DaemonProto | undefined;

export function loadDaemonProto(): DaemonProto {
  if (cached) return cached;
  const packageDefinition = protoLoader.loadSync(daemonProtoPath(), LOADER_OPTIONS);
  const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as {
    nydus: { daemon: { v1: { Daemon: grpc.ServiceClientConstructor } } };
  };
  const Client = loaded.nydus.daemon.v1.Daemon;
  cached = { packageDefinition, service: Client.service, Client };
  return cached;
}
