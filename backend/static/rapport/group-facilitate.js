// The facilitator's live view (templates/groups/facilitate.html): the list of people is polled every few
// seconds (an HTML fragment rendered by the server, replaced only when it changed, keeping keyboard focus),
// and its buttons are sent in the background so the facilitator's own call is not interrupted.
const root = document.getElementById("group-facilitate");
if (root) {
  const listUrl = root.dataset.attendeesUrl;
  const every = Math.max(1, Number(root.dataset.pollSeconds || 3)) * 1000;
  const holder = document.getElementById("group-attendees");
  const status = document.getElementById("group-facilitate-status");
  const alertBox = document.getElementById("group-facilitate-alert");
  const unavailable = document.getElementById("group-unavailable");

  function focusKey(element) {
    if (!element || !holder.contains(element)) return null;
    const form = element.closest("form");
    return form ? form.getAttribute("action") : null;
  }

  let last = holder.innerHTML;
  let timer = null;
  async function refresh() {
    clearTimeout(timer);
    try {
      const response = await fetch(listUrl, { credentials: "same-origin", cache: "no-store" });
      if (response.ok && !response.redirected) {
        const html = await response.text();
        if (html !== last) {
          const key = focusKey(document.activeElement);
          holder.innerHTML = html;
          last = holder.innerHTML;
          if (key) {
            const again = holder.querySelector(`form[action="${CSS.escape(key)}"] button`);
            const heading = holder.querySelector("h2");
            if (again) again.focus();
            else if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
          }
        }
      }
    } catch {
      // The next poll tries again; the page stays usable (its forms work without this script).
    }
    timer = setTimeout(refresh, every);
  }
  timer = setTimeout(refresh, every);

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-facilitate-action")) return;
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    alertBox.textContent = "";
    let answer = { ok: false, detail: "Rapport did not answer. Try again." };
    try {
      const response = await fetch(form.action, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
      });
      answer = await response.json();
    } catch {
      // answer stays the failure above
    }
    if (button) button.disabled = false;
    if (!answer.ok) {
      alertBox.textContent = answer.detail;
      if (answer.code === "groups_unavailable" && unavailable) {
        unavailable.hidden = false;
        unavailable.querySelector("h2")?.focus();
      }
      return;
    }
    status.textContent = answer.detail;
    if (form.action.endsWith("/start/")) {
      window.location.reload(); // the call appears once the group is on
      return;
    }
    if (form.action.endsWith("/mute-all/")) {
      const input = form.querySelector("input[name=mute]");
      const muting = input.value === "yes";
      input.value = muting ? "no" : "yes";
      button.textContent = muting ? "Let everyone speak again" : "Mute everyone";
    }
    refresh();
  });
}
