// Bundles the console (src/main.tsx and the CSS it imports) with esbuild into
// content-hashed files and writes index.html naming them: no inline script or
// style, nothing from elsewhere. Usage: node build.mjs --out DIR
// (the CMake build runs it after `tsc --noEmit`; web/README.md).
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const at = process.argv.indexOf('--out');
if (at < 0 || !process.argv[at + 1]) {
  console.error('usage: node build.mjs --out DIR');
  process.exit(2);
}
const out = path.resolve(process.argv[at + 1]);

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.error('web/node_modules is missing: run scripts/install-deps.sh (npm ci in web/)');
  process.exit(1);
}

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: { app: 'src/main.tsx' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  outdir: out,
  metafile: true,
  legalComments: 'eof',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((file) => path.basename(file));
const script = outputs.find((f) => f.endsWith('.js'));
const style = outputs.find((f) => f.endsWith('.css'));
if (!script || !style) {
  console.error(`build.mjs: expected one .js and one .css, got ${outputs.join(', ')}`);
  process.exit(1);
}
const index = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Cordon</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/assets/${style}">
<script type="module" src="/console/assets/${script}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The Cordon console needs JavaScript.</noscript>
</body>
</html>
`;
await writeFile(path.join(out, 'index.html'), index);
console.log(`console: ${(await readdir(out)).join(', ')}`);
