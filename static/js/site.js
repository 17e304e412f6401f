/* Behaviour of the portal's pages, attached here rather than in inline handlers so the
   Content-Security-Policy can forbid inline script. Delegated from the document, so content
   swapped in by htmx works without re-binding. */
(function () {
  "use strict";

  // <select data-autosubmit>: choosing an option submits its form (language, filters).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("select[data-autosubmit]") && target.form) {
      if (typeof target.form.requestSubmit === "function") {
        target.form.requestSubmit();
      } else {
        target.form.submit();
      }
    }
  });

  // <input type="checkbox" data-check-all="NAME">: (un)checks every checkbox named NAME in its form.
  document.addEventListener("change", function (event) {
    var target = event.target;
    var name = target.getAttribute && target.getAttribute("data-check-all");
    if (!name) {
      return;
    }
    var scope = target.form || document;
    scope.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (box) {
      box.checked = target.checked;
    });
  });

  // <button data-print-labels="URL" data-size="76x130">: the labels of the orders checked in its
  // form (issued waybills; the server keeps only the merchant's own) open as one PDF in a new tab.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print-labels]");
    if (!button || !button.form) {
      return;
    }
    event.preventDefault();
    var params = new URLSearchParams();
    button.form.querySelectorAll('input[type="checkbox"][name="orders"]:checked').forEach(function (box) {
      params.append("orders", box.value);
    });
    var none = button.form.querySelector("#print-none-selected");
    if (none) {
      none.hidden = params.has("orders");
    }
    if (!params.has("orders")) {
      return;
    }
    params.append("size", button.getAttribute("data-size") || "76x130");
    window.open(button.getAttribute("data-print-labels") + "?" + params.toString(), "_blank", "noopener");
  });

  // <button data-print>: print the page (the evidence package).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) {
      event.preventDefault();
      window.print();
    }
  });
})();
