// Rapport's small page helpers. No build step; loaded as a module on every page.

// When a form comes back with a problem, move focus to the summary so screen readers announce it.
const summary = document.querySelector(".error-summary");
if (summary) summary.focus();
