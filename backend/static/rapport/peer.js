// Perfect negotiation with one other peer (docs/signalling.md, "Peers and politeness"; the W3C WebRTC
// specification's example): offers, answers and ICE candidates over an injected `send`, offers and
// answers sent again until acknowledged (signalling.js). No DOM: the call page's Peer (call.js) adds
// the picture; tests drive two of these against each other in one page.

import { ReliableSender } from "./signalling.js";

export function fingerprintOf(sdp) {
  const match = /^a=fingerprint:(.+)$/m.exec(sdp || "");
  return match ? match[1].trim() : null;
}

export class Negotiation {
  // pc: an RTCPeerConnection; peerId: who this is with; polite: the server says who yields on a
  // collision; send(message): to the signalling socket, returns false if not sent; nextSeq(): numbers.
  constructor({ pc, peerId, polite, send, nextSeq, awaitingOffer = false, ackTimeoutMs, maxResends, warn = console.warn }) {
    this.pc = pc;
    this.peerId = peerId;
    this.polite = Boolean(polite);
    this.send = send;
    this.nextSeq = nextSeq;
    this.warn = warn;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.lastRemoteSdp = null;
    this.pendingCandidates = [];
    this.awaitingOffer = awaitingOffer; // the polite side gives the impolite one a head start
    this.closed = false;
    this.reliable = new ReliableSender({
      send: (message) => this.send({ ...message, to: this.peerId }),
      nextSeq,
      onGiveUp: () => this.restartIce(),
      ...(ackTimeoutMs ? { timeoutMs: ackTimeoutMs } : {}),
      ...(maxResends !== undefined ? { maxResends } : {}),
    });
    pc.addEventListener("negotiationneeded", () => this.negotiate());
    pc.addEventListener("icecandidate", ({ candidate }) => {
      if (this.closed) return;
      this.send({
        type: "ice", to: this.peerId, seq: this.nextSeq(),
        candidate: candidate ? { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex } : null,
      });
    });
  }

  async negotiate() {
    if (this.awaitingOffer || this.closed) return;
    const pc = this.pc;
    if (pc.signalingState !== "stable") return;
    try {
      this.makingOffer = true;
      await pc.setLocalDescription();
      if (this.closed) return;
      this.sendDescription(pc.localDescription);
    } catch (error) {
      this.warn(`Could not make an offer to ${this.peerId}`, error);
    } finally {
      this.makingOffer = false;
    }
  }

  sendDescription(description) {
    this.reliable.newGeneration();
    this.reliable.send({ type: description.type, sdp: description.sdp });
  }

  acknowledged(seq) {
    this.reliable.acknowledged(seq);
  }

  // One message from the peer. Returns "new-connection" when an offer or answer comes from a new
  // RTCPeerConnection of theirs (a reloaded page: its DTLS fingerprint changed); the caller starts a
  // new connection of its own and, for an offer, hands it the offer again.
  async handle(message) {
    if (this.closed) return undefined;
    const pc = this.pc;
    if (message.type === "offer" || message.type === "answer") {
      this.send({ type: "ack", to: this.peerId, seq: this.nextSeq(), ack: message.seq });
      if (message.sdp === this.lastRemoteSdp) return undefined; // a resend of one already applied
      const known = fingerprintOf(pc.remoteDescription?.sdp);
      if (known && fingerprintOf(message.sdp) !== known) return "new-connection";
      if (message.type === "answer" && pc.signalingState !== "have-local-offer") return undefined; // stale
      const collision = message.type === "offer" && (this.makingOffer || pc.signalingState !== "stable");
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return undefined; // impolite: ours wins; theirs is rolled back on their side
      await pc.setRemoteDescription({ type: message.type, sdp: message.sdp }); // polite: rolls ours back
      this.lastRemoteSdp = message.sdp;
      this.awaitingOffer = false;
      await this.addPendingCandidates();
      if (message.type === "offer") {
        await pc.setLocalDescription();
        if (this.closed) return undefined;
        this.sendDescription(pc.localDescription);
      }
    } else if (message.type === "ice") {
      if (!pc.remoteDescription) {
        this.pendingCandidates.push(message.candidate);
        return undefined;
      }
      await this.addCandidate(message.candidate);
    }
    return undefined;
  }

  async addPendingCandidates() {
    const pending = this.pendingCandidates.splice(0);
    for (const candidate of pending) await this.addCandidate(candidate);
  }

  async addCandidate(candidate) {
    try {
      if (candidate === null) await this.pc.addIceCandidate();
      else await this.pc.addIceCandidate(candidate);
    } catch (error) {
      if (!this.ignoreOffer) this.warn(`Could not use a network route from ${this.peerId}`, error);
    }
  }

  // The peer is announced again (it reconnected, or we heard of it late) while our offer is still
  // unanswered: that offer may never have reached it (sent before it was there, or given up on after
  // `peer-not-found`), so send it again. Only the impolite side: the polite one yields anyway.
  reoffer() {
    const pc = this.pc;
    if (this.closed || this.polite || pc.signalingState !== "have-local-offer" || !pc.localDescription) return;
    this.sendDescription(pc.localDescription);
  }

  restartIce() {
    if (!this.closed && this.pc.signalingState !== "closed") this.pc.restartIce();
  }

  close() {
    this.closed = true;
    this.reliable.stop();
  }
}
