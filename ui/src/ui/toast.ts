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

/**
 * Toasts live in two live regions: polite (role=status) for info/success,
 * assertive (role=alert) for errors.
 */
export function createToaster(): Toaster {
  const polite = h("div", {
    class: "toast-stack",
    attrs: { role: "status", "aria-live": "polite" },
    data: { testid: "toasts" },
  });
  const assertive = h("div", { class: "toast-stack", attrs: { role: "alert", "aria-live": "assertive" } });
  const el = h("div", { class: "toasts" }, polite, assertive);

  function show(message: string, opts: ToastOptions = {}): () => void {
    const kind = opts.kind ?? "info";
    const timeout = opts.timeout ?? (kind === "error" ? 10_000 : opts.action ? 7_000 : 4_000);
    let done = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const close = (expired: boolean) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      t.classList.add("leaving");
      setTimeout(() => t.remove(), 160);
      if (expired) opts.onExpire?.();
    };
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
    arm();
    return () => close(true);
  }
  return { el, show };
}
