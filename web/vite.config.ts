import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The web interface: built into web/dist, served by the API at /ui/. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // One small bundle: no inline assets (the CSP allows only same-origin files).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
