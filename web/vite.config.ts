import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// The app is served by `portal serve` (embedded in the binary); `npm run dev` proxies the API to a local server.
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', assetsDir: 'assets', sourcemap: false },
  server: {
    proxy: {
      '/graphql': { target: 'http://127.0.0.1:8080', ws: true },
    },
  },
  test: { environment: 'node', include: ['src/**/*.test.ts', 'src/**/*.test.tsx'] },
});
