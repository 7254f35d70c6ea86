// Progressive helpers of the pages; every page works without them.
"use strict";

(function () {
  // Copy buttons: <button data-copy="element-id">
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        button.textContent = "Copied";
      } catch {
        button.textContent = "Select and copy it by hand";
      }
    });
  }

  // The JWT inspector's live decode: the header and claims as you paste, decoded in the
  // page only (nothing is sent until you ask for the verdict).
  const pasted = document.getElementById("token");
  const live = document.getElementById("live-decode");
  if (pasted && live) {
    const decode = (part) => {
      const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
      const text = atob(b64 + "===".slice((b64.length + 3) % 4));
      return JSON.stringify(JSON.parse(decodeURIComponent(escape(text))), null, 2);
    };
    const update = () => {
      const parts = pasted.value.trim().split(".");
      if (parts.length !== 3) {
        live.hidden = true;
        return;
      }
      try {
        live.textContent = "header: " + decode(parts[0]) + "\nclaims: " + decode(parts[1]);
        live.hidden = false;
      } catch {
        live.hidden = true;
      }
    };
    pasted.addEventListener("input", update);
    update();
  }
})();
