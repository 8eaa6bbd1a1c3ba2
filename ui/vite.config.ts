import { defineConfig, type Plugin } from "vite";

// index.html carries the production Content-Security-Policy in a <meta> tag.
// Vite's dev server injects CSS through <style> elements (HMR), which
// `style-src 'self'` forbids, so the meta tag is stripped while serving in
// dev mode only. `vite build` output keeps it untouched.
function stripCspInDev(): Plugin {
  return {
    name: "trove-strip-csp-in-dev",
    apply: "serve",
    transformIndexHtml(html) {
      return html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>\s*/, "");
    },
  };
}

export default defineConfig({
  plugins: [stripCspInDev()],
  // Tauri serves the built files itself; keep paths relative so they also
  // work from any static server.
  base: "./",
  clearScreen: false,
  server: { host: "127.0.0.1", port: 5173, strictPort: true },
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    // keep assets as files (no data: inlining of scripts)
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
