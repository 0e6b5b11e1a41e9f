// Builds ../plotly-partial.min.js with plotly.js's own esbuild settings (its esbuild-config.js),
// except that CSS imports are dropped: the only one is maplibre-gl's, for map traces.
//   cd reports/vendor/plotly-build && npm ci --ignore-scripts && npm run build
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

const version = JSON.parse(readFileSync('node_modules/plotly.js/package.json', 'utf8')).version;
const result = await build({
    entryPoints: ['entry.js'],
    write: false,
    outfile: 'plotly-partial.min.js',
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    loader: { '.css': 'empty' },
    alias: { regl: '@plotly/regl', stream: 'stream-browserify' },
    define: { global: 'window', 'define.amd': 'false' },
    target: 'es2016',
    logLevel: 'warning',
});
const header = `/**
* plotly.js (partial: scatter, bar, heatmap - minified) v${version}
* Copyright 2012-2026, Plotly, Inc.
* All rights reserved.
* Licensed under the MIT license
* Built from the npm package plotly.js@${version} by reports/vendor/plotly-build (entry.js, build.mjs).
*/
`;
const js = header + result.outputFiles[0].text;
writeFileSync('../plotly-partial.min.js', js);
console.log(`plotly-partial.min.js: plotly.js ${version}, ${Buffer.byteLength(js)} bytes, sha256 ${createHash('sha256').update(js).digest('hex')}`);
