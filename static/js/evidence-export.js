/* Bulk evidence export with progress: the zip is streamed by the server one order at a time;
   counting the zip's local file headers as they arrive tells how many files are done. Without
   fetch streams the link simply downloads the zip. */
(function () {
  "use strict";
  function isHeader(buf, i) { return buf[i] === 0x50 && buf[i + 1] === 0x4b && buf[i + 2] === 3 && buf[i + 3] === 4; }
  document.addEventListener("click", async function (event) {
    var link = event.target.closest && event.target.closest("a[data-evidence-zip]");
    if (!link || !window.fetch || !window.ReadableStream) { return; }
    event.preventDefault();
    var total = Number(link.dataset.files);
    var bar = document.getElementById("evidence-progress");
    var label = document.getElementById("evidence-progress-label");
    bar.hidden = false; bar.max = total; bar.value = 0;
    link.setAttribute("aria-disabled", "true");
    var response = await fetch(link.href, { credentials: "same-origin" });
    if (!response.ok || !response.body) { label.textContent = link.dataset.failed; return; }
    var reader = response.body.getReader(), chunks = [], seen = 0, tail = new Uint8Array(0);
    for (;;) {
      var step = await reader.read();
      if (step.done) { break; }
      chunks.push(step.value);
      var buf = new Uint8Array(tail.length + step.value.length);
      buf.set(tail); buf.set(step.value, tail.length);
      for (var i = 0; i + 3 < buf.length; i++) { if (isHeader(buf, i)) { seen++; } }
      tail = buf.slice(Math.max(0, buf.length - 3));
      bar.value = Math.min(seen, total);
      label.textContent = Math.min(seen, total) + " / " + total;
    }
    var a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob(chunks, { type: "application/zip" }));
    a.download = link.dataset.filename;
    document.body.appendChild(a); a.click(); a.remove();
    bar.value = total;
    label.textContent = link.dataset.done;
    link.removeAttribute("aria-disabled");
  });
})();
