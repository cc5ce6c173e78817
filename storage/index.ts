import type { ServiceConfig } from '../config/env.ts';
import type { Logger } from '../common/logger.ts';
import { AppError } from '../common/errors.ts';
import type { ObjectStore } from './object-store.ts';

export {
  contentKey,
  type ByteRange,
  type LockMode,
  type ObjectHead,
  type ObjectStore,
  type PutOptions,
  type PutResult,
  type StoreCapabilities,
} from './object-store.ts';
// Types only: openObjectStore loads the adapter it opens, so an embedded process never loads the AWS SDK.
export type { S3ObjectStore, S3ObjectStoreOptions, S3StoreConfig } from './s3.object-store.ts';
export type { FsObjectStore, FsStoreConfig } from './fs.object-store.ts';
export { readObject } from './read-object.ts';

/** Builds the object store the configuration names and initialises it (bucket or folder created when missing). */
export async function openObjectStore(config: ServiceConfig['store'], log: Logger): Promise<ObjectStore> {
  const store: ObjectStore = config.kind === 's3'
    ? new (await import('./s3.object-store.ts')).S3ObjectStore(config, log.child({ store: 's3' }))
    : new (await import('./fs.object-store.ts')).FsObjectStore(config, log.child({ store: 'fs' }));
  try {
    const caps = await store.init();
    if (config.kind === 's3' && config.objectLock && !caps.objectLock) {
      // An archive that was asked for Object Lock and would run without it keeps nothing immutable
      // while claiming to: refuse to start rather than archive into such a bucket.
      throw new AppError(
        'ERR_CONFIG',
        `S3 bucket ${config.bucket} exists without Object Lock, and S3_OBJECT_LOCK=true: Object Lock can only be switched on when a bucket is created. ` +
          'Give S3_BUCKET a new bucket name (Arkiva creates it with Object Lock), or set S3_OBJECT_LOCK=false to archive without it knowingly',
        { bucket: config.bucket },
      );
    }
    log.debug({ kind: store.kind, ...caps }, 'object store ready');
    return store;
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
}
export type { ObjectVersion } from './object-store.ts';
