// Live risk flags on the outcomes page: a clinician hears of a new flag at once (docs/signalling.md,
// "Risk flags"). The page itself lists open flags on load, so a dropped socket loses nothing; it
// reconnects with the shared back-off (reconnect.js), which starts again from 1 s once the server has
// answered, and the server sends the open flags again.
import { Backoff } from "./reconnect.js";

const section = document.querySelector("[data-risk-flag-socket]");
const live = document.querySelector("[data-risk-flag-live]");

function announce(text) {
  live.hidden = false;
  live.textContent = text;
}

function addFlag(flag) {
  if (document.getElementById(`flag-${flag.id}`)) return;
  let list = section.querySelector("[data-risk-flags]");
  if (!list) {
    list = document.createElement("ul");
    list.className = "flag-list";
    list.dataset.riskFlags = "";
    section.querySelector("[data-no-flags]")?.remove();
    section.appendChild(list);
  }
  const item = document.createElement("li");
  item.className = "card flag flag-open";
  item.id = `flag-${flag.id}`;
  const heading = document.createElement("h3");
  heading.textContent = `${flag.service_user.full_name}: ${flag.instrument_name} question ${flag.item}`;
  const detail = document.createElement("p");
  detail.textContent = `“${flag.item_text}” – answered ${flag.answer}.`;
  const action = document.createElement("p");
  const link = document.createElement("a");
  link.href = window.location.pathname;
  link.textContent = "Reload the page to acknowledge this flag";
  action.appendChild(link);
  item.append(heading, detail, action);
  list.prepend(item);
}

const backoff = new Backoff({ maxMs: 30000 });

function connect() {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${window.location.host}/ws/risk-flags/`);
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "open-flags") backoff.reset(); // a good connection: the next drop waits 1 s again
    if (message.type === "flag") {
      addFlag(message.flag);
      announce(`New risk flag: ${message.flag.service_user.full_name}, ${message.flag.instrument_name} question ${message.flag.item}.`);
    } else if (message.type === "open-flags") {
      message.flags.forEach(addFlag);
    } else if (message.type === "flags-removed") {
      // The person left the team's caseload (or similar): these flags are no longer yours to see.
      message.ids.forEach((id) => document.getElementById(`flag-${id}`)?.remove());
    } else if (message.type === "acknowledged") {
      const item = document.getElementById(`flag-${message.flag.id}`);
      if (item) item.classList.remove("flag-open");
      announce(`${message.flag.acknowledged_by} acknowledged the flag for ${message.flag.service_user.full_name}.`);
    }
  });
  socket.addEventListener("close", (event) => {
    if (event.code === 4430) {
      announce("You no longer receive risk flags here. Reload the page to see what you can still see.");
      return;
    }
    if (event.code === 4401 || event.code === 4403) return;
    setTimeout(connect, backoff.next());
  });
}

if (section && live) connect();
