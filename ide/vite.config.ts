/**
 * Builds the self-hosted GraphiQL into ide/dist (`npm run build:ide`, also run by `npm ci` through postinstall).
 * Relative asset paths (base './'), so the page works under /graphiql/ and behind a path prefix. No source maps.
 * The build fails if anything in the output would make the browser load from another origin: the IDE must work
 * on a closed network.
 */
import { defineConfig, type Plugin } from 'vite';

/** Places where a URL in the output would be fetched, rather than merely shown or compared. */
const REMOTE_LOADS: { what: string; re: RegExp }[] = [
  { what: 'CSS url() or @import of a remote file', re: /(?:url\(\s*|@import\s+)["']?(?:https?:)?\/\/(?!www\.w3\.org\/)/i },
  { what: 'a remote module import', re: /(?:\bimport\s*\(\s*|\bfrom\s*|\bimport\s*)["'`](?:https?:)?\/\//i },
  { what: 'importScripts of a remote script', re: /importScripts\(\s*["'`](?:https?:)?\/\//i },
  { what: 'a remote source map', re: /sourceMappingURL=(?:https?:)?\/\//i },
  { what: 'a remote src/href in HTML', re: /<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i },
  { what: 'a CDN host', re: /\b(?:esm\.sh|unpkg\.com|cdn\.jsdelivr\.net|cdnjs\.cloudflare\.com|fonts\.googleapis\.com|fonts\.gstatic\.com|embed\.apollographql\.com|skypack\.dev)\b/i },
];

function noRemoteLoads(): Plugin {
  return {
    name: 'ide-no-remote-loads',
    apply: 'build',
    generateBundle(_options, bundle) {
      const problems: string[] = [];
      for (const [file, out] of Object.entries(bundle)) {
        const text = out.type === 'chunk' ? out.code : typeof out.source === 'string' ? out.source : new TextDecoder('latin1').decode(out.source);
        for (const { what, re } of REMOTE_LOADS) {
          const m = re.exec(text);
          if (m) problems.push(`${file}: ${what}: …${text.slice(Math.max(0, m.index - 40), m.index + 80)}…`);
        }
      }
      if (problems.length) this.error(`the IDE bundle would load from another origin:\n${problems.join('\n')}`);
    },
  };
}

export default defineConfig({
  // `vite build ide`: the root is this folder; outDir is relative to it.
  base: './',
  logLevel: 'warn',
  publicDir: false,
  plugins: [noRemoteLoads()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
    // Monaco is one large chunk; it is served once and cached as immutable.
    chunkSizeWarningLimit: 6000,
    // Skips gzipping every file to print sizes: a quicker install.
    reportCompressedSize: false,
    // Fonts and small files stay files or data: URIs (the CSP allows both); nothing is fetched from elsewhere.
    assetsInlineLimit: 4096,
    rolldownOptions: {
      // React libraries mark their modules "use client"/"use no memo"; meaningless in a plain browser bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
});
