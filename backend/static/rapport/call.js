// The session page: the waiting room, then the video call. No build step: native ES modules.
// signalling.js (the socket: seq, acknowledgements and resending, heartbeat), peer.js (perfect
// negotiation with one peer) and reconnect.js (one back-off policy) hold no DOM and are unit-tested
// against a fake socket (tests/browser/test_call_modules.py); this file is the page around them.
//
// Two sockets (docs/signalling.md): the waiting room (/ws/sessions/<id>/waiting-room/) says where this
// person is (waiting, admitted, on hold) and carries the clinician's one-way messages; the call
// (/ws/sessions/<id>/) relays the WebRTC handshake to each other person. Every pair of people has its
// own RTCPeerConnection (a mesh), negotiated with the "perfect negotiation" pattern: the server says
// which side of each pair is polite.

import { Backoff } from "./reconnect.js";
import { SignallingSocket } from "./signalling.js";
import { Negotiation } from "./peer.js";

const root = document.getElementById("session");
const APPOINTMENT = root.dataset.appointment;
const ROLE = root.dataset.role; // host | service_user | carer
const IS_HOST = ROLE === "host";
// The person's consent to video: without it the page never asks for the camera or microphone.
const VIDEO_CONSENT = root.dataset.videoConsent === "yes";
const API = `/api/v1/appointments/${APPOINTMENT}/`;
const FINISHED = new Set(["ended", "cancelled", "did_not_attend"]);
const OFFER_WAIT_MS = 3000; // the polite side waits this long for the first offer, then offers itself
const WATCHDOG_MS = 2500;
const STUCK_MS = 5000; // both descriptions set but ICE not started: restart it
const TELEMETRY_MS = 5000;
const VIDEO_CONSTRAINTS = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24, max: 30 }, facingMode: "user" };
const ROLE_WORDS = { host: "clinician", service_user: "", carer: "carer" };
const STATE_WORDS = {
  new: "Connecting…", connecting: "Connecting…", connected: "Connected",
  disconnected: "Reconnecting…", failed: "Connection lost", closed: "Connection lost",
};

const $ = (id) => document.getElementById(id);

// --- Small helpers -------------------------------------------------------------------------------

function announce(text) {
  $("session-status").textContent = text;
}

function alertMessage(text, target = $("session-alert")) {
  target.replaceChildren();
  if (!text) return;
  const p = document.createElement("p");
  p.className = "notice notice-error";
  p.textContent = text;
  target.append(p);
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || "Something went wrong. Try again, or phone your care team.");
    this.status = status;
    this.body = body || {};
  }
}

