/* Lixiao's page behaviours, declared in templates by data- attributes and wired here once.
 *
 * The Content-Security-Policy allows no inline script and no onclick=… handler, so pages name a
 * behaviour (data-autosubmit, data-confirm, data-print, data-check-all, data-id-post) and this
 * file, loaded by every page, listens on the document: content that htmx swaps in later works
 * the same without being wired again. Every page still works without it (plain forms, links).
 */
(function () {
  "use strict";

  // Loaded in <head> without defer, so this class is set before the first paint: CSS hides
  // buttons that only a page without script needs (see [data-autosubmit-button]).
  document.documentElement.classList.add("js");

  // <select data-autosubmit>: choosing with the mouse (or touch) submits the form at once. A
  // keyboard user walking a closed select with the arrow keys changes its value at every press;
  // sending them away at the first one is what WCAG 3.2.2 forbids. So after keys the choice is
  // sent with Enter, and the form's own button (hidden while script runs) appears for it.
  const NAVIGATION_KEYS = new Set([
    "ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown",
  ]);

  document.addEventListener("keydown", function (event) {
    const select = event.target.closest && event.target.closest("select[data-autosubmit]");
    if (!select) return;
    if (event.key === "Enter") {
      event.preventDefault();
      select.form.requestSubmit();
    } else if ((NAVIGATION_KEYS.has(event.key) && !event.altKey) || event.key.length === 1) {
      select.dataset.keyed = "1";
    }
  });

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (target.matches("select[data-autosubmit]")) {
      if (target.dataset.keyed) {
        const button = target.form.querySelector("[data-autosubmit-button]");
        if (button) button.classList.add("is-shown");
      } else {
        target.form.requestSubmit();
      }
    } else if (target.matches("input[data-check-all]")) {
      // The "select this page" box of a result list ticks or clears every row's box.
      document.querySelectorAll(target.dataset.checkAll).forEach(function (box) {
        box.checked = target.checked;
      });
    }
  });

  // A table wider than the screen scrolls inside its box (.table-responsive). A keyboard user
  // scrolls it with the arrow keys only while focus is inside: a box with no link or button in
  // it is made focusable itself, and only while it really scrolls (no needless tab stop).
  function focusableScrollers() {
    document.querySelectorAll(".table-responsive").forEach(function (box) {
      const scrolls = box.scrollWidth > box.clientWidth;
      const reachable = box.querySelector("a[href], button, input, select, textarea, [tabindex]");
      if (scrolls && !reachable) {
        box.tabIndex = 0;
        box.dataset.scrollFocus = "1";
      } else if (!scrolls && box.dataset.scrollFocus) {
        box.removeAttribute("tabindex");
        delete box.dataset.scrollFocus;
      }
    });
  }
  document.addEventListener("DOMContentLoaded", focusableScrollers);
  document.addEventListener("htmx:afterSettle", focusableScrollers);
  window.addEventListener("resize", focusableScrollers);

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) window.print();
  });

  document.addEventListener("submit", function (event) {
    const form = event.target;
    // <form data-confirm="question">: nothing is sent unless the person says yes. (An htmx
    // form asks with hx-confirm instead: htmx sends its request from its own listener.)
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    // <form data-id-post data-csrf="…">: a search for a full ID number (18 characters) goes by
    // POST, so the number never appears in a URL, the browser history or an access log.
    if (form.hasAttribute("data-id-post") && /^\d{17}[\dXx]$/.test(form.q.value.trim())) {
      form.method = "post";
      const token = document.createElement("input");
      token.type = "hidden";
      token.name = "csrfmiddlewaretoken";
      token.value = form.dataset.csrf;
      form.appendChild(token);
    }
  }, true);
})();
