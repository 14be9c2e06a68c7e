// The connection test page: check the browser, ask for camera and microphone, then make a test call
// to Rapport's echo peer (/ws/connection-test/) and report whether media flowed both ways and the delay.
// If the server is busy for a moment (close 1013, docs/signalling.md) it tries again with the shared
// back-off (reconnect.js).
import { Backoff } from "./reconnect.js";

const backoff = new Backoff();
const MAX_TRIES = 4;

const $ = (id) => document.getElementById(id);
const deviceStatus = $("device-status");
const testStatus = $("test-status");
let localStream = null;

function permissionAdvice() {
  const ua = navigator.userAgent;
  if (/Edg\//.test(ua)) return "In Edge: select the padlock to the left of the web address, set Camera and Microphone to Allow.";
  if (/Firefox\//.test(ua)) return "In Firefox: select the camera icon in the address bar and remove the block, or open Settings, Privacy and Security, Permissions.";
  if (/Safari\//.test(ua) && !/Chrome\//.test(ua)) return "In Safari: open Safari, Settings for This Website, and set Camera and Microphone to Allow. On an iPhone or iPad: Settings, Safari, Camera and Microphone.";
  return "In Chrome: select the icon to the left of the web address, then set Camera and Microphone to Allow. On Android you may also need Settings, Apps, Chrome, Permissions.";
}

function supported() {
  return Boolean(window.RTCPeerConnection && navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.WebSocket);
}

async function allowDevices() {
  $("permission-help").hidden = true;
  deviceStatus.textContent = "Asking for your camera and microphone…";
  try {
    localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  } catch (error) {
    if (error.name === "NotAllowedError" || error.name === "SecurityError") {
      $("permission-steps").textContent = permissionAdvice();
      $("permission-help").hidden = false;
      deviceStatus.textContent = "Camera and microphone are blocked.";
    } else if (error.name === "NotFoundError" || error.name === "OverconstrainedError") {
      deviceStatus.textContent = "We could not find a camera or microphone. Check one is connected, or ask your clinician to phone you.";
    } else if (error.name === "NotReadableError") {
      deviceStatus.textContent = "Your camera or microphone is being used by another app. Close the other app and try again.";
    } else {
      deviceStatus.textContent = "Something stopped your camera or microphone from starting. Try again, or ask your clinician to phone you.";
    }
    return;
  }
  const video = $("local-video");
  video.srcObject = localStream;
  video.hidden = false;
  deviceStatus.textContent = "Your camera and microphone work. You should see yourself.";
  $("allow-devices").hidden = true;
  $("start-test").disabled = false;
}

function gatheringDone(pc, limitMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, limitMs);
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") { clearTimeout(timer); resolve(); }
    });
  });
}

async function measureDelay(pc) {
  const stats = await pc.getStats();
  let rtt = null;
  stats.forEach((report) => {
    if (report.type === "candidate-pair" && report.nominated && report.currentRoundTripTime !== undefined) {
      rtt = Math.round(report.currentRoundTripTime * 1000);
    }
  });
  return rtt;
}

function describeDelay(ms) {
  if (ms === null) return "Could not measure";
  if (ms < 150) return `${ms} ms: good`;
  if (ms < 400) return `${ms} ms: you may notice a short delay`;
  return `${ms} ms: slow; a phone call may work better`;
}

async function startTest() {
  $("start-test").disabled = true;
  $("results").hidden = false;
  testStatus.textContent = "Connecting to the test…";
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/connection-test/`);
  let pc = null;
  const finish = (text) => { testStatus.textContent = text; $("start-test").disabled = false; };

  socket.addEventListener("message", async (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "welcome") {
      backoff.reset();
      pc = new RTCPeerConnection({ iceServers: message.ice_servers });
      localStream.getTracks().forEach((track) => pc.addTrack(track, localStream));
      pc.addEventListener("track", (trackEvent) => {
        if (trackEvent.track.kind !== "video") return;
        const echo = $("echo-video");
        echo.srcObject = new MediaStream([trackEvent.track]);
        echo.hidden = false;
        echo.addEventListener("loadeddata", async () => {
          $("result-receiving").textContent = "Working: you can see yourself coming back";
          $("result-delay").textContent = describeDelay(await measureDelay(pc));
          testStatus.textContent = "The test worked. You are ready for a video appointment.";
        }, { once: true });
      });
      pc.addEventListener("connectionstatechange", () => {
        if (pc.connectionState === "failed") finish("The test call could not connect. Your appointment can go ahead by phone or face to face.");
      });
      await pc.setLocalDescription(await pc.createOffer());
      await gatheringDone(pc, 3000);
      socket.send(JSON.stringify({ type: "offer", sdp: pc.localDescription.sdp }));
    } else if (message.type === "answer") {
      await pc.setRemoteDescription({ type: "answer", sdp: message.sdp });
      testStatus.textContent = "Connected. Waiting for your picture to come back…";
    } else if (message.type === "received") {
      $("result-sending").textContent = "Working: Rapport received your picture and sound";
    } else if (message.type === "error") {
      finish(message.detail);
    }
  });
  socket.addEventListener("close", (event) => {
    if (pc) pc.close();
    // The server's store is unavailable for a moment: try again shortly, a few times.
    if (event.code === 1013 && !pc && backoff.attempts < MAX_TRIES) {
      testStatus.textContent = "The test is busy. Trying again in a moment…";
      setTimeout(startTest, backoff.next());
    }
  });
  socket.addEventListener("error", () => finish("We could not reach the test. Check your internet connection and try again."));
  window.addEventListener("pagehide", () => socket.close(), { once: true });
}

if (!supported()) {
  deviceStatus.textContent = "This browser cannot make video calls. Try an up-to-date Chrome, Edge, Firefox or Safari, or ask your clinician to phone you.";
  $("allow-devices").hidden = true;
} else {
  deviceStatus.textContent = "Select the button to let Rapport use your camera and microphone.";
  $("allow-devices").addEventListener("click", allowDevices);
  $("start-test").addEventListener("click", startTest);
}
