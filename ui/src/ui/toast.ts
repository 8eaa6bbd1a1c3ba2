import { button, h } from "./dom";

export interface ToastOptions {
  kind?: "info" | "success" | "error";
  action?: { label: string; run: () => void };
  /** ms; 0 = until dismissed */
  timeout?: number;
  testid?: string;
  /** called when the toast goes away without its action being used */
  onExpire?: () => void;
}

export interface Toaster {
  el: HTMLElement;
  show(message: string, opts?: ToastOptions): () => void;
}

/** room kept free above the stack (px); the stack itself sits 16 px above the bottom */
const TOP_GAP = 8;

/**
 * Toasts live in two live regions: polite (role=status) for info/success,
 * assertive (role=alert) for errors. They stack in one column (CSS `.toasts`), so they
 * never overlap; when the column would grow past the top of the window, the oldest toasts
 * make way (plain info first, then errors, then ones with an action, which count as
 * expired), never the newest.
 */
export function createToaster(): Toaster {
  const polite = h("div", {
    class: "toast-stack",
    attrs: { role: "status", "aria-live": "polite" },
    data: { testid: "toasts" },
  });
  const assertive = h("div", { class: "toast-stack", attrs: { role: "alert", "aria-live": "assertive" } });
  const el = h("div", { class: "toasts" }, polite, assertive);
  interface Live {
    kind: NonNullable<ToastOptions["kind"]>;
    action: boolean;
    close: (expired: boolean, now?: boolean) => void;
  }
  /** on screen, oldest first */
  const live: Live[] = [];

  function fit() {
    // a minimised or tiny window says nothing about the room there will be
    if (!el.isConnected || window.innerHeight < 200) return;
    while (live.length > 1 && el.getBoundingClientRect().top < TOP_GAP) {
      const older = live.slice(0, -1);
      const victim = older.find((x) => x.kind !== "error" && !x.action) ?? older.find((x) => !x.action) ?? older[0]!;
      victim.close(true, true);
    }
  }
  window.addEventListener("resize", fit);

  function show(message: string, opts: ToastOptions = {}): () => void {
    const kind = opts.kind ?? "info";
    const timeout = opts.timeout ?? (kind === "error" ? 10_000 : opts.action ? 7_000 : 4_000);
    let done = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    /** `now`: without the fade (making room, the layout must change at once) */
    const close = (expired: boolean, now = false) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      const i = live.indexOf(entry);
      if (i >= 0) live.splice(i, 1);
      if (now) t.remove();
      else {
        t.classList.add("leaving");
        setTimeout(() => t.remove(), 160);
      }
      if (expired) opts.onExpire?.();
    };
    const entry: Live = { kind, action: opts.action !== undefined, close };
    const t = h(
      "div",
      { class: `toast toast-${kind}`, data: { testid: opts.testid ?? "toast" } },
      h("span", { class: "toast-msg", text: message }),
    );
    if (opts.action) {
      const a = opts.action;
      t.append(
        button(a.label, {
          class: "btn btn-link",
          testid: `${opts.testid ?? "toast"}-action`,
          onClick: () => {
            a.run();
            close(false);
          },
        }),
      );
    }
    t.append(
      button("Dismiss", { icon: "close", iconOnly: true, class: "btn btn-icon btn-ghost", onClick: () => close(true) }),
    );
    const arm = () => {
      if (timeout > 0 && !done) timer = setTimeout(() => close(true), timeout);
    };
    // pause while the pointer or focus is on it
    t.addEventListener("pointerenter", () => timer && clearTimeout(timer));
    t.addEventListener("pointerleave", arm);
    t.addEventListener("focusin", () => timer && clearTimeout(timer));
    (kind === "error" ? assertive : polite).append(t);
    live.push(entry);
    fit();
    arm();
    return () => close(true);
  }
  return { el, show };
}
