// Bundles the chat UI for roomcast-chat to serve: node build.mjs OUTDIR [--sourcemap]
// Writes OUTDIR/app.js (src/app.js + phoenix, one minified IIFE), OUTDIR/index.html and
// OUTDIR/style.css. Everything is bundled: the page fetches nothing from elsewhere at run time.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outdir = args.find((a) => !a.startsWith('--'));
if (!outdir) {
  console.error('usage: node build.mjs OUTDIR [--sourcemap]');
  process.exit(2);
}

try {
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: [path.join(here, 'src/app.js')],
    outfile: path.join(outdir, 'app.js'),
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2020',
    // inline, as the server serves only the three files
    sourcemap: args.includes('--sourcemap') ? 'inline' : false,
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'style.css']) {
    await copyFile(path.join(here, 'src', file), path.join(outdir, file));
  }
} catch (e) {
  // esbuild has already printed its diagnostics; this adds the rest (e.g. a missing dependency)
  console.error(`build.mjs: ${e.message}`);
  process.exit(1);
}
