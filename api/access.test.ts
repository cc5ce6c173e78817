import { accessSuite } from './access.suite.ts';
import { openTestApp } from './test-kit.ts';

accessSuite('embedded PGlite', (opts) => openTestApp({}, opts));
