// The template editor's live preview: fills the placeholders with the sample appointment's values as
// the admin types, and says at once when a placeholder is unknown or a banned word is used (the
// server checks the same on saving: backend/messaging/content.py).

const data = JSON.parse(document.getElementById("preview-data").textContent);
const form = document.getElementById("template-form");
const body = form.querySelector("textarea[name=body]");
const subject = form.querySelector("input[name=subject]");
const show = (name) => document.querySelector(`[data-preview=${name}]`);

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function bannedIn(text) {
  for (const word of data.banned) {
    const parts = word.split(/[\s-]+/).filter(Boolean).map(escapeRegExp);
    const pattern = new RegExp(`(?<![a-z0-9])${parts.join("[\\s-]?")}(?![a-z0-9])`, "i");
    if (pattern.test(text)) return word;
  }
  return null;
}

function fill(text, unknown) {
  return text.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (match, name) => {
    if (match === "{{") return "{";
    if (match === "}}") return "}";
    if (!data.allowed.includes(name)) {
      unknown.push(name);
      return match;
    }
    return data.values[name] ?? "";
  });
}

function update() {
  const unknown = [];
  const filledBody = fill(body.value, unknown);
  show("body").textContent = filledBody;
  if (subject) show("subject").textContent = fill(subject.value, unknown);
  show("length").textContent = data.channel === "sms" ? `${filledBody.length} characters` : "";
  const problems = unknown.map((name) => `{${name}} is not a placeholder this message can use.`);
  const checked = data.channel === "sms" ? body.value : subject ? subject.value : "";
  const word = bannedIn(checked);
  if (word) problems.push(`The ${data.channel === "sms" ? "text message" : "email subject line"} contains “${word}”, which must not appear in it.`);
  show("problem").textContent = problems.join(" ");
}

body.addEventListener("input", update);
if (subject) subject.addEventListener("input", update);
