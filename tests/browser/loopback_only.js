// Test harness only (added with context.add_init_script; never served by Rapport): keep WebRTC on
// loopback. Every RTCPeerConnection the page makes drops ICE candidates whose address is not 127.0.0.1
// or ::1 before the page's own listeners see them, and its local descriptions lose the SDP candidate
// lines for other addresses. So the call's media can only flow over 127.0.0.1 (or ::1), whatever
// network the machine running the tests is on. Connections are kept in window.__rapportPeerConnections
// so a test can read their statistics.
(() => {
  const Native = window.RTCPeerConnection;
  if (!Native || Native.__loopbackOnly) return;
  const LOOPBACK = new Set(["127.0.0.1", "::1"]);

  // "candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ..."
  const addressOf = (line) => {
    const parts = line.replace(/^a=/, "").trim().split(/\s+/);
    return (parts[4] || "").replace(/^\[|\]$/g, "");
  };
  const isLoopback = (line) => LOOPBACK.has(addressOf(line));
  const filterSdp = (sdp) => sdp.split("\r\n").filter((line) => !line.startsWith("a=candidate:") || isLoopback(line)).join("\r\n");
  const filtered = (description) => (description ? new RTCSessionDescription({ type: description.type, sdp: filterSdp(description.sdp) }) : description);

  window.__rapportPeerConnections = [];

  class LoopbackOnlyPeerConnection extends Native {
    constructor(...args) {
      super(...args);
      window.__rapportPeerConnections.push(this);
      // Registered before the page can add its own listeners, so it runs first and can stop them.
      this.addEventListener("icecandidate", (event) => {
        const candidate = event.candidate;
        if (candidate && candidate.candidate && !isLoopback(candidate.candidate)) event.stopImmediatePropagation();
      });
    }

    get localDescription() {
      return filtered(super.localDescription);
    }

    get currentLocalDescription() {
      return filtered(super.currentLocalDescription);
    }

    get pendingLocalDescription() {
      return filtered(super.pendingLocalDescription);
    }
  }
  LoopbackOnlyPeerConnection.__loopbackOnly = true;
  window.RTCPeerConnection = LoopbackOnlyPeerConnection;
})();
