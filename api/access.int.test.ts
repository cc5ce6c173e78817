import { accessSuite } from './access.suite.ts';
import { requireService } from '../test-support/services.ts';
import { openRealDeps, realServicesEnv } from '../test-support/real-deps.ts';
import { buildApp } from './index.ts';
import { ROLES } from '../auth/index.ts';
import { asUser, userHeaders, type TestApp } from './test-kit.ts';

const enabled = requireService('databaseUrl') && requireService('redisUrl') && requireService('s3');

accessSuite('PostgreSQL, RGW, Redis', async (opts): Promise<TestApp> => {
  const o = await openRealDeps(realServicesEnv());
  const app = await buildApp(o.deps, { logRequests: false, ...opts });
  const auth = await userHeaders(o.deps.db, ROLES, 'tester');
  return {
    app, api: asUser(app, auth), auth, deps: o.deps as TestApp['deps'], dir: '',
    async close() {
      await app.close();
      await o.cleanup();
    },
  };
}, enabled);
