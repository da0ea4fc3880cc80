import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The app imports the SDK from source, so `vite build` needs no separate SDK build.
// `npm run dev` proxies the API and WebSocket to a parley server on :8080.
export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: { '@parley/client': fileURLToPath(new URL('../sdk/src/index.ts', import.meta.url)) },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: true,
  },
  server: {
    proxy: {
      '/v1': { target: 'http://127.0.0.1:8080', ws: true },
      '/docs/openapi.yaml': { target: 'http://127.0.0.1:8080' },
    },
  },
});
