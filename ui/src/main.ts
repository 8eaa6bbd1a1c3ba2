import { selectBackend } from "./backend";
import { startApp } from "./ui/app";

async function main() {
  const root = document.getElementById("app")!;
  const backend = await selectBackend();
  await startApp(root, backend);
}

main().catch((e) => {
  console.error("trove: failed to start", e);
  const root = document.getElementById("app");
  if (root) {
    const p = document.createElement("p");
    p.className = "fatal";
    p.textContent = `Trove could not start: ${e instanceof Error ? e.message : String(e)}`;
    root.replaceChildren(p);
  }
});
