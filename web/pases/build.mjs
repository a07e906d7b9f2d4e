// Bundles main.mjs into ONE minified file, src/web/assets/pases.js
// (IIFE, ES2020). Run through build.sh, which installs the pinned
// dependencies first. The same inputs give the same bytes.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.resolve(HERE, '../../src/web/assets/pases.js');

// voprf-ts's package.json lists "default" (its CommonJS build) before
// "import" in its export map, so bundlers and Node both take the CommonJS
// build, which cannot be tree-shaken. Take its ES module build instead.
const VOPRF_ESM = path.join(HERE, 'node_modules/@cloudflare/voprf-ts/lib/esm/src');
const voprfAsEsm = {
  name: 'voprf-esm',
  setup(build) {
    build.onResolve({ filter: /^@cloudflare\/voprf-ts$/ }, () => ({ path: path.join(VOPRF_ESM, 'index.js') }));
    build.onResolve({ filter: /^@cloudflare\/voprf-ts\/crypto-noble$/ }, () => ({
      path: path.join(VOPRF_ESM, 'cryptoNoble.js'),
    }));
  },
};

// voprf-ts's default backend is sjcl (slow, and large); main.mjs switches
// to noble at run time (noble.mjs). Making noble the library default here
// as well means sjcl is never imported, so it stays out of the bundle.
const nobleByDefault = {
  name: 'voprf-noble-by-default',
  setup(build) {
    build.onLoad({ filter: /[\\/]@cloudflare[\\/]voprf-ts[\\/]lib[\\/]esm[\\/]src[\\/]buildSettings\.js$/ }, (args) => ({
      contents:
        "import { CryptoNoble } from './cryptoNoble.js';\n" +
        'export const CRYPTO_PROVIDER_ARG_REQUIRED = false;\n' +
        'export const DEFAULT_CRYPTO_PROVIDER = CryptoNoble;\n',
      loader: 'js',
      resolveDir: path.dirname(args.path),
    }));
  },
};

const result = await esbuild.build({
  absWorkingDir: HERE,
  entryPoints: ['main.mjs'],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  charset: 'ascii',
  legalComments: 'eof',
  sourcemap: false,
  metafile: true,
  plugins: [voprfAsEsm, nobleByDefault],
  outfile: OUT,
  logLevel: 'warning',
});

// What went in, largest first (to see what to trim).
const inputs = Object.entries(result.metafile.outputs[path.relative(HERE, OUT)].inputs)
  .map(([file, { bytesInOutput }]) => [bytesInOutput, file])
  .sort((a, b) => b[0] - a[0]);
const total = inputs.reduce((n, [b]) => n + b, 0);
if (process.env.PASES_BUILD_VERBOSE) for (const [b, f] of inputs) console.log(`${String(b).padStart(8)}  ${f}`);
const bad = inputs.filter(([, f]) => /sjcl|blindrsa|asn1/.test(f)).map(([, f]) => f);
if (bad.length) {
  console.error(`pases.js must not contain these (type 1 and noble only): ${bad.join(', ')}`);
  process.exit(1);
}
console.log(`${path.relative(process.cwd(), OUT)}: ${inputs.length} modules, ${total} bytes of code`);
