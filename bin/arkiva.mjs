#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so `npx arkiva` works right after `npm ci`, no build step.
import { register } from 'tsx/esm/api';

// The AWS SDK warns on every process start that its releases from 2027 need Node 22. Arkiva runs
// on Node 20 with the SDK version its lock file pins; the README says so once, the CLI does not.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
