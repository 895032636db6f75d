// Builds the situation-room page into ../dist, served by hwarang.api under /static (the page at /).
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const OUT_DIR = fileURLToPath(new URL('../dist', import.meta.url));

/** Puts HWARANG_WEB_TILES (an optional same-origin XYZ raster tile URL) into the page's <meta>. */
function tilesMeta(): Plugin {
  const tiles = process.env.HWARANG_WEB_TILES ?? '';
  if (/^(https?:)?\/\//i.test(tiles)) {
    throw new Error(
      `HWARANG_WEB_TILES must be a path on the hub's own origin (e.g. /tiles/{z}/{x}/{y}.png), got ${tiles}`,
    );
  }
  const escaped = tiles.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return {
    name: 'hwarang-tiles-meta',
    transformIndexHtml: (html) => html.replace('__HWARANG_TILES__', escaped),
  };
}

export default defineConfig({
  base: '/static/',
  plugins: [tilesMeta()],
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 1600,
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    rollupOptions: {
      output: {
        // Stable names: the hub serves them with ETags; tests and docs can name them.
        entryFileNames: 'app.js',
        chunkFileNames: '[name].js',
        assetFileNames: (info) => (info.names?.[0]?.endsWith('.css') ? 'style.css' : '[name][extname]'),
        manualChunks: (id) => (id.includes('node_modules/maplibre-gl') ? 'maplibre-gl' : undefined),
      },
    },
  },
});
