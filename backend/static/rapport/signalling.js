// The call's signalling socket (docs/signalling.md): numbering what we send (seq), heartbeats that
// notice a dead connection, and offers and answers sent again until the peer acknowledges them.
// No DOM and no RTCPeerConnection here: the socket class is injected, so tests drive it with a fake.

export const ACK_TIMEOUT_MS = 2000;
export const MAX_RESENDS = 3;

export class SignallingSocket {
  // url: the socket's address; WebSocketClass: the WebSocket constructor (a fake in tests);
  // onMessage(message): each JSON message from the server; onClose(code, dead): the socket closed
  // (dead: our heartbeat found it silent, though the browser had not noticed).
  constructor({ url, WebSocketClass = globalThis.WebSocket, onMessage, onClose, now = () => Date.now() }) {
    this.url = url;
    this.WebSocketClass = WebSocketClass;
    this.onMessage = onMessage;
    this.onClose = onClose;
    this.now = now;
    this.ws = null;
    this.seq = 0;
    this.heartbeat = null;
    this.heartbeatSeconds = 10;
    this.lastHeard = 0;
  }

  get open() {
    return Boolean(this.ws) && this.ws.readyState === this.WebSocketClass.OPEN;
  }

  connect() {
    const ws = new this.WebSocketClass(this.url);
    this.ws = ws;
    ws.addEventListener("message", (event) => {
      if (this.ws !== ws) return;
      this.lastHeard = this.now();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      this.onMessage(message);
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopHeartbeat();
      this.onClose(event.code, false);
    });
    return ws;
  }

  // A number that increases with each message we send (per connection is enough; we never reuse one).
  nextSeq() {
    this.seq += 1;
    return this.seq;
  }

  // Send one message if the socket is open; false if it could not be sent.
  send(message) {
    if (!this.open) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  // Ping every `seconds`; nothing heard for two and a half heartbeats: the connection is dead even if
  // the browser has not noticed, so close it and report it (the caller reconnects).
  startHeartbeat(seconds) {
    this.stopHeartbeat();
    this.heartbeatSeconds = seconds || 10;
    this.lastHeard = this.now();
    this.heartbeat = setInterval(() => {
      if (this.now() - this.lastHeard > this.heartbeatSeconds * 2500) {
        const ws = this.ws;
        this.ws = null;
        this.stopHeartbeat();
        if (ws) ws.close();
        this.onClose(1006, true);
        return;
      }
      this.send({ type: "ping" });
    }, this.heartbeatSeconds * 1000);
  }

  stopHeartbeat() {
    clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  // Leave on purpose: say goodbye (so the others let go at once) and close with 1000.
  close() {
    const ws = this.ws;
    this.ws = null;
    this.stopHeartbeat();
    if (ws && ws.readyState === this.WebSocketClass.OPEN) ws.send(JSON.stringify({ type: "bye" }));
    if (ws && ws.readyState <= this.WebSocketClass.OPEN) ws.close(1000);
  }
}

// Offers and answers to one peer, sent again (with a new seq) until acknowledged: the relay delivers at
// most once (docs/signalling.md, "Reliability"). After `maxResends` tries, `onGiveUp` (restart ICE).
// A description superseded by a newer one (a new `generation`) is not sent again.
export class ReliableSender {
  constructor({ send, nextSeq, onGiveUp, timeoutMs = ACK_TIMEOUT_MS, maxResends = MAX_RESENDS }) {
    this.sendMessage = send;
    this.nextSeq = nextSeq;
    this.onGiveUp = onGiveUp;
    this.timeoutMs = timeoutMs;
    this.maxResends = maxResends;
    this.unacked = new Map(); // seq -> {message, attempts, generation, timer}
    this.generation = 0;
    this.stopped = false;
  }

  // A new description: older ones still unacknowledged will not be sent again.
  newGeneration() {
    this.generation += 1;
    return this.generation;
  }

  send(fields, attempts = 0, generation = this.generation) {
    const message = { ...fields, seq: this.nextSeq() };
    const sent = this.sendMessage(message);
    const entry = { message, attempts: sent ? attempts : Math.max(0, attempts - 1), generation };
    entry.timer = setTimeout(() => this.resend(message.seq), this.timeoutMs);
    this.unacked.set(message.seq, entry);
    return message.seq;
  }

  resend(seq) {
    const entry = this.unacked.get(seq);
    if (!entry) return;
    this.unacked.delete(seq);
    if (this.stopped || entry.generation !== this.generation) return; // superseded
    if (entry.attempts >= this.maxResends) {
      this.onGiveUp?.();
      return;
    }
    const { seq: _old, ...fields } = entry.message;
    this.send(fields, entry.attempts + 1, entry.generation);
  }

  // The peer acknowledged `seq` (or the server said the peer has gone): stop resending it.
  acknowledged(seq) {
    const entry = this.unacked.get(seq);
    if (entry) {
      clearTimeout(entry.timer);
      this.unacked.delete(seq);
    }
  }

  clear() {
    for (const entry of this.unacked.values()) clearTimeout(entry.timer);
    this.unacked.clear();
  }

  stop() {
    this.stopped = true;
    this.clear();
  }
}
