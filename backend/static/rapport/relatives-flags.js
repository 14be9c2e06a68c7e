// The supporters' live count of flagged items (docs/relatives.md, "Live notice"). Every 15 seconds the page
// asks /relatives/flags/waiting/ how many flagged items wait; when the number grows the notice says so
// (aria-live, so a screen reader hears it). Each ask checks the viewer's access afresh on the server, so a
// supporter who is stopped, or a relative who leaves, is told at the next ask and the page stops asking.
const notice = document.querySelector("[data-relatives-flags]");
const EVERY_MS = 15000;

function show(count, grew) {
  const link = document.createElement("a");
  link.href = notice.dataset.flagsHref;
  link.textContent = `${grew ? "New: " : ""}${count} flagged item${count === 1 ? "" : "s"} to look at`;
  notice.replaceChildren(link);
  notice.classList.toggle("notice-error", grew);
}

async function ask() {
  let response;
  try {
    response = await fetch(notice.dataset.relativesFlags, { credentials: "same-origin", headers: { Accept: "application/json" } });
  } catch {
    return true; // offline for a moment: ask again next time
  }
  if (response.status === 403) {
    const body = await response.json().catch(() => ({}));
    notice.textContent = body.detail || "You can no longer see flagged items.";
    notice.classList.add("notice-error");
    return false;
  }
  if (!response.ok) return true;
  const { open } = await response.json();
  const before = notice.dataset.open === "" ? null : Number(notice.dataset.open);
  if (open !== before) {
    show(open, before !== null && open > before);
    notice.dataset.open = String(open);
  }
  return true;
}

if (notice) {
  ask(); // the count as the page opens, then every EVERY_MS
  const timer = setInterval(async () => {
    if (!(await ask())) clearInterval(timer);
  }, EVERY_MS);
}
