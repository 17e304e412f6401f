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

  // <button data-print>: print the page (the evidence package).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) {
      event.preventDefault();
      window.print();
    }
  });
})();