async function api(path, body = {}, method = "POST") {
  let response;
  try {
    response = await fetch(API + path, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: method === "GET" ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { detail: "Rapport could not be reached: check your internet connection and try again." });
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function wsUrl(path) {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${path}`;
}

// Times in the NHS style: "10am", "2:30pm" (the server's is backend/core/nhs_time.py).
// The same rule as backend/core/times.py nhs_time: "10am", "2:30pm", "midday", "midnight".
function timeNow(date = new Date()) {
  const minutes = date.getMinutes();
  if (!minutes && date.getHours() === 12) return "midday";
  if (!minutes && date.getHours() === 0) return "midnight";
  const hour = date.getHours() % 12 || 12;
  const suffix = date.getHours() < 12 ? "am" : "pm";
  return minutes ? `${hour}:${String(minutes).padStart(2, "0")}${suffix}` : `${hour}${suffix}`;
}

function focusHeading(id) {
  const heading = $(id);
  if (heading) heading.focus();
}

function peerLabel(peer) {
  const role = ROLE_WORDS[peer.role];
  return role ? `${peer.name} (${role})` : peer.name;
}

// --- What the page shows --------------------------------------------------------------------------

const view = {
  phase: "starting", // starting | waiting | call | phone | left | stopped | ended
  snapshot: null,
  modality: root.dataset.modality || "", // how this person takes part: video or phone (per person)
  wantsPhone: false,
  heldState: null,
};

// Which parts of the page each phase shows (the host's panel stays until the session ends).
function setPhase(phase) {
  const before = view.phase;
  view.phase = phase;
  const show = (id, visible) => {
    const element = $(id);
    if (element) element.hidden = !visible;
  };
  show("waiting", phase === "waiting" || phase === "starting");
  show("preview", (phase === "waiting" || phase === "starting") && Boolean(media.stream));
  show("check-camera-offer", (phase === "waiting" || phase === "starting") && !media.stream && mayUseCamera());
  show("call", phase === "call");
  show("phone", phase === "phone" || (IS_HOST && phase === "call" && phoneCallees().length > 0));
  root.classList.toggle("in-call", phase === "call");
  show("left", phase === "left");
  show("stopped", phase === "stopped");
  show("ended", phase === "ended");
  for (const id of ["people", "safety", "host-messages"]) show(id, phase !== "ended");
  show("media-problem", Boolean(media.problem) && !["ended", "phone", "left", "stopped"].includes(phase));
  if (phase !== "call" && $("confirm-end")) $("confirm-end").hidden = true;
  if (IS_HOST) {
    renderSafety();
    renderPhoneCallees();
  }
  // If focus was in a part that is now hidden, move it to the new part's heading.
  const active = document.activeElement;
  if (before !== phase && active && active !== document.body && active.closest("[hidden]")) {
    focusHeading({ waiting: "waiting-title", call: "call-title", phone: "phone-title", left: "left-title", stopped: "stopped-title", ended: "ended-title" }[phase] || "main");
  }
}

// --- Camera and microphone -----------------------------------------------------------------------

const media = { stream: null, problem: null, audioOnly: false, ready: Promise.resolve() };

const MEDIA_PROBLEMS = {
  permission: {
    reason: "Your browser is not letting Rapport use your camera and microphone.",
    steps: "media-problem-permission",
  },
  "no-devices": {
    reason: "We could not find a camera or microphone on this device.",
    steps: "media-problem-devices",
  },
  "no-camera": {
    reason: "We could not find a camera, so the others will hear you but not see you.",
    steps: "media-problem-devices",
  },
  "in-use": {
    reason: "Your camera or microphone is being used by another app, or is not working.",
    steps: "media-problem-devices",
  },
  unsupported: {
    reason: "This browser cannot make video calls. Try the latest Chrome, Edge, Firefox or Safari.",
    steps: null,
  },
};

function problemKind(error) {
  if (!error) return "unsupported";
  if (error.name === "NotAllowedError" || error.name === "SecurityError" || error.name === "PermissionDeniedError") return "permission";
  if (error.name === "NotFoundError" || error.name === "OverconstrainedError" || error.name === "DevicesNotFoundError") return "no-devices";
  return "in-use";
}

function showMediaProblem(kind) {
  media.problem = kind;
  const problem = MEDIA_PROBLEMS[kind];
  $("media-problem-reason").textContent = problem.reason;
  $("media-problem-permission").hidden = problem.steps !== "media-problem-permission";
  $("media-problem-devices").hidden = problem.steps !== "media-problem-devices";
  $("media-retry").hidden = kind === "unsupported";
  setPhase(view.phase);
  announce(`${problem.reason} You can try again, or continue by phone.`);
}

function clearMediaProblem() {
  media.problem = null;
  $("media-phone-note").hidden = true;
  setPhase(view.phase);
}

// The camera and microphone are asked for only when needed: joining a video call, or when the person
// asks to check their camera in the waiting room. Never for someone on the phone, nor without the
// person's consent to video.
function mayUseCamera() {
  return VIDEO_CONSENT && view.modality !== "phone" && view.phase !== "phone";
}

// Let the camera and microphone go (leaving, switching to phone, the session ending).
function stopMedia() {
  if (media.stream) for (const track of media.stream.getTracks()) track.stop();
  media.stream = null;
  media.audioOnly = false;
  media.ready = Promise.resolve();
  $("local-video").srcObject = null;
  $("preview-video").srcObject = null;
  updateControls();
  setPhase(view.phase);
}

// Say plainly, on the page, whenever the camera or microphone is on.
function showCameraState() {
  const live = (kind) => media.stream?.getTracks().some((track) => track.kind === kind && track.readyState === "live" && track.enabled);
  const camera = live("video");
  const microphone = live("audio");
  const state = $("camera-state");
  state.hidden = !camera && !microphone;
  state.textContent = camera && microphone ? "Your camera and microphone are on."
    : camera ? "Your camera is on." : microphone ? "Your microphone is on. Your camera is off." : "";
}

async function startMedia() {
  if (!mayUseCamera()) return null;
  if (!navigator.mediaDevices?.getUserMedia) {
    showMediaProblem("unsupported");
    return null;
  }
  let stream = null;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: VIDEO_CONSTRAINTS });
  } catch (error) {
    const kind = problemKind(error);
    if (kind === "no-devices" || kind === "in-use") {
      // Perhaps only the camera is missing or busy: carry on with sound alone.
      try {
        stream = await navigator.mediaDevices.getUserMedia({ audio: true });
        showMediaProblem("no-camera");
      } catch (second) {
        showMediaProblem(problemKind(second) === "permission" ? "permission" : kind);
        return null;
      }
    } else {
      showMediaProblem(kind);
      return null;
    }
  }
  if (!mayUseCamera()) {
    // Switched to phone (or the session ended) while the browser was asking: let them go at once.
    for (const track of stream.getTracks()) track.stop();
    return null;
  }
  const hadStream = Boolean(media.stream);
  if (hadStream && media.stream !== stream) for (const track of media.stream.getTracks()) track.stop();
  media.stream = stream;
  if (stream.getVideoTracks().length) clearMediaProblem();
  $("local-video").srcObject = stream;
  $("preview-video").srcObject = stream;
  updateControls();
  setPhase(view.phase);
  if (!hadStream) for (const peer of peers.values()) peer.addLocalTracks();
  return stream;
}

function localTrack(kind) {
  return media.stream ? media.stream.getTracks().find((track) => track.kind === kind) : undefined;
}

function updateControls() {
  const audio = localTrack("audio");
  const video = localTrack("video");
  const mic = $("toggle-mic");
  mic.disabled = !audio;
  mic.textContent = audio && !audio.enabled ? "Unmute microphone" : "Mute microphone";
  mic.dataset.off = String(Boolean(audio && !audio.enabled));
  const camera = $("toggle-camera");
  camera.hidden = media.audioOnly;
  camera.disabled = !video;
  camera.textContent = video && !video.enabled ? "Turn camera on" : "Turn camera off";
  camera.dataset.off = String(Boolean(video && !video.enabled));
  $("audio-only").hidden = media.audioOnly || !video;
  $("video-again").hidden = !media.audioOnly;
  const words = [];
  if (!audio || !audio.enabled) words.push("Microphone off");
  if (!video || !video.enabled || media.audioOnly) words.push(media.audioOnly ? "Audio only" : "Camera off");
  $("local-state").textContent = words.join(", ");
  showCameraState();
}

function toggleMic() {
  const audio = localTrack("audio");
  if (!audio) return;
  audio.enabled = !audio.enabled;
  updateControls();
  announce(audio.enabled ? "Your microphone is on. The others can hear you." : "Your microphone is off. The others cannot hear you.");
}

function toggleCamera() {
  const video = localTrack("video");
  if (!video) return;
  video.enabled = !video.enabled;
  updateControls();
  announce(video.enabled ? "Your camera is on. The others can see you." : "Your camera is off. The others cannot see you.");
}

function videoSenders() {
  const senders = [];
  for (const peer of peers.values()) {
    for (const transceiver of peer.pc.getTransceivers()) {
      if (transceiver.receiver.track?.kind === "video" && !transceiver.stopped) senders.push(transceiver.sender);
    }
  }
  return senders;
}

async function switchToAudioOnly() {
  // Stop sending video at once (it is what the person asked for), then record the switch.
  media.audioOnly = true;
  await Promise.all(videoSenders().map((sender) => sender.replaceTrack(null).catch(() => {})));
  const video = localTrack("video");
  if (video) {
    video.stop();
    media.stream.removeTrack(video);
  }
  updateControls();
  announce("You are now on audio only. The others can hear you but not see you, and the call uses less data.");
  try {
    await api("switch/", { to: "audio_only", reason: "video_failed" });
  } catch (error) {
    alertMessage(error.message);
  }
}

async function switchBackToVideo() {
  let track;
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: VIDEO_CONSTRAINTS });
    track = stream.getVideoTracks()[0];
  } catch (error) {
    showMediaProblem(problemKind(error) === "permission" ? "permission" : "no-camera");
    return;
  }
  media.audioOnly = false;
  media.stream.addTrack(track);
  await Promise.all(videoSenders().map((sender) => sender.replaceTrack(track).catch(() => {})));
  for (const peer of peers.values()) if (!peer.sendsVideo()) peer.pc.addTrack(track, media.stream);
  updateControls();
  announce("Your camera is on again. The others can see you.");
  try {
    await api("switch/", { to: "video", reason: "person_asked" });
  } catch (error) {
    alertMessage(error.message);
  }
}

// --- Telemetry ------------------------------------------------------------------------------------

const telemetry = { iceStates: [], timer: null };

function recordIceState(peerId, state) {
  telemetry.iceStates.push({ remote_peer: peerId, state, changed_at: new Date().toISOString() });
}

async function measure(peer) {
  const report = await peer.pc.getStats();
  const now = performance.now();
  let pair = null;
  let inBytes = 0, outBytes = 0, lost = 0, received = 0, jitter = null, width = null, height = null;
  const byId = new Map();
  report.forEach((stat) => byId.set(stat.id, stat));
  report.forEach((stat) => {
    if (stat.type === "transport" && stat.selectedCandidatePairId) pair = byId.get(stat.selectedCandidatePairId) || pair;
    if (stat.type === "inbound-rtp") {
      inBytes += stat.bytesReceived || 0;
      lost += Math.max(0, stat.packetsLost || 0);
      received += stat.packetsReceived || 0;
      if (typeof stat.jitter === "number") jitter = Math.max(jitter ?? 0, stat.jitter * 1000);
      if (stat.kind === "video" && stat.frameWidth) {
        width = stat.frameWidth;
        height = stat.frameHeight;
      }
    }
    if (stat.type === "outbound-rtp") outBytes += stat.bytesSent || 0;
  });
  if (!pair) report.forEach((stat) => {
    if (stat.type === "candidate-pair" && stat.nominated && stat.state === "succeeded") pair = stat;
  });
  const previous = peer.lastStats;
  peer.lastStats = { at: now, inBytes, outBytes, lost, received };
  const rate = (bytes, before) => (previous && now > previous.at ? Math.max(0, ((bytes - before) * 8) / (now - previous.at)) : null);
  const lostNow = previous ? lost - previous.lost : lost;
  const receivedNow = previous ? received - previous.received : received;
  const expected = lostNow + receivedNow;
  const round = (value, places = 1) => (value === null || value === undefined || Number.isNaN(value) ? null : Number(value.toFixed(places)));
  return {
    remote_peer: peer.id,
    measured_at: new Date().toISOString(),
    round_trip_ms: pair && typeof pair.currentRoundTripTime === "number" ? round(pair.currentRoundTripTime * 1000) : null,
    packet_loss_pct: expected > 0 ? round(Math.min(100, (100 * Math.max(0, lostNow)) / expected), 2) : null,
    jitter_ms: jitter === null ? null : round(jitter),
    inbound_kbps: round(rate(inBytes, previous?.inBytes)),
    outbound_kbps: round(rate(outBytes, previous?.outBytes)),
    frame_width: width,
    frame_height: height,
  };
}

async function sendTelemetry() {
  if (view.phase === "ended") return;
  const samples = [];
  for (const peer of peers.values()) {
    if (peer.pc.connectionState === "closed") continue;
    try {
      samples.push(await measure(peer));
    } catch (error) {
      console.warn("Could not measure the connection", error);
    }
  }
  const iceStates = telemetry.iceStates.splice(0, 100);
  if (!samples.length && !iceStates.length) return;
  try {
    await api("telemetry/", { samples: samples.slice(0, 100), ice_states: iceStates });
  } catch (error) {
    console.warn("Connection statistics were not sent", error.message);
  }
}

function startTelemetry() {
  if (!telemetry.timer) telemetry.timer = setInterval(sendTelemetry, TELEMETRY_MS);
}

function stopTelemetry() {
  clearInterval(telemetry.timer);
  telemetry.timer = null;
}

// --- One peer: its connection, its picture, and the handshake -------------------------------------

const peers = new Map(); // peer_id -> Peer

class Peer {
  constructor(info) {
    this.id = info.peer_id;
    this.update(info);
    this.queue = Promise.resolve();
    this.lostTimer = null;
    this.announcedConnected = false;
    this.buildTile();
    this.createConnection();
    this.watchdog = setInterval(() => this.checkProgress(), WATCHDOG_MS);
  }

  update(info) {
    this.userId = info.user_id;
    this.role = info.role;
    this.name = info.name;
    this.polite = Boolean(info.polite);
    if (this.negotiation) this.negotiation.polite = this.polite;
  }

  // A new RTCPeerConnection to this peer. Who offers first: the impolite side, at once; the polite
  // side waits a little for that offer, then offers itself. (The protocol lets the newcomer offer and
  // relies on perfect negotiation when both do; letting one side go first avoids most collisions.)
  createConnection(offerNow = !this.polite) {
    this.negotiation?.close();
    this.pc = new RTCPeerConnection({ iceServers: call.iceServers });
    this.stuckSince = null;
    this.lastStats = null;
    this.negotiation = new Negotiation({
      pc: this.pc, peerId: this.id, polite: this.polite, awaitingOffer: !offerNow,
      send: (message) => call.send(message), nextSeq: () => call.nextSeq(),
    });
    this.remoteStream = new MediaStream();
    this.video.srcObject = this.remoteStream;
    const pc = this.pc;
    this.addLocalTracks();
    pc.addEventListener("track", ({ track }) => {
      if (pc !== this.pc) return;
      for (const old of this.remoteStream.getTracks().filter((t) => t.kind === track.kind && t !== track)) this.remoteStream.removeTrack(old);
      if (!this.remoteStream.getTracks().includes(track)) this.remoteStream.addTrack(track);
      this.play();
    });
    pc.addEventListener("iceconnectionstatechange", () => {
      if (pc !== this.pc) return;
      recordIceState(this.id, pc.iceConnectionState);
      if (pc.iceConnectionState === "failed" && !this.polite) pc.restartIce();
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc === this.pc) this.showState();
    });
    recordIceState(this.id, "new");
    clearTimeout(this.offerTimer);
    const negotiation = this.negotiation;
    if (negotiation.awaitingOffer) {
      this.offerTimer = setTimeout(() => {
        if (pc === this.pc && negotiation.awaitingOffer && !pc.remoteDescription) {
          negotiation.awaitingOffer = false;
          this.addReceivers();
          negotiation.negotiate();
        }
      }, OFFER_WAIT_MS);
    }
    this.showState();
  }

  // Our camera and microphone go to this peer. Without them we can still receive.
  addLocalTracks() {
    const pc = this.pc;
    if (media.stream) {
      const sending = new Set(pc.getSenders().map((sender) => sender.track).filter(Boolean));
      for (const track of media.stream.getTracks()) if (!sending.has(track)) pc.addTrack(track, media.stream);
    } else if (!this.negotiation.awaitingOffer) {
      this.addReceivers();
    }
  }

  // An offer must describe some media: with no camera or microphone, offer to receive both.
  addReceivers() {
    if (this.pc.getTransceivers().length) return;
    this.pc.addTransceiver("audio", { direction: "recvonly" });
    this.pc.addTransceiver("video", { direction: "recvonly" });
  }

  // Both descriptions are set but ICE has not got going, or has stopped: start it again (the impolite
  // side first; the polite side too if that did not help), then, if that did not help either, start
  // a new connection. (Chrome can leave a connection that rolled back an offer without any ICE.)
  checkProgress() {
    const pc = this.pc;
    if (this.closed || this.lostTimer || !call.connected) return;
    const stuck = pc.signalingState === "stable" && pc.remoteDescription
      && ["new", "checking", "disconnected", "failed"].includes(pc.iceConnectionState);
    if (!stuck) {
      this.stuckSince = null;
      if (pc.connectionState === "connected") this.restarts = 0;
      return;
    }
    this.stuckSince ??= Date.now();
    const waited = Date.now() - this.stuckSince;
    const slow = { checking: 3, disconnected: 2 }[pc.iceConnectionState] || 1; // ICE may still get there
    const patience = slow * STUCK_MS * (this.polite ? 2 : 1);
    if (waited >= patience) {
      this.stuckSince = Date.now();
      this.restarts = (this.restarts || 0) + 1;
      // Restarting ICE did not help: start with a new connection (the other side follows).
      if (this.restarts > 1) this.reset(true);
      else this.restartIce();
    }
  }

  sendsVideo() {
    return this.pc.getSenders().some((sender) => sender.track?.kind === "video");
  }

  // A fresh connection, keeping the picture: the other side restarted (a new page, new DTLS keys).
  reset(offerNow) {
    const old = this.pc;
    this.createConnection(offerNow);
    old.close();
  }

  buildTile() {
    const item = document.createElement("li");
    item.className = "tile";
    item.dataset.peer = this.id;
    this.video = document.createElement("video");
    this.video.className = "video";
    this.video.autoplay = true;
    this.video.playsInline = true;
    const caption = document.createElement("p");
    caption.className = "tile-caption";
    this.nameLabel = document.createElement("span");
    this.nameLabel.className = "tile-name";
    this.nameLabel.textContent = peerLabel(this);
    this.stateLabel = document.createElement("span");
    this.stateLabel.className = "tile-state";
    caption.append(this.nameLabel, " ", this.stateLabel);
    this.soundButton = document.createElement("button");
    this.soundButton.type = "button";
    this.soundButton.className = "button button-secondary tile-sound";
    this.soundButton.textContent = `Turn on sound from ${this.name}`;
    this.soundButton.hidden = true;
    this.soundButton.addEventListener("click", () => {
      this.video.muted = false;
      this.video.play().then(() => { this.soundButton.hidden = true; }).catch(() => {});
    });
    item.append(this.video, caption, this.soundButton);
    this.tile = item;
    // The others first (on a phone, the person you are talking to is at the top), your own picture last.
    $("video-grid").insertBefore(item, $("video-grid").querySelector(".tile-self"));
    updateEmpty();
  }

  play() {
    this.video.play().catch((error) => {
      if (error.name !== "NotAllowedError") return; // e.g. interrupted by a newer load: that one plays
      // The browser will not play sound until the person interacts with the page: play silently,
      // and offer a button to turn the sound on.
      this.video.muted = true;
      this.soundButton.hidden = false;
      this.video.play().catch(() => {});
    });
  }

  showState(words) {
    const state = this.pc.connectionState;
    const text = words || STATE_WORDS[state] || "Connecting…";
    this.stateLabel.textContent = text;
    this.stateLabel.classList.toggle("state-problem", text !== "Connected");
    this.nameLabel.textContent = peerLabel(this);
    if (!words && state === "connected") {
      if (!this.announcedConnected) announce(`Connected to ${peerLabel(this)}.`);
      this.announcedConnected = true;
    } else if (!words && state === "failed") {
      announce(`The connection to ${peerLabel(this)} was lost. Trying again… If it does not come back, select Switch to phone.`);
      this.announcedConnected = false;
    }
  }

  // --- The handshake: peer.js; one message at a time, in order ---
  negotiate() {
    return this.negotiation.negotiate();
  }

  acknowledged(seq) {
    this.negotiation.acknowledged(seq);
  }

  forget(seq) {
    this.negotiation.acknowledged(seq);
  }

  receive(message) {
    this.queue = this.queue.then(() => this.handle(message)).catch((error) => {
      console.warn(`Could not use a message from ${this.id}`, error);
    });
  }

  async handle(message) {
    if (this.closed) return;
    const outcome = await this.negotiation.handle(message);
    if (outcome !== "new-connection") return;
    // The other side has a new connection (a reloaded page): start ours again to match. For an
    // answer, our fresh offer follows; an offer is answered on the new connection.
    this.reset(message.type === "answer");
    if (message.type === "offer") await this.negotiation.handle(message);
  }

  restartIce() {
    if (!this.closed) this.negotiation.restartIce();
  }

  // The peer dropped without a goodbye: keep its connection for the grace period.
  disconnected(graceSeconds) {
    this.showState("Reconnecting…");
    clearTimeout(this.lostTimer);
    this.lostTimer = setTimeout(() => {
      announce(`The connection to ${peerLabel(this)} was lost.`);
      removePeer(this.id);
    }, graceSeconds * 1000);
    callPresenceChanged();
  }

  back() {
    const wasLost = Boolean(this.lostTimer);
    clearTimeout(this.lostTimer);
    this.lostTimer = null;
    this.showState();
    if (wasLost) callPresenceChanged();
  }

  close() {
    this.closed = true;
    clearInterval(this.watchdog);
    clearTimeout(this.lostTimer);
    clearTimeout(this.offerTimer);
    this.negotiation.close();
    if (this.pc.signalingState !== "closed") {
      recordIceState(this.id, "closed");
      this.pc.close();
    }
    this.video.srcObject = null;
    this.tile.remove();
    updateEmpty();
  }
}

function updateEmpty() {
  const empty = $("call-empty");
  if (empty) empty.hidden = peers.size > 0 || $("video-grid").querySelectorAll(".tile[data-peer]").length > 0;
}

function addPeer(info) {
  let peer = peers.get(info.peer_id);
  if (peer) {
    peer.update(info);
    peer.back();
    peer.negotiation.reoffer();
    return peer;
  }
  peer = new Peer(info);
  peers.set(info.peer_id, peer);
  updateEmpty();
  callPresenceChanged();
  return peer;
}

function removePeer(peerId) {
  const peer = peers.get(peerId);
  if (!peer) return;
  peers.delete(peerId);
  peer.close();
  updateEmpty();
  callPresenceChanged();
}

function removeAllPeers() {
  for (const id of [...peers.keys()]) removePeer(id);
}

// --- The call's socket ----------------------------------------------------------------------------

const call = {
  // The socket (signalling.js): seq numbers, heartbeat; reconnecting is decided here, by close code.
  socket: new SignallingSocket({
    url: wsUrl(`/ws/sessions/${APPOINTMENT}/`),
    onMessage: (message) => onCallMessage(message),
    onClose: (code, dead) => onCallClosed(code, dead),
  }),
  backoff: new Backoff(), // reset on each welcome: a good connection starts the waits again from 1 s
  wanted: false, // we mean to be in the call (so reconnect if the socket drops)
  retryTimer: null,
  peerId: null,
  iceServers: [],
  graceSeconds: 30,
  droppedAt: null,
  lastError: "", // the server's explanation before closing for access revoked or consent withdrawn
  retryAfter: 0, // seconds the server asked us to wait before reconnecting (close 4420)

  get connected() {
    return Boolean(this.socket.ws);
  },

  nextSeq() {
    return this.socket.nextSeq();
  },

  send(message) {
    return this.socket.send(message);
  },
};

async function joinCall() {
  alertMessage("");
  setPhase("call");
  announce("Joining the call…");
  call.wanted = true;
  // Now the camera and microphone are needed (unless the waiting room's camera check already has them).
  if (!media.stream && mayUseCamera()) media.ready = startMedia();
  // Wait a little for the camera and microphone (the person may still be answering the browser's
  // question), so the first offer carries them; they are added later if they come later.
  await Promise.race([media.ready, new Promise((resolve) => setTimeout(resolve, 8000))]);
  if (!call.wanted || call.connected) return;
  startTelemetry();
  connectCall();
}

function connectCall() {
  clearTimeout(call.retryTimer);
  if (!call.wanted) return;
  call.socket.connect();
}

function onCallMessage(message) {
  switch (message.type) {
    case "welcome":
      return onWelcome(message);
    case "peer-joined":
      return addPeer(message.peer);
    case "peer-reconnected": {
      const known = peers.has(message.peer.peer_id);
      const peer = addPeer(message.peer);
      if (known && message.restart_ice && !peer.polite) peer.restartIce();
      return undefined;
    }
    case "peer-disconnected":
      return peers.get(message.peer_id)?.disconnected(message.grace_seconds || call.graceSeconds);
    case "peer-left": {
      const peer = peers.get(message.peer_id);
      if (peer) {
        const where = { waiting: "went back to the waiting room", on_hold: "is on hold" }[message.reason] || "left the call";
        announce(`${peerLabel(peer)} ${where}.`);
      }
      return removePeer(message.peer_id);
    }
    case "offer":
    case "answer":
    case "ice":
      return peers.get(message.from)?.receive(message);
    case "ack":
      return peers.get(message.from)?.acknowledged(message.ack);
    case "moved":
      return onMoved(message.state);
    case "session-ended":
      return endSession();
    case "error":
      // Said just before a close: kept so the close handler can show it.
      if (message.code === "access-revoked" || message.code === "consent-withdrawn") call.lastError = message.detail;
      // The account's budget of reconnects is spent (close 4420 follows): wait as long as the server says.
      if (message.code === "too-many-errors") call.retryAfter = Number(message.retry_after) || 60;
      // About one of our messages: if the peer has gone, stop resending to it.
      if (message.code === "peer-not-found" && message.seq) for (const peer of peers.values()) peer.forget(message.seq);
      if (message.seq === undefined && message.code !== "rate-limited") console.warn("The call server said:", message.detail);
      return undefined;
    default:
      return undefined;
  }
}

function onWelcome(message) {
  const wasAway = call.droppedAt !== null;
  const awayTooLong = wasAway && Date.now() - call.droppedAt > call.graceSeconds * 1000;
  call.backoff.reset();
  call.droppedAt = null;
  call.peerId = message.peer_id;
  call.iceServers = Array.isArray(message.ice_servers) ? message.ice_servers : [];
  call.graceSeconds = message.reconnect_grace_seconds || 30;
  call.socket.startHeartbeat(message.heartbeat_seconds || 10);
  if (awayTooLong) removeAllPeers(); // the others have let our connections go: start again
  const listed = new Set(message.peers.map((peer) => peer.peer_id));
  for (const info of message.peers) {
    const known = peers.get(info.peer_id);
    if (known) {
      known.update(info);
      known.back();
      // Back within the grace period: the impolite side of each pair restarts ICE.
      if (!known.polite) known.restartIce();
    } else {
      addPeer(info);
    }
  }
  // People we knew who are not here now may be coming back: keep them for the grace period.
  for (const peer of peers.values()) if (!listed.has(peer.id) && !peer.lostTimer) peer.disconnected(call.graceSeconds);
  if (wasAway) alertMessage("");
  announce(listed.size ? "You are in the call." : IS_HOST ? "You are in the call. Waiting for the others to join." : "You are in the call. Waiting for your clinician to join.");
}

function onCallClosed(code) {
  if (code === 1000 || !call.wanted) return; // we said goodbye
  if (code === 4000) return endSession();
  if (code === 4403 || code === 4409) {
    // Not admitted (moved out), or not in progress: the waiting room says what happens next.
    leaveCallQuietly();
    if (code === 4409 && view.snapshot && FINISHED.has(view.snapshot.status)) return endSession();
    return showWaiting(view.snapshot?.my_state || "waiting");
  }
  if (code === 4430 || code === 4431) {
    // Access revoked (4430) or the person's consent to video or remote care withdrawn (4431):
    // reconnecting would be refused, so stop and say what happens next (docs/signalling.md).
    leaveCallQuietly();
    stopTelemetry();
    if (code === 4431 && $("stopped-to-phone")) $("stopped-to-phone").hidden = false;
    return stopForGood(code === 4430
      ? "You no longer have access to this session. If you think this is wrong, phone your care team."
      : IS_HOST
        ? `${call.lastError || "The person no longer agrees to this kind of call."} Phone them instead if they agree to remote care (select Switch to phone), or offer a face-to-face appointment.`
        : `${call.lastError || "Consent for this kind of call was withdrawn."} Your clinician can phone you instead, or see you face to face.`);
  }
  if (code === 4404 || code === 4401) {
    leaveCallQuietly();
    setPhase("left");
    alertMessage(code === 4401
      ? "You are no longer logged in. Open the link from your message again, or log in, to rejoin. Your clinician can also phone you."
      : "This call could not be found. Check the link, or phone your care team: they can phone you or see you face to face.");
    return undefined;
  }
  // The connection dropped: the server keeps our place for a while; keep the pictures and try again.
  if (call.droppedAt === null) call.droppedAt = Date.now();
  for (const peer of peers.values()) peer.showState("Reconnecting…");
  const away = Date.now() - call.droppedAt;
  if (away > call.graceSeconds * 1000) {
    for (const peer of peers.values()) peer.showState("Connection lost");
    alertMessage("Your connection to the call was lost. We are still trying to reconnect. If it does not come back, select Switch to phone.");
  } else {
    announce("Your connection dropped. Reconnecting…");
  }
  // 4420: reconnecting sooner than retry_after would be refused again (docs/signalling.md, "Limits").
  const wait = code === 4420 ? (call.retryAfter || 60) * 1000 : call.backoff.next();
  call.retryTimer = setTimeout(connectCall, wait);
  return undefined;
}

// Leave the call (saying goodbye if the socket is still open, so the others let go at once rather
// than waiting for us to come back) and let every connection go.
function leaveCallQuietly() {
  call.wanted = false;
  clearTimeout(call.retryTimer);
  call.socket.close(); // says goodbye if open
  removeAllPeers();
  call.droppedAt = null;
  stopMedia(); // out of the call, the camera and microphone go off
}

// Access revoked (4430) or consent to the call withdrawn (4431): say so plainly, let the camera and
// microphone go, and do not reconnect (the server would refuse).
function stopForGood(text) {
  $("stopped-reason").textContent = text;
  stopMedia();
  setPhase("stopped");
  focusHeading("stopped-title");
  announce(`The call has stopped. ${text}`);
  return undefined;
}

async function leaveCall() {
  await sendTelemetry();
  leaveCallQuietly();
  stopTelemetry();
  setPhase("left");
  focusHeading("left-title");
  announce("You have left the call. You can join again.");
}

function onMoved(state) {
  leaveCallQuietly();
  showWaiting(state);
}

// --- The waiting room -----------------------------------------------------------------------------

const lobby = { ws: null, backoff: new Backoff(), timer: null };

function connectLobby() {
  clearTimeout(lobby.timer);
  const ws = new WebSocket(wsUrl(`/ws/sessions/${APPOINTMENT}/waiting-room/`));
  lobby.ws = ws;
  ws.addEventListener("message", (event) => {
    if (lobby.ws !== ws) return;
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    lobby.backoff.reset();
    onLobbyMessage(message);
  });
  ws.addEventListener("close", (event) => {
    if (lobby.ws !== ws) return;
    lobby.ws = null;
    if (view.phase === "ended") return;
    if (event.code === 4430) {
      // Access revoked (docs/signalling.md): do not try again; the call socket says the same if open.
      if (view.phase !== "stopped") {
        leaveCallQuietly();
        stopTelemetry();
        stopForGood("You no longer have access to this session. If you think this is wrong, phone your care team.");
      }
      return;
    }
    if (event.code === 4401 || event.code === 4404) {
      alertMessage(event.code === 4401
        ? "You are no longer logged in. Open the link from your message again, or log in. Your care team can phone you instead."
        : "You are not part of this session any more. If you think this is wrong, phone your care team.");
      return;
    }
    lobby.timer = setTimeout(connectLobby, lobby.backoff.next());
  });
}

function onLobbyMessage(message) {
  if (message.type === "lobby") {
    const previous = view.snapshot;
    view.snapshot = message;
    if (IS_HOST) renderPeople(previous, message);
    reconcile();
    if (IS_HOST) setPhase(view.phase); // who needs phoning may have changed
  } else if (message.type === "message") {
    addMessage(message.text, message.sent_at);
  } else if (message.type === "error" && IS_HOST) {
    alertMessage(message.detail, $("host-error"));
  }
}

function addMessage(text, sentAt) {
  const list = $("lobby-messages");
  list.querySelector(".message-empty")?.remove();
  const item = document.createElement("li");
  const time = document.createElement("span");
  time.className = "message-time";
  time.textContent = timeNow(sentAt ? new Date(sentAt) : new Date());
  item.append(time, text);
  list.append(item);
  if (!IS_HOST && view.phase !== "waiting") announce(`Message from your clinician: ${text}`);
}

// Decide what to show from the latest waiting-room snapshot.
function reconcile() {
  const snapshot = view.snapshot;
  if (!snapshot) return;
  if (FINISHED.has(snapshot.status)) {
    endSession();
    return;
  }
  // Switching to phone is per person: the others' pages stay in the video call. The host's switch
  // moves everyone, so the host follows the session's modality.
  // Before the session starts both are empty: keep the modality the person chose (a phone appointment
  // never offers the camera check).
  const modality = (IS_HOST ? snapshot.modality : snapshot.my_modality || snapshot.modality) || view.modality;
  const toPhone = modality === "phone" && view.modality !== "phone";
  const fromPhone = view.modality === "phone" && modality !== "phone" && modality !== undefined;
  view.modality = modality;
  const admitted = snapshot.my_state === "admitted" && snapshot.host_ready;
  if (admitted) {
    if (view.wantsPhone) {
      view.wantsPhone = false;
      requestPhone();
      return;
    }
    if (modality === "phone") {
      if (view.phase !== "phone" && (toPhone || view.phase !== "left")) showPhone(toPhone);
      return;
    }
    if (fromPhone && view.phase === "phone") {
      joinCall();
      return;
    }
    if (view.phase === "starting" || view.phase === "waiting") joinCall();
    return;
  }
  if (snapshot.my_state === "waiting" || snapshot.my_state === "on_hold" || snapshot.my_state === "invited") {
    if (view.phase === "call") leaveCallQuietly();
    showWaiting(snapshot.my_state);
    return;
  }
  if (IS_HOST && view.phase === "starting") {
    setPhase("waiting");
    announce(snapshot.participants?.some((p) => p.state === "waiting")
      ? "Someone is in the waiting room. Record the safety check, then admit them."
      : "Nobody is in the waiting room yet.");
  }
}

function showWaiting(state) {
  const text = {
    on_hold: "Your clinician has put you on hold. Please wait: they will bring you back into the call.",
    waiting: "You are in the waiting room. Your clinician will let you in.",
  }[state] || "You are in the waiting room. Your clinician will let you in.";
  const changed = view.phase !== "waiting" || view.heldState !== state;
  view.heldState = state;
  if (!IS_HOST) $("waiting-text").textContent = text;
  setPhase("waiting");
  if (changed && !IS_HOST) announce(state === "on_hold" ? "You are on hold." : "You are in the waiting room.");
}

// --- The host: who is waiting, admitting, holding, the safety check, messages ----------------------

const STATE_LABELS = { invited: "Invited, not here yet", waiting: "In the waiting room", admitted: "In the call", on_hold: "On hold", left: "Left" };

// Who is in the call now, by user id (from the call socket), so the list changes when someone leaves.
const inCall = { now: new Set(), seen: new Set() };

function personState(person) {
  if (person.state !== "admitted") return STATE_LABELS[person.state] || person.state;
  if (person.modality === "phone") return "On the phone";
  if (view.phase !== "call") return STATE_LABELS.admitted;
  if (inCall.now.has(person.user_id)) return "In the call";
  return inCall.seen.has(person.user_id) ? "Left the call" : "Joining the call…";
}

function callPresenceChanged() {
  inCall.now = new Set([...peers.values()].filter((peer) => !peer.lostTimer).map((peer) => peer.userId));
  for (const id of inCall.now) inCall.seen.add(id);
  if (IS_HOST && view.snapshot) renderPeople(view.snapshot, view.snapshot);
}

// The host's phone form: the people taking part by phone (everyone, once the whole session is by phone).
function phoneCallees() {
  const people = (view.snapshot?.participants || []).filter((person) => person.role !== "host" && person.state === "admitted");
  return view.phase === "phone" ? people : people.filter((person) => person.modality === "phone");
}

function renderPhoneCallees() {
  const select = $("phone-callee");
  if (!select) return;
  const callees = phoneCallees();
  const inCallNow = view.phase === "call";
  $("phone-title").textContent = inCallNow ? "Someone needs a phone call" : "Continue by phone";
  const names = callees.map((person) => person.name).join(" and ");
  $("phone-intro").textContent = inCallNow
    ? `${names || "Someone"} switched to phone. The others stay in the video call. Phone them, then record the call here.`
    : `The session continues by phone. Phone ${names || "them"}, then record the call here.`;
  $("back-to-video").hidden = inCallNow;
  if (!callees.length) return;
  const chosen = select.value;
  const same = callees.length === select.options.length && callees.every((person, index) => String(person.user_id) === select.options[index].value);
  if (same) return;
  select.replaceChildren(...callees.map((person) => {
    const option = document.createElement("option");
    option.value = String(person.user_id);
    option.dataset.phone = person.phone_number || "";
    option.textContent = person.role === "carer" ? `${person.name} (carer)` : person.name;
    return option;
  }));
  if (callees.some((person) => String(person.user_id) === chosen)) select.value = chosen;
  else fillCalleeNumber();
}

function fillCalleeNumber() {
  const option = $("phone-callee").selectedOptions[0];
  if (option?.dataset.phone) $("phone-number").value = option.dataset.phone;
}

function renderPeople(previous, snapshot) {
  const people = (snapshot.participants || []).filter((person) => person.role !== "host");
  const list = $("people-list");
  const focusedKey = document.activeElement?.dataset?.key;
  const focusWasInList = list.contains(document.activeElement);
  list.replaceChildren();
  const inProgress = snapshot.status === "in_progress";
  for (const person of people) {
    const item = document.createElement("li");
    const about = document.createElement("span");
    about.className = "person-name";
    about.textContent = person.role === "carer" ? `${person.name} (carer)` : person.name;
    const state = document.createElement("span");
    state.className = "person-state";
    state.textContent = personState(person);
    about.append(state);
    const actions = document.createElement("span");
    actions.className = "person-actions";
    const button = (label, key, handler, secondary = false) => {
      const element = document.createElement("button");
      element.type = "button";
      element.className = secondary ? "button button-secondary" : "button";
      element.dataset.key = `${key}-${person.user_id}`;
      element.append(label);
      const hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = ` ${person.name}`;
      element.append(hidden);
      element.addEventListener("click", () => handler(person, element));
      actions.append(element);
    };
    if (person.state === "waiting" || person.state === "on_hold") button("Admit", "admit", admit);
    if (person.state === "admitted" && inProgress) {
      button("Put on hold", "hold", (p, b) => move(p, "on_hold", b), true);
      button("Back to waiting room", "back", (p, b) => move(p, "waiting", b), true);
    }
    item.append(about, actions);
    list.append(item);
  }
  $("people-empty").hidden = people.some((person) => person.state !== "invited");
  $("admit-all").hidden = !people.some((person) => person.state === "waiting" || person.state === "on_hold");
  if (focusedKey) {
    const again = list.querySelector(`[data-key="${focusedKey}"]`);
    if (again) again.focus();
    else if (focusWasInList || !document.activeElement || document.activeElement === document.body) focusHeading("people-title");
  }
  // Say who has just arrived.
  const before = new Map((previous?.participants || []).map((person) => [person.user_id, person.state]));
  for (const person of people) {
    if (person.state === "waiting" && before.get(person.user_id) !== "waiting") announce(`${person.name} is in the waiting room.`);
  }
  renderSafety();
}

function renderSafety() {
  if (!IS_HOST) return;
  const started = view.snapshot ? view.snapshot.status === "in_progress" : root.dataset.status === "in_progress";
  const done = root.dataset.safetyCheck === "yes";
  $("safety-done").hidden = !done;
  $("safety-start").hidden = started;
  $("safety").hidden = view.phase === "ended" || (started && !done);
  if ($("start-options")) $("start-options").hidden = started;
}

function startModality() {
  if (view.snapshot?.status === "in_progress") return undefined;
  return document.querySelector("input[name='start-modality']:checked")?.value;
}

async function admit(person, button) {
  alertMessage("", $("host-error"));
  const body = person ? { user_ids: [person.user_id] } : {};
  const modality = startModality();
  if (modality) body.modality = modality;
  if (button) button.disabled = true;
  try {
    const admitted = await api("admit/", body);
    const names = admitted.map((p) => p.user.preferred_name || p.user.full_name || "").filter(Boolean);
    announce(names.length ? `Admitted ${names.join(" and ")}. Starting the call…` : "Admitted. Starting the call…");
  } catch (error) {
    alertMessage(`${error.message} Nobody has been admitted yet: they are still in the waiting room.`, $("host-error"));
    if (button) button.disabled = false;
  }
}

async function move(person, state, button) {
  alertMessage("", $("host-error"));
  button.disabled = true;
  try {
    await api(`participants/${person.user_id}/move/`, { state });
    announce(state === "on_hold" ? `${person.name} is on hold.` : `${person.name} is back in the waiting room.`);
  } catch (error) {
    alertMessage(error.message, $("host-error"));
    button.disabled = false;
  }
}

function fieldError(name, message) {
  const error = $(`${name}-error`);
  const field = $(`${name}-field`);
  error.hidden = !message;
  error.textContent = message ? `Error: ${message}` : "";
  field.classList.toggle("field-error", Boolean(message));
  const input = field.querySelector("input, textarea");
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

async function recordSafetyCheck(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const location = form.elements.current_location.value.trim();
  alertMessage("", $("safety-errors"));
  fieldError("current-location", "");
  if (!location) {
    fieldError("current-location", "Write where they are right now, in case help needs to be sent.");
    form.elements.current_location.focus();
    return;
  }
  const submit = form.querySelector("button[type='submit']");
  submit.disabled = true;
  try {
    await api("safety-checks/", {
      current_location: location,
      is_private: form.elements.is_private.checked,
      emergency_contact_confirmed: form.elements.emergency_contact_confirmed.checked,
      identity_confirmed: form.elements.identity_confirmed.checked,
      notes: form.elements.notes.value.trim(),
    });
    const complete = form.elements.emergency_contact_confirmed.checked && form.elements.identity_confirmed.checked;
    root.dataset.safetyCheck = complete ? "yes" : "no";
    $("safety-done").textContent = complete
      ? `Safety and privacy check recorded at ${timeNow()}.`
      : `Recorded at ${timeNow()}. Before the session can start, confirm their emergency contact and who they are.`;
    $("safety-done").hidden = false;
    renderSafety();
    announce(complete ? "Safety and privacy check recorded. You can admit them now." : "Recorded, but the session cannot start until you confirm their emergency contact and who they are.");
  } catch (error) {
    const problems = (error.body.errors || []).map((e) => e.message);
    alertMessage(problems.length ? `${error.message} ${problems.join(" ")}` : error.message, $("safety-errors"));
  } finally {
    submit.disabled = false;
  }
}

function sendLobbyMessage(event) {
  event.preventDefault();
  const box = $("message-text");
  const text = box.value.trim();
  alertMessage("", $("host-error"));
  if (!text) {
    box.focus();
    return;
  }
  if (!lobby.ws || lobby.ws.readyState !== WebSocket.OPEN) {
    alertMessage("The message was not sent: the connection to Rapport dropped. Try again in a moment.", $("host-error"));
    return;
  }
  lobby.ws.send(JSON.stringify({ type: "message", text }));
  box.value = "";
  announce("Message sent to the waiting room.");
}

// --- Phone ------------------------------------------------------------------------------------------

async function requestPhone() {
  alertMessage("");
  try {
    await api("switch/", { to: "phone", reason: media.problem ? "video_failed" : "person_asked" });
  } catch (error) {
    alertMessage(`${error.message} Phone your care team and they will call you.`);
    return;
  }
  view.modality = "phone";
  showPhone(true);
}

function showPhone(fromCall) {
  if (view.phase === "call") leaveCallQuietly();
  stopTelemetry();
  setPhase("phone");
  stopMedia(); // on the phone, the page lets the camera and microphone go
  if (fromCall) focusHeading("phone-title");
  announce(IS_HOST
    ? "The session continues by phone. Phone them, then record the call."
    : "Your clinician will phone you now. Keep your phone nearby.");
}

async function backToVideo() {
  alertMessage("");
  try {
    await api("switch/", { to: "video", reason: "person_asked" });
  } catch (error) {
    alertMessage(error.message);
    return;
  }
  view.modality = "video";
  joinCall();
}

async function recordPhoneCall(event) {
  event.preventDefault();
  const input = $("phone-number");
  const number = input.value.trim();
  fieldError("phone-number", "");
  if (number.replace(/[^\d+]/g, "").length < 6) {
    fieldError("phone-number", "Enter the phone number you are calling.");
    input.focus();
    return;
  }
  try {
    const callee = $("phone-callee")?.selectedOptions[0];
    const body = { number };
    if (callee?.value) body.callee_id = Number(callee.value);
    await api("phone-calls/", body);
    $("phone-call-status").textContent = `Call to ${number}${callee ? ` (${callee.textContent})` : ""} recorded at ${timeNow()}. When you have finished, select The phone call has finished.`;
    $("phone-call-end").hidden = false;
  } catch (error) {
    fieldError("phone-number", error.message);
  }
}

async function endPhoneCall() {
  try {
    await api("phone-calls/end/", {});
    $("phone-call-status").textContent = `Phone call finished at ${timeNow()}. You can end the session now.`;
    $("phone-call-end").hidden = true;
  } catch (error) {
    alertMessage(error.message);
  }
}

// --- Ending -----------------------------------------------------------------------------------------

let endOpener = null;

function askToEnd(event) {
  endOpener = event.currentTarget;
  $("confirm-end").hidden = false;
  focusHeading("confirm-end-title");
}

async function endForEveryone() {
  const yes = $("confirm-end-yes");
  yes.disabled = true;
  await sendTelemetry();
  try {
    await api("end/", {});
    endSession();
  } catch (error) {
    alertMessage(error.message);
  } finally {
    yes.disabled = false;
  }
}

function endSession() {
  if (view.phase === "ended") return;
  leaveCallQuietly();
  stopTelemetry();
  stopMedia();
  clearTimeout(lobby.timer);
  const ws = lobby.ws;
  lobby.ws = null;
  setPhase("ended");
  if (ws) ws.close(1000);
  focusHeading("ended-title");
  announce("The session has ended.");
}

// --- Start -------------------------------------------------------------------------------------------

function wire() {
  $("toggle-mic").addEventListener("click", toggleMic);
  $("toggle-camera").addEventListener("click", toggleCamera);
  $("audio-only").addEventListener("click", switchToAudioOnly);
  $("video-again").addEventListener("click", switchBackToVideo);
  $("to-phone").addEventListener("click", requestPhone);
  $("stopped-to-phone")?.addEventListener("click", requestPhone);
  $("back-to-video").addEventListener("click", backToVideo);
  $("check-camera")?.addEventListener("click", async () => {
    announce("Asking for your camera and microphone…");
    media.ready = startMedia();
    const stream = await media.ready;
    if (stream) {
      announce("Your camera is on. This is how other people will see you.");
      focusHeading("preview-title");
    }
  });
  $("stop-preview").addEventListener("click", () => {
    stopMedia();
    announce("Your camera and microphone are off. They come on again when the call starts.");
    $("check-camera")?.focus();
  });
  $("media-retry").addEventListener("click", async () => {
    announce("Trying your camera and microphone again…");
    const stream = await startMedia();
    if (stream) announce("Your camera and microphone are working.");
  });
  $("media-phone").addEventListener("click", () => {
    if (view.snapshot?.my_state === "admitted" && view.snapshot?.host_ready) {
      requestPhone();
      return;
    }
    view.wantsPhone = true;
    if (IS_HOST) {
      const phone = $("start-phone");
      if (phone) phone.checked = true;
    }
    const note = $("media-phone-note");
    note.textContent = IS_HOST
      ? "When you admit them, the session will continue by phone."
      : "Thank you. Stay on this page: when your clinician lets you in, we will tell them you would like a phone call.";
    note.hidden = false;
    announce(note.textContent);
  });
  if (IS_HOST) {
    for (const button of document.querySelectorAll("[data-action='end-session']")) button.addEventListener("click", askToEnd);
    $("confirm-end-yes").addEventListener("click", endForEveryone);
    $("confirm-end-no").addEventListener("click", () => {
      $("confirm-end").hidden = true;
      if (endOpener && !endOpener.closest("[hidden]")) endOpener.focus();
      announce("The session carries on.");
    });
    $("admit-all").addEventListener("click", (event) => admit(null, event.currentTarget));
    $("safety-form").addEventListener("submit", recordSafetyCheck);
    $("message-form").addEventListener("submit", sendLobbyMessage);
    $("phone-form").addEventListener("submit", recordPhoneCall);
    $("phone-callee").addEventListener("change", fillCalleeNumber);
    $("phone-call-end").addEventListener("click", endPhoneCall);
  } else {
    $("leave-call").addEventListener("click", leaveCall);
    $("rejoin").addEventListener("click", () => {
      $("left").hidden = true;
      joinCall();
      focusHeading("call-title");
    });
  }
  // Leaving the page (closing it, or reloading): say goodbye, so the others let go at once.
  window.addEventListener("pagehide", () => {
    if (call.wanted) call.send({ type: "bye" });
  });
}

async function start() {
  wire();
  updateControls();
  if (FINISHED.has(root.dataset.status)) {
    setPhase("ended");
    return;
  }
  setPhase("starting");
  connectLobby();
  if (!IS_HOST) {
    try {
      const me = await api("waiting-room/", {});
      if (me.state !== "admitted" && view.phase === "starting") announce("You are in the waiting room.");
    } catch (error) {
      alertMessage(`${error.message} Your clinician can phone you instead, or you can be seen face to face.`);
    }
  }
}

start();
