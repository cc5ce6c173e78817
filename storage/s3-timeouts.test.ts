import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../common/index.ts';
import { S3ObjectStore, type S3StoreConfig } from './s3.object-store.ts';

/**
 * An S3 endpoint that hangs as RGW does when its placement groups are stuck: it accepts the
 * connection and then says nothing (or sends the response head and then nothing more).
 */
async function hangingEndpoint(mode: 'silent' | 'stalled-body'): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let requests = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('data', () => {
      requests++;
      if (mode === 'stalled-body') {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n0123456789');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function config(endpoint: string): S3StoreConfig {
  return {
    kind: 's3', endpoint, bucket: 'arkiva-hang', accessKeyId: 'k', secretAccessKey: 's', region: 'us-east-1',
    forcePathStyle: true, objectLock: false, partSizeBytes: 5 * 1024 * 1024,
    timeouts: { requestMs: 400, connectMs: 400, maxAttempts: 2 },
  };
}

describe('S3 calls are bounded in time', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  it('a DELETE to an endpoint that never answers fails with ERR_STORAGE after its retries, instead of hanging', async () => {
    const ep = await hangingEndpoint('silent');
    closers.push(ep.close);
    const store = new S3ObjectStore(config(ep.url), createLogger('silent'));
    closers.push(() => store.close());
    const started = Date.now();
    const err = await store.delete('masters/ab/cd', { versionId: 'v1' }).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_STORAGE', details: { operation: expect.stringMatching(/delete/i) } });
    expect(Date.now() - started).toBeLessThan(10_000);
    // one attempt and one retry, each cut off by the request timeout
    expect(ep.requests()).toBe(2);
  });

  it('a GET whose body stops arriving ends with an error rather than a stream that never ends', async () => {
    const ep = await hangingEndpoint('stalled-body');
    closers.push(ep.close);
    const store = new S3ObjectStore(config(ep.url), createLogger('silent'));
    closers.push(() => store.close());
    const outcome = await store.get('masters/ab/cd').then(
      async (stream) => {
        for await (const chunk of stream) void chunk;
        return 'ended';
      },
      (e: unknown) => e,
    ).catch((e: unknown) => e);
    expect(outcome).not.toBe('ended');
    expect(outcome).toBeInstanceOf(Error);
  });
});
