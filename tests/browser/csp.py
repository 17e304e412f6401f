"""Content-Security-Policy violations reported by the browser, collected across navigations.

`watch(context)` makes every page of a Playwright context report each `securitypolicyviolation`
event and every console error about the policy into the returned list; a test (or its
fixture) asserts the list stays empty: the pages render and work under the strict policy.
"""
from __future__ import annotations

REPORTER = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__yzCspViolation([e.violatedDirective, e.blockedURI || "inline", e.sourceFile + ":" + e.lineNumber,
                           document.location.pathname].join(" "));
});
"""


def watch(context) -> list[str]:
    violations: list[str] = []
    context.expose_function("__yzCspViolation", lambda text: violations.append(text))
    context.add_init_script(REPORTER)

    def on_console(message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            violations.append(message.text)

    context.on("console", on_console)
    return violations
