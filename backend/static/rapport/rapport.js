// Rapport's small page helpers. No build step; loaded as a module on every page.

// When a form comes back with a problem, move focus to the summary so screen readers announce it.
const summary = document.querySelector(".error-summary");
if (summary) summary.focus();

// Copy buttons (join links and their message): shown only where the browser can copy; the text stays
// on the page to select by hand either way.
const copyStatus = document.querySelector("[data-copy-status]");
for (const button of document.querySelectorAll("button[data-copy]")) {
  if (!navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      if (copyStatus) copyStatus.textContent = "Copied. Paste it into your message.";
    } catch {
      if (copyStatus) copyStatus.textContent = "Could not copy: select the text and copy it yourself.";
    }
  });
}

// Print buttons (the how-to-join leaflet).
for (const button of document.querySelectorAll("button[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
