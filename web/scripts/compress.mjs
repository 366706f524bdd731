// After `vite build`: a gzipped copy (`.gz`) of every text file of dist/, made once at build time with Node's zlib, so
// that `portal serve` sends browsers that accept gzip a third of the bytes without compressing on each request.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync, constants } from 'node:zlib';

const TEXT = /\.(html|js|mjs|css|svg|json|webmanifest|txt)$/;

async function* files(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

for await (const path of files('dist')) {
  if (!TEXT.test(path)) continue;
  const body = await readFile(path);
  const gzipped = gzipSync(body, { level: constants.Z_BEST_COMPRESSION });
  // Only where it pays: a tiny file can grow when gzipped.
  if (gzipped.length < body.length) await writeFile(`${path}.gz`, gzipped);
}
