// The group waiting room (templates/groups/room.html): polls its status endpoint every few seconds (no socket:
// docs/groups.md says why), shows the facilitator's message and whether group video is working, and goes to the
// call as soon as the facilitator lets this person in.
const root = document.getElementById("group-room");
if (root) {
  const statusUrl = root.dataset.statusUrl;
  const every = Math.max(1, Number(root.dataset.pollSeconds || 3)) * 1000;
  const status = document.getElementById("group-room-status");
  const messageBox = document.getElementById("group-message");
  const messageText = document.getElementById("group-message-text");
  const unavailable = document.getElementById("group-unavailable");

  const said = {
    waiting: "You are in the waiting room. The facilitator will let you in.",
    held: "The facilitator has asked you to wait here. They will let you back in.",
    removed: "The facilitator has removed you from this session. If you think this is a mistake, phone the team.",
    left: "You have left the group. You can join again while it is on.",
    booked: "Check in to wait for the group.",
    admitted: "The facilitator has let you in. Joining the group…",
  };
  const setText = (element, text) => { if (element && element.textContent !== text) element.textContent = text; };

  let timer = null;
  async function poll() {
    let state;
    try {
      const response = await fetch(statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" });
      if (response.redirected || !response.ok) throw new Error(String(response.status));
      state = await response.json();
    } catch {
      setText(status, "We cannot reach Rapport at the moment. This page keeps trying. If it does not come back, phone the team.");
      timer = setTimeout(poll, every * 2);
      return;
    }
    if (state.group_status === "ended" || state.group_status === "cancelled") {
      setText(status, "This group session has finished.");
      return; // nothing more will change
    }
    setText(status, said[state.state] || said.waiting);
    messageBox.hidden = !state.message;
    setText(messageText, state.message || "");
    if (unavailable) unavailable.hidden = !state.unavailable;
    if (state.call_url && !state.unavailable) {
      window.location.assign(state.call_url);
      return;
    }
    timer = setTimeout(poll, every);
  }
  timer = setTimeout(poll, 250);
  window.addEventListener("pagehide", () => clearTimeout(timer));
}
