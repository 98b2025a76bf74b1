// Bundles a demo's page for its server to serve: node build-web.mjs SRC_DIR OUTDIR [--sourcemap]
// Writes OUTDIR/app.js (SRC_DIR/app.js + the npm phoenix client, one minified IIFE) and copies
// every other file of SRC_DIR (index.html, style.css, ...). Everything is bundled: the page
// fetches nothing from elsewhere at run time. The npm packages live next to this file
// (apps/package.json), shared by every demo (apps/chat/web/src, apps/arena/web/src).
import { build } from 'esbuild';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';

const args = process.argv.slice(2);
const [srcdir, outdir] = args.filter((a) => !a.startsWith('--'));
if (!srcdir || !outdir) {
  console.error('usage: node build-web.mjs SRC_DIR OUTDIR [--sourcemap]');
  process.exit(2);
}

try {
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: [path.join(srcdir, 'app.js')],
    outfile: path.join(outdir, 'app.js'),
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2020',
    // inline, as the servers serve only the files of OUTDIR
    sourcemap: args.includes('--sourcemap') ? 'inline' : false,
    logLevel: 'warning',
  });
  for (const file of await readdir(srcdir)) {
    if (!file.endsWith('.js')) await copyFile(path.join(srcdir, file), path.join(outdir, file));
  }
} catch (e) {
  // esbuild has already printed its diagnostics; this adds the rest (e.g. a missing dependency)
  console.error(`build-web.mjs: ${e.message}`);
  process.exit(1);
}
